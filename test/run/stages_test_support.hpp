#pragma once
// The world of one run stage in tests (stages_test.cpp, cache_state_test.cpp): a small scenario on
// the embedded simulator, the request, the report and the state between stages.
#include <atomic>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run/pipeline.hpp"
#include "run/stages.hpp"

namespace llmd::run_test {

namespace run = llmd::run;
namespace scenario = llmd::scenario;

// A port nothing listens on (connections are refused at once).
inline constexpr const char* k_closed_url = "http://127.0.0.1:1";

inline scenario::Phase iterations(std::size_t n, const std::string& name = "loop") {
  scenario::Phase phase;
  phase.name = name;
  phase.executor = scenario::ExecutorKind::iterations;
  phase.iterations = n;
  phase.vus = 1;
  phase.max_duration = std::chrono::seconds(30);
  return phase;
}

// A small, fast scenario on the embedded simulator (4 pods, 2 output tokens, delays x 0.01).
inline scenario::Scenario small_scenario() {
  scenario::Scenario s;
  s.name = "stages";
  s.request.max_tokens = 2;
  s.sim.pod.timing.time_scale = 0.01;
  s.phases = {iterations(3)};
  return s;
}

// One stage's world: the request, the report, the state between stages.
struct Fixture {
  scenario::Scenario scenario = small_scenario();
  std::atomic<bool> stop{false};
  std::atomic<bool> abort{false};
  std::vector<std::string> said;
  run::RunRequest request;
  run::RunReport report;
  run::RunState state;

  Fixture() {
    request.scenario = &scenario;
    request.stop = &stop;
    request.abort = &abort;
    request.say = [this](const std::string& line) { said.push_back(line); };
    report.scenario = &scenario;
    state.request = &request;
    state.report = &report;
  }
  // simulator → target → cache source, each asserted to go on.
  void up_to_cache_source() {
    ASSERT_EQ(run::start_simulator(state), run::Next::go_on) << testing::PrintToString(report.errors);
    ASSERT_EQ(run::prepare_target(state), run::Next::go_on) << testing::PrintToString(report.errors);
    ASSERT_EQ(run::make_source(state), run::Next::go_on) << testing::PrintToString(report.errors);
    ASSERT_NE(state.source, nullptr);
  }
};

}  // namespace llmd::run_test
