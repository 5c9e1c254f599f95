// `requests.prompt: {kind: prefix-groups, ...}` (prefix_groups_spec.hpp, scenarios/README.md).
#include <limits>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Section;
using Order = PrefixGroupsSpec::Order;

constexpr std::pair<std::string_view, Order> k_orders[] = {
    {"round-robin", Order::round_robin},
    {"random", Order::random},
    {"grouped", Order::grouped},
};

util::Result<void> load_required_length(const Section& section, std::string_view key, LengthDistribution& length) {
  auto field = section.require(key);
  if (!field) {
    return fail(field.error());
  }
  return load_length(*field, length, limits::k_max_tokens);
}

// Every group's system prompt is built on first use and kept for the run.
util::Result<void> check_system_prompt_memory(const Section& section, const PrefixGroupsSpec& spec) {
  const std::uint64_t bytes = static_cast<std::uint64_t>(spec.groups) * longest_length(spec.system_prompt_tokens) *
                              limits::k_max_bytes_per_token;
  if (bytes <= limits::k_max_prompt_bytes_in_flight) {
    return {};
  }
  constexpr double k_mib = 1 << 20;
  return fail(section.get("groups")->error(
      fmt::format("{} groups with system prompts of up to {} tokens would hold {:.1f} MiB of system prompts; at most "
                  "{} MiB: use fewer groups or shorter system prompts",
                  spec.groups, longest_length(spec.system_prompt_tokens), static_cast<double>(bytes) / k_mib,
                  limits::k_max_prompt_bytes_in_flight >> 20U)));
}

}  // namespace

util::Result<void> load_prefix_groups(const Section& section, RequestSpec& request) {
  PrefixGroupsSpec& spec = request.prefix_groups;
  LLMD_TRY(section.read_unsigned("groups", spec.groups, 1, limits::k_max_prefix_groups, yaml::Need::required));
  LLMD_TRY(section.read_unsigned("prompts_per_group", spec.prompts_per_group, 1, limits::k_max_prompts_per_group,
                                 yaml::Need::required));
  LLMD_TRY(load_required_length(section, "system_prompt_tokens", spec.system_prompt_tokens));
  LLMD_TRY(load_required_length(section, "question_tokens", spec.question_tokens));
  if (auto output = section.get("output_tokens")) {
    LengthDistribution length;
    LLMD_TRY(load_length(*output, length, limits::k_max_tokens));
    spec.output_tokens = length;
  }
  if (auto order = section.get("order")) {
    auto chosen = order->as_choice("order", k_orders);
    if (!chosen) {
      return fail(chosen.error());
    }
    spec.order = *chosen;
  }
  LLMD_TRY(section.read_unsigned("seed", request.seed, 0, std::numeric_limits<std::uint64_t>::max()));
  return check_system_prompt_memory(section, spec);
}

}  // namespace llmd::scenario::detail

namespace llmd::scenario {

std::string_view to_string(PrefixGroupsSpec::Order order) {
  for (const auto& [name, value] : detail::k_orders) {
    if (value == order) {
      return name;
    }
  }
  return "?";
}

}  // namespace llmd::scenario
