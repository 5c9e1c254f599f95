#include "cli/run_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <algorithm>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "cli/kube_flags.hpp"
#include "cli/run_outputs.hpp"
#include "cli/run_signals.hpp"
#include "cli/shard_flags.hpp"
#include "engine/engine.hpp"
#include "engine/request_builder.hpp"
#include "report/tekton_results.hpp"
#include "report/text_report.hpp"
#include "run/cache_source.hpp"
#include "run/gates.hpp"
#include "run/pipeline.hpp"
#include "run/run_diagnostics.hpp"
#include "scenario/limits.hpp"
#include "scenario/loader.hpp"
#include "sim/sim_config.hpp"
#include "util/console.hpp"
#include "util/duration.hpp"
#include "util/number_text.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"

namespace llmd::cli {

namespace {

// Names a simulator setting in run's terms: the --sim-* flag when one set it, else the scenario's key.
std::string run_sim_setting(const RunOptions& options, sim::Setting setting) {
  switch (setting) {
    case sim::Setting::pods:
      if (options.sim_pods) return "--sim-pods";
      break;
    case sim::Setting::error_rate:
      if (options.sim_error_rate) return "--sim-error-rate";
      break;
    case sim::Setting::abort_rate:
      if (options.sim_abort_rate) return "--sim-abort-rate";
      break;
    case sim::Setting::time_scale:
      if (options.sim_time_scale) return "--sim-time-scale";
      break;
    case sim::Setting::no_prefix_caching_pods: return "--sim-no-prefix-caching-pod";  // no scenario key sets it
    default: break;
  }
  return "sim." + std::string(sim::setting_key(setting));
}

util::Result<void> apply_sim_options(scenario::Scenario& s, const RunOptions& options) {
  auto& sim = s.sim;
  if (options.sim_route) {
    auto route = sim::parse_route_policy(*options.sim_route);
    if (!route) {
      return util::fail("--sim-route: " + route.error());
    }
    sim.route = *route;
  }
  if (options.sim_metrics_flavor) {
    auto flavor = sim::parse_metrics_flavor(*options.sim_metrics_flavor);
    if (!flavor) {
      return util::fail("--sim-metrics-flavor: " + flavor.error());
    }
    sim.pod.metrics_flavor = *flavor;
  }
  if (options.sim_pods) sim.pods = *options.sim_pods;
  if (options.sim_no_prefix_caching) sim.pod.enable_prefix_caching = false;
  sim.pods_without_prefix_caching.insert(sim.pods_without_prefix_caching.end(), options.sim_no_prefix_caching_pods.begin(),
                                         options.sim_no_prefix_caching_pods.end());
  if (options.sim_error_rate) sim.pod.error_rate = *options.sim_error_rate;
  if (options.sim_abort_rate) sim.pod.abort_rate = *options.sim_abort_rate;
  if (options.sim_time_scale) sim.pod.timing.time_scale = *options.sim_time_scale;
  if (options.sim_prompt_tokens_details) sim.pod.prompt_tokens_details = true;
  if (auto valid = sim::validate(sim, [&](sim::Setting setting) { return run_sim_setting(options, setting); }); !valid) {
    return util::fail("embedded simulator: " + valid.error());
  }
  return {};
}

// The scenario as it will run: file + flags, checked. Errors are usage errors (exit 2).
util::Result<scenario::Scenario> prepare_scenario(const RunOptions& options) {
  auto loaded = scenario::load_scenario(options.scenario_path);
  if (!loaded) {
    return loaded;
  }
  scenario::Overrides overrides = options.overrides;
  if (options.insecure) {
    overrides.insecure = true;
  }
  if (auto applied = apply_kube_flags(loaded->cache, options.kube); !applied) {
    return util::fail(applied.error());
  }
  if (auto applied = scenario::apply_overrides(*loaded, overrides); !applied) {
    return util::fail(applied.error());
  }
  if (options.http2) {
    loaded->target.http2 = true;
  }
  if (options.http_engine) {
    loaded->engine.http = *options.http_engine == "curl" ? scenario::HttpClient::curl : scenario::HttpClient::automatic;
  }
  if (loaded->target.http2 && loaded->target.base_url.empty()) {
    return util::fail("target.http2 (--http2) needs a target (--target or target.base_url): the embedded simulator "
                      "speaks HTTP/1.1 only");
  }
  if (auto transport = engine::check_transport(loaded->target, loaded->target.base_url); !transport) {
    return util::fail(transport.error());
  }
  if (auto applied = apply_sim_options(*loaded, options); !applied) {
    return util::fail(applied.error());
  }
  return loaded;
}

util::Result<std::string> bearer_token(const scenario::Scenario& s) {
  if (s.target.api_key_env.empty()) {
    return std::string();
  }
  const char* value = std::getenv(s.target.api_key_env.c_str());
  if (value == nullptr || *value == '\0') {
    return util::fail(fmt::format("target.api_key_env names the environment variable {}, which is not set; export it "
                                  "with the bearer token, or remove api_key_env",
                                  s.target.api_key_env));
  }
  return std::string(value);
}

// The live progress line, on a terminal only: stdout, or stderr when stdout carries a result.
class ProgressLine {
 public:
  ProgressLine(bool to_stderr, bool quiet)
      : m_to_stderr(to_stderr), m_enabled(!quiet && ::isatty(to_stderr ? STDERR_FILENO : STDOUT_FILENO) == 1) {}
  ~ProgressLine() { clear(); }
  void show(const engine::Progress& p) {
    if (!m_enabled) {
      return;
    }
    print(fmt::format("\r\033[K{} {:>7} vus {:>4} {:>7.1f} req/s  p95 ttft {:>8}  errors {}  dropped {}",
                      p.phase.empty() ? "-" : util::escape_controls(p.phase),
                      util::format_seconds_fixed(std::chrono::duration<double>(p.elapsed).count()), p.active_vus,
                      p.requests_per_s, p.ttft_p95_seconds ? util::format_seconds_fixed(*p.ttft_p95_seconds) : "-",
                      p.errors, p.dropped));
    m_shown = true;
  }
  void clear() {
    if (m_shown) {
      print("\r\033[K");
      m_shown = false;
    }
  }

 private:
  void print(std::string_view text) const {
    if (m_to_stderr) {
      util::print_stderr_terminal(text);
    } else {
      util::print_stdout_terminal(text);
    }
  }

  bool m_to_stderr;
  bool m_enabled;
  bool m_shown = false;
};

// Judges again after errors were added, writes every output and prints the summary. Files first;
// then the Pushgateways (--out prometheus-push=URL: a failed push is an unwritten output too); then standard output, devices, FIFOs and sockets, once each (what is written there cannot be
// taken back), so each carries the verdict as it stands after every earlier write. An output that
// could not be written is a run error (exit 3), returned for cli::run to print; the files are then
// written again so that every one that can be written carries the same verdict. With --out FORMAT=-
// the summary goes to stderr. A closed stdout loses nothing: it is written last.
void finish(run::RunReport& report, const Outputs& outputs, RequestLogs& logs, CommandResult& result) {
  const auto record_unwritten = [&](std::vector<std::string> failures) {
    if (failures.empty()) {
      return;
    }
    for (auto& failure : failures) {
      report.errors.push_back("result not written: " + failure);
      result.errors.push_back(std::move(failure));
    }
    run::judge(report);
    (void)write_output_files(report, outputs);  // the same failures again; the others now say "error"
  };
  record_unwritten(logs.commit());
  record_unwritten(write_output_files(report, outputs));
  record_unwritten(push_outputs(report, outputs));
  for (const auto& stream : stream_outputs(outputs)) {
    if (auto failure = write_output(report, stream)) {
      record_unwritten({std::move(*failure)});
    }
  }
  const std::string text = report::render_text(report);
  if (outputs.uses_stdout()) {
    util::print_stderr(text);
  } else {
    util::print_stdout(text);
  }
  result.exit_code = exit_code(report.verdict);
}

// An exception escaped a stage: a defect. Records it as the run's error (judged again) and writes
// every output from what was gathered; if even that throws, only the message and exit 3 remain.
void internal_error(run::RunReport& report, const Outputs& outputs, RequestLogs& logs, const std::string& what,
                    CommandResult& result) {
  result.internal_errors.push_back(what + " (please report it; results gathered so far are written)");
  result.exit_code = k_exit_run_failed;
  report.errors.push_back("internal error: " + what);
  try {
    const bool diagnosed = std::any_of(report.stages.begin(), report.stages.end(),
                                       [](const run::StageTiming& stage) { return stage.name == "diagnostics"; });
    if (!diagnosed) {
      run::add_run_diagnostics(report);
    }
    run::judge(report);
    finish(report, outputs, logs, result);
  } catch (const std::exception& e) {
    result.internal_errors.push_back(std::string("while writing the results: ") + e.what());
    result.exit_code = k_exit_run_failed;
  } catch (...) {
    result.internal_errors.push_back("while writing the results");
    result.exit_code = k_exit_run_failed;
  }
}

// Usage errors (exit 2) once the flags are parsed: returned, and with --tekton-results the result
// files still say `verdict=error` with the reason, so a Pipeline's `finally` task sees them.
CommandResult usage_error(const RunOptions& options, const std::string& error, const std::string& target) {
  CommandResult result;
  result.fail(k_exit_usage, error);
  if (options.tekton_results_dir) {
    if (auto written = report::write_tekton_error_results(*options.tekton_results_dir, error, target); !written) {
      result.errors.push_back(fmt::format("--tekton-results {}: {}", *options.tekton_results_dir, written.error()));
    }
  }
  return result;
}

// Fault injection for tests of the internal-error path (never set in normal use):
// LLMD_BENCH_INJECT_FAULT=throw-<stage id> (run::stage_ids()) throws as that stage starts.
void inject_fault(std::string_view stage) {
  const char* fault = std::getenv("LLMD_BENCH_INJECT_FAULT");
  if (fault != nullptr && std::string_view(fault) == "throw-" + std::string(stage)) {
    throw std::runtime_error(fmt::format("injected fault at {} (LLMD_BENCH_INJECT_FAULT)", stage));
  }
}

// What the pipeline needs from the flags, the checked inputs, the signal handlers and the terminal.
run::RunRequest run_request(const RunOptions& options, RunInputs& inputs, const RunSignals& signals, ProgressLine& progress) {
  run::RunRequest request = base_run_request(options, inputs, signals);
  for (const auto flag : given_sim_flags(options)) {
    request.ignored_sim_flags.emplace_back(flag);
  }
  request.on_progress = [&progress](const engine::Progress& p) { progress.show(p); };
  request.after_load = [&progress] { progress.clear(); };
  request.before_stage = inject_fault;
  request.shard = inputs.shard;
  request.start_at = inputs.start_at;
  request.no_gates = options.no_gates;
  return request;
}

// Inside a Kubernetes pod (the kubelet sets KUBERNETES_SERVICE_HOST in every container) a run
// with no target would benchmark the embedded simulator in the pod and publish its numbers as if
// they were the cluster's: refused unless --allow-simulator says that is meant.
util::Result<void> check_simulator_allowed(const scenario::Scenario& s, const RunOptions& options) {
  const char* in_cluster = std::getenv("KUBERNETES_SERVICE_HOST");
  if (!s.target.base_url.empty() || options.allow_simulator || in_cluster == nullptr || *in_cluster == '\0') {
    return {};
  }
  return util::fail(
      "no target given (--target or target.base_url) and this runs inside a Kubernetes pod (KUBERNETES_SERVICE_HOST is "
      "set): the embedded simulator would be benchmarked instead of the cluster; pass --target URL of the gateway "
      "(Tekton param `target`), or --allow-simulator to run against the simulator on purpose");
}

// `target` for results written before the run: the scenario's after the flags, else the flag's.
std::string target_before_run(const util::Result<scenario::Scenario>& prepared, const RunOptions& options) {
  const std::string url = prepared ? prepared->target.base_url : options.overrides.target.value_or("");
  return url.empty() ? (prepared ? "simulator" : "unknown") : report::target_label(false, url);
}

}  // namespace

std::vector<std::string_view> given_sim_flags(const RunOptions& o) {
  std::vector<std::string_view> flags;
  const std::pair<bool, std::string_view> all[] = {
      {o.sim_route.has_value(), "--sim-route"},
      {o.sim_pods.has_value(), "--sim-pods"},
      {o.sim_metrics_flavor.has_value(), "--sim-metrics-flavor"},
      {o.sim_no_prefix_caching, "--sim-no-prefix-caching"},
      {!o.sim_no_prefix_caching_pods.empty(), "--sim-no-prefix-caching-pod"},
      {o.sim_error_rate.has_value(), "--sim-error-rate"},
      {o.sim_abort_rate.has_value(), "--sim-abort-rate"},
      {o.sim_time_scale.has_value(), "--sim-time-scale"},
      {o.sim_prompt_tokens_details, "--sim-prompt-tokens-details"},
  };
  for (const auto& [given, flag] : all) {
    if (given) {
      flags.push_back(flag);
    }
  }
  return flags;
}

run::RunRequest base_run_request(const RunOptions& options, RunInputs& inputs, const RunSignals& signals) {
  run::RunRequest request;
  request.scenario = &inputs.scenario;
  request.bearer_token = inputs.token;
  request.model_source = options.overrides.model ? "--model" : "scenario";
  request.preflight = inputs.scenario.target.preflight && !options.no_preflight;
  request.target_origin = options.overrides.target ? "--target" : "target.base_url";
  request.stop = &signals.stop_flag();
  request.abort = &signals.abort_flag();
  request.say = say_on_stderr;
  return request;
}

util::Result<RunInputs> check_run_inputs(const RunOptions& options, std::string* target) {
  auto prepared = prepare_scenario(options);
  if (target != nullptr) {
    *target = target_before_run(prepared, options);
  }
  auto files = parse_outputs(options.outputs, options.tekton_results_dir);
  auto token = prepared ? bearer_token(*prepared) : util::Result<std::string>(std::string());
  // Checked before anything starts (exit 2); make_cache_source reads it again when it builds the source.
  auto prometheus_token = prepared && prepared->cache.source == scenario::CacheSpec::Source::prometheus
                              ? run::prometheus_bearer_token(prepared->cache.prometheus)
                              : util::Result<std::string>(std::string());
  auto allowed = prepared ? check_simulator_allowed(*prepared, options) : util::Result<void>();
  auto shard = resolve_shard(options.shard, options.shards);
  auto shardable = prepared && shard && *shard ? run::check_shardable(*prepared, (*shard)->slice) : util::Result<void>();
  auto threadable = prepared && shard ? run::check_threadable(*prepared, *shard ? (*shard)->slice : engine::Slice{})
                                      : util::Result<void>();
  auto start_at = resolve_start_at(options.start_at);
  for (const auto* error : {prepared ? nullptr : &prepared.error(), files ? nullptr : &files.error(),
                            token ? nullptr : &token.error(), prometheus_token ? nullptr : &prometheus_token.error(),
                            allowed ? nullptr : &allowed.error(), shard ? nullptr : &shard.error(),
                            shardable ? nullptr : &shardable.error(), threadable ? nullptr : &threadable.error(),
                            start_at ? nullptr : &start_at.error()}) {
    if (error != nullptr) {
      return util::fail(*error);
    }
  }
  util::add_secret(*token);  // never printed or written, even when a server echoes it
  return RunInputs{std::move(*prepared), std::move(*files), std::move(*token), std::move(*shard), *start_at};
}
CommandResult run_run_command(const RunOptions& options) {
  std::string target;
  auto inputs = check_run_inputs(options, &target);
  if (!inputs) {
    return usage_error(options, inputs.error(), target);
  }
  // Every destination before the first request, before the simulator starts: a result that
  // could not be written would make the whole run wasted.
  auto ready = prepare_outputs(inputs->outputs);
  if (!ready) {
    return usage_error(options, ready.error(), target);
  }
  for (const auto& note : *ready) {
    say_on_stderr("note: " + note);
  }
  auto logs = RequestLogs::open(inputs->outputs);
  if (!logs) {
    return usage_error(options, logs.error(), target);
  }
  util::raise_open_file_limit();
  RunSignals signals;
  ProgressLine progress(inputs->outputs.uses_stdout(), options.quiet);
  run::RunReport report;  // outside the try: what was gathered is written whatever happens
  CommandResult result;
  try {
    run::RunRequest request = run_request(options, *inputs, signals, progress);
    if (!logs->empty()) {
      request.on_request = [&logs](const engine::RequestRecord& record, std::string_view pod) { logs->row(record, pod); };
    }
    run::run_pipeline(request, report);
    finish(report, inputs->outputs, *logs, result);
  } catch (const std::exception& e) {
    internal_error(report, inputs->outputs, *logs, e.what(), result);
  } catch (...) {
    internal_error(report, inputs->outputs, *logs, "unknown exception", result);
  }
  return result;
}

namespace {

// The groups of `run --help` (and `validate --help`), in the order shown; every option but --help
// belongs to one (test/cli/validate_command_test.cpp checks).
struct OptionGroup {
  const char* name;
  std::vector<const char*> options;
};

const std::vector<OptionGroup>& run_option_groups() {
  static const std::vector<OptionGroup> groups = {
      {"Target",
       {"--target", "--host", "--model", "--api", "--api-key-env", "--insecure", "--http2", "--http-engine", "--max-tokens",
        "--no-preflight", "--allow-simulator"}},
      {"Load", {"--vus", "--duration", "--rate", "--iterations", "--time-scale", "--threads", "--coalesce"}},
      {"Cache", {"--cache-url", "--allow-missing-pods", "--cache-interval", "--prometheus-token-env"}},
      {"Kubernetes",
       {"--namespace", "--selector", "--container", "--via", "--port", "--kubeconfig", "--context", "--restart-pods"}},
      {"Outputs", {"--out", "--tekton-results", "--quiet"}},
      {"Shards", {"--shard", "--shards", "--start-at", "--no-gates"}},
      {"Simulator",
       {"--sim-route", "--sim-pods", "--sim-metrics-flavor", "--sim-no-prefix-caching", "--sim-no-prefix-caching-pod",
        "--sim-error-rate", "--sim-abort-rate", "--sim-time-scale", "--sim-prompt-tokens-details"}},
  };
  return groups;
}

// Groups, the defaults a flag replaces (from the same structs the loader fills), and the footer.
void describe_run_options(CLI::App& command) {
  for (const auto& group : run_option_groups()) {
    for (const char* name : group.options) {
      if (CLI::Option* option = command.get_option_no_throw(name)) {
        option->group(group.name);
      }
    }
  }
  const scenario::RequestSpec request;
  const sim::SimConfig sim;
  const std::pair<const char*, std::string> defaults[] = {
      {"--api", request.api == scenario::ApiKind::chat ? "chat" : "completions"},
      {"--max-tokens", std::to_string(request.max_tokens)},
      {"--time-scale", "1"},
      {"--threads", "1"},
      {"--coalesce", "auto"},
      {"--http-engine", "auto"},
      {"--allow-missing-pods", "0"},
      {"--sim-route", std::string(sim::to_string(sim.route))},
      {"--sim-pods", std::to_string(sim.pods)},
      {"--sim-metrics-flavor", std::string(sim::to_string(sim.pod.metrics_flavor))},
      {"--sim-error-rate", util::format_number(sim.pod.error_rate)},
      {"--sim-abort-rate", util::format_number(sim.pod.abort_rate)},
      {"--sim-time-scale", util::format_number(sim.pod.timing.time_scale)},
  };
  for (const auto& [name, value] : defaults) {
    if (CLI::Option* option = command.get_option_no_throw(name)) {
      option->default_str(value);
    }
  }
  command.footer(
      "A value after = is the default when the scenario file does not set the key; a flag overrides the file.\n"
      "Load flags change the first measured phase (load[0]) and must fit its executor.\n\n"
      "Examples:\n"
      "  llmd-bench run scenarios/cache-hit.yaml                    # the embedded simulator, cache gates\n"
      "  llmd-bench run scenarios/baseline.yaml --time-scale 0.01 --sim-time-scale 0.01   # 7.5 minutes in seconds\n"
      "  llmd-bench run scenarios/baseline.yaml --target http://gw.llm-d.svc --host llm-d.demo.local --vus 20 --duration 2m\n"
      "  llmd-bench run scenarios/cache-hit.yaml --target https://gw.example --api-key-env OPENAI_API_KEY \\\n"
      "      --namespace llm-d --selector llm-d.ai/role=decode --out json=result.json --out junit=junit.xml\n"
      "  llmd-bench validate scenarios/baseline.yaml --vus 50        # the resolved plan; sends nothing");
}

}  // namespace

void add_run_options(CLI::App& command, RunOptions& options) {
  auto& o = options.overrides;
  command.add_option("scenario", options.scenario_path, "Scenario file (YAML or JSON; see scenarios/README.md)")->required();
  command.add_option("--target", o.target, "Base URL of the gateway or server (default: the embedded simulator)");
  command.add_option("--host", o.host, "Host header to send (virtual-host gateways)");
  command.add_option("--model", o.model, "Model name to request");
  command.add_option("--api", o.api, "completions or chat");
  command.add_option("--api-key-env", o.api_key_env, "NAME of the environment variable holding the bearer token");
  command.add_flag("--insecure", options.insecure, "Skip TLS certificate verification");
  command.add_flag("--http2", options.http2, "Negotiate HTTP/2 (h2 over TLS; h2c prior knowledge over http needs libcurl >= 8.0.0)");
  command.add_option("--http-engine", options.http_engine,
                     "HTTP client (engine.http): auto = the built-in HTTP/1.1 client for plain http:// targets without a "
                     "proxy, libcurl otherwise; curl = always libcurl")
      ->check(CLI::IsMember({"auto", "curl"}))
      ->type_name("auto|curl");
  command.add_flag("--no-preflight", options.no_preflight,
                   "Skip the one request sent before the warm-up that diagnoses a wrong target (target.preflight: false)");
  command.add_option("--time-scale", o.time_scale,
                     fmt::format("Multiply every phase's duration, start time, graceful_stop and max_duration (e.g. "
                                 "0.01 in tests, with --sim-time-scale 0.01 for the embedded simulator's delays; {}..{})",
                                 scenario::limits::k_min_time_scale, scenario::limits::k_max_time_scale));
  command.add_option("--max-tokens", o.max_tokens,
                     fmt::format("Output tokens per request (1..{})", scenario::limits::k_max_tokens));
  command.add_option("--vus", o.vus, "First measured phase: virtual users (constant-vus, iterations)")->type_name("N");
  command.add_option("--duration", o.duration,
                     "First measured phase: duration, e.g. 30s or 2m (constant-vus, constant-arrival-rate, poisson, gamma)")
      ->type_name("D");
  command.add_option("--rate", o.rate, "First measured phase: arrivals per second (constant-arrival-rate, poisson, gamma)")
      ->type_name("R");
  command.add_option("--iterations", o.iterations, "First measured phase: number of requests (iterations)")->type_name("N");
  command.add_option("--threads", o.threads,
                     fmt::format("Event loops to spread the load over (engine.threads; 1..{}): user k and arrival k go to "
                                 "loop k mod N, results merge exactly; for more than one core's worth of streams",
                                 scenario::limits::k_max_threads))
      ->type_name("N");
  command.add_option("--coalesce", o.coalesce,
                     fmt::format("Longest pause before the event loop waits, so one wake-up reads many streams' events "
                                 "(engine.coalesce): auto = a tenth of the median inter-token gap, at most {}; off; or a "
                                 "duration. Built-in client only: its kernel receive stamps keep every time exact",
                                 util::format_duration(scenario::limits::k_max_coalesce)))
      ->type_name("auto|off|DURATION");
  command.add_option("--cache-url", o.cache_urls, "Pod metrics URL to snapshot (repeatable); replaces the scenario's cache source")
      ->allow_extra_args(false);
  command.add_option("--allow-missing-pods", o.allow_missing_pods,
                     fmt::format("Cache gates still judge when up to N pods are missing from the cache totals (default 0; "
                                 "at most {})",
                                 scenario::limits::k_max_allow_missing_pods))
      ->type_name("N");
  command.add_option("--cache-interval", o.cache_interval,
                     "Scrape every pod this often during the measured loop and report per-pod hit rate over time "
                     "(cache.interval, e.g. 1s; default off)")
      ->type_name("D");
  command.add_option("--out", options.outputs, "Write a result file: json=FILE, junit=FILE, html=FILE (a self-contained report page) or csv=FILE (one row per request, written during the run), or push the run's metrics to a Prometheus Pushgateway: prometheus-push=URL, e.g. http://127.0.0.1:9091 (repeatable; FILE - is standard output, the summary then goes to stderr)")
      ->allow_extra_args(false);
  command.add_option("--tekton-results", options.tekton_results_dir,
                     "Write the Tekton results (hit-rate, verdict, max-pod-share, ttft-p95-seconds, http-req-failed-rate, target, reason) into DIR (/tekton/results in a Task); written on usage errors too")
      ->type_name("DIR");
  command.add_flag("-q,--quiet", options.quiet, "No live progress line");
  command.add_option("--shard", options.shard,
                     "Run shard INDEX of COUNT (0-based) of every phase against a shared --target; writes a shard result "
                     "for `llmd-bench merge` and judges nothing (also LLMD_SHARD=INDEX/COUNT)")
      ->type_name("INDEX/COUNT");
  command.add_option("--shards", options.shards,
                     "Number of shards, this one's index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
      ->type_name("N");
  command.add_option("--start-at", options.start_at,
                     "Start the measured loop at this instant (RFC 3339 or unix seconds), after warm-up and snapshots, so "
                     "that shards on several machines run together")
      ->type_name("TIME");
  command.add_flag("--no-gates", options.no_gates,
                   "Judge nothing: thresholds are not evaluated, the verdict is not_judged, exit 0 unless the run failed");
  command.add_flag("--allow-simulator", options.allow_simulator,
                   "Run against the embedded simulator even inside a Kubernetes pod (KUBERNETES_SERVICE_HOST set), "
                   "where a run with no target is refused");
  command.add_option("--sim-route", options.sim_route, "Embedded simulator: gateway routing (prefix, session, round-robin, random, least-loaded)");
  command.add_option("--sim-pods", options.sim_pods, "Embedded simulator: number of pods");
  command.add_option("--sim-metrics-flavor", options.sim_metrics_flavor, "Embedded simulator: v0, v0.10 or v0.11");
  command.add_flag("--sim-no-prefix-caching", options.sim_no_prefix_caching, "Embedded simulator: prefix caching off");
  command.add_option("--sim-no-prefix-caching-pod", options.sim_no_prefix_caching_pods,
                     "Embedded simulator: prefix caching off on this pod only (index; repeatable)")
      ->allow_extra_args(false);
  command.add_option("--sim-error-rate", options.sim_error_rate, "Embedded simulator: fraction of requests answered 500");
  command.add_option("--sim-abort-rate", options.sim_abort_rate, "Embedded simulator: fraction of streams cut mid-way");
  command.add_option("--sim-time-scale", options.sim_time_scale, "Embedded simulator: multiply every simulated delay");
  command.add_flag("--sim-prompt-tokens-details", options.sim_prompt_tokens_details,
                   "Embedded simulator: report usage.prompt_tokens_details.cached_tokens (vLLM --enable-prompt-tokens-details)");
  add_kube_options(command, options.kube, /*with_restart=*/true);
  command.add_option("--prometheus-token-env", o.prometheus_token_env,
                     "cache source prometheus: NAME of the environment variable holding its bearer token "
                     "(cache.bearer_token_env)")
      ->type_name("NAME");
  describe_run_options(command);
}

}  // namespace llmd::cli
