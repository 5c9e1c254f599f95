#include "report/turns_table.hpp"

#include <fmt/format.h>

#include "util/duration.hpp"

namespace llmd::report {

std::string render_turns_table(const engine::PhaseResult& phase) {
  if (phase.turns.empty()) {
    return "";
  }
  bool reported = false;
  for (const auto& turn : phase.turns) {
    reported = reported || turn.responses_with_cached_tokens > 0;
  }
  std::string out = fmt::format(
      "\nturns (multi-turn conversations, all measured phases; hit rate = Σ usage cached_tokens / Σ prompt_tokens)\n");
  out += fmt::format("  {:>4} {:>9} {:>7} {:>7} {:>8} {:>10} {:>14} {:>14} {:>9}\n", "turn", "requests", "ok", "failed",
                     "aborted", "ttft p50", "prompt tokens", "cached tokens", "hit rate");
  for (std::size_t i = 0; i < phase.turns.size(); ++i) {
    const engine::TurnStats& turn = phase.turns[i];
    const auto ttft = turn.ttft_ns.percentile(50);
    const auto rate = engine::turn_hit_rate(turn);
    const bool counted = turn.responses_with_cached_tokens > 0;
    out += fmt::format("  {:>4} {:>9} {:>7} {:>7} {:>8} {:>10} {:>14} {:>14} {:>9}\n", i + 1,
                       turn.ok + turn.failed + turn.aborted, turn.ok, turn.failed, turn.aborted,
                       ttft ? util::format_seconds_fixed(*ttft * 1e-9) : std::string("-"),
                       counted ? fmt::format("{}", turn.prompt_tokens) : std::string("-"),
                       counted ? fmt::format("{}", turn.cached_tokens) : std::string("-"),
                       rate ? fmt::format("{:.1f}%", *rate * 100) : reported ? std::string("-") : std::string("unknown"));
  }
  if (!reported) {
    out += "  hit rate: unknown (the server does not report cached_tokens; vLLM --enable-prompt-tokens-details, the "
           "embedded simulator sim.prompt_tokens_details: true / --sim-prompt-tokens-details)\n";
  }
  return out;
}

}  // namespace llmd::report
