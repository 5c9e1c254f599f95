#include "cli/run_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "cli/cache_source.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_outputs.hpp"
#include "cli/run_signals.hpp"
#include "engine/engine.hpp"
#include "engine/preflight.hpp"
#include "engine/request_builder.hpp"
#include "report/gates.hpp"
#include "report/live_thresholds.hpp"
#include "report/run_diagnostics.hpp"
#include "report/tekton_results.hpp"
#include "report/text_report.hpp"
#include "scenario/limits.hpp"
#include "scenario/loader.hpp"
#include "sim/fleet.hpp"
#include "sim/metrics_exporter.hpp"
#include "sim/sim_config.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"
#include "util/console.hpp"
#include "util/number_text.hpp"

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

// The embedded fleet on its own thread (its own io_context). Destruction stops the fleet, lets
// in-flight work drain (bounded) and joins; if work would not drain, the fleet is leaked on
// purpose rather than destroyed under its handlers (the process is about to exit).
class EmbeddedSim {
 public:
  explicit EmbeddedSim(const sim::SimConfig& config)
      : m_io(std::make_unique<sim::net::io_context>(1)), m_fleet(std::make_unique<sim::Fleet>(*m_io, config)) {}
  ~EmbeddedSim() {
    if (!m_thread.joinable()) {
      return;
    }
    sim::net::post(*m_io, [this] {
      m_fleet->stop();
      m_stopping = true;
    });
    m_thread.join();
    if (!m_drained) {
      (void)m_fleet.release();
      (void)m_io.release();
    }
  }
  util::Result<void> start() {
    if (auto started = m_fleet->start(); !started) {
      return started;
    }
    m_description = m_fleet->describe();
    m_thread = std::thread([this] { m_drained = sim::run_until_drained(*m_io, m_stopping, std::chrono::seconds(5)); });
    return {};
  }
  // Ports and names only (set before the thread starts): safe to read from this thread.
  const sim::Fleet& fleet() const { return *m_fleet; }
  const nlohmann::json& description() const { return m_description; }

 private:
  std::unique_ptr<sim::net::io_context> m_io;
  std::unique_ptr<sim::Fleet> m_fleet;
  nlohmann::json m_description;
  std::atomic<bool> m_stopping{false};
  bool m_drained = false;
  std::thread m_thread;
};

// The embedded fleet's pods as {name, metrics URL}; empty without an embedded simulator.
std::vector<scrape::PodUrl> embedded_pods(const EmbeddedSim* embedded) {
  std::vector<scrape::PodUrl> pods;
  if (embedded == nullptr) {
    return pods;
  }
  const auto& fleet = embedded->fleet();
  for (std::size_t i = 0; i < fleet.pod_count(); ++i) {
    pods.push_back({fleet.pod(i).name(), fleet.pod_url(i) + "/metrics"});
  }
  return pods;
}

std::vector<scrape::PodSnapshotResult> snapshot(scrape::MetricsSource& source, const scenario::Scenario& s) {
  return scrape::snapshot_pods(source.scrape_all(), s.cache.model_filter);
}

bool all_failed(const std::vector<scrape::PodSnapshotResult>& snapshots) {
  return !snapshots.empty() && std::none_of(snapshots.begin(), snapshots.end(), [](const auto& p) { return p.snapshot.has_value(); });
}

// A run in which not one request got a response: the target is not reachable.
std::optional<std::string> unreachable(const engine::RunResult& run, const std::string& url) {
  const auto& t = run.total;
  const auto transport = t.failures(engine::FailureClass::connect) + t.failures(engine::FailureClass::tls);
  if (t.completed == 0 || t.ok > 0 || transport != t.failed) {
    return std::nullopt;
  }
  const auto& example = t.failure_examples[static_cast<std::size_t>(engine::FailureClass::connect)];
  return fmt::format("no request reached the target {} ({} of {} failed to connect{}); check --target / target.base_url and "
                     "that the server is up",
                     url, transport, t.completed, example ? ": " + *example : "");
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
                      report::format_seconds_fixed(std::chrono::duration<double>(p.elapsed).count()), p.active_vus,
                      p.requests_per_s, p.ttft_p95_seconds ? report::format_seconds_fixed(*p.ttft_p95_seconds) : "-",
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

// Records outputs that could not be written as run errors (exit 3), judges again and rewrites
// the files, so that every output that can be written carries the same verdict.
void record_unwritten(report::RunReport& report, const Outputs& outputs, std::vector<std::string> failures) {
  if (failures.empty()) {
    return;
  }
  for (auto& failure : failures) {
    util::print_stderr(fmt::format("llmd-bench: error: {}\n", failure));
    report.errors.push_back("result not written: " + std::move(failure));
  }
  report::judge(report);
  (void)write_output_files(report, outputs);  // the same failures again; the others now say "error"
}

// Judges, writes every output and prints the summary. Files first; then standard output, devices,
// FIFOs and sockets, once each (what is written there cannot be taken back), so each carries the
// verdict as it stands after every earlier write. With --out FORMAT=- the summary goes to stderr.
// A closed stdout loses nothing: it is written last.
int finish(report::RunReport& report, const Outputs& outputs) {
  report::add_run_diagnostics(report);
  report::judge(report);
  record_unwritten(report, outputs, write_output_files(report, outputs));
  for (const auto& stream : stream_outputs(outputs)) {
    if (auto failure = write_output(report, stream)) {
      record_unwritten(report, outputs, {std::move(*failure)});
    }
  }
  const std::string text = report::render_text(report);
  if (outputs.uses_stdout()) {
    util::print_stderr(text);
  } else {
    util::print_stdout(text);
  }
  return exit_code(report.verdict);
}

// Fault injection for tests of the internal-error path (never set in normal use):
// LLMD_BENCH_INJECT_FAULT=throw-<stage> throws at that stage ("after-load": once the measured
// phases are done, before the after-snapshot).
void inject_fault(std::string_view stage) {
  const char* fault = std::getenv("LLMD_BENCH_INJECT_FAULT");
  if (fault != nullptr && std::string_view(fault) == "throw-" + std::string(stage)) {
    throw std::runtime_error(fmt::format("injected fault at {} (LLMD_BENCH_INJECT_FAULT)", stage));
  }
}

// The --sim-* flags given on the command line (they configure the embedded simulator only).
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

// The model the requests carry (the scenario's or --model, else the first of GET /v1/models), then
// the preflight request (engine/preflight.hpp). False: the run cannot be carried out (report.errors).
bool resolve_model_and_preflight(scenario::Scenario& s, const RunOptions& options, const std::string& token,
                                 const std::atomic<bool>& cancel, report::RunReport& report) {
  const engine::TargetAccess access{&s, report.target_url, token, &cancel};
  if (!s.request.model.empty()) {
    report.model = s.request.model;
    report.model_source = options.overrides.model ? "--model" : "scenario";
  } else {
    auto discovered = engine::discover_model(access);
    if (!discovered) {
      report.errors.push_back(discovered.error());
      return false;
    }
    report.model = *discovered;
    report.model_source = "discovered from GET /v1/models";
  }
  if (!s.target.preflight || options.no_preflight) {
    return true;
  }
  auto checked = engine::preflight(access, report.model);
  if (!checked) {
    report.errors.push_back(checked.error() + "; nothing was measured (--no-preflight or target.preflight: false "
                                              "skips this check)");
    return false;
  }
  if (!checked->empty()) {
    report.notes.push_back(*checked);
  }
  return true;
}

// The run after its inputs were checked: embedded simulator, restarts, cache source, warm-up,
// before-snapshot, measured phases, after-snapshot, outputs.
int run_stages(scenario::Scenario& s, const RunOptions& options, const std::string& token, const Outputs& outputs,
               RunSignals& signals, report::RunReport& report) {
  std::unique_ptr<EmbeddedSim> embedded;
  if (s.target.base_url.empty()) {
    embedded = std::make_unique<EmbeddedSim>(s.sim);
    if (auto started = embedded->start(); !started) {
      report.errors.push_back("embedded simulator: " + started.error());
      return finish(report, outputs);
    }
    report.embedded_sim = true;
    report.sim_description = embedded->description();
    report.target_url = embedded->fleet().gateway_url();
    if (s.target.host.empty()) {
      s.target.host = s.sim.host;
    }
    report.notes.push_back("no target given: running against the embedded simulator (llmd-bench sim)");
  } else {
    report.target_url = s.target.base_url;
    for (const auto flag : given_sim_flags(options)) {
      const std::string warning = fmt::format("{} has no effect with {}: the embedded simulator is not started", flag,
                                              options.overrides.target ? "--target" : "target.base_url");
      util::print_stderr(fmt::format("llmd-bench: warning: {}\n", warning));
      report.notes.push_back(warning);
    }
  }

  // Every stage observes Ctrl-C / SIGTERM: the first stops before the next stage (the partial
  // report is written, exit 130), the second also cuts a scrape or a kubectl call short.
  const auto stopped_before = [&](std::string_view stage) {
    if (!signals.stop_requested()) {
      return false;
    }
    report.interrupted = true;
    report.notes.push_back(fmt::format("interrupted (Ctrl-C / SIGTERM) {}", stage));
    return true;
  };
  // Model discovery and the preflight request come first: a target that can only fail is diagnosed
  // before pods are restarted, and a restart then clears the counters they moved.
  const bool ready = resolve_model_and_preflight(s, options, token, signals.stop_flag(), report);
  if (stopped_before("during model discovery or the preflight request: no request was measured")) {
    report.errors.clear();  // the request was given up, not answered
    return finish(report, outputs);
  }
  if (!ready) {
    return finish(report, outputs);
  }
  if (s.cache.source == scenario::CacheSpec::Source::kubernetes && s.cache.kubernetes.restart_pods) {
    if (auto restarted = restart_kubernetes_pods(s.cache, &signals.stop_flag()); !restarted) {
      if (stopped_before("while restarting the pods: no request was measured")) {
        report.notes.push_back("restart: " + restarted.error());
        return finish(report, outputs);
      }
      report.errors.push_back("restart: " + restarted.error());
      return finish(report, outputs);
    }
  }
  auto made = make_cache_source(s.cache, embedded_pods(embedded.get()), &signals.abort_flag());
  if (!made) {
    report.errors.push_back(made.error());
    return finish(report, outputs);
  }
  std::unique_ptr<scrape::MetricsSource> source = std::move(*made);
  if (source) {
    source->set_abort_flag(&signals.abort_flag());
  }
  ProgressLine progress(outputs.uses_stdout(), options.quiet);
  engine::EngineConfig config;
  config.scenario = &s;
  config.base_url = report.target_url;
  config.model = report.model;
  config.bearer_token = token;
  config.on_progress = [&progress](const engine::Progress& p) { progress.show(p); };
  config.stop = &signals.stop_flag();
  config.abort = &signals.abort_flag();

  if (s.warmup) {
    auto warmup = engine::run_phases(config, std::span(&*s.warmup, 1));
    if (!warmup) {
      report.errors.push_back("warmup: " + warmup.error());
      return finish(report, outputs);
    }
    report.warmup = std::move(*warmup);
  }
  if (stopped_before("before the measured phases (during the warm-up or before it)")) {
    return finish(report, outputs);
  }
  std::vector<scrape::PodSnapshotResult> before;
  if (source) {
    report.cache_source = source->describe();
    before = snapshot(*source, s);
    if (stopped_before("during the before-snapshot: no measured request was sent")) {
      return finish(report, outputs);
    }
    if (all_failed(before)) {
      report.errors.push_back(fmt::format("no pod could be scraped before the run ({}): {}", report.cache_source,
                                          before.front().snapshot.error()));
      return finish(report, outputs);
    }
  }
  report::LiveThresholds live_thresholds(s);  // abortOnFail: may stop the measured phases early
  live_thresholds.attach(config);
  auto run = engine::run_phases(config, s.phases);
  progress.clear();
  if (!run) {
    report.errors.push_back(run.error());
    return finish(report, outputs);
  }
  report.run = std::move(*run);
  live_thresholds.record(report);
  report.interrupted = signals.stop_requested() || report.run->interrupted || report.run->aborted;
  inject_fault("after-load");
  if (source && signals.abort_flag().load()) {
    report.notes.push_back("after-snapshot skipped: aborted (Ctrl-C twice), so there are no cache figures");
  } else if (source) {
    report.cache = scrape::compute_cache_report(before, snapshot(*source, s));
    const auto notes = source->notes();  // e.g. Prometheus: which scrape each snapshot was read from
    report.notes.insert(report.notes.end(), notes.begin(), notes.end());
  }
  if (auto error = unreachable(*report.run, report.target_url)) {
    report.errors.push_back(*error);
  }
  return finish(report, outputs);
}

// An exception escaped a stage: a defect. Prints it, records it as the run's error and writes every
// output from what was gathered; if even that throws, only the message and exit 3 remain.
int internal_error(report::RunReport& report, const Outputs& outputs, const std::string& what) {
  util::print_stderr(fmt::format("llmd-bench: internal error: {} (please report it; results gathered so far are written)\n", what));
  report.errors.push_back("internal error: " + what);
  try {
    return finish(report, outputs);
  } catch (const std::exception& e) {
    util::print_stderr(fmt::format("llmd-bench: internal error while writing the results: {}\n", e.what()));
  } catch (...) {
    util::print_stderr(fmt::format("llmd-bench: internal error while writing the results\n"));
  }
  return k_exit_run_failed;
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

// Usage errors (exit 2) once the flags are parsed: printed, and with --tekton-results the result
// files still say `verdict=error` with the reason, so a Pipeline's `finally` task sees them.
int usage_error(const RunOptions& options, const std::string& error, const std::string& target) {
  util::print_stderr(fmt::format("llmd-bench: error: {}\n", error));
  if (options.tekton_results_dir) {
    if (auto written = report::write_tekton_error_results(*options.tekton_results_dir, error, target); !written) {
      util::print_stderr(fmt::format("llmd-bench: error: --tekton-results {}: {}\n", *options.tekton_results_dir,
                                     written.error()));
    }
  }
  return k_exit_usage;
}

// `target` for results written before the run: the scenario's after the flags, else the flag's.
std::string target_before_run(const util::Result<scenario::Scenario>& prepared, const RunOptions& options) {
  const std::string url = prepared ? prepared->target.base_url : options.overrides.target.value_or("");
  return url.empty() ? (prepared ? "simulator" : "unknown") : report::target_label(false, url);
}

}  // namespace

util::Result<RunInputs> check_run_inputs(const RunOptions& options, std::string* target) {
  auto prepared = prepare_scenario(options);
  if (target != nullptr) {
    *target = target_before_run(prepared, options);
  }
  auto files = parse_outputs(options.outputs, options.tekton_results_dir);
  auto token = prepared ? bearer_token(*prepared) : util::Result<std::string>(std::string());
  // Checked before anything starts (exit 2); make_cache_source reads it again when it builds the source.
  auto prometheus_token = prepared && prepared->cache.source == scenario::CacheSpec::Source::prometheus
                              ? prometheus_bearer_token(prepared->cache.prometheus)
                              : util::Result<std::string>(std::string());
  auto allowed = prepared ? check_simulator_allowed(*prepared, options) : util::Result<void>();
  for (const auto* error : {prepared ? nullptr : &prepared.error(), files ? nullptr : &files.error(),
                            token ? nullptr : &token.error(), prometheus_token ? nullptr : &prometheus_token.error(),
                            allowed ? nullptr : &allowed.error()}) {
    if (error != nullptr) {
      return util::fail(*error);
    }
  }
  util::add_secret(*token);  // never printed or written, even when a server echoes it
  return RunInputs{std::move(*prepared), std::move(*files), std::move(*token)};
}

int run_run_command(const RunOptions& options) {
  std::string target;
  auto inputs = check_run_inputs(options, &target);
  if (!inputs) {
    return usage_error(options, inputs.error(), target);
  }
  scenario::Scenario& s = inputs->scenario;
  const Outputs& outputs = inputs->outputs;
  const std::string& token = inputs->token;
  // Every destination before the first request, before the simulator starts: a result that
  // could not be written would make the whole run wasted.
  auto ready = prepare_outputs(outputs);
  if (!ready) {
    return usage_error(options, ready.error(), target);
  }
  for (const auto& note : *ready) {
    util::print_stderr(fmt::format("llmd-bench: note: {}\n", note));
  }
  util::raise_open_file_limit();
  RunSignals signals;

  report::RunReport report;
  report.scenario = &s;
  // Anything thrown below is a defect of llmd-bench, not of the input: say so, and still write
  // what was gathered (exit 3).
  try {
    return run_stages(s, options, token, outputs, signals, report);
  } catch (const std::exception& e) {
    return internal_error(report, outputs, e.what());
  } catch (...) {
    return internal_error(report, outputs, "unknown exception");
  }
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
       {"--target", "--host", "--model", "--api", "--api-key-env", "--insecure", "--http2", "--max-tokens",
        "--no-preflight", "--allow-simulator"}},
      {"Load", {"--vus", "--duration", "--rate", "--iterations", "--time-scale"}},
      {"Cache", {"--cache-url", "--allow-missing-pods", "--prometheus-token-env"}},
      {"Kubernetes",
       {"--namespace", "--selector", "--container", "--via", "--port", "--kubeconfig", "--context", "--restart-pods"}},
      {"Outputs", {"--out", "--tekton-results", "--quiet"}},
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
                     "First measured phase: duration, e.g. 30s or 2m (constant-vus, constant-arrival-rate, poisson)")
      ->type_name("D");
  command.add_option("--rate", o.rate, "First measured phase: arrivals per second (constant-arrival-rate, poisson)")
      ->type_name("R");
  command.add_option("--iterations", o.iterations, "First measured phase: number of requests (iterations)")->type_name("N");
  command.add_option("--cache-url", o.cache_urls, "Pod metrics URL to snapshot (repeatable); replaces the scenario's cache source")
      ->allow_extra_args(false);
  command.add_option("--allow-missing-pods", o.allow_missing_pods,
                     fmt::format("Cache gates still judge when up to N pods are missing from the cache totals (default 0; "
                                 "at most {})",
                                 scenario::limits::k_max_allow_missing_pods))
      ->type_name("N");
  command.add_option("--out", options.outputs, "Write a result file: json=FILE or junit=FILE (repeatable; FILE - is standard output, the summary then goes to stderr)")
      ->allow_extra_args(false);
  command.add_option("--tekton-results", options.tekton_results_dir,
                     "Write the Tekton results (hit-rate, verdict, max-pod-share, ttft-p95-seconds, http-req-failed-rate, target, reason) into DIR (/tekton/results in a Task); written on usage errors too")
      ->type_name("DIR");
  command.add_flag("-q,--quiet", options.quiet, "No live progress line");
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
