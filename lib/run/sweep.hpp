#pragma once
// `llmd-bench sweep SCENARIO` (issue 17): the scenario's measured phase run at a series of loads,
// each step a whole run of the pipeline (pipeline.hpp: snapshots, load, diagnostics, judging) against
// one target (one embedded fleet for every step), to find the highest load at which every threshold,
// and the SLO's good fraction, holds.
//
//   --rates 1,2,4,8        open loop (constant-arrival-rate) at each rate, in order
//   --concurrency 8,16,32  closed loop (constant-vus) with each number of users, in order
//   --search rate --min 1 --max 200 [--resolution R]
//                          open loop, exponential up from min (doubling, capped at max) until a step
//                          fails, then bisection between the highest passing and the lowest failing
//                          rate until they are within the resolution (default: 5% of min, at least
//                          0.1 req/s)
//
// A step PASSES when its run judged pass (every threshold) and, with an `slo:`, its good fraction is
// at least the required one. It is CLIENT-LIMITED (the numbers say nothing about the server) when the
// client could not offer the load: its event loop or its open-loop schedule ran late (p99 above
// max_client_lag), it started fewer than 95% of the arrivals asked for, or it dropped arrivals at
// max_in_flight while its gates held (a step whose gates failed is a failure: the server was too slow
// for the requests that did go). A client-limited step ends the sweep: higher loads would be limited too.
//
// The answer is the highest load that passed below the lowest one that did not (lists), or the
// search's bracket; with the reason the next step failed. Everything here but run_sweep is a pure
// function over plain data (tests: test/run/sweep_test.cpp).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "run/pipeline.hpp"
#include "run/run_report.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::run {

enum class SweepMode { rates, concurrency, search_rate };
std::string_view to_string(SweepMode mode);  // "rates", "concurrency", "search-rate"

struct SweepPlan {
  SweepMode mode = SweepMode::rates;
  std::vector<double> loads;  // rates / concurrency: the loads, in the order given
  double min = 0;             // search: the first rate, and the lowest
  double max = 0;             // search: the highest rate tried
  double resolution = 0;      // search: stop when the bracket is this narrow (req/s)
  std::chrono::nanoseconds step_duration = std::chrono::seconds(30);
  double good_fraction = 0.95;  // with an slo: a step passes only with at least this good fraction
  std::chrono::nanoseconds max_client_lag = std::chrono::milliseconds(25);
  std::optional<double> require_rate;  // exit 1 when the capacity found is below it
  std::string phase;                   // --phase: the measured phase to sweep ("" = the only one)
};

// The search of --search rate, as a state machine fed with each step's verdict.
class RateSearch {
 public:
  RateSearch(double min, double max, double resolution);
  // The next rate to try, or nullopt when the search is done.
  std::optional<double> next() const;
  void record(double rate, bool passed);
  std::optional<double> highest_pass() const { return m_pass; }
  std::optional<double> lowest_fail() const { return m_fail; }

 private:
  double m_min;
  double m_max;
  double m_resolution;
  std::optional<double> m_pass;
  std::optional<double> m_fail;
  bool m_max_passed = false;
};

// The phase a sweep runs: the scenario's only measured phase, or the one --phase names.
util::Result<const scenario::Phase*> sweep_phase(const scenario::Scenario& scenario, const std::string& name);

// The scenario of one step: `base` with one measured phase at `load` (open loop at load req/s, or
// load users) for the plan's step duration, keeping the measured phase's max_in_flight and
// graceful_stop; the warm-up only in the first step; no churn events.
scenario::Scenario step_scenario(const scenario::Scenario& base, const scenario::Phase& measured, const SweepPlan& plan,
                                 double load, bool first);

enum class StepVerdict { pass, fail, client_limited, error, interrupted };
std::string_view to_string(StepVerdict verdict);

struct StepPod {
  std::string pod;
  std::optional<double> share_of_requests;
  std::optional<double> hit_rate;
};

// One step, summarized from its judged RunReport. Latencies in seconds; nullopt when not measured.
struct SweepStep {
  std::size_t index = 0;
  double load = 0;                      // req/s (open loop) or users (concurrency)
  std::optional<double> offered_rate;   // open loop: req/s asked for
  std::optional<double> achieved_rate;  // open loop: started per second of the arrival window; closed: completed per second
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t aborted = 0;
  std::optional<double> ttft_p50, ttft_p95, ttft_p99;
  std::optional<double> itl_p50, itl_p95, itl_p99;
  std::optional<double> e2e_p50, e2e_p95, e2e_p99;
  std::optional<double> schedule_lag_p99;
  std::optional<double> event_loop_lag_p99;
  std::optional<double> goodput_per_second;
  std::optional<double> good_fraction;
  std::optional<double> hit_rate;
  std::optional<double> max_pod_share;
  std::vector<StepPod> pods;
  StepVerdict verdict = StepVerdict::error;
  std::vector<std::string> reasons;  // why it did not pass (each threshold that failed, the lag, ...)
  std::chrono::nanoseconds wall{};
};

SweepStep summarize_step(const RunReport& report, const SweepPlan& plan, double load, std::size_t index);

struct SweepAnswer {
  std::optional<double> capacity;  // the highest load that passed (below the lowest that did not)
  // "server": a higher step failed its gates; "client": the client could not offer a higher load;
  // "max": every step up to the largest load passed; "below-min": the lowest load failed;
  // "error": a step could not be carried out; "interrupted".
  std::string limit;
  std::string text;  // one sentence with the numbers
  std::optional<std::size_t> failing_step;  // the step above the capacity that did not pass
};

SweepAnswer sweep_answer(const std::vector<SweepStep>& steps, const SweepPlan& plan);

struct SweepResult {
  std::string scenario;
  std::string target;
  SweepPlan plan;
  std::vector<SweepStep> steps;
  SweepAnswer answer;
  std::vector<std::string> errors;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point ended_at;
};

// 0: the answer meets --require-rate (or no requirement and no error); 1: it does not; 3: a step
// could not be carried out (or the sweep was interrupted before an answer). Its outputs:
// report/sweep_report.hpp.
int sweep_exit_code(const SweepResult& result);
// --require-rate was given and the capacity found is at least that.
bool meets_require_rate(const SweepResult& result);

// A rate or user count as people write it ("8", "12.5"), and with its unit ("8 req/s", "16 users").
std::string load_text(double load);
std::string load_with_unit(double load, SweepMode mode);

// What run_sweep needs besides the plan: the scenario as run, the pipeline request every step copies
// (token, stop/abort flags, say), and a shared embedded simulator when the scenario has no target.
struct SweepRequest {
  const scenario::Scenario* scenario = nullptr;
  RunRequest run;  // copied per step with the step's scenario
  SweepPlan plan;
  const std::atomic<bool>* stop = nullptr;           // Ctrl-C: no new step (the current one finishes as `run` does)
  std::function<void(const SweepStep&)> on_step;     // after each step (the terminal's progress line)
};

// Runs the steps; the result holds whatever was gathered when it stops.
void run_sweep(const SweepRequest& request, SweepResult& result);

}  // namespace llmd::run
