#pragma once
// The stages of a run (pipeline.hpp), one function each over a RunState: what the earlier stages
// produced (the embedded simulator, the metrics source, the before-snapshot) and the report being
// filled. A stage sets `detail` for its timing line and returns whether the run goes on. Tests call
// the stages one by one (test/run/stages_test.cpp).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/prompt_source.hpp"
#include "run/embedded_sim.hpp"
#include "run/pipeline.hpp"
#include "run/run_report.hpp"
#include "scrape/metrics_source.hpp"
#include "scrape/snapshot.hpp"

namespace llmd::run {

struct RunState {
  const RunRequest* request = nullptr;
  RunReport* report = nullptr;
  std::shared_ptr<EmbeddedSim> sim;                    // simulator → target, cache source (RunRequest::sim when given)
  std::unique_ptr<scrape::MetricsSource> source;       // cache source → scrape before, scrape after
  std::vector<scrape::PodSnapshotResult> before;       // scrape before → scrape after
  std::vector<engine::PrefixPrompt> primed;            // prime → diagnostics: the prefixes primed (2xx), for the ideal
  std::string detail;                                  // the running stage's detail, e.g. "4 pods"

  const scenario::Scenario& scenario() const { return *request->scenario; }
  bool stop_requested() const { return request->stop != nullptr && request->stop->load(); }
  bool abort_requested() const { return request->abort != nullptr && request->abort->load(); }
  void say(const std::string& line) const {
    if (request->say) request->say(line);
  }
};

enum class Next {
  go_on,
  stop,  // the run cannot go on (report.errors says why) or was interrupted (report.notes): diagnostics and judge only
};

// Records an interruption (Ctrl-C / SIGTERM) and its moment: report.interrupted and the note
// "interrupted (Ctrl-C / SIGTERM) {when}".
void note_interrupted(RunState& state, std::string_view when);

Next start_simulator(RunState& state);    // "simulator": the embedded fleet; report.target_url is its gateway
Next prepare_target(RunState& state);     // "target": ignored --sim-* flags, model, preflight
Next restart_pods(RunState& state);       // "restart": cache.kubernetes.restart_pods
Next make_source(RunState& state);        // "cache source": state.source (nullptr: none)
// "reset", "prime", "verify": cache_state.hpp (report.cache_state)
Next run_warmup(RunState& state);         // "warm-up": report.warmup
Next scrape_before(RunState& state);      // "scrape before": state.before; fails when no pod could be read
Next wait_for_start(RunState& state);    // "start at": sleeps until --start-at (report.start)
Next run_load(RunState& state);           // "load": report.run, report.threshold_abort, report.interrupted
Next scrape_after(RunState& state);       // "scrape after": report.cache and the source's notes
Next find_diagnostics(RunState& state);   // "diagnostics": report.diagnostics
Next judge_run(RunState& state);          // "judge": report.thresholds, checks, verdict

// One row of the pipeline's table.
struct Stage {
  std::string_view id = {};    // "scrape-before" (RunRequest::before_stage, LLMD_BENCH_INJECT_FAULT)
  std::string_view name = {};  // "scrape before" (RunReport::stages)
  bool (*applies)(const RunState& state) = nullptr;
  Next (*run)(RunState& state) = nullptr;
  // Checked once the stage ran (or was skipped, when `check_when_skipped`): a stop request ends the
  // run there, with the note "interrupted (Ctrl-C / SIGTERM) {stopped_note}". Empty: no check.
  std::string_view stopped_note = {};
  bool check_when_skipped = false;
  bool always = false;  // runs even after a stage stopped the run (diagnostics, judge)
};

// Every stage, in order.
const std::vector<Stage>& stages();

}  // namespace llmd::run
