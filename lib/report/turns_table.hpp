#pragma once
// The summary's "turns" table for multi-turn prompts (engine/conversation.hpp): per turn number, the
// requests, TTFT p50 and the prefix-cache hit rate the client saw (usage.prompt_tokens_details.cached_tokens
// / usage.prompt_tokens, summed over the turn's ok responses that reported cached_tokens).
#include <string>

#include "engine/run_result.hpp"

namespace llmd::report {

// "" when `phase` has no turns (not a multi-turn run). Otherwise a blank line, a title and one row per
// turn; when no response reported cached_tokens the hit rates are "unknown" with the reason and the fix.
std::string render_turns_table(const engine::PhaseResult& phase);

}  // namespace llmd::report
