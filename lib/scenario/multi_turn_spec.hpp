#pragma once
// `requests.prompt: {kind: multi-turn, ...}` as plain data (schema: scenarios/README.md, "multi-turn").
// Included by scenario.hpp right after LengthDistribution, which it reuses for `turns`, `user_tokens`
// and `output_tokens`; include scenario.hpp, not this file.
//
// Each virtual user is a conversation of `turns` turns; every turn resends the whole history as chat
// messages (system prompt, then each earlier turn's user message and the assistant text the server
// actually streamed back, then the new user message). The generator and the conversation state are
// engine/conversation.hpp. RequestSpec::seed drives the text and the draws, RequestSpec::session_header
// carries each conversation's session id.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "scenario/limits.hpp"
#include "scenario/source_location.hpp"

namespace llmd::scenario {

struct MultiTurnSpec {
  // Turns per conversation, drawn once per conversation (1..limits::k_max_turns).
  LengthDistribution turns{LengthDistribution::Kind::constant, 5, 0, 1, limits::k_max_turns};
  // Tokens of each new user message, drawn per turn.
  LengthDistribution user_tokens{LengthDistribution::Kind::constant, 64, 0, 1, limits::k_max_tokens};
  // max_tokens of each turn, drawn per turn; nullopt: RequestSpec::max_tokens.
  std::optional<LengthDistribution> output_tokens;
  // A system message of this many tokens opens every conversation (the same text for all of them,
  // like an application's system prompt); 0: none.
  std::size_t system_prompt_tokens = 0;
  // Wait between a turn's answer and the user's next turn (multiplied by Scenario::time_scale).
  std::chrono::nanoseconds think_time{0};
  SourceLocation where;  // the `prompt` mapping, for errors that span sections (api, phases, history size)
};

// The largest value a length distribution can give: its constant, else its upper clamp.
inline std::size_t max_value(const LengthDistribution& length) {
  if (length.kind == LengthDistribution::Kind::constant) {
    return static_cast<std::size_t>(length.a);
  }
  return length.max_tokens;
}

// "5", "uniform 2..8", "normal mean 800 stddev 300 in 1..4000", "lognormal mean 800 stddev 300 in 1..32768".
std::string describe(const LengthDistribution& length);
// The plan line of `validate`: "multi-turn (turns 5, user_tokens 64, output_tokens 32 (requests.max_tokens),
// system prompt 200 tokens, think time 1s, session header x-session-id)"; `max_tokens` is
// RequestSpec::max_tokens, `session_header` RequestSpec::session_header.
std::string describe(const MultiTurnSpec& spec, std::size_t max_tokens, const std::string& session_header);

}  // namespace llmd::scenario
