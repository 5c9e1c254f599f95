#pragma once
// A run as a short list of named stages (issue 12). After its inputs were checked (the cli does that:
// scenario, flags, outputs, tokens), `llmd-bench run` is:
//
//   simulator        [no target]  start the embedded fleet on loopback
//   target                        the model (scenario, --model or GET /v1/models), the preflight request
//   restart          [restart:]   restart the selected pods, wait for fresh counters
//   cache source     [a source]   build the metrics source the scenario names (pods discovered here)
//   calibrate        [token_counts]  prefixes of exactly N server tokens via POST /tokenize (calibrate.hpp)
//   reset            [cache_state.reset: api]  POST /reset_prefix_cache on every pod, verified cold (cache_state.hpp)
//   warm-up          [warmup:]    the unmeasured warm-up phase
//   prime            [cache_state.prime]   each distinct prefix of the workload once, unmeasured
//   verify           [cache_state.verify]  each prefix probed again: resident on a pod (from its counters)
//   scrape before    [a source]   every pod's prefix-cache counters before the measured loop
//   start at         [--start-at] wait for the instant all shards start their measured loop together
//   load                          the measured phases (thresholds with abortOnFail watch them)
//   scrape after     [a source]   the counters after (a Prometheus source waits for its next scrape here)
//   diagnostics                   findings about the numbers (run_diagnostics.hpp)
//   judge                         thresholds, checks, verdict (gates.hpp)
//
// Each stage is a function over plain structs (stages.hpp), testable without the CLI; the pipeline
// runs the ones that apply, in order, records each one's wall time and a short detail in
// RunReport::stages ("scrape before: 42 ms, 4 pods"), stops early when a stage cannot go on (the run's
// error, or Ctrl-C / SIGTERM) and always ends with diagnostics and judge, so a stopped run is judged
// and written like any other. Stop and abort flags (the cli's signal handlers) reach every stage that
// waits: the engine, scrapes, kubectl calls, the preflight request.
//
// The pipeline prints nothing: lines meant for the person at the terminal go to RunRequest::say. An
// exception thrown by a stage (a defect) is recorded in that stage's timing and passed on: the cli
// turns it into "internal error", exit 3, and still writes the report as gathered so far.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "run/cache_source.hpp"
#include "run/embedded_sim.hpp"
#include "run/run_report.hpp"
#include "run/shard.hpp"
#include "scenario/scenario.hpp"

namespace llmd::run {

// What the cli hands the pipeline, all checked before.
struct RunRequest {
  scenario::Scenario* scenario = nullptr;  // as run (file + flags); the simulator stage sets target.host
  std::string bearer_token;                // target.api_key_env's value (a registered secret), "" without
  std::string model_source = "scenario";   // where a model named before the run came from: "scenario" or "--model"
  bool preflight = true;                   // target.preflight and no --no-preflight
  // --sim-* flags given together with a target (they only configure the embedded simulator): each is
  // warned about (say) and noted. `target_origin` names where the target came from ("--target" or
  // "target.base_url").
  std::vector<std::string> ignored_sim_flags;
  std::string target_origin = "target.base_url";
  const std::atomic<bool>* stop = nullptr;   // first Ctrl-C / SIGTERM: start nothing new
  const std::atomic<bool>* abort = nullptr;  // second: cut what is in flight short
  std::function<void(const engine::Progress&)> on_progress;  // the live progress line, on the engine's thread
  std::function<void()> after_load;                          // e.g. clear the progress line
  // Every request of the measured phases as it ends, on the engine's thread (engine::EngineConfig::on_request),
  // with the pod its served-by endpoint maps to ("" when none): `run --out csv=FILE`.
  std::function<void(const engine::RequestRecord&, std::string_view pod)> on_request;
  SayLine say;                                               // lines for stderr (restart progress, waits, warnings)
  // Called with each stage's id before it runs (tests inject faults here; the cli's
  // LLMD_BENCH_INJECT_FAULT=throw-<id>). May throw.
  std::function<void(std::string_view stage_id)> before_stage;
  // `run --shard i/N`: run slice i of every phase, take no cache snapshots, judge nothing (shard.hpp;
  // checked with check_shardable before).
  std::optional<ShardPlan> shard;
  // `run --start-at`: the measured loop starts at this instant (after the warm-up and the
  // before-snapshot), so that shards on several machines run together.
  std::optional<std::chrono::system_clock::time_point> start_at;
  bool no_gates = false;  // --no-gates: judge nothing (a shard never judges)
  // A started embedded simulator to use instead of starting one (the "simulator" stage, which still
  // runs when the scenario has no target): `llmd-bench sweep` keeps one fleet for all its steps.
  std::shared_ptr<EmbeddedSim> sim;
};

// The stages in order, by id (for before_stage and tests): "simulator", "target", "restart",
// "cache-source", "calibrate", "reset", "warm-up", "prime", "verify", "scrape-before", "start-at", "load", "scrape-after", "diagnostics", "judge". Their
// display names in RunReport::stages use spaces ("scrape before").
const std::vector<std::string_view>& stage_ids();
// "--sim-pods has no effect with --target: the embedded simulator is not started": what `run` (each
// ignored flag, once) and `sweep` (once for all its steps) say about a --sim-* flag given with a target.
std::string ignored_sim_flag_warning(std::string_view flag, std::string_view target_origin);

// Runs the stages that apply into `report` (which the caller owns, so that what was gathered
// survives an exception) and judges it: report.verdict is set on return.
void run_pipeline(const RunRequest& request, RunReport& report);

}  // namespace llmd::run
