// run::RateSearch, summarize_step and sweep_answer (issue 17 item 2): the bracketing search, what
// makes a step pass, fail or client-limited, and the answer, on plain data.
#include "run/sweep.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::run {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;

// Drives a search against a server whose capacity is `capacity` req/s; returns the rates tried.
std::vector<double> search_against(double capacity, RateSearch& search) {
  std::vector<double> tried;
  while (auto rate = search.next()) {
    tried.push_back(*rate);
    search.record(*rate, *rate <= capacity);
    if (tried.size() > 100) {
      ADD_FAILURE() << "the search does not end";
      break;
    }
  }
  return tried;
}

TEST(RateSearch, DoublesUpThenBisectsToTheResolution) {
  RateSearch search(1, 200, 1);
  const auto tried = search_against(37, search);
  EXPECT_EQ(std::vector<double>(tried.begin(), tried.begin() + 7), (std::vector<double>{1, 2, 4, 8, 16, 32, 64}));
  ASSERT_TRUE(search.highest_pass() && search.lowest_fail());
  EXPECT_LE(*search.highest_pass(), 37);
  EXPECT_GT(*search.lowest_fail(), 37);
  EXPECT_LE(*search.lowest_fail() - *search.highest_pass(), 1);
  // 64 - 32 halved to 1: 5 bisections.
  EXPECT_EQ(tried.size(), 7u + 5u);
}

TEST(RateSearch, StopsAtMaxWhenEverythingPassesAndAtMinWhenNothingDoes) {
  RateSearch all(5, 50, 1);
  EXPECT_EQ(search_against(1000, all), (std::vector<double>{5, 10, 20, 40, 50}));
  EXPECT_EQ(all.highest_pass(), 50);
  EXPECT_FALSE(all.lowest_fail());
  RateSearch none(5, 50, 1);
  EXPECT_EQ(search_against(1, none), (std::vector<double>{5}));
  EXPECT_FALSE(none.highest_pass());
  EXPECT_EQ(none.lowest_fail(), 5);
}

// A judged report of one open-loop step: `ok` requests, TTFT 20 ms each, the given gates.
RunReport report_of(std::uint64_t ok, std::uint64_t dropped, double rate, bool gates_pass) {
  RunReport report;
  engine::RunResult run;
  engine::PhaseResult phase;
  phase.ok = ok;
  phase.completed = ok;
  phase.started = ok;
  phase.dropped = dropped;
  phase.target_rate_per_s = rate;
  phase.arrival_window = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(ok) / rate * 1e9));
  for (std::uint64_t i = 0; i < ok; ++i) {
    phase.histograms.ttft_ns.record(20'000'000);
    phase.histograms.schedule_lag_ns.record(100'000);
    phase.histograms.event_loop_lag_ns.record(200'000);
  }
  run.phases = {phase};
  run.total = phase;
  report.run = run;
  ThresholdOutcome gate;
  gate.threshold = *scenario::parse_threshold("ttft", "p(95)<100ms");
  gate.result.passed = gates_pass;
  gate.result.reason = gates_pass ? "" : "ttft p(95) = 2s; required < 100ms";
  report.thresholds = {gate};
  report.verdict = gates_pass ? Verdict::pass : Verdict::fail;
  return report;
}

TEST(SummarizeStep, PassFailAndWhatTheClientCouldNotOffer) {
  SweepPlan plan;
  plan.mode = SweepMode::search_rate;
  const auto pass = summarize_step(report_of(100, 0, 10, true), plan, 10, 0);
  EXPECT_EQ(pass.verdict, StepVerdict::pass);
  EXPECT_NEAR(*pass.achieved_rate, 10, 1e-6);
  EXPECT_NEAR(*pass.ttft_p95, 0.02, 0.001);
  const auto fail = summarize_step(report_of(100, 0, 10, false), plan, 10, 1);
  EXPECT_EQ(fail.verdict, StepVerdict::fail);
  EXPECT_THAT(fail.reasons.at(0), HasSubstr("ttft p(95)<100ms: ttft p(95) = 2s"));
  // Dropped arrivals with the gates holding: the client capped the load.
  auto capped = report_of(100, 7, 10, true);
  scenario::Scenario s;
  s.phases.resize(1);
  s.phases[0].max_in_flight = 1;
  capped.scenario = &s;
  const auto limited = summarize_step(capped, plan, 10, 2);
  EXPECT_EQ(limited.verdict, StepVerdict::client_limited);
  EXPECT_THAT(limited.reasons.at(0), HasSubstr("7 arrivals dropped at max_in_flight 1"));
  // Dropped arrivals and a failed gate: the server was too slow for what did go.
  EXPECT_EQ(summarize_step(report_of(100, 7, 10, false), plan, 10, 3).verdict, StepVerdict::fail);
  // A late loop makes the step the client's, whatever the gates say.
  auto late = report_of(100, 0, 10, false);
  late.run->total.histograms.event_loop_lag_ns.record(900'000'000);
  for (int i = 0; i < 10; ++i) {
    late.run->total.histograms.event_loop_lag_ns.record(900'000'000);
  }
  const auto late_step = summarize_step(late, plan, 10, 4);
  EXPECT_EQ(late_step.verdict, StepVerdict::client_limited);
  EXPECT_THAT(late_step.reasons.at(0), HasSubstr("event loop ran late"));
  // Fewer than 95% of the arrivals started, none dropped: the client could not keep the schedule.
  auto slow = report_of(80, 0, 8, true);
  const auto slow_step = summarize_step(slow, plan, 10, 5);
  EXPECT_EQ(slow_step.verdict, StepVerdict::client_limited);
  EXPECT_THAT(slow_step.reasons.at(0), HasSubstr("started 8/s of the 10/s asked for"));
  // A run that could not be carried out.
  RunReport broken;
  broken.errors = {"target: connection refused"};
  EXPECT_EQ(summarize_step(broken, plan, 10, 6).verdict, StepVerdict::error);
}

TEST(SummarizeStep, WithAnSloTheGoodFractionMustHold) {
  SweepPlan plan;
  plan.good_fraction = 0.9;
  auto report = report_of(100, 0, 10, true);
  scenario::Scenario s;
  s.slo = scenario::Slo{};
  s.slo->ttft = 50ms;
  s.phases.resize(1);
  report.scenario = &s;
  report.run->total.slo = s.slo;
  report.run->total.goodput.good = 85;
  const auto step = summarize_step(report, plan, 10, 0);
  EXPECT_EQ(step.verdict, StepVerdict::fail);
  EXPECT_THAT(step.reasons.at(0), HasSubstr("good fraction 85.0% < 90.0%"));
  report.run->total.goodput.good = 95;
  EXPECT_EQ(summarize_step(report, plan, 10, 0).verdict, StepVerdict::pass);
  // 40 arrivals dropped at max_in_flight: the good fraction of what was asked for is 95/140, but every
  // request sent was good and the gates that count drops are the client's: client-limited, not a failure.
  report.run->total.dropped = 40;
  ThresholdOutcome fraction_gate;
  fraction_gate.threshold = *scenario::parse_threshold("good_fraction", "rate>=0.9");
  fraction_gate.result.reason = "good_fraction rate = 0.68; required >= 0.9";
  report.thresholds.push_back(fraction_gate);
  report.verdict = Verdict::fail;
  report.run->total.goodput.good = 100;
  const auto limited = summarize_step(report, plan, 10, 0);
  EXPECT_EQ(limited.verdict, StepVerdict::client_limited);
  EXPECT_THAT(limited.reasons.at(0), HasSubstr("40 arrivals dropped"));
  // ... unless the requests that went missed the SLO too: then the server was too slow.
  report.run->total.goodput.good = 50;
  const auto slow = summarize_step(report, plan, 10, 0);
  EXPECT_EQ(slow.verdict, StepVerdict::fail);
  EXPECT_THAT(slow.reasons.at(0), HasSubstr("good fraction 50.0% < 90.0% (--good-fraction) of the requests sent"));
}

SweepStep step_of(double load, StepVerdict verdict, std::string reason = "") {
  SweepStep step;
  step.load = load;
  step.verdict = verdict;
  if (!reason.empty()) {
    step.reasons = {reason};
  }
  return step;
}

TEST(SweepAnswer, TheHighestPassBelowTheLowestFailure) {
  SweepPlan plan;
  // A noisy list: 40 passed after 30 failed; the capacity is still 20 (below the lowest failure).
  const auto answer = sweep_answer({step_of(10, StepVerdict::pass), step_of(20, StepVerdict::pass),
                                    step_of(30, StepVerdict::fail, "ttft p(95) = 2s"), step_of(40, StepVerdict::pass)},
                                   plan);
  EXPECT_EQ(answer.capacity, 20);
  EXPECT_EQ(answer.limit, "server");
  EXPECT_THAT(answer.text, HasSubstr("capacity 20 req/s"));
  EXPECT_THAT(answer.text, HasSubstr("at 30 req/s: ttft p(95) = 2s"));
  const auto client = sweep_answer({step_of(10, StepVerdict::pass), step_of(20, StepVerdict::client_limited, "7 arrivals dropped")},
                                   plan);
  EXPECT_EQ(client.limit, "client");
  EXPECT_THAT(client.text, HasSubstr("client-limited at 20 req/s: 7 arrivals dropped"));
  EXPECT_EQ(sweep_answer({step_of(10, StepVerdict::fail, "x")}, plan).limit, "below-min");
  EXPECT_FALSE(sweep_answer({step_of(10, StepVerdict::fail, "x")}, plan).capacity);
  EXPECT_EQ(sweep_answer({step_of(10, StepVerdict::pass)}, plan).limit, "max");
  SweepResult result;
  result.plan.require_rate = 15;
  result.answer = answer;
  EXPECT_EQ(sweep_exit_code(result), 0);
  result.plan.require_rate = 25;
  EXPECT_EQ(sweep_exit_code(result), 1);
}

TEST(StepScenario, OnePhaseAtTheLoadKeepingTheMeasuredPhasesLimits) {
  scenario::Scenario base;
  base.time_scale = 0.5;
  scenario::Phase measured;
  measured.name = "steady";
  measured.executor = scenario::ExecutorKind::poisson;
  measured.max_in_flight = 64;
  measured.graceful_stop = 10s;
  base.phases = {measured};
  base.warmup = measured;
  SweepPlan plan;
  plan.step_duration = 20s;
  const auto first = step_scenario(base, measured, plan, 12.5, true);
  ASSERT_EQ(first.phases.size(), 1u);
  EXPECT_EQ(first.phases[0].executor, scenario::ExecutorKind::constant_arrival_rate);
  EXPECT_EQ(first.phases[0].rate_per_s, 12.5);
  EXPECT_EQ(first.phases[0].duration, 20s);
  EXPECT_EQ(first.phases[0].max_in_flight, 64u);
  EXPECT_EQ(first.phases[0].graceful_stop, 5s);  // the file's time_scale applied
  EXPECT_EQ(first.phases[0].name, "rate-12.5");
  EXPECT_TRUE(first.warmup);
  EXPECT_EQ(first.time_scale, 1.0);
  EXPECT_FALSE(step_scenario(base, measured, plan, 25, false).warmup);
  plan.mode = SweepMode::concurrency;
  const auto users = step_scenario(base, measured, plan, 16, false);
  EXPECT_EQ(users.phases[0].executor, scenario::ExecutorKind::constant_vus);
  EXPECT_EQ(users.phases[0].vus, 16u);
  EXPECT_EQ(users.phases[0].name, "users-16");
}

TEST(SweepPhase, TheOnlyPhaseOrTheOneNamed) {
  scenario::Scenario s;
  s.path = "s.yaml";
  s.phases.resize(2);
  s.phases[0].name = "warm";
  s.phases[1].name = "steady";
  EXPECT_EQ(sweep_phase(s, "").error(),
            "s.yaml has 2 measured phases (\"warm\", \"steady\"); a sweep runs one: name it with --phase NAME");
  EXPECT_EQ(*sweep_phase(s, "steady"), &s.phases[1]);
  EXPECT_EQ(sweep_phase(s, "x").error(), "--phase: no measured phase \"x\" in s.yaml; its phases: \"warm\", \"steady\"");
}

}  // namespace
}  // namespace llmd::run
