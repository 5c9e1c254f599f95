#include "run/stages.hpp"

#include <algorithm>
#include <map>
#include <span>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/attribution.hpp"
#include "engine/preflight.hpp"
#include "run/cache_state.hpp"
#include "run/calibrate.hpp"
#include "run/load_timeline.hpp"
#include "run/routing.hpp"
#include "run/gates.hpp"
#include "run/live_thresholds.hpp"
#include "run/run_diagnostics.hpp"
#include "scrape/cache_report.hpp"
#include "util/duration.hpp"
#include "util/instant.hpp"

namespace llmd::run {

namespace {

using Source = scenario::CacheSpec::Source;

std::size_t pods_read(const std::vector<scrape::PodSnapshotResult>& pods) {
  return static_cast<std::size_t>(
      std::count_if(pods.begin(), pods.end(), [](const auto& p) { return p.snapshot.has_value(); }));
}

// "1 pod", "20 requests".
std::string counted(std::size_t n, std::string_view noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

// "4 pods", or "3 of 4 pods" when some could not be read.
std::string pods_detail(const std::vector<scrape::PodSnapshotResult>& pods) {
  const auto read = pods_read(pods);
  return read == pods.size() ? counted(read, "pod") : fmt::format("{} of {}", read, counted(pods.size(), "pod"));
}

std::vector<scrape::PodSnapshotResult> snapshot(RunState& state) {
  return scrape::snapshot_pods(state.source->scrape_all(), state.scenario().cache.model_filter);
}

std::string requests_detail(const engine::RunResult& run) { return counted(run.total.completed, "request"); }

// The engine's settings for this run: target, model, token, progress line and signal flags.
engine::EngineConfig engine_config(const RunState& state) {
  const RunRequest& request = *state.request;
  engine::EngineConfig config;
  config.scenario = request.scenario;
  config.base_url = state.report->target_url;
  config.model = state.report->model;
  config.bearer_token = request.bearer_token;
  config.on_progress = request.on_progress;
  config.stop = request.stop;
  config.abort = request.abort;
  if (request.shard) {
    config.slice = request.shard->slice;
  }
  config.threads = request.scenario->engine.threads;
  return config;
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

}  // namespace

void note_interrupted(RunState& state, std::string_view when) {
  state.report->interrupted = true;
  state.report->notes.push_back(fmt::format("interrupted (Ctrl-C / SIGTERM) {}", when));
}

Next start_simulator(RunState& state) {
  RunReport& report = *state.report;
  scenario::Scenario& s = *state.request->scenario;
  if (state.request->sim) {
    state.sim = state.request->sim;  // started by the caller, shared with its other runs
  } else {
    auto started = start_embedded_sim(s);
    if (!started) {
      report.errors.push_back("embedded simulator: " + started.error());
      return Next::stop;
    }
    state.sim = std::move(*started);
  }
  report.embedded_sim = true;
  report.sim_description = state.sim->description();
  report.target_url = state.sim->gateway_url();
  if (s.target.host.empty()) {
    s.target.host = s.sim.host;
  }
  report.notes.push_back("no target given: running against the embedded simulator (llmd-bench sim)");
  state.detail = counted(state.sim->fleet().pod_count(), "pod");
  return Next::go_on;
}

std::string ignored_sim_flag_warning(std::string_view flag, std::string_view target_origin) {
  return fmt::format("{} has no effect with {}: the embedded simulator is not started", flag, target_origin);
}

// The model the requests carry (the scenario's or --model, else the first of GET /v1/models), then
// the preflight request (engine/preflight.hpp): a target that can only fail is diagnosed before pods
// are restarted, and a restart then clears the counters these requests moved.
Next prepare_target(RunState& state) {
  RunReport& report = *state.report;
  const RunRequest& request = *state.request;
  const scenario::Scenario& s = state.scenario();
  if (!state.sim) {
    report.target_url = s.target.base_url;
    for (const auto& flag : request.ignored_sim_flags) {
      const std::string warning = ignored_sim_flag_warning(flag, request.target_origin);
      state.say("warning: " + warning);
      report.notes.push_back(warning);
    }
  }
  static const std::atomic<bool> never{false};
  const engine::TargetAccess access{&s, report.target_url, request.bearer_token,
                                    request.stop != nullptr ? request.stop : &never};
  const auto given_up = [&] {
    if (!state.stop_requested()) {
      return false;
    }
    report.errors.clear();  // the request was given up, not answered: the stop note says why
    return true;
  };
  if (!s.request.model.empty()) {
    report.model = s.request.model;
    report.model_source = request.model_source;
  } else {
    auto discovered = engine::discover_model(access);
    if (!discovered) {
      report.errors.push_back(discovered.error());
      return given_up() ? Next::go_on : Next::stop;
    }
    report.model = *discovered;
    report.model_source = "discovered from GET /v1/models";
  }
  state.detail = fmt::format("model {}", report.model_source);
  if (!request.preflight) {
    state.detail += ", no preflight";
    return Next::go_on;
  }
  auto checked = engine::preflight(access, report.model);
  if (!checked) {
    report.errors.push_back(checked.error() + "; nothing was measured (--no-preflight or target.preflight: false "
                                              "skips this check)");
    return given_up() ? Next::go_on : Next::stop;
  }
  if (!checked->empty()) {
    report.notes.push_back(*checked);
  }
  state.detail += ", preflight passed";
  return Next::go_on;
}

Next restart_pods(RunState& state) {
  auto restarted = restart_kubernetes_pods(state.scenario().cache, state.request->stop, state.request->say);
  if (restarted) {
    if (state.scenario().cache_state.reset == scenario::CacheStateSpec::Reset::restart) {
      cache_state_report(state);  // the summary's cache state says the pods were restarted
    }
    return Next::go_on;
  }
  if (state.stop_requested()) {
    note_interrupted(state, "while restarting the pods: no request was measured");
    state.report->notes.push_back("restart: " + restarted.error());
  } else {
    state.report->errors.push_back("restart: " + restarted.error());
  }
  return Next::stop;
}

Next make_source(RunState& state) {
  auto made = make_cache_source(state.scenario().cache, state.sim ? state.sim->pods() : std::vector<scrape::PodUrl>{},
                                state.request->abort, state.request->say);
  if (!made) {
    state.report->errors.push_back(made.error());
    return Next::stop;
  }
  state.source = std::move(*made);
  if (state.source) {
    state.source->set_abort_flag(state.request->abort);
  }
  state.detail = state.source ? "" : "none";
  return Next::go_on;
}

Next run_warmup(RunState& state) {
  const engine::EngineConfig config = engine_config(state);
  auto warmup = engine::run_phases(config, std::span(&*state.scenario().warmup, 1));
  if (!warmup) {
    state.report->errors.push_back("warmup: " + warmup.error());
    return Next::stop;
  }
  state.detail = requests_detail(*warmup);
  state.report->warmup = std::move(*warmup);
  return Next::go_on;
}

Next wait_for_start(RunState& state) {
  using std::chrono::system_clock;
  RunReport& report = *state.report;
  StartAt start{*state.request->start_at};
  auto now = system_clock::now();
  if (now < start.at) {
    state.say(fmt::format("waiting {} for --start-at {}",
                          util::format_seconds(std::chrono::duration<double>(start.at - now).count()),
                          util::format_rfc3339(start.at)));
    const auto began = now;
    while (now < start.at && !state.stop_requested()) {
      std::this_thread::sleep_for(std::min<system_clock::duration>(start.at - now, std::chrono::milliseconds(20)));
      now = system_clock::now();
    }
    start.waited = now - began;
  }
  start.late = now > start.at ? now - start.at : std::chrono::nanoseconds::zero();
  report.start = start;
  const std::string late = util::format_seconds(std::chrono::duration<double>(start.late).count());
  if (start.waited == std::chrono::nanoseconds::zero() && start.late > k_start_at_tolerance) {
    report.diagnostics.push_back(
        {"start_at_late", scrape::Severity::warning,
         fmt::format("the measured loop started {} after --start-at {}: the instant had passed when this run got there, "
                     "so it did not start together with the other shards",
                     late, util::format_rfc3339(start.at)),
         "give --start-at far enough ahead for every shard to be ready (pods scheduled, images pulled, warm-up done), "
         "e.g. the current time + 60 s"});
  }
  state.detail = start.waited > std::chrono::nanoseconds::zero()
                     ? fmt::format("waited {}", util::format_seconds(std::chrono::duration<double>(start.waited).count()))
                     : fmt::format("{} late", late);
  return Next::go_on;
}

Next scrape_before(RunState& state) {
  RunReport& report = *state.report;
  report.cache_source = state.source->describe();
  state.before = snapshot(state);
  state.detail = pods_detail(state.before);
  if (state.stop_requested()) {
    return Next::go_on;  // the pipeline notes the interruption (this stage's stopped_note)
  }
  if (!state.before.empty() && pods_read(state.before) == 0) {
    report.errors.push_back(fmt::format("no pod could be scraped before the run ({}): {}", report.cache_source,
                                        state.before.front().snapshot.error()));
    return Next::stop;
  }
  return Next::go_on;
}

Next run_load(RunState& state) {
  RunReport& report = *state.report;
  const scenario::Scenario& s = state.scenario();
  engine::EngineConfig config = engine_config(state);
  LiveThresholds live_thresholds(s);  // abortOnFail: may stop the measured phases early
  if (state.request->shard) {
    if (s.cache.source != Source::none && s.cache.source != Source::automatic) {  // automatic with a target: none
      report.notes.push_back(fmt::format(
          "shard {}: no cache snapshots here; the coordinator takes them once around the sharded run (`llmd-bench "
          "scrape --save-dir`) and `llmd-bench merge --cache-before DIR --cache-after DIR` reports the cache",
          to_string(state.request->shard->slice)));
    }
  } else {
    live_thresholds.attach(config);  // a shard judges nothing, and cannot stop the others
  }
  auto timeline = make_timeline(state);
  if (!timeline) {
    report.errors.push_back(timeline.error());
    return Next::stop;
  }
  if (*timeline) {
    config.on_start = [recorder = timeline->get()](std::chrono::steady_clock::time_point start) { recorder->start(start); };
  }
  if (state.request->on_request) {
    config.on_request = [&log = state.request->on_request,
                         addresses = state.source ? state.source->pod_addresses() : std::map<std::string, std::string>{},
                         pods = std::map<std::string, std::string, std::less<>>{}](const engine::RequestRecord& record) mutable {
      auto it = pods.find(record.endpoint);
      if (it == pods.end() && pods.size() < engine::k_max_endpoints) {
        it = pods.emplace(std::string(record.endpoint), run::pod_for(addresses, record.endpoint).value_or("")).first;
      }
      log(record, it != pods.end() ? std::string_view(it->second) : std::string_view());
    };
  }
  auto run = engine::run_phases(config, s.phases);
  std::optional<CacheTimeline> series;
  if (*timeline) {
    series = (*timeline)->finish();  // stopped right after the loop, before anything else happens to the pods
  }
  if (state.request->after_load) {
    state.request->after_load();
  }
  if (!run) {
    report.errors.push_back(run.error());
    return Next::stop;
  }
  state.detail = requests_detail(*run);
  report.run = std::move(*run);
  record_timeline(report, std::move(series));
  live_thresholds.record(report);
  report.interrupted = state.stop_requested() || report.run->interrupted || report.run->aborted;
  if (auto error = unreachable(*report.run, report.target_url)) {
    report.errors.push_back(*error);
  }
  return Next::go_on;
}

Next scrape_after(RunState& state) {
  RunReport& report = *state.report;
  if (state.abort_requested()) {
    report.notes.push_back("after-snapshot skipped: aborted (Ctrl-C twice), so there are no cache figures");
    state.detail = "skipped (aborted)";
    return Next::go_on;
  }
  auto after = snapshot(state);
  state.detail = pods_detail(after);
  report.cache = scrape::compute_cache_report(state.before, after);
  const auto notes = state.source->notes();  // e.g. Prometheus: which scrape each snapshot was read from
  report.notes.insert(report.notes.end(), notes.begin(), notes.end());
  return Next::go_on;
}

namespace {

// What the ideal needs besides the request count: the primed prefixes, the trace records that started.
IdealInputs ideal_inputs(const RunState& state) {
  IdealInputs inputs;
  inputs.primed = state.primed;
  if (state.report->cache_state) {
    inputs.reset = state.report->cache_state->reset;
  }
  std::vector<std::size_t> records;
  for (const auto& phase : state.report->run->phases) {
    if (!phase.trace) {
      return inputs;  // requests of a phase that is not a trace phase: their records are not known
    }
    for (std::size_t i = 0; i < phase.trace->started_offsets_ns.size(); ++i) {
      if (phase.trace->started_offsets_ns[i]) {
        records.push_back(i);
      }
    }
  }
  inputs.trace_records = std::move(records);
  return inputs;
}

}  // namespace

// The routing analysis of the measured requests (routing.hpp), and a finding per pod whose
// client-reported cached tokens disagree with its scraped hits.
void analyse_routing(RunState& state) {
  RunReport& report = *state.report;
  const engine::RunResult& run = *report.run;
  RoutingInputs inputs;
  inputs.attribution = &run.total.attribution;
  inputs.headers_tried = engine::served_by_header_names(state.scenario().target.served_by_header);
  if (state.source) {
    inputs.pod_addresses = state.source->pod_addresses();
  }
  inputs.cache = report.cache ? &*report.cache : nullptr;
  inputs.ideal = report.ideal_hit_rate ? &*report.ideal_hit_rate : nullptr;
  inputs.wall_seconds = std::chrono::duration<double>(run.total.wall_duration).count();
  const auto kind = state.scenario().request.prompt;
  inputs.groups_expected = kind == scenario::PromptKind::shared_prefix || kind == scenario::PromptKind::per_session ||
                           kind == scenario::PromptKind::prefix_groups || kind == scenario::PromptKind::multi_turn ||
                           kind == scenario::PromptKind::fixed;
  report.routing = compute_routing(inputs);
  for (const auto& mismatch : report.routing->cached_mismatches) {
    report.diagnostics.push_back(
        {"pod_cached_tokens_mismatch", scrape::Severity::warning,
         fmt::format("pod {}: its ok responses reported {} cached prompt tokens (usage.prompt_tokens_details."
                     "cached_tokens, attributed by the served-by header) but its prefix-cache hits grew by {:.0f} "
                     "tokens (more than 1% apart): another client on this pod, a counter reset, preemption, or requests "
                     "that failed after the lookup",
                     mismatch.pod, mismatch.client, mismatch.hits),
         "run against pods no other client uses during the measured loop; check the pod's restarts and "
         "http_req_failed; the hit rate is from the pods' counters either way"});
  }
}

Next find_diagnostics(RunState& state) {
  const auto before = state.report->diagnostics.size();
  if (state.report->run) {
    state.report->ideal_hit_rate =
        ideal_hit_rate(state.scenario(), state.report->run->total.started, ideal_inputs(state));
    analyse_routing(state);
  }
  add_run_diagnostics(*state.report);
  state.detail = counted(state.report->diagnostics.size() - before, "finding");
  return Next::go_on;
}

Next judge_run(RunState& state) {
  judge(*state.report);
  state.detail = std::string(to_string(state.report->verdict));
  return Next::go_on;
}

const std::vector<Stage>& stages() {
  const auto always = [](const RunState&) { return true; };
  const auto has_source = [](const RunState& s) { return s.source != nullptr; };
  static const std::vector<Stage> table = {
      {.id = "simulator", .name = "simulator",
       .applies = [](const RunState& s) { return s.scenario().target.base_url.empty(); }, .run = start_simulator},
      {.id = "target", .name = "target", .applies = always, .run = prepare_target,
       .stopped_note = "during model discovery or the preflight request: no request was measured"},
      {.id = "restart", .name = "restart",
       .applies = [](const RunState& s) {
         return s.scenario().cache.source == Source::kubernetes && s.scenario().cache.kubernetes.restart_pods;
       },
       .run = restart_pods},
      {.id = "cache-source", .name = "cache source",
       .applies = [](const RunState& s) { return s.scenario().cache.source != Source::none && !s.request->shard; },
       .run = make_source},
      {.id = "calibrate", .name = "calibrate",
       .applies = [](const RunState& s) {
         const auto& r = s.scenario().request;
         return r.token_counts.calibrate != scenario::TokenCountsSpec::Calibrate::off &&
                scenario::calibrates_prefixes(r.prompt);
       },
       .run = calibrate_prefixes},  // a stop request leaves the prefixes uncalibrated; the warm-up's check notes it
      {.id = "reset", .name = "reset",
       .applies = [](const RunState& s) {
         return s.scenario().cache_state.reset == scenario::CacheStateSpec::Reset::api && s.source != nullptr;
       },
       .run = reset_cache, .stopped_note = "during the cache reset: no measured request was sent"},
      {.id = "warm-up", .name = "warm-up", .applies = [](const RunState& s) { return s.scenario().warmup.has_value(); },
       .run = run_warmup, .stopped_note = "before the measured phases (during the warm-up or before it)",
       .check_when_skipped = true},
      {.id = "prime", .name = "prime", .applies = [](const RunState& s) { return s.scenario().cache_state.prime; },
       .run = prime_cache, .stopped_note = "while priming the cache: no measured request was sent"},
      {.id = "verify", .name = "verify",
       .applies = [](const RunState& s) { return s.scenario().cache_state.verify && s.source != nullptr; },
       .run = verify_cache, .stopped_note = "while verifying the primed cache: no measured request was sent"},
      {.id = "scrape-before", .name = "scrape before", .applies = has_source, .run = scrape_before,
       .stopped_note = "during the before-snapshot: no measured request was sent"},
      {.id = "start-at", .name = "start at", .applies = [](const RunState& s) { return s.request->start_at.has_value(); },
       .run = wait_for_start, .stopped_note = "while waiting for --start-at: no measured request was sent"},
      {.id = "load", .name = "load", .applies = always, .run = run_load},
      {.id = "scrape-after", .name = "scrape after", .applies = has_source, .run = scrape_after},
      {.id = "diagnostics", .name = "diagnostics", .applies = always, .run = find_diagnostics, .always = true},
      {.id = "judge", .name = "judge", .applies = always, .run = judge_run, .always = true},
  };
  return table;
}

}  // namespace llmd::run
