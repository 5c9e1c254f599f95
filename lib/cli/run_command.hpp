#pragma once
// `llmd-bench run SCENARIO`: the flags, the checks made before anything starts, and the outputs.
// The run itself (embedded simulator, target, restarts, snapshots, load, judging) is the pipeline
// of run/pipeline.hpp; this file builds its request, writes the results and prints the summary.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "cli/kube_flags.hpp"
#include "cli/run_outputs.hpp"
#include "run/pipeline.hpp"
#include "run/shard.hpp"
#include "scenario/overrides.hpp"

namespace llmd::cli {

struct RunOptions {
  std::string scenario_path;
  scenario::Overrides overrides;
  std::vector<std::string> outputs;  // --out FORMAT=FILE (json | junit), repeatable
  std::optional<std::string> tekton_results_dir;  // --tekton-results DIR: Tekton result files
  bool quiet = false;                // no live progress line
  // --allow-simulator: inside a Kubernetes pod (KUBERNETES_SERVICE_HOST set) a run with no target
  // refuses to start the embedded simulator (exit 2) unless this is set.
  bool allow_simulator = false;
  bool insecure = false;             // --insecure (copied into overrides.insecure)
  bool no_preflight = false;         // --no-preflight (target.preflight: false)
  // The embedded simulator (used when no target is given), overriding the scenario's `sim:`.
  std::optional<std::string> sim_route;
  std::optional<std::size_t> sim_pods;
  std::optional<std::string> sim_metrics_flavor;
  bool sim_no_prefix_caching = false;
  std::vector<std::size_t> sim_no_prefix_caching_pods;
  bool http2 = false;
  std::optional<std::string> http_engine;  // --http-engine auto|curl (engine.http)
  KubeFlags kube;                    // --namespace, --selector, ... (cache.source kubernetes)
  std::optional<double> sim_error_rate;
  std::optional<double> sim_abort_rate;
  std::optional<double> sim_time_scale;
  bool sim_prompt_tokens_details = false;  // --sim-prompt-tokens-details
  // Sharded runs (run/shard.hpp, cli/shard_flags.hpp).
  std::optional<std::string> shard;      // --shard i/N (else LLMD_SHARD)
  std::optional<std::size_t> shards;     // --shards N (with JOB_COMPLETION_INDEX)
  std::optional<std::string> start_at;   // --start-at RFC 3339 or unix seconds
  bool no_gates = false;                 // --no-gates: judge nothing (verdict not_judged); implied by a shard
};

void add_run_options(CLI::App& command, RunOptions& options);
// Checks the inputs, runs the pipeline (run/pipeline.hpp), writes the outputs and prints the summary;
// errors are returned, cli::run prints them.
CommandResult run_run_command(const RunOptions& options);

// What a run has once its inputs passed every check made before anything starts.
struct RunInputs {
  scenario::Scenario scenario;  // the file with the flags applied, checked
  Outputs outputs;              // --out / --tekton-results, parsed (not yet checked for writability)
  std::string token;            // the target's bearer token ("" without target.api_key_env), a registered secret
  std::optional<run::ShardPlan> shard;                               // --shard / LLMD_SHARD / --shards
  std::optional<std::chrono::system_clock::time_point> start_at;     // --start-at
};
// Every check `run` makes before it starts anything, shared with `validate`: the scenario file, the
// flags applied to it, the --out / --tekton-results syntax, and the environment variables that
// target.api_key_env and cache.bearer_token_env name, and the in-cluster refusal of the embedded
// simulator (--allow-simulator). The error is what `run` prints (exit 2). `target`, when given,
// receives the target as results name it (`simulator`, the URL without credentials, or `unknown`).
util::Result<RunInputs> check_run_inputs(const RunOptions& options, std::string* target = nullptr);

class RunSignals;
// What every pipeline run of these flags and inputs starts from (`run`, and each step of `sweep`): the
// scenario, the token, where the model and the target came from, the preflight, the Ctrl-C flags and
// the lines for stderr.
run::RunRequest base_run_request(const RunOptions& options, RunInputs& inputs, const RunSignals& signals);
// The --sim-* flags given on the command line, by name: they configure the embedded simulator only,
// so with a target each is warned about (`run`: once, in the report's notes too; `sweep`: once).
std::vector<std::string_view> given_sim_flags(const RunOptions& options);

}  // namespace llmd::cli
