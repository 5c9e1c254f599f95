// Keys of the file-replay workloads (scenario/trace_spec.hpp): the `dataset` kind's format, replay
// and output_tokens, the `trace` kind's block_size, the `trace` executor's speedup, and the rules
// that tie them to the API and the executors (load_replay.cpp).
#include <string>

#include <gtest/gtest.h>

#include "scenario/phase_load.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using namespace std::chrono_literals;
using test::load_error;
using test::load_ok;

const std::string k_sharegpt = std::string(LLMD_TEST_FIXTURES) + "/datasets/sharegpt-sample.json";

// api, the dataset prompt with `keys` (lines 3.. of "    key: value\n"), then a phase.
std::string dataset_scenario(std::string_view api, std::string_view keys,
                             std::string_view phase = "  - {executor: constant-vus, vus: 2, duration: 1s}\n") {
  return "api: " + std::string(api) + "\nrequests:\n  prompt:\n    kind: dataset\n    path: " + k_sharegpt + "\n" +
         std::string(keys) + "load:\n" + std::string(phase);
}

std::string trace_scenario(std::string_view prompt_keys, std::string_view phase) {
  return "requests:\n  prompt:\n    kind: trace\n    path: " + k_sharegpt + "\n" + std::string(prompt_keys) + "load:\n" +
         std::string(phase);
}

TEST(ScenarioReplay, DatasetKeysAndTheirDefaults) {
  const RequestSpec plain = load_ok(dataset_scenario("completions", "")).request;
  EXPECT_EQ(plain.dataset.format, DatasetSpec::Format::automatic);
  EXPECT_EQ(plain.dataset.replay, DatasetSpec::Replay::first_turn);
  EXPECT_FALSE(plain.dataset.output_tokens_from_dataset);
  const RequestSpec full =
      load_ok(dataset_scenario("chat", "    format: sharegpt\n    replay: multi-turn\n    output_tokens: dataset\n")).request;
  EXPECT_EQ(full.dataset.format, DatasetSpec::Format::sharegpt);
  EXPECT_EQ(full.dataset.replay, DatasetSpec::Replay::multi_turn);
  EXPECT_TRUE(full.dataset.output_tokens_from_dataset);
  EXPECT_EQ(load_ok(dataset_scenario("chat", "    format: jsonl\n    output_tokens: max_tokens\n")).request.dataset.format,
            DatasetSpec::Format::jsonl);
}

TEST(ScenarioReplay, DatasetKeyErrors) {
  EXPECT_EQ(load_error(dataset_scenario("chat", "    format: csv\n")),
            "scenarios/x.yaml:6:13: requests.prompt.format: unknown format \"csv\"; expected one of jsonl, sharegpt");
  EXPECT_EQ(load_error(dataset_scenario("chat", "    replay: all\n")),
            "scenarios/x.yaml:6:13: requests.prompt.replay: unknown replay \"all\"; expected one of first-turn, "
            "multi-turn");
  EXPECT_EQ(load_error(dataset_scenario("chat", "    output_tokens: 12\n")),
            "scenarios/x.yaml:6:20: requests.prompt.output_tokens: unknown output_tokens \"12\"; expected one of "
            "dataset, max_tokens");
  EXPECT_EQ(load_error(dataset_scenario("completions", "    replay: multi-turn\n")),
            "scenarios/x.yaml:3:3: requests.prompt.replay: multi-turn resends each conversation's history as chat "
            "messages; set api: chat");
  EXPECT_EQ(load_error(dataset_scenario("chat", "    replay: multi-turn\n",
                                        "  - {name: open, executor: poisson, rate: 5, duration: 1s}\n")),
            "scenarios/x.yaml:8:5: phase \"open\": replay: multi-turn needs virtual users to own the conversations, "
            "but executor poisson is open loop; use constant-vus, ramping-vus or iterations");
}

TEST(ScenarioReplay, TracePromptAndExecutor) {
  const Scenario scenario = load_ok(trace_scenario(
      "    block_size: 512\n", "  - {name: replay, executor: trace, speedup: 2.5, max_in_flight: 50}\n"));
  EXPECT_EQ(scenario.request.prompt, PromptKind::trace);
  EXPECT_EQ(scenario.request.dataset_path, k_sharegpt);
  EXPECT_EQ(scenario.request.trace.block_size, 512u);
  ASSERT_EQ(scenario.phases.size(), 1u);
  const Phase& phase = scenario.phases[0];
  EXPECT_EQ(phase.executor, ExecutorKind::trace);
  EXPECT_DOUBLE_EQ(phase.speedup, 2.5);
  EXPECT_EQ(phase.max_in_flight, 50u);
  EXPECT_EQ(phase.max_duration, 24h);
  EXPECT_EQ(peak_requests(phase), 50u);
  EXPECT_EQ(nominal_length(phase), std::nullopt);
  const Scenario defaults = load_ok(trace_scenario("", "  - {executor: trace, max_duration: 2m}\n"));
  EXPECT_EQ(defaults.request.trace.block_size, 16u);
  EXPECT_DOUBLE_EQ(defaults.phases[0].speedup, 1);
  EXPECT_EQ(defaults.phases[0].max_in_flight, 1000u);
  EXPECT_EQ(defaults.phases[0].max_duration, 2min);
}

TEST(ScenarioReplay, TraceKeyErrors) {
  const std::string phase = "  - {executor: trace}\n";
  EXPECT_EQ(load_error(trace_scenario("    block_size: 0\n", phase)),
            "scenarios/x.yaml:5:17: requests.prompt.block_size: must be >= 1, got 0");
  EXPECT_EQ(load_error(trace_scenario("    block_size: 8192\n", phase)),
            "scenarios/x.yaml:5:17: requests.prompt.block_size: must be <= 4096, got 8192");
  EXPECT_EQ(load_error(trace_scenario("    seed: 3\n", phase)),
            "scenarios/x.yaml:5:5: requests.prompt: unknown key \"seed\" for prompt kind trace; valid keys: kind, path, "
            "block_size");
  EXPECT_EQ(load_error(trace_scenario("", "  - {executor: trace, speedup: 0}\n")),
            "scenarios/x.yaml:6:32: load[0].speedup: must be >= 1e-06, got 0");
  EXPECT_EQ(load_error(trace_scenario("", "  - {executor: trace, speedup: 2000000}\n")),
            "scenarios/x.yaml:6:32: load[0].speedup: must be <= 1000000, got 2000000");
  EXPECT_EQ(load_error(trace_scenario("", "  - {executor: trace, rate: 2}\n")),
            "scenarios/x.yaml:6:23: load[0]: unknown key \"rate\" for executor trace; valid keys: name, executor, "
            "start_time, speedup, max_in_flight, max_duration, graceful_stop");
  EXPECT_EQ(load_error(trace_scenario("", "  - {executor: trace, max_in_flight: 0}\n")),
            "scenarios/x.yaml:6:38: load[0].max_in_flight: must be >= 1, got 0");
}

TEST(ScenarioReplay, TracePromptAndTraceExecutorComeTogether) {
  EXPECT_EQ(load_error(trace_scenario("", "  - {name: loop, executor: constant-vus, vus: 1, duration: 1s}\n")),
            "scenarios/x.yaml:6:5: phase \"loop\": prompt kind trace needs executor trace (the records carry their "
            "own arrival times), not constant-vus");
  EXPECT_EQ(load_error("load:\n  - {name: replay, executor: trace}\n"),
            "scenarios/x.yaml:2:5: phase \"replay\": executor trace replays the records of a trace file; set "
            "requests.prompt to {kind: trace, path: FILE}");
  // The trace's length is known only when the run reads it: a phase after it needs a start_time.
  EXPECT_EQ(load_error(trace_scenario("", "  - {executor: trace}\n  - {executor: trace}\n")),
            "scenarios/x.yaml:7:5: load[1]: needs a start_time: the previous phase (trace) has no fixed length");
}

}  // namespace
}  // namespace llmd::scenario
