// The engine against a real in-process simulator fleet (127.0.0.1, ephemeral ports). Delays are
// scaled down; timing bounds are generous on purpose (2-core CI machines are noisy).
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/engine_test_support.hpp"
#include "engine/request_state.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using test::SimFleet;

double seconds(std::chrono::nanoseconds duration) { return std::chrono::duration<double>(duration).count(); }
double ms(std::optional<double> ns) { return ns.value_or(-1) / 1e6; }

// Unscaled pods with a fixed prefill (no per-token part) and token interval, in milliseconds.
sim::SimConfig real_time_config(std::size_t pods, double prefill_ms, double inter_token_ms) {
  auto config = test::fast_sim_config(1.0);
  config.pods = pods;
  config.pod.timing.prefill_base_ms = prefill_ms;
  config.pod.timing.prefill_per_token_us = 0;
  config.pod.timing.inter_token_ms = inter_token_ms;
  return config;
}

TEST(EngineSim, IterationsSendsExactlyNRequestsAndThePodsAgree) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(40, 4)});
  fleet.stop();
  ASSERT_EQ(result.phases.size(), 1u);
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started, 40u);
  EXPECT_EQ(phase.ok, 40u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.failed + phase.aborted + phase.dropped, 0u);
  EXPECT_EQ(fleet.request_successes(), 40u);
  EXPECT_EQ(phase.output_tokens_total, 40u * 8);  // from usage of the last chunk
  EXPECT_EQ(fleet.generation_tokens(), 40u * 8);
  EXPECT_EQ(phase.histograms.ttft_ns.count(), 40u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.count(), 40u * 7);  // 8 tokens: 7 gaps each
  EXPECT_EQ(phase.histograms.schedule_lag_ns.count(), 0u);             // closed loop
  EXPECT_EQ(phase.check_counts[0].passed, 40u);
  EXPECT_EQ(phase.check_counts[1].passed, 40u);
  EXPECT_EQ(phase.check_counts[2].passed, 40u);
  EXPECT_LE(phase.peak_in_flight, 4u);
  EXPECT_GE(phase.connections_opened, 1u);
  EXPECT_LE(phase.connections_opened, 4u);  // keep-alive: each user reuses its connection
  EXPECT_EQ(result.total.ok, 40u);
  EXPECT_FALSE(result.interrupted);
  // The summary figures: input tokens from usage.prompt_tokens (every response reported it), a TPOT
  // per request (8 tokens > 1), the iterations asked for and no max_duration cut, no rate.
  EXPECT_EQ(phase.responses_with_input_tokens, 40u);
  ASSERT_TRUE(input_tokens(phase));
  EXPECT_EQ(*input_tokens(phase), phase.input_tokens_total);
  EXPECT_GT(phase.input_tokens_total, 40u * 8);
  EXPECT_EQ(phase.histograms.tpot_ns.count(), 40u);
  EXPECT_EQ(phase.iterations_target, 40u);
  EXPECT_FALSE(phase.max_duration_reached);
  EXPECT_FALSE(phase.target_rate_per_s);
  EXPECT_FALSE(achieved_rate_per_s(phase));
  EXPECT_EQ(result.total.input_tokens_total, phase.input_tokens_total);
}

// max_duration ends an iterations phase before its iterations: the result says how many started
// of how many, and that max_duration cut it (one user, ~80 ms per request, 200 ms).
TEST(EngineSim, IterationsCutByMaxDurationSaySo) {
  SimFleet fleet(test::fast_sim_config(1.0));
  const auto scenario = test::test_scenario();
  auto phase_spec = test::iterations_phase(20, 1);
  phase_spec.max_duration = 200ms;
  const RunResult result = test::run_against(fleet.url(), scenario, {phase_spec});
  fleet.stop();
  const PhaseResult& phase = result.phases[0];
  EXPECT_LT(phase.started, 20u);
  EXPECT_GE(phase.started, 1u);
  EXPECT_EQ(phase.iterations_target, 20u);
  EXPECT_TRUE(phase.max_duration_reached);
  EXPECT_EQ(to_json(phase)["summary"]["max_duration_reached"], true);
  EXPECT_EQ(to_json(phase)["summary"]["iterations_target"], 20);
}

// The loop-lag probe sees a loop that is kept busy: a progress callback (it runs on the loop
// thread) that blocks 40 ms once must show as a probe at least 40 - 5 ms late, in the phase and in the
// total (each probe once); the other probes stay well below it.
TEST(EngineSimTiming, EventLoopLagShowsABlockedLoop) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config;
  config.progress_interval = 100ms;
  bool blocked = false;
  config.on_progress = [&blocked](const Progress&) {
    if (!blocked) {
      blocked = true;
      std::this_thread::sleep_for(40ms);
    }
  };
  const RunResult result = test::run_against(fleet.url(), scenario, {test::constant_vus_phase(2, 400ms)}, config);
  fleet.stop();
  ASSERT_TRUE(blocked);
  const auto& lag = result.total.histograms.event_loop_lag_ns;
  // >= 400 ms of run / 5 ms probe period, minus the 40 ms block (and a noisy machine's misses).
  EXPECT_GE(lag.count(), 40u);
  // The block starts at most one probe period (5 ms) after the probe it delays was armed.
  EXPECT_GE(ms(lag.max()), 40.0 - 5.0 - 0.5);
  EXPECT_LT(ms(lag.percentile(50)), 5.0);
  EXPECT_EQ(result.phases[0].histograms.event_loop_lag_ns.count(), lag.count());  // one phase: same probes
  EXPECT_EQ(to_json(result)["total"]["metrics"]["event_loop_lag_ns"]["summary"]["count"], lag.count());
}

// CurlMulti::add skips libcurl's connection search (CURLOPT_FRESH_CONNECT) only while no idle
// connection exists. 50 users x 2 requests each: the first 50 open one connection each, the
// second 50 must reuse them all (a FRESH_CONNECT on those would show as 100 connections).
TEST(EngineSim, FreshConnectionsOnlyWhenNoneIsIdle) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(100, 50)});
  fleet.stop();
  const PhaseResult& phase = result.phases[0];
  ASSERT_EQ(phase.ok, 100u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.peak_in_flight, 50u);
  EXPECT_EQ(phase.connections_opened, 50u);
}

// From k_many_streams concurrent requests on, transfers use 2 KiB receive buffers: bodies much
// larger than that (non-streamed completions of 600 tokens) must still arrive whole.
TEST(EngineSim, ManyConcurrentRequestsReadBodiesLargerThanTheirReceiveBuffer) {
  SimFleet fleet(test::fast_sim_config(0.001));
  auto scenario = test::test_scenario();
  scenario.request.stream = false;
  scenario.request.max_tokens = 600;
  scenario.checks = {scenario::CheckKind::status_200};
  const std::size_t users = k_many_streams;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(users, users)});
  fleet.stop();
  const PhaseResult& phase = result.phases[0];
  ASSERT_EQ(phase.ok, users) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.output_tokens_total, users * 600);
  EXPECT_EQ(phase.check_counts[0].passed, users);
}

TEST(EngineSim, StampedEventsFillTheClientAddedHistograms) {
  auto config = test::fast_sim_config();
  config.pod.stamp_events = true;
  SimFleet fleet(config);
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(20, 4)});
  fleet.stop();
  const PhaseResult& phase = result.phases[0];
  ASSERT_EQ(phase.ok, 20u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.histograms.ttft_client_added_ns.count(), 20u);       // one per stream's first token
  EXPECT_EQ(phase.histograms.itl_client_added_ns.count(), 20u * 7);    // one per inter-token gap
  // Same clock on both sides: the delay is real, and never more than the whole TTFT.
  EXPECT_LE(phase.histograms.ttft_client_added_ns.max().value(), phase.histograms.ttft_ns.max().value());
  const auto json = to_json(result);
  EXPECT_EQ(json["total"]["metrics"]["ttft_client_added_ns"]["summary"]["count"], 20u);
  EXPECT_EQ(json["total"]["metrics"]["itl_client_added_ns"]["summary"]["count"], 140u);
}

TEST(EngineSim, UnstampedStreamsLeaveTheClientAddedHistogramsEmpty) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(5, 1)});
  const PhaseResult& phase = result.phases[0];
  ASSERT_EQ(phase.ok, 5u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.histograms.ttft_client_added_ns.count(), 0u);
  EXPECT_EQ(phase.histograms.itl_client_added_ns.count(), 0u);
}

// EngineConfig::stop_check gets the live totals; its answer stops the run like a first Ctrl-C
// (in-flight requests finish, phases not started never run) without counting as interrupted.
TEST(EngineSim, AStopCheckAnswerStopsTheRunAndIsKeptAsItsReason) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config;
  config.stop_check_interval = std::chrono::milliseconds(20);
  int calls = 0;
  std::uint64_t last_ok = 0;
  config.stop_check = [&](RunResult live) -> std::optional<std::string> {
    ++calls;
    EXPECT_TRUE(live.phases.empty());
    EXPECT_GE(live.total.ok, last_ok) << "totals only grow";
    last_ok = live.total.ok;
    return live.total.ok >= 20 ? std::optional<std::string>("enough") : std::nullopt;
  };
  auto first = test::iterations_phase(1'000'000, 2);
  auto second = test::iterations_phase(10, 1);
  second.name = "second";
  second.start_time = std::chrono::seconds(25);
  const RunResult result = test::run_against(fleet.url(), scenario, {first, second}, config);
  fleet.stop();
  EXPECT_EQ(result.stop_reason, std::optional<std::string>("enough"));
  EXPECT_FALSE(result.interrupted);
  EXPECT_FALSE(result.aborted);
  EXPECT_GE(calls, 1);
  EXPECT_GE(result.total.ok, 20u);
  EXPECT_LT(result.total.ok, 1'000'000u);
  EXPECT_EQ(result.total.aborted, 0u) << "in-flight requests finished";
  EXPECT_EQ(result.phases[1].started, 0u) << "the phase not started yet never ran";
  EXPECT_GT(result.stopped_at, std::chrono::nanoseconds::zero());
  EXPECT_LE(result.stopped_at, result.total.wall_duration);
}

TEST(EngineSim, AStopCheckThatNeverAnswersLeavesTheRunAlone) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config;
  config.stop_check_interval = std::chrono::milliseconds(1);
  int calls = 0;
  config.stop_check = [&](RunResult) -> std::optional<std::string> {
    ++calls;
    return std::nullopt;
  };
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(200, 2)}, config);
  EXPECT_EQ(result.total.ok, 200u);
  EXPECT_FALSE(result.stop_reason);
  EXPECT_GE(calls, 1);
}

TEST(EngineSim, ChatApiStreamsAndCountsTokens) {
  SimFleet fleet(test::fast_sim_config());
  auto scenario = test::test_scenario();
  scenario.request.api = scenario::ApiKind::chat;
  scenario.request.include_usage = false;  // tokens from content events
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(10, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.ok, 10u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.output_tokens_total, 80u);
  // The role-only first delta is an SSE event but not a token.
  EXPECT_LE(phase.histograms.first_event_ns.max().value(), phase.histograms.ttft_ns.max().value());
}

TEST(EngineSimTiming, ConstantVusKeepsEveryUserBusy) {
  auto config = test::fast_sim_config(0.05);  // 20 tokens x 0.5 ms
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 20;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::constant_vus_phase(5, 1500ms)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failed, 0u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.peak_in_flight, 5u);
  EXPECT_GT(phase.mean_in_flight, 4.0);  // a user is idle only between two requests
  EXPECT_LE(phase.mean_in_flight, 5.0);
  EXPECT_GT(phase.ok, 50u);
  EXPECT_GE(seconds(phase.wall_duration), 1.5);
  EXPECT_LT(seconds(phase.wall_duration), 4.0);
}

TEST(EngineSimTiming, ConstantArrivalRateKeepsTheScheduleWithoutDrops) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(
      fleet.url(), scenario, {test::arrival_phase(scenario::ExecutorKind::constant_arrival_rate, 200, 1s, 100)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started, 200u);  // 1 s at 200/s, every request on its own schedule
  EXPECT_EQ(phase.dropped, 0u);
  EXPECT_EQ(phase.ok, 200u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.histograms.schedule_lag_ns.count(), 200u);
  EXPECT_LT(ms(phase.histograms.schedule_lag_ns.percentile(50)), 20.0);
  const double achieved = static_cast<double>(phase.started) / seconds(phase.wall_duration);
  EXPECT_GT(achieved, 100.0);
  EXPECT_LT(achieved, 210.0);
  // Achieved rate over the arrival window (the whole 1 s, though the last arrival is at 995 ms).
  EXPECT_EQ(phase.target_rate_per_s, 200.0);
  EXPECT_EQ(phase.arrival_window, std::chrono::nanoseconds(1s));
  EXPECT_DOUBLE_EQ(achieved_rate_per_s(phase).value_or(-1), 200.0);
  EXPECT_FALSE(phase.iterations_target);
}

TEST(EngineSim, OpenLoopDropsInsteadOfQueueingBehindASlowServer) {
  auto config = test::fast_sim_config(1.0);  // 20 tokens x 10 ms: ~200 ms per request
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 20;
  const RunResult result = test::run_against(
      fleet.url(), scenario, {test::arrival_phase(scenario::ExecutorKind::constant_arrival_rate, 100, 500ms, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started + phase.dropped, 50u);
  EXPECT_GE(phase.dropped, 30u);
  EXPECT_LE(phase.peak_in_flight, 2u);
  EXPECT_EQ(phase.ok, phase.started) << to_json(phase)["failure_examples"].dump();
}

TEST(EngineSim, PoissonArrivalsHaveTheRequestedMeanRate) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result =
      test::run_against(fleet.url(), scenario, {test::arrival_phase(scenario::ExecutorKind::poisson, 300, 1s, 0)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_NEAR(static_cast<double>(phase.started), 300, 60);  // Poisson sd ~17
  EXPECT_EQ(phase.dropped, 0u);
  EXPECT_EQ(phase.ok, phase.started) << to_json(phase)["failure_examples"].dump();
}

TEST(EngineSimTiming, RampingVusFollowsTheStages) {
  SimFleet fleet(test::fast_sim_config(0.05));
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 10;
  scenario::Phase phase;
  phase.name = "ramp";
  phase.executor = scenario::ExecutorKind::ramping_vus;
  phase.stages = {{500ms, 4}, {500ms, 4}, {500ms, 0}};
  phase.graceful_stop = 5s;
  std::vector<std::size_t> active_seen;
  EngineConfig config;
  config.progress_interval = 50ms;
  config.on_progress = [&](const Progress& progress) { active_seen.push_back(progress.active_vus); };
  const RunResult result = test::run_against(fleet.url(), scenario, {phase}, config);
  const PhaseResult& ramp = result.phases[0];
  EXPECT_EQ(ramp.peak_in_flight, 4u);
  EXPECT_GT(ramp.mean_in_flight, 1.5);  // expected ~2.7: 1.5 up, 4 flat, 2.5 down
  EXPECT_LT(ramp.mean_in_flight, 3.6);
  EXPECT_EQ(ramp.failed, 0u);
  ASSERT_FALSE(active_seen.empty());
  EXPECT_LE(active_seen.front(), 2u);  // the ramp starts from 0 users
  EXPECT_EQ(*std::max_element(active_seen.begin(), active_seen.end()), 4u);
}

TEST(EngineSimTiming, PhasesStartAtTheirOffsetsAndMayOverlap) {
  SimFleet fleet(test::fast_sim_config(0.05));
  auto scenario = test::test_scenario();
  auto first = test::constant_vus_phase(2, 600ms);
  first.name = "first";
  auto second = test::constant_vus_phase(2, 600ms);
  second.name = "second";
  second.start_time = 400ms;
  std::vector<std::pair<double, std::string>> seen;
  EngineConfig config;
  config.progress_interval = 25ms;
  config.on_progress = [&](const Progress& progress) { seen.emplace_back(seconds(progress.elapsed), progress.phase); };
  const RunResult result = test::run_against(fleet.url(), scenario, {first, second}, config);
  ASSERT_EQ(result.phases.size(), 2u);
  EXPECT_EQ(result.phases[1].started_at, 400ms);
  EXPECT_GT(result.phases[1].ok, 0u);
  bool overlap = false;
  for (const auto& [at, names] : seen) {
    if (at < 0.4) {
      EXPECT_EQ(names, "first") << "at " << at;
    }
    overlap = overlap || names == "first,second";
  }
  EXPECT_TRUE(overlap);
  EXPECT_GE(seconds(result.total.wall_duration), 1.0);
  EXPECT_EQ(result.total.started, result.phases[0].started + result.phases[1].started);
}

TEST(EngineSimTiming, TtftIncludesTheSimulatedPrefill) {
  SimFleet fleet(real_time_config(2, 60, 5));
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 4;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(6, 2)});
  const auto& h = result.phases[0].histograms;
  ASSERT_EQ(h.ttft_ns.count(), 6u);
  EXPECT_GE(ms(h.ttft_ns.percentile(0)), 60.0);
  EXPECT_LT(ms(h.ttft_ns.percentile(50)), 600.0);
  EXPECT_LE(h.first_byte_ns.max().value(), h.ttft_ns.max().value());
  EXPECT_LE(h.first_event_ns.max().value(), h.ttft_ns.max().value());
  EXPECT_GE(ms(h.inter_token_latency_ns.percentile(50)), 3.0);  // 5 ms apart on the server
  EXPECT_GE(ms(h.http_req_duration_ns.percentile(0)), 60.0 + 3 * 5 - 1);
}

// The pod's capacity is its timing model's, not the host's: when the pod's thread stalls (timers fire late),
// the request waiting for a slot still starts when the running one was due to end. Found by the sweep knee test
// on a busy CI machine: each late timer made the slot's next request start late, so the knee moved from 90 to
// 70 req/s between two searches.
TEST(EngineSimTiming, AStalledPodDelaysTheBytesNotTheRequestsQueuedBehind) {
  auto config = real_time_config(1, 100, 50);
  config.pod.max_num_seqs = 1;
  SimFleet fleet(config);
  // Both requests at the pod (one running, one waiting): the pod's thread stalls for 500 ms, past the running
  // request's model end (100 ms prefill + 4 x 50 ms = 300 ms).
  fleet.stall_when([](const sim::Fleet& f) { return f.pod(0).in_flight() == 2; }, 500ms);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 5;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(2, 2)});
  EXPECT_EQ(result.phases[0].ok, 2u) << to_json(result.phases[0])["failure_examples"].dump();
  fleet.stop();
  // vllm:request_queue_time: the first request did not wait; the second waited the first's 300 ms of model
  // time (less the gap between their arrivals), not the stall's 500 ms and more.
  const auto& queue = fleet.pod(0).metrics().request_queue_time;
  ASSERT_EQ(queue.count, 2u);
  EXPECT_GT(queue.sum, 0.2);
  EXPECT_LT(queue.sum, 0.4);
}

// The built-in client's receive times are the kernel's arrival stamps (engine/receive_clock.hpp): a loop
// that is busy elsewhere while the first token arrives still dates the token when it arrived. libcurl reads
// its sockets itself, so its times are the clock after the read and carry the block.
TEST(EngineSimTiming, ABlockedLoopDoesNotMoveTheBuiltInClientsReceiveTimes) {
  auto config = real_time_config(1, 200, 5);
  config.pod.stamp_events = true;
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 3;
  for (const auto client : {scenario::HttpClient::automatic, scenario::HttpClient::curl}) {
    SCOPED_TRACE(std::string(scenario::to_string(client)));
    scenario.engine.http = client;
    EngineConfig engine;
    engine.progress_interval = 40ms;
    bool blocked = false;
    engine.on_progress = [&blocked](const Progress&) {
      if (!blocked) {  // from ~40 ms to ~440 ms: the first token comes at ~200 ms
        blocked = true;
        std::this_thread::sleep_for(400ms);
      }
    };
    const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(1, 1)}, engine);
    ASSERT_TRUE(blocked);
    const auto& h = result.phases[0].histograms;
    ASSERT_EQ(h.ttft_client_added_ns.count(), 1u) << to_json(result.phases[0])["failure_examples"].dump();
    if (client == scenario::HttpClient::automatic) {
      EXPECT_EQ(result.http_client, "built-in HTTP/1.1");
      EXPECT_GT(result.http_counts.reads, 0u);
      EXPECT_EQ(result.http_counts.kernel_stamped_reads, result.http_counts.reads);
      EXPECT_LT(ms(h.ttft_client_added_ns.max()), 50.0);  // stamp to arrival: loopback
      EXPECT_LT(ms(h.ttft_ns.max()), 350.0);               // 200 ms of prefill, not the 440 ms the loop saw it at
    } else {
      EXPECT_EQ(result.http_client, "libcurl");
      EXPECT_EQ(result.http_counts.reads, 0u);
      EXPECT_GT(ms(h.ttft_client_added_ns.max()), 150.0);  // the ~240 ms the token waited for the loop
    }
  }
}

// engine.coalesce (curl_multi.hpp "Wake-ups"): 40 streams of tokens 20 ms apart (2,000 events/s),
// straight to one pod. A 5 ms pause before each wait cuts the wake-ups, and moves no time: the
// built-in client dates each read by the kernel's stamp, so the stamp-to-receipt delay stays where it
// is without pauses and the gaps at the server's 20 ms. Dated by the clock after the read (what the
// loop sees), the pause would add ~2.5 ms on average. `auto` sizes its window from the gaps (a tenth:
// ~2 ms); libcurl never pauses.
TEST(EngineSimTiming, CoalescedWakeUpsCutTheWaitsAndMoveNoTime) {
  auto config = real_time_config(1, 10, 20);
  config.pod.stamp_events = true;
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 30;
  const auto run = [&](scenario::HttpClient client, scenario::Coalesce coalesce) {
    scenario.engine.http = client;
    scenario.engine.coalesce = coalesce;
    // Arrivals 7.7 ms apart: the streams' tokens fall all over each 20 ms period, as independent
    // users' do (started together, every stream's token would come in the same instant and each
    // wake-up would bring 40 without any pause).
    return test::run_against(fleet.pod_url(0), scenario,
                             {test::arrival_phase(scenario::ExecutorKind::constant_arrival_rate, 130, 310ms, 64)});
  };
  const scenario::Coalesce fixed{scenario::Coalesce::Mode::fixed, 5ms};
  const RunResult coalesced = run(scenario::HttpClient::automatic, fixed);
  const RunResult off = run(scenario::HttpClient::automatic, {scenario::Coalesce::Mode::off, {}});
  const RunResult automatic = run(scenario::HttpClient::automatic, {});
  const RunResult curl = run(scenario::HttpClient::curl, fixed);
  for (const RunResult* result : {&coalesced, &off, &automatic, &curl}) {
    ASSERT_GE(result->total.ok, 39u);
    ASSERT_EQ(result->total.ok, result->total.started) << to_json(result->total)["failure_examples"].dump();
  }
  const auto& h = coalesced.total.histograms;
  EXPECT_GT(coalesced.http_counts.coalesced_waits, 0u);
  EXPECT_LE(coalesced.http_counts.longest_pause_ns, 5'000'000u);
  EXPECT_LT(coalesced.http_counts.waits * 2, off.http_counts.waits)
      << "coalesced " << coalesced.http_counts.waits << " waits, off " << off.http_counts.waits;
  EXPECT_EQ(off.http_counts.coalesced_waits, 0u);
  ASSERT_GT(h.itl_client_added_ns.count(), 1000u);
  EXPECT_LT(ms(h.itl_client_added_ns.percentile(50)), 1.0);
  // The tail is the pod's thread (one, for 2,000 events/s, in a debug or sanitizer build): the same
  // with or without pauses.
  const double off_p99 = ms(off.total.histograms.itl_client_added_ns.percentile(99));
  EXPECT_LT(ms(h.itl_client_added_ns.percentile(99)), off_p99 + 2.5) << "without pauses: " << off_p99 << " ms";
  EXPECT_NEAR(ms(h.inter_token_latency_ns.percentile(50)), 20.0, 1.5);
  EXPECT_GT(automatic.http_counts.coalesced_waits, 0u);
  EXPECT_GT(automatic.http_counts.longest_pause_ns, 0u);
  EXPECT_LE(automatic.http_counts.longest_pause_ns, 3'000'000u);  // a tenth of the ~20 ms gaps
  EXPECT_EQ(curl.http_client, "libcurl");
  EXPECT_EQ(curl.http_counts.coalesced_waits, 0u);
}

TEST(EngineSim, PerSessionRequestsCarryTheSessionHeader) {
  auto config = test::fast_sim_config();
  config.route = sim::RoutePolicy::session;
  config.pods = 4;
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.prompt = scenario::PromptKind::per_session;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(20, 4)});
  EXPECT_EQ(result.phases[0].ok, 20u) << to_json(result.phases[0])["failure_examples"].dump();
}

// RunResult::per_second (per_second.hpp) from a real run: its columns add up to the run's totals,
// and its TTFT percentiles are those of the ok requests.
TEST(EngineSim, PerSecondSeriesAddsUpToTheRunTotals) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(60, 4)});
  fleet.stop();
  ASSERT_FALSE(result.per_second.empty());
  std::uint64_t started = 0, ok = 0, failed = 0, tokens = 0, peak = 0;
  for (const auto& second : result.per_second) {
    started += second.started;
    ok += second.ok;
    failed += second.failed;
    tokens += second.output_tokens;
    peak = std::max<std::uint64_t>(peak, second.peak_in_flight);
  }
  EXPECT_EQ(started, result.total.started);
  EXPECT_EQ(ok, result.total.ok);
  EXPECT_EQ(failed, result.total.failed + result.total.aborted);
  EXPECT_EQ(tokens, result.total.output_tokens_total);
  EXPECT_EQ(peak, result.total.peak_in_flight);
  const auto& last = result.per_second.back();
  ASSERT_TRUE(last.ttft_p50_ns || result.per_second.front().ttft_p50_ns);
  const double run_max = static_cast<double>(result.total.histograms.ttft_ns.max().value_or(0));
  for (const auto& second : result.per_second) {
    if (second.ttft_p95_ns) {
      EXPECT_LE(*second.ttft_p50_ns, *second.ttft_p95_ns);
      EXPECT_LE(*second.ttft_p95_ns, run_max * 1.004);
    }
  }
  const auto json = to_json(result)["per_second"];
  EXPECT_EQ(json["ok"].size(), result.per_second.size());
}

}  // namespace
}  // namespace llmd::engine
