// `requests.prompt: {kind: multi-turn}` (multi_turn_spec.hpp): its keys, and the rules that span
// sections (the chat API, closed-loop phases, the history a conversation resends).
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::ZeroDuration;

constexpr std::uint64_t k_any_seed = std::numeric_limits<std::uint64_t>::max();

util::Result<void> read_length(const yaml::Section& section, std::string_view key, LengthDistribution& length,
                               std::uint64_t max) {
  if (auto field = section.get(key)) {
    return load_length(*field, length, max);
  }
  return {};
}

}  // namespace

util::Result<void> load_multi_turn(const yaml::Section& section, RequestSpec& request) {
  MultiTurnSpec& spec = request.multi_turn;
  spec.where = section.self().where();
  LLMD_TRY(read_length(section, "turns", spec.turns, limits::k_max_turns));
  LLMD_TRY(read_length(section, "user_tokens", spec.user_tokens, limits::k_max_tokens));
  if (auto output = section.get("output_tokens")) {
    LengthDistribution length;
    LLMD_TRY(load_length(*output, length, limits::k_max_tokens));
    spec.output_tokens = length;
  }
  LLMD_TRY(section.read_unsigned("system_prompt_tokens", spec.system_prompt_tokens, 0, limits::k_max_tokens));
  LLMD_TRY(section.read("think_time", spec.think_time, ZeroDuration::allowed));
  LLMD_TRY(section.read_unsigned("seed", request.seed, 0, k_any_seed));
  return load_session_header(section, request);
}

std::uint64_t history_tokens(const RequestSpec& request) {
  const MultiTurnSpec& spec = request.multi_turn;
  const std::uint64_t output = spec.output_tokens ? max_value(*spec.output_tokens) : request.max_tokens;
  return spec.system_prompt_tokens + max_value(spec.turns) * (max_value(spec.user_tokens) + output);
}

util::Result<void> check_multi_turn(const Scenario& scenario) {
  const RequestSpec& request = scenario.request;
  if (request.prompt != PromptKind::multi_turn) {
    return {};
  }
  const std::string where = to_string(request.multi_turn.where) + ": requests.prompt";
  if (request.api != ApiKind::chat) {
    return fail(where + ": kind multi-turn resends each conversation as chat messages, so it needs the chat API; set "
                        "`api: chat` (or pass --api chat)");
  }
  const std::uint64_t history = history_tokens(request);
  if (history > limits::k_max_tokens) {
    const MultiTurnSpec& spec = request.multi_turn;
    return fail(fmt::format("{}: a conversation can reach {} tokens (system_prompt_tokens {} + {} turns x ({} user + {} "
                            "output tokens)); at most {}: fewer turns, or shorter user_tokens or output_tokens",
                            where, history, spec.system_prompt_tokens, max_value(spec.turns),
                            max_value(spec.user_tokens),
                            spec.output_tokens ? max_value(*spec.output_tokens) : request.max_tokens,
                            limits::k_max_tokens));
  }
  return check_phases_have_users(scenario, "multi-turn",
                                 "to hold the conversations (a turn waits for the previous answer)");
}

}  // namespace llmd::scenario::detail
