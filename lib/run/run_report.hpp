#pragma once
// Everything one `llmd-bench run` produced, as plain data (STYLE.md habit 3: compute, then
// render). Filled by the run's pipeline (run/pipeline.hpp), judged by gates.hpp, rendered by report/text_report.hpp
// and report/json_report.hpp.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run_result.hpp"
#include "run/cache_timeline.hpp"
#include "run/churn_report.hpp"
#include "run/ideal_hit_rate.hpp"
#include "run/routing.hpp"
#include "run/shard.hpp"
#include "scenario/scenario.hpp"
#include "scenario/thresholds.hpp"
#include "scrape/cache_report.hpp"

namespace llmd::run {

struct ThresholdOutcome {
  scenario::Threshold threshold;
  scenario::ThresholdResult result;  // at the end of the run (a threshold that aborted it: failed)
  // A failed threshold of severity warn: reported, never fails the run.
  bool warning() const { return !result.passed && threshold.severity == scenario::ThresholdSeverity::warn; }
  // A failed threshold of severity fail: the run fails.
  bool gate_failed() const { return !result.passed && threshold.severity == scenario::ThresholdSeverity::fail; }
};

// A check's counts (k6 semantics: checks are counted and shown, never gates on their own; a
// `checks` / `checks{check:NAME}` threshold gates on them).
struct CheckOutcome {
  scenario::CheckKind check = scenario::CheckKind::status_200;
  std::string name;  // as the scenario wrote it ("status-200"), canonical for the defaults ("status_200")
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  bool no_data() const { return passed + failed == 0; }  // evaluated on no request
  bool all_passed() const { return failed == 0 && !no_data(); }
  // Fraction of the evaluations that passed; nullopt without data.
  std::optional<double> rate() const {
    return no_data() ? std::nullopt : std::optional<double>(static_cast<double>(passed) / static_cast<double>(passed + failed));
  }
};

// A threshold with abortOnFail that failed during the measured phases and stopped the run
// (live_thresholds.hpp).
struct ThresholdAbort {
  std::size_t threshold = 0;        // index in scenario->thresholds
  std::chrono::nanoseconds at{};    // from the start of the measured run
  std::string reason;               // the live evaluation, e.g. "http_req_failed rate = 0.5; required < 0.01"
};

// A finding about the run's numbers beyond one pod's prefix cache (e.g. a stream that a proxy
// buffered, pods that finished more or fewer requests than the client saw, client-reported cached
// tokens that disagree with the scraped hits): what was found, with the numbers, and what to do.
// Rendered in the summary's "diagnostics" section and the JSON result's "diagnostics" array.
struct RunDiagnostic {
  std::string code;  // stable identifier for scripts, e.g. "stream_buffered", "pod_requests_mismatch"
  scrape::Severity severity = scrape::Severity::warning;
  std::string message;  // what was found, with the numbers and where they came from
  std::string fix;      // what to try
};

// One stage of the run's pipeline (run/pipeline.hpp) as it ran: its name, its wall time and a short
// detail ("scrape before", 42 ms, "4 pods"). Rendered as the summary's "stages" section and the JSON
// result's "stages" array.
struct StageTiming {
  std::string name;               // "simulator", "target", "scrape before", "load", ...
  std::chrono::nanoseconds elapsed{};
  std::string detail;             // e.g. "4 pods", "20 requests", "model scenario, preflight passed"; may be empty
};

// What the cache-state stages (cache_state: reset -> prime -> verify, run/cache_state.hpp) found.
// Rendered as the summary's "cache state" section and the JSON result's "cache_state" object.
struct PodResetOutcome {
  std::string pod;
  long status = 0;            // HTTP status of POST /reset_prefix_cache; 0: no answer
  // The cold probe, sent to this pod alone after the reset: its prompt tokens and the tokens the
  // pod's counters say hit (both from Δqueries / Δhits); nullopt: not measured.
  std::optional<std::uint64_t> probe_query_tokens;
  std::optional<std::uint64_t> probe_hit_tokens;
  bool cold = false;          // reset answered 2xx and the probe hit nothing
  std::string problem;        // why not cold ("" when cold)
};

struct PrefixResidency {
  std::string prefix;                      // "shared prefix", "session 3"
  std::string pod;                         // the pod whose counters the probe moved ("" when none did)
  std::uint64_t probe_tokens = 0;          // the probe's prompt tokens (Δqueries of that pod)
  std::uint64_t expected_hit_tokens = 0;   // full blocks below its last token: floor((probe_tokens-1)/block)*block
  std::uint64_t hit_tokens = 0;            // Δhits of that pod
  bool resident = false;                   // hit_tokens >= expected_hit_tokens (> 0 when expected is 0)
  std::string problem;                     // why not resident ("" when resident)
};

struct CacheStateReport {
  std::string reset = "none";                    // "none" | "api" | "restart"
  std::vector<PodResetOutcome> reset_pods;       // reset: api, one per pod
  bool prime = false;                            // cache_state.prime asked
  std::size_t prefixes = 0;                      // distinct prefixes of the workload
  std::size_t primed = 0;                        // prime requests answered 2xx
  std::string prime_note;                        // e.g. "nothing to prime: prompt kind random has no shared prefix"
  bool verify = false;                           // cache_state.verify asked
  std::optional<std::size_t> block_size_tokens;  // used for the expected hits, and where from
  std::string block_size_source;                 // "vllm:cache_config_info", "cache_state.block_size", "simulator"
  std::vector<PrefixResidency> residency;        // verify, one per prefix
};

// What the calibrate stage (requests.token_counts, run/calibrate.hpp) did. Rendered as the summary's
// "token counts" section and the JSON result's "token_calibration" object.
struct CalibratedPrefixRow {
  std::string prefix;                   // "shared prefix", "session 3"
  std::size_t words = 0;                // generator words used
  std::size_t fillers = 0;              // one-token filler words appended
  std::size_t uncalibrated_tokens = 0;  // server tokens of the generator's N words (before calibration)
  std::size_t server_tokens = 0;        // server tokens after calibration (= aligned N)
};

struct CalibrationReport {
  std::string mode;                              // "auto" | "on"
  bool calibrated = false;                       // every prefix measured exactly aligned_tokens
  bool chat = false;                             // chat API: the prefix text is counted, not the chat template
  std::string tokenize_url;                      // POST {target}/tokenize
  std::size_t requested_tokens = 0;              // prefix_tokens
  std::size_t aligned_tokens = 0;                // N after align_to_block (= requested without it)
  std::optional<std::size_t> block_size_tokens;  // align_to_block: the block size and where from
  std::string block_size_source;
  std::vector<CalibratedPrefixRow> prefixes;
  std::size_t tokenize_calls = 0;
  std::string note;                              // why not calibrated ("" when calibrated)
};

// One shard result that `llmd-bench merge` read (run/merge.hpp): the JSON result's "merged_from".
struct MergedShard {
  std::string file;        // as named on the command line
  std::size_t index = 0;   // shard.index
  std::string started_at;  // the shard's run.started_at (RFC 3339 UTC, as it wrote it)
};

enum class Verdict {
  pass,         // no threshold of severity fail failed (warnings allowed) (exit 0)
  fail,         // a threshold failed or aborted the run, or an error finding (exit 1)
  error,        // the run could not be carried out (exit 3)
  interrupted,  // Ctrl-C / SIGTERM: partial results (exit 130)
  not_judged,   // a shard (shard.hpp): `llmd-bench merge` judges the shards together (exit 0)
};
std::string_view to_string(Verdict verdict);  // "pass" | "fail" | "error" | "interrupted" | "not_judged"

struct RunReport {
  const scenario::Scenario* scenario = nullptr;  // as run (after overrides)
  std::string target_url;                        // where requests went (the embedded gateway when embedded)
  bool embedded_sim = false;
  nlohmann::json sim_description;                // the embedded fleet (Fleet::describe()), null otherwise
  std::string model;                             // model sent in requests ("" = omitted)
  std::string model_source;                      // where it came from: "scenario", "--model",
                                                 // "discovered from GET /v1/models" ("" without a model)

  std::optional<engine::RunResult> warmup;       // unmeasured
  std::optional<engine::RunResult> run;          // measured phases; nullopt when the run never started
  std::string cache_source;                      // MetricsSource::describe(); "" when no cache source
  std::optional<scrape::CacheReport> cache;      // nullopt without a cache source or when it never ran
  // What the measured requests' workload allows (ideal_hit_rate.hpp), set by the diagnostics stage
  // when the load ran; nullopt otherwise.
  std::optional<IdealHitRate> ideal_hit_rate;
  // The routing analysis of the measured requests (routing.hpp), set by the diagnostics stage when
  // the load ran; nullopt otherwise.
  std::optional<RoutingReport> routing;

  std::vector<ThresholdOutcome> thresholds;
  std::vector<CheckOutcome> checks;
  std::optional<ThresholdAbort> threshold_abort;  // the run was stopped by a threshold with abortOnFail
  std::vector<std::string> errors;   // why the run could not be carried out (exit 3), each naming what to do
  std::vector<std::string> notes;    // informational lines for the summary
  std::vector<RunDiagnostic> diagnostics;  // findings about the numbers, each with its fix
  bool interrupted = false;          // stopped by a signal: the numbers cover only part of the plan
  std::vector<StageTiming> stages;   // the pipeline's stages that ran, in order
  std::optional<CacheStateReport> cache_state;  // cache_state: reset / prime / verify asked
  std::optional<CalibrationReport> calibration;  // the calibrate stage ran
  // cache.interval (or churn events): per-pod series over the measured loop; nullopt when off.
  std::optional<CacheTimeline> timeseries;
  std::vector<EventReport> events;  // one per scenario event (churn_report.hpp); empty without events
  std::optional<ShardPlan> shard;   // `run --shard i/N`: this run is one shard (no thresholds judged)
  std::optional<StartAt> start;     // `run --start-at`: how the measured loop met its start instant
  bool no_gates = false;            // --no-gates or a shard: thresholds not evaluated, verdict not_judged

  // `llmd-bench merge`: the shard results the measured run was merged from (empty for `run`).
  std::vector<MergedShard> merged_from;

  Verdict verdict = Verdict::error;  // the process exit code is the cli's mapping of it (cli/exit_codes.hpp)
};

}  // namespace llmd::run
