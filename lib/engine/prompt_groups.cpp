#include "engine/prompt_groups.hpp"

#include <fmt/format.h>

#include "engine/prompt_words.hpp"

namespace llmd::engine {

namespace {

constexpr unsigned k_feistel_rounds = 4;

}  // namespace

PrefixGroups::PrefixGroups(const scenario::PrefixGroupsSpec& spec, std::uint64_t seed)
    : m_spec(spec), m_seed(seed), m_pass(static_cast<std::uint64_t>(spec.groups) * spec.prompts_per_group) {
  while (m_half_bits < 32 && (std::uint64_t{1} << (2 * m_half_bits)) < m_pass) {
    ++m_half_bits;
  }
}

util::Result<PrefixGroups> PrefixGroups::create(const scenario::PrefixGroupsSpec& spec, std::uint64_t seed) {
  if (spec.groups == 0 || spec.prompts_per_group == 0) {
    return util::fail(fmt::format("request.prefix_groups: needs groups >= 1 and prompts_per_group >= 1, got {} and {}",
                                  spec.groups, spec.prompts_per_group));
  }
  return PrefixGroups(spec, seed);
}

// A bijection of [0, m_pass): a balanced Feistel network over [0, 4^h) (a bijection whatever the
// round function), applied again while the result falls outside the pass (cycle walking; fewer
// than 4 rounds of it on average since 4^h < 4 x m_pass).
std::uint64_t PrefixGroups::shuffle(std::uint64_t position, std::uint64_t pass) const {
  const std::uint64_t mask = (std::uint64_t{1} << m_half_bits) - 1;
  const std::uint64_t key = mix64(m_seed, stream_tag::groups_order, pass);
  std::uint64_t x = position;
  do {
    std::uint64_t left = x >> m_half_bits;
    std::uint64_t right = x & mask;
    for (unsigned round = 0; round < k_feistel_rounds; ++round) {
      const std::uint64_t next = left ^ (mix64(key, round, right) & mask);
      left = right;
      right = next;
    }
    x = (left << m_half_bits) | right;
  } while (x >= m_pass);
  return x;
}

GroupPick PrefixGroups::pick(std::uint64_t request_index) const {
  using Order = scenario::PrefixGroupsSpec::Order;
  std::uint64_t position = request_index % m_pass;
  switch (m_spec.order) {
    case Order::round_robin:
      return {static_cast<std::size_t>(position % m_spec.groups), static_cast<std::size_t>(position / m_spec.groups)};
    case Order::random:
      position = shuffle(position, request_index / m_pass);
      [[fallthrough]];
    case Order::grouped:
      break;
  }
  return {static_cast<std::size_t>(position / m_spec.prompts_per_group),
          static_cast<std::size_t>(position % m_spec.prompts_per_group)};
}

std::size_t PrefixGroups::system_prompt_tokens(std::size_t group) const {
  return draw_length(m_spec.system_prompt_tokens, mix64(m_seed, stream_tag::groups_system_length, group));
}

std::uint64_t PrefixGroups::question_key(GroupPick pick) const {
  return static_cast<std::uint64_t>(pick.group) * m_spec.prompts_per_group + pick.question;
}

std::size_t PrefixGroups::question_tokens(GroupPick pick) const {
  return draw_length(m_spec.question_tokens, mix64(m_seed, stream_tag::groups_question_length, question_key(pick)));
}

const std::string& PrefixGroups::system_prompt(std::size_t group) {
  auto [it, inserted] = m_system_prompts.try_emplace(group);
  if (inserted) {
    append_words(it->second, m_seed, stream_tag::groups_system_words, group, system_prompt_tokens(group));
  }
  return it->second;
}

void PrefixGroups::fill(std::uint64_t request_index, std::string& out) {
  const GroupPick chosen = pick(request_index);
  out = system_prompt(chosen.group);
  const std::size_t words = question_tokens(chosen);
  const std::uint64_t key = question_key(chosen);
  append_index_words(out, chosen.question, words,
                     [&](std::size_t i) { return mix64(m_seed, stream_tag::groups_question_words, key, i); });
}

std::optional<std::size_t> PrefixGroups::max_tokens(std::uint64_t request_index) const {
  if (!m_spec.output_tokens) {
    return std::nullopt;
  }
  return draw_length(*m_spec.output_tokens, mix64(m_seed, stream_tag::groups_output_length, question_key(pick(request_index))));
}

}  // namespace llmd::engine
