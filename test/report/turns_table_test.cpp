// The summary's "turns" table of multi-turn runs (report/turns_table.hpp), and the JSON scenario echo
// of a multi-turn prompt.
#include "report/turns_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/exit_codes.hpp"
#include "engine/conversation.hpp"
#include "report/json_report.hpp"
#include "report/text_report.hpp"
#include "run/gates.hpp"

namespace llmd::report {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

engine::Outcome ok_with_usage(std::optional<std::int64_t> prompt, std::optional<std::int64_t> cached) {
  engine::Outcome outcome;
  outcome.ok = true;
  outcome.prompt_tokens = prompt;
  outcome.cached_tokens = cached;
  return outcome;
}

engine::RequestTiming ttft_of(std::chrono::nanoseconds ttft) {
  engine::RequestTiming timing;
  timing.started = engine::TimePoint{} + 1s;
  timing.first_token = timing.started + ttft;
  return timing;
}

TEST(TurnsTable, OneRowPerTurnWithTtftAndHitRate) {
  engine::PhaseResult phase;
  EXPECT_EQ(render_turns_table(phase), "");  // not a multi-turn run
  engine::record_turn(phase, 1, ok_with_usage(100, 20), ttft_of(12ms));
  engine::record_turn(phase, 2, ok_with_usage(200, 150), ttft_of(4ms));
  engine::record_turn(phase, 2, engine::Outcome{}, engine::RequestTiming{});
  engine::record_turn(phase, 3, ok_with_usage(300, std::nullopt), ttft_of(5ms));
  const std::string table = render_turns_table(phase);
  EXPECT_THAT(table, HasSubstr("\nturns (multi-turn conversations"));
  EXPECT_THAT(table, HasSubstr("turn  requests      ok  failed  aborted   ttft p50  prompt tokens  cached tokens  hit rate"));
  EXPECT_THAT(table, HasSubstr("     1         1       1       0        0    12.00ms            100             20     20.0%\n"));
  EXPECT_THAT(table, HasSubstr("     2         2       1       1        0     4.00ms            200            150     75.0%\n"));
  // Turn 3's response did not report cached_tokens: no rate for it, but the server does report them.
  EXPECT_THAT(table, HasSubstr("     3         1       1       0        0     5.00ms              -              -         -\n"));
  EXPECT_THAT(table, Not(HasSubstr("unknown")));
}

TEST(TurnsTable, UnknownWhenTheServerNeverReportsCachedTokens) {
  engine::PhaseResult phase;
  engine::record_turn(phase, 1, ok_with_usage(100, std::nullopt), ttft_of(1ms));
  engine::record_turn(phase, 2, ok_with_usage(std::nullopt, std::nullopt), ttft_of(1ms));
  const std::string table = render_turns_table(phase);
  EXPECT_THAT(table, HasSubstr("   unknown\n"));
  EXPECT_THAT(table, HasSubstr("hit rate: unknown (the server does not report cached_tokens; vLLM "
                               "--enable-prompt-tokens-details"));
}

TEST(TurnsTable, TheSummaryShowsTheRunsMergedTurnsAndTheJsonEchoesThePrompt) {
  scenario::Scenario s;
  s.request.api = scenario::ApiKind::chat;
  s.request.prompt = scenario::PromptKind::multi_turn;
  s.request.multi_turn.output_tokens =
      scenario::LengthDistribution{scenario::LengthDistribution::Kind::uniform, 8, 16, 8, 16};
  s.request.multi_turn.think_time = 250ms;
  s.request.session_header = "x-conversation";
  engine::RunResult result;
  engine::record_turn(result.total, 1, ok_with_usage(100, 0), ttft_of(2ms));
  run::RunReport r;
  r.scenario = &s;
  r.run = result;
  run::judge(r);
  EXPECT_THAT(render_text(r, TextOptions{}), HasSubstr("\nturns (multi-turn conversations"));
  const auto json = to_json(r, cli::exit_code(r.verdict));
  const auto& echo = json["scenario"]["request"]["multi_turn"];
  EXPECT_EQ(echo["turns"], (nlohmann::json{{"distribution", "constant"}, {"value", 5}}));
  EXPECT_EQ(echo["output_tokens"], (nlohmann::json{{"distribution", "uniform"}, {"min", 8}, {"max", 16}}));
  EXPECT_EQ(echo["think_time_s"], 0.25);
  EXPECT_EQ(echo["session_header"], "x-conversation");
  EXPECT_EQ(json["run"]["total"]["turns"][0]["hit_rate"], 0.0);
  scenario::Scenario plain;
  r.scenario = &plain;
  EXPECT_TRUE(to_json(r, cli::exit_code(r.verdict))["scenario"]["request"]["multi_turn"].is_null());
}

}  // namespace
}  // namespace llmd::report
