#include "scenario/loader.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "scenario/limits.hpp"
#include "scenario/load_sections.hpp"
#include "scenario/yaml_reader.hpp"
#include "util/atomic_file.hpp"
#include "util/duration.hpp"
#include "util/sha256.hpp"

namespace llmd::scenario {

namespace {

using util::fail;
using yaml::Field;
using yaml::Need;
using yaml::Range;
using yaml::Section;
using yaml::ZeroDuration;

constexpr std::array<std::string_view, 16> k_top_keys = {"name",   "target", "model",  "api",        "requests", "warmup",
                                                         "load",   "checks", "thresholds", "cache", "sim", "time_scale",
                                                         "cache_state", "events", "engine", "slo"};
constexpr std::array<std::string_view, 5> k_slo_keys = {"ttft", "itl", "itl_stat", "tpot", "e2e"};
constexpr std::pair<std::string_view, ItlStat> k_itl_stats[] = {
    {"p95", ItlStat::p95},
    {"max", ItlStat::max},
};
constexpr std::array<std::string_view, 3> k_engine_keys = {"threads", "http", "coalesce"};
constexpr std::pair<std::string_view, HttpClient> k_http_clients[] = {
    {"auto", HttpClient::automatic},
    {"curl", HttpClient::curl},
};

}  // namespace

std::string_view to_string(HttpClient client) { return yaml::name_of(k_http_clients, client); }

std::string to_string(const Coalesce& coalesce) {
  switch (coalesce.mode) {
    case Coalesce::Mode::automatic: return "auto";
    case Coalesce::Mode::off: return "off";
    case Coalesce::Mode::fixed: break;
  }
  return util::format_duration(coalesce.window);
}

util::Result<Coalesce> parse_coalesce(std::string_view text) {
  if (text == "auto") {
    return Coalesce{};
  }
  if (text == "off") {
    return Coalesce{Coalesce::Mode::off, {}};
  }
  const std::string expected = fmt::format("expected auto, off or a duration in (0, {}] such as \"2ms\"",
                                           util::format_duration(limits::k_max_coalesce));
  auto window = util::parse_duration(text);
  if (!window) {
    return util::fail(fmt::format("got \"{}\": {}", text, expected));
  }
  if (window->count() <= 0 || *window > limits::k_max_coalesce) {
    return util::fail(fmt::format("got \"{}\", {}; a pause is bounded by the loop's {} probe", text, expected,
                                  util::format_duration(limits::k_max_coalesce)));
  }
  return Coalesce{Coalesce::Mode::fixed, *window};
}

std::string_view to_string(ItlStat stat) { return yaml::name_of(k_itl_stats, stat); }

namespace {

// `slo: {ttft: 2s, itl: 100ms, itl_stat: p95|max, tpot: 50ms, e2e: 30s}`: at least one objective.
util::Result<void> load_slo_section(const Section& root, Scenario& scenario) {
  auto field = root.get("slo");
  if (!field) {
    return {};
  }
  auto section = Section::open(*field, k_slo_keys);
  if (!section) {
    return fail(section.error());
  }
  Slo slo;
  slo.where = field->where();
  const std::pair<std::string_view, std::optional<std::chrono::nanoseconds>*> objectives[] = {
      {"ttft", &slo.ttft}, {"itl", &slo.itl}, {"tpot", &slo.tpot}, {"e2e", &slo.e2e}};
  for (const auto& [key, out] : objectives) {
    if (section->has(key)) {
      std::chrono::nanoseconds value{};
      LLMD_TRY(section->read(key, value, ZeroDuration::rejected));
      *out = value;
    }
  }
  if (auto stat = section->get("itl_stat")) {
    auto chosen = stat->as_choice("slo.itl_stat", k_itl_stats);
    if (!chosen) {
      return fail(chosen.error());
    }
    if (!slo.itl) {
      return fail(stat->error("itl_stat says how to judge slo.itl, which is not set; add `itl: 100ms` or remove it"));
    }
    slo.itl_stat = *chosen;
  }
  if (!slo.ttft && !slo.itl && !slo.tpot && !slo.e2e) {
    return fail(field->error("set at least one objective: ttft, itl, tpot or e2e (e.g. `slo: {ttft: 2s}`)"));
  }
  scenario.slo = slo;
  return {};
}

// `engine: {threads: N, http: auto|curl, coalesce: auto|off|DURATION}`.
util::Result<void> load_engine_section(const Section& root, Scenario& scenario) {
  auto engine = root.get("engine");
  if (!engine) {
    return {};
  }
  auto section = Section::open(*engine, k_engine_keys);
  if (!section) {
    return fail(section.error());
  }
  if (auto threads = section->get("threads")) {
    scenario.engine.where = threads->where();
  }
  if (auto http = section->get("http")) {
    auto client = http->as_choice("engine.http", k_http_clients);
    if (!client) {
      return fail(client.error());
    }
    scenario.engine.http = *client;
  }
  if (auto coalesce = section->get("coalesce")) {
    auto text = coalesce->as_string();
    if (!text) {
      return fail(text.error());
    }
    auto parsed = parse_coalesce(*text);
    if (!parsed) {
      return fail(coalesce->error(parsed.error()));
    }
    scenario.engine.coalesce = *parsed;
  }
  return section->read_unsigned("threads", scenario.engine.threads, 1, limits::k_max_threads);
}

util::Result<void> load_request_sections(const Section& root, Scenario& scenario) {
  if (auto target = root.get("target")) {
    LLMD_TRY(detail::load_target(*target, scenario.target));
  }
  LLMD_TRY(root.read("model", scenario.request.model));
  if (auto api = root.get("api")) {
    auto kind = detail::load_api(*api);
    if (!kind) {
      return fail(kind.error());
    }
    scenario.request.api = *kind;
  }
  scenario.request.where = root.self().where();
  if (auto requests = root.get("requests")) {
    LLMD_TRY(detail::load_requests(*requests, scenario.request));
  }
  return {};
}

util::Result<void> load_load_sections(const Section& root, Scenario& scenario) {
  if (auto warmup = root.get("warmup")) {
    auto phase = detail::load_warmup(*warmup);
    if (!phase) {
      return fail(phase.error());
    }
    scenario.warmup = std::move(*phase);
  }
  auto load = root.require("load");
  if (!load) {
    return fail(load.error());
  }
  auto phases = detail::load_phases(*load);
  if (!phases) {
    return fail(phases.error());
  }
  scenario.phases = std::move(*phases);
  if (auto time_scale = root.get("time_scale")) {
    scenario.time_scale_where = time_scale->where();
  }
  return root.read("time_scale", scenario.time_scale, Range::between(limits::k_min_time_scale, limits::k_max_time_scale));
}

util::Result<void> load_gate_sections(const Section& root, Scenario& scenario) {
  scenario.checks = detail::default_checks(scenario.request.stream);
  if (auto checks = root.get("checks")) {
    LLMD_TRY(detail::load_checks(*checks, scenario.request.stream, scenario.checks, scenario.check_spellings));
  }
  if (auto thresholds = root.get("thresholds")) {
    auto loaded = detail::load_thresholds(*thresholds);
    if (!loaded) {
      return fail(loaded.error());
    }
    scenario.thresholds = std::move(*loaded);
  }
  scenario.cache.where = root.self().where();
  if (auto cache = root.get("cache")) {
    LLMD_TRY(detail::load_cache(*cache, scenario.cache));
  }
  scenario.cache_state.where = root.self().where();
  if (auto cache_state = root.get("cache_state")) {
    LLMD_TRY(detail::load_cache_state(*cache_state, scenario.cache_state));
    if (scenario.cache_state.reset == CacheStateSpec::Reset::restart) {
      scenario.cache.kubernetes.restart_pods = true;  // the restart stage does it
    }
  }
  if (auto events = root.get("events")) {
    LLMD_TRY(detail::load_events(*events, scenario.events));
  }
  return {};
}

util::Result<void> load_sim_section(const Section& root, Scenario& scenario) {
  auto sim = root.get("sim");
  if (!sim) {
    if (!scenario.request.model.empty()) {
      scenario.sim.pod.model = scenario.request.model;
    }
    return {};
  }
  if (!scenario.target.base_url.empty()) {
    return fail(sim->error("the embedded simulator runs only without target.base_url; remove `sim` or the base_url"));
  }
  return detail::load_sim(*sim, scenario.request.model, scenario.sim);
}

util::Result<Scenario> load_document(const Field& root_field) {
  if (root_field.is_null()) {
    return fail(fmt::format("{}: empty scenario; expected a mapping with at least a `load` list",
                            root_field.document().file_name));
  }
  auto root = Section::open(root_field, k_top_keys);
  if (!root) {
    return fail(root.error());
  }
  Scenario scenario;
  scenario.path = root_field.document().file_name;
  scenario.name = std::filesystem::path(scenario.path).stem().string();
  LLMD_TRY(root->read("name", scenario.name));
  LLMD_TRY(load_request_sections(*root, scenario));
  LLMD_TRY(load_load_sections(*root, scenario));
  LLMD_TRY(load_engine_section(*root, scenario));
  LLMD_TRY(load_gate_sections(*root, scenario));
  LLMD_TRY(load_slo_section(*root, scenario));
  LLMD_TRY(load_sim_section(*root, scenario));
  LLMD_TRY(detail::check_consistency(scenario));
  return scenario;
}

bool needs_stream(std::string_view metric) {
  return metric == "ttft" || metric == "inter_token_latency" || metric == "time_to_first_event" ||
         metric == "stream_buffered";
}

// checks{check:NAME} names one of the run's checks (by either spelling).
util::Result<void> check_threshold_check(const Scenario& scenario, const Threshold& threshold, const std::string& prefix) {
  if (threshold.check.empty()) {
    return {};
  }
  const auto kind = find_check(threshold.check);
  if (kind && std::find(scenario.checks.begin(), scenario.checks.end(), *kind) != scenario.checks.end()) {
    return {};
  }
  std::vector<std::string> names;
  for (const CheckKind check : scenario.checks) {
    names.push_back(check_name(scenario, check));
  }
  return fail(fmt::format("{}: no check \"{}\" in this run; its checks: {}", prefix, threshold.check,
                          names.empty() ? std::string("none (checks: [])") : fmt::format("{}", fmt::join(names, ", "))));
}

util::Result<void> check_phase_has_users(const Phase& phase, std::string_view kind, std::string_view purpose) {
  if (detail::is_open_loop(phase.executor)) {
    return fail(fmt::format("{}: phase \"{}\": prompt kind {} needs virtual users {}, but executor {} is open loop; use "
                            "constant-vus, ramping-vus or iterations",
                            to_string(phase.where), phase.name, kind, purpose, detail::to_string(phase.executor)));
  }
  return {};
}

}  // namespace

namespace detail {

util::Result<void> check_phases_have_users(const Scenario& scenario, std::string_view kind, std::string_view purpose) {
  if (scenario.warmup) {
    LLMD_TRY(check_phase_has_users(*scenario.warmup, kind, purpose));
  }
  for (const Phase& phase : scenario.phases) {
    LLMD_TRY(check_phase_has_users(phase, kind, purpose));
  }
  return {};
}

util::Result<void> check_consistency(const Scenario& scenario) {
  if (scenario.request.prompt == PromptKind::per_session) {
    LLMD_TRY(check_phases_have_users(scenario, "per-session", "to own the sessions"));
  }
  LLMD_TRY(check_multi_turn(scenario));
  for (const Threshold& threshold : scenario.thresholds) {
    const std::string prefix = fmt::format("{}: thresholds.{}: \"{}\"", to_string(threshold.where),
                                           display_name(threshold), threshold.source);
    if (needs_stream(threshold.metric) && !scenario.request.stream) {
      return fail(prefix + " needs requests.stream: true (tokens are timed on the stream)");
    }
    if ((threshold.metric == "goodput" || threshold.metric == "good_fraction") && !scenario.slo) {
      return fail(prefix + " needs an `slo:` section: a request is good when it meets the SLOs (e.g. `slo: {ttft: 2s}`)");
    }
    const bool no_counters = scenario.cache.source == CacheSpec::Source::none ||
                             (scenario.cache.source == CacheSpec::Source::automatic && !scenario.target.base_url.empty());
    if (is_cache_metric(threshold.metric) && no_counters) {
      return fail(prefix + " needs per-pod metrics: list the pods' metrics URLs in cache.urls (or run against "
                           "the embedded simulator)");
    }
    LLMD_TRY(check_threshold_check(scenario, threshold, prefix));
  }
  if (scenario.slo && (scenario.slo->ttft || scenario.slo->itl || scenario.slo->tpot) && !scenario.request.stream) {
    return fail(fmt::format("{}: slo: ttft, itl and tpot need requests.stream: true (tokens are timed on the stream); "
                            "without streaming only e2e can be judged",
                            to_string(scenario.slo->where)));
  }
  LLMD_TRY(check_cache_state(scenario));
  LLMD_TRY(check_events(scenario));
  LLMD_TRY(check_replay_rules(scenario));
  LLMD_TRY(check_time_scale(scenario));
  return check_load_limits(scenario);
}

}  // namespace detail

util::Result<Scenario> load_scenario_text(std::string_view text, std::string_view file_name) {
  const yaml::Document document{std::string(file_name), std::filesystem::path(file_name).parent_path()};
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    auto loaded = load_document(Field(document, root, "", YAML::Mark()));
    if (loaded) {
      loaded->sha256 = util::sha256_hex(text);
    }
    return loaded;
  } catch (const YAML::Exception& error) {  // yaml-cpp reports syntax errors by throwing
    if (error.mark.is_null()) {
      return fail(fmt::format("{}: invalid YAML: {}", file_name, error.msg));
    }
    return fail(fmt::format("{}:{}:{}: invalid YAML: {}", file_name, error.mark.line + 1, error.mark.column + 1, error.msg));
  }
}

util::Result<Scenario> load_scenario(const std::filesystem::path& path) {
  auto text = util::read_file(path, limits::k_max_file_bytes + 1);
  if (!text) {
    return fail(text.error());
  }
  if (text->size() > limits::k_max_file_bytes) {
    return fail(fmt::format("{}: larger than {} MiB, the limit for a scenario file; check the path (a device or a FIFO "
                            "is read up to the limit too)",
                            path.string(), limits::k_max_file_bytes >> 20));
  }
  return load_scenario_text(*text, path.string());
}

}  // namespace llmd::scenario
