// `--threads N` (engine.hpp, engine_threads.cpp): several event loops against a real in-process
// simulator fleet (127.0.0.1, ephemeral ports). The slices of a phase must add up to the whole run,
// the results must merge exactly, and the shared stop, progress and per-request log must behave as
// with one loop.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/engine_test_support.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using test::SimFleet;
using ::testing::HasSubstr;

EngineConfig with_threads(std::size_t threads) {
  EngineConfig config;
  config.threads = threads;
  return config;
}

TEST(EngineThreads, IterationsAreSplitExactlyAndThePodsAgree) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(200, 8)}, with_threads(4));
  fleet.stop();
  ASSERT_EQ(result.phases.size(), 1u);
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started, 200u);
  EXPECT_EQ(phase.ok, 200u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(fleet.request_successes(), 200u);
  EXPECT_EQ(phase.output_tokens_total, 200u * 8);
  EXPECT_EQ(phase.histograms.ttft_ns.count(), 200u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.count(), 200u * 7);
  EXPECT_EQ(phase.check_counts[0].passed, 200u);
  EXPECT_EQ(phase.iterations_target, 200u) << "the threads' shares add up to the phase's iterations";
  EXPECT_FALSE(phase.max_duration_reached);
  EXPECT_LE(phase.peak_in_flight, 8u) << "the run-wide peak, not a sum of the threads' peaks";
  EXPECT_GE(phase.peak_in_flight, 1u);
  EXPECT_GT(phase.mean_in_flight, 0.0);
  EXPECT_EQ(result.total.ok, 200u);
  EXPECT_FALSE(result.interrupted);
  ASSERT_EQ(result.threads.size(), 4u);
  std::uint64_t started = 0;
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_EQ(result.threads[t].index, t);
    EXPECT_EQ(result.threads[t].started, 50u) << "thread " << t << " owns every 4th iteration";
    EXPECT_EQ(result.threads[t].completed, 50u);
    EXPECT_GT(result.threads[t].event_loop_lag_ns.count(), 0u) << "each loop probes its own lag";
    started += result.threads[t].started;
  }
  EXPECT_EQ(started, phase.started);
  // The total's lag histogram holds every loop's probes.
  std::uint64_t probes = 0;
  for (const auto& thread : result.threads) {
    probes += thread.event_loop_lag_ns.count();
  }
  EXPECT_EQ(result.total.histograms.event_loop_lag_ns.count(), probes);
}

TEST(EngineThreads, TheMergedRunMatchesOneLoopCountForCount) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult one = test::run_against(fleet.url(), scenario, {test::iterations_phase(60, 6)}, with_threads(1));
  const RunResult three = test::run_against(fleet.url(), scenario, {test::iterations_phase(60, 6)}, with_threads(3));
  fleet.stop();
  EXPECT_TRUE(one.threads.empty()) << "one loop has no per-thread entries";
  ASSERT_EQ(three.threads.size(), 3u);
  for (const auto field : {&PhaseResult::started, &PhaseResult::completed, &PhaseResult::ok, &PhaseResult::failed,
                            &PhaseResult::output_tokens_total, &PhaseResult::input_tokens_total}) {
    EXPECT_EQ(one.total.*field, three.total.*field);
  }
  EXPECT_EQ(one.total.histograms.ttft_ns.count(), three.total.histograms.ttft_ns.count());
  EXPECT_EQ(one.total.histograms.inter_token_latency_ns.count(), three.total.histograms.inter_token_latency_ns.count());
  EXPECT_EQ(one.phases[0].iterations_target, three.phases[0].iterations_target);
  // The same prompts were sent: request k of the run is request k of one loop (slice.hpp).
  EXPECT_EQ(one.total.input_tokens_total, three.total.input_tokens_total);
}

TEST(EngineThreads, AnOpenLoopKeepsItsWholeScheduleAcrossThreads) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(
      fleet.url(), scenario, {test::arrival_phase(scenario::ExecutorKind::constant_arrival_rate, 200, 1s, 0)},
      with_threads(3));
  fleet.stop();
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started + phase.dropped, 200u) << "arrival k goes to thread k mod 3, every arrival once";
  EXPECT_EQ(phase.dropped, 0u);
  ASSERT_TRUE(phase.target_rate_per_s);
  EXPECT_NEAR(*phase.target_rate_per_s, 200.0, 1e-9) << "the threads' rates add up to the phase's";
  ASSERT_TRUE(phase.arrival_window);
  EXPECT_EQ(*phase.arrival_window, std::chrono::nanoseconds(1s));
  ASSERT_EQ(result.threads.size(), 3u);
  EXPECT_EQ(result.threads[0].started, 67u);
  EXPECT_EQ(result.threads[1].started, 67u);
  EXPECT_EQ(result.threads[2].started, 66u);
  // Seconds are run-wide: their counts add up to the run's.
  std::uint64_t started = 0, ok = 0, peak = 0;
  for (const auto& second : result.per_second) {
    started += second.started;
    ok += second.ok;
    peak = std::max<std::uint64_t>(peak, second.peak_in_flight);
  }
  EXPECT_EQ(started, result.total.started);
  EXPECT_EQ(ok, result.total.ok);
  EXPECT_EQ(peak, result.total.peak_in_flight) << "one ledger: the seconds' peaks and the run's agree";
}

TEST(EngineThreads, ProgressComesFromEveryLoopOnTheCallingThread) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(2);
  config.progress_interval = 20ms;
  const auto caller = std::this_thread::get_id();
  std::vector<Progress> seen;
  config.on_progress = [&](const Progress& progress) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    seen.push_back(progress);
  };
  auto phase = test::constant_vus_phase(4, 400ms);
  const RunResult result = test::run_against(fleet.url(), scenario, {phase}, config);
  fleet.stop();
  ASSERT_GE(seen.size(), 3u);
  std::uint64_t last = 0;
  bool saw_both_loops = false;
  for (const auto& progress : seen) {
    EXPECT_GE(progress.completed, last) << "merged totals only grow";
    last = progress.completed;
    EXPECT_LE(progress.in_flight, 4u);
    saw_both_loops = saw_both_loops || progress.active_vus > 2;  // one loop has 2 users
    if (progress.completed > 0) {
      EXPECT_TRUE(progress.ttft_p95_seconds);
    }
  }
  EXPECT_TRUE(saw_both_loops) << "the users of both loops are counted";
  EXPECT_LE(last, result.total.completed);
  EXPECT_GT(last, 0u);
}

TEST(EngineThreads, AStopCheckAnswerStopsEveryLoopAndIsKeptAsTheReason) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(3);
  config.stop_check_interval = 20ms;
  const auto caller = std::this_thread::get_id();
  int calls = 0;
  config.stop_check = [&](RunResult live) -> std::optional<std::string> {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    ++calls;
    return live.total.ok >= 30 ? std::optional<std::string>("enough") : std::nullopt;
  };
  auto first = test::iterations_phase(1'000'000, 6);
  auto second = test::iterations_phase(10, 3);
  second.name = "second";
  second.start_time = 25s;
  const RunResult result = test::run_against(fleet.url(), scenario, {first, second}, config);
  fleet.stop();
  EXPECT_EQ(result.stop_reason, std::optional<std::string>("enough"));
  EXPECT_FALSE(result.interrupted);
  EXPECT_FALSE(result.aborted);
  EXPECT_GE(calls, 1);
  EXPECT_GE(result.total.ok, 30u);
  EXPECT_LT(result.total.ok, 1'000'000u);
  EXPECT_EQ(result.total.aborted, 0u);
  EXPECT_EQ(result.phases[1].started, 0u);
  EXPECT_GT(result.stopped_at, std::chrono::nanoseconds::zero());
  EXPECT_LE(result.stopped_at, result.total.wall_duration);
  for (const auto& thread : result.threads) {
    EXPECT_GT(thread.started, 0u) << "thread " << thread.index;
  }
}

TEST(EngineThreads, TheStopAndAbortFlagsReachEveryLoop) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  std::atomic<bool> stop{false};
  std::atomic<bool> abort{false};
  EngineConfig config = with_threads(2);
  config.stop = &stop;
  config.abort = &abort;
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  const RunResult stopped = test::run_against(fleet.url(), scenario, {test::constant_vus_phase(4, 60s)}, config);
  ctrl_c.join();
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_FALSE(stopped.aborted);
  EXPECT_FALSE(stopped.stop_reason);
  EXPECT_LT(stopped.total.wall_duration, 30s);
  EXPECT_EQ(stopped.total.started, stopped.total.completed + stopped.total.aborted);

  stop = true;
  abort = true;
  auto slow = test::test_scenario();
  const RunResult aborted = test::run_against(fleet.url(), slow, {test::constant_vus_phase(4, 60s)}, config);
  fleet.stop();
  EXPECT_TRUE(aborted.interrupted);
  EXPECT_TRUE(aborted.aborted);
}

// A callback that throws on the coordinating thread stops the loops and reaches the caller (which
// reports an internal error and still writes what it has), instead of std::terminate on joinable threads.
TEST(EngineThreads, ACallbackThatThrowsStopsTheLoopsAndReachesTheCaller) {
  struct ProgressFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(2);
  config.progress_interval = 20ms;
  config.on_progress = [](const Progress&) { throw ProgressFailed("terminal gone"); };
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(test::run_against(fleet.url(), scenario, {test::constant_vus_phase(4, 60s)}, config), ProgressFailed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "the loops were aborted, not run to the end";
  fleet.stop();
}

TEST(EngineThreads, PerRequestRecordsComeOneAtATimeAndCoverEveryRequest) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(4);
  std::atomic<int> inside{0};
  int most_inside = 0;
  std::uint64_t records = 0;
  std::set<std::size_t> users;
  config.on_request = [&](const RequestRecord& record) {
    const int now_inside = ++inside;
    most_inside = std::max(most_inside, now_inside);
    ++records;
    users.insert(record.vu);
    std::this_thread::sleep_for(50us);  // widen the window a concurrent call would need
    --inside;
  };
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(120, 8)}, config);
  fleet.stop();
  EXPECT_EQ(most_inside, 1) << "on_request is serialised across the loops";
  EXPECT_EQ(records, result.total.started);
  EXPECT_EQ(users.size(), 8u) << "every user (thread = user mod 4) ran";
}

TEST(EngineThreads, OnStartIsCalledOnceWithTheCommonRunStart) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(3);
  int calls = 0;
  config.on_start = [&](std::chrono::steady_clock::time_point) { ++calls; };
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(9, 3)}, config);
  fleet.stop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result.total.ok, 9u);
}

TEST(EngineThreads, APhaseThatCannotBeSplitThatManyWaysIsRefusedNamingTheThread) {
  const auto scenario = test::test_scenario();
  EngineConfig config = with_threads(2);
  config.scenario = &scenario;
  config.base_url = "http://127.0.0.1:9";
  const std::vector<scenario::Phase> phases = {test::iterations_phase(10, 1)};
  auto result = run_phases(config, phases);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error(), HasSubstr("thread 1 of 2"));
  EXPECT_THAT(result.error(), HasSubstr("cannot be split 2 ways"));
  EXPECT_THAT(result.error(), HasSubstr("fewer shards/threads"));
}

TEST(EngineThreads, AThreadCountOutsideItsRangeIsRefused) {
  const auto scenario = test::test_scenario();
  const std::vector<scenario::Phase> phases = {test::iterations_phase(10, 1)};
  for (const std::size_t threads : {std::size_t{0}, k_max_threads + 1}) {
    EngineConfig config = with_threads(threads);
    config.scenario = &scenario;
    config.base_url = "http://127.0.0.1:9";
    auto result = run_phases(config, phases);
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr("threads must be 1..256"));
  }
}

TEST(EngineThreads, AShardSplitsFurtherIntoItsThreads) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  std::uint64_t started = 0;
  std::uint64_t target = 0;
  for (std::size_t shard = 0; shard < 2; ++shard) {
    EngineConfig config = with_threads(2);
    config.slice = Slice{shard, 2};
    const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(40, 8)}, config);
    ASSERT_EQ(result.threads.size(), 2u);
    EXPECT_EQ(result.threads[0].started, 10u);
    EXPECT_EQ(result.threads[1].started, 10u);
    started += result.total.started;
    target += result.phases[0].iterations_target.value_or(0);
  }
  fleet.stop();
  EXPECT_EQ(started, 40u);
  EXPECT_EQ(target, 40u);
  EXPECT_EQ(fleet.request_successes(), 40u);
}

}  // namespace
}  // namespace llmd::engine
