#include "cli/run_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "cli/cache_source.hpp"
#include "cli/exit_codes.hpp"
#include "cli/run_signals.hpp"
#include "engine/engine.hpp"
#include "engine/request_builder.hpp"
#include "report/gates.hpp"
#include "report/exporter.hpp"
#include "report/run_diagnostics.hpp"
#include "report/tekton_results.hpp"
#include "report/text_report.hpp"
#include "scenario/limits.hpp"
#include "scenario/loader.hpp"
#include "sim/fleet.hpp"
#include "util/atomic_file.hpp"
#include "util/process.hpp"

namespace llmd::cli {

namespace {

struct OutputFile {
  report::OutputFormat format = report::OutputFormat::json;
  std::string path;
};

util::Result<std::vector<OutputFile>> parse_outputs(const std::vector<std::string>& specs) {
  std::vector<OutputFile> outputs;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    auto format = report::parse_output_format(spec.substr(0, eq));
    if (eq == std::string::npos || eq + 1 == spec.size() || !format) {
      return util::fail(fmt::format("--out \"{}\": expected FORMAT=FILE with FORMAT json or junit, e.g. --out json=result.json",
                                    spec));
    }
    outputs.push_back({*format, spec.substr(eq + 1)});
  }
  return outputs;
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
  if (auto valid = sim::validate(sim); !valid) {
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

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : m_enabled(enabled) {}
  ~ProgressLine() { clear(); }
  void show(const engine::Progress& p) {
    if (!m_enabled) {
      return;
    }
    fmt::print("\r\033[K{} {:>7} vus {:>4} {:>7.1f} req/s  p95 ttft {:>8}  errors {}  dropped {}",
               p.phase.empty() ? "-" : p.phase, report::format_seconds(std::chrono::duration<double>(p.elapsed).count()),
               p.active_vus, p.requests_per_s, p.ttft_p95_seconds ? report::format_seconds(*p.ttft_p95_seconds) : "-",
               p.errors, p.dropped);
    std::fflush(stdout);
    m_shown = true;
  }
  void clear() {
    if (m_shown) {
      fmt::print("\r\033[K");
      std::fflush(stdout);
      m_shown = false;
    }
  }

 private:
  bool m_enabled;
  bool m_shown = false;
};

struct Outputs {
  std::vector<OutputFile> files;
  std::optional<std::string> tekton_results_dir;
};

// Writes every result file and the Tekton results; returns what could not be written.
std::vector<std::string> write_outputs(const report::RunReport& report, const Outputs& outputs) {
  std::vector<std::string> failures;
  for (const auto& output : outputs.files) {
    if (auto written = util::write_file_atomically(output.path, report::render(report, output.format)); !written) {
      failures.push_back(fmt::format("--out {}={}: {}", report::to_string(output.format), output.path, written.error()));
    }
  }
  if (outputs.tekton_results_dir) {
    if (auto written = report::write_tekton_results(report, *outputs.tekton_results_dir); !written) {
      failures.push_back(fmt::format("--tekton-results {}: {}", *outputs.tekton_results_dir, written.error()));
    }
  }
  return failures;
}

// Judges, writes every output and prints the summary. An output that cannot be written makes the
// run an error (exit 3): the verdict is judged again and every output that can be written is
// rewritten, so the text, JSON, JUnit and Tekton results all carry the same verdict.
int finish(report::RunReport& report, const Outputs& outputs) {
  report::add_run_diagnostics(report);
  report::judge(report);
  if (auto failures = write_outputs(report, outputs); !failures.empty()) {
    for (auto& failure : failures) {
      fmt::print(stderr, "llmd-bench: error: {}\n", failure);
      report.errors.push_back("result not written: " + std::move(failure));
    }
    report::judge(report);
    (void)write_outputs(report, outputs);  // the same failures again; the others now say "error"
  }
  fmt::print("{}", report::render_text(report));
  std::fflush(stdout);
  return report.exit_code;
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
  }
  report.model = !s.request.model.empty() ? s.request.model : (embedded ? s.sim.pod.model : "");

  if (s.cache.source == scenario::CacheSpec::Source::kubernetes && s.cache.kubernetes.restart_pods) {
    if (auto restarted = restart_kubernetes_pods(s.cache); !restarted) {
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
  ProgressLine progress(::isatty(STDOUT_FILENO) == 1 && !options.quiet);
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
  std::vector<scrape::PodSnapshotResult> before;
  if (source) {
    report.cache_source = source->describe();
    before = snapshot(*source, s);
    if (all_failed(before)) {
      report.errors.push_back(fmt::format("no pod could be scraped before the run ({}): {}", report.cache_source,
                                          before.front().snapshot.error()));
      return finish(report, outputs);
    }
  }
  auto run = engine::run_phases(config, s.phases);
  progress.clear();
  if (!run) {
    report.errors.push_back(run.error());
    return finish(report, outputs);
  }
  report.run = std::move(*run);
  report.interrupted = signals.stop_requested() || report.run->interrupted || report.run->aborted;
  inject_fault("after-load");
  if (source) {
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
  fmt::print(stderr, "llmd-bench: internal error: {} (please report it; results gathered so far are written)\n", what);
  report.errors.push_back("internal error: " + what);
  try {
    return finish(report, outputs);
  } catch (const std::exception& e) {
    fmt::print(stderr, "llmd-bench: internal error while writing the results: {}\n", e.what());
  } catch (...) {
    fmt::print(stderr, "llmd-bench: internal error while writing the results\n");
  }
  return k_exit_run_failed;
}

}  // namespace

int run_run_command(const RunOptions& options) {
  auto prepared = prepare_scenario(options);
  auto files = parse_outputs(options.outputs);
  auto token = prepared ? bearer_token(*prepared) : util::Result<std::string>(std::string());
  for (const auto* error : {prepared ? nullptr : &prepared.error(), files ? nullptr : &files.error(),
                            token ? nullptr : &token.error()}) {
    if (error != nullptr) {
      fmt::print(stderr, "llmd-bench: error: {}\n", *error);
      return k_exit_usage;
    }
  }
  scenario::Scenario& s = *prepared;
  const Outputs outputs{std::move(*files), options.tekton_results_dir};
  util::raise_open_file_limit();
  RunSignals signals;

  report::RunReport report;
  report.scenario = &s;
  // Anything thrown below is a defect of llmd-bench, not of the input: say so, and still write
  // what was gathered (exit 3).
  try {
    return run_stages(s, options, *token, outputs, signals, report);
  } catch (const std::exception& e) {
    return internal_error(report, outputs, e.what());
  } catch (...) {
    return internal_error(report, outputs, "unknown exception");
  }
}

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
  command.add_option("--time-scale", o.time_scale,
                     fmt::format("Multiply every phase duration and start time (e.g. 0.01 in tests; {}..{})",
                                 scenario::limits::k_min_time_scale, scenario::limits::k_max_time_scale));
  command.add_option("--max-tokens", o.max_tokens,
                     fmt::format("Output tokens per request (1..{})", scenario::limits::k_max_tokens));
  command.add_option("--cache-url", o.cache_urls, "Pod metrics URL to snapshot (repeatable); replaces the scenario's cache source")
      ->allow_extra_args(false);
  command.add_option("--allow-missing-pods", o.allow_missing_pods,
                     fmt::format("Cache gates still judge when up to N pods are missing from the cache totals (default 0; "
                                 "at most {})",
                                 scenario::limits::k_max_allow_missing_pods))
      ->type_name("N");
  command.add_option("--out", options.outputs, "Write a result file: json=FILE or junit=FILE (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--tekton-results", options.tekton_results_dir,
                     "Write the Tekton results hit-rate, verdict and max-pod-share into DIR (/tekton/results in a Task)")
      ->type_name("DIR");
  command.add_flag("-q,--quiet", options.quiet, "No live progress line");
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
}

}  // namespace llmd::cli
