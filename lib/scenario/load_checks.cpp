// `checks:`, `thresholds:` and `cache:` of a scenario file.
#include <algorithm>
#include <array>
#include <span>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "util/duration.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Need;
using yaml::Section;
using yaml::ZeroDuration;

// Each check's spelling in `checks:` lists, and its canonical name (reports of the default checks,
// JSON keys of older results); both are accepted.
struct CheckRow {
  std::string_view name;
  std::string_view canonical;
  CheckKind kind;
};

constexpr std::array<CheckRow, 3> k_checks = {{
    {"status-200", "status_200", CheckKind::status_200},
    {"non-empty-content", "non_empty_content", CheckKind::non_empty_content},
    {"sse-content-type", "sse_content_type", CheckKind::sse_content_type},
}};

constexpr std::pair<std::string_view, ThresholdSeverity> k_severities[] = {
    {"fail", ThresholdSeverity::fail},
    {"warn", ThresholdSeverity::warn},
};

// k6 spells the object form's keys in camelCase; the snake_case spelling of this file format is
// accepted too (not both at once).
constexpr std::string_view k_threshold_object_keys[] = {"threshold",      "severity",         "abortOnFail",
                                                        "abort_on_fail",  "delayAbortEval",   "delay_abort_eval"};

// The value of `k6_key` or `snake_key` (at most one of them given).
util::Result<std::optional<Field>> either_spelling(const Section& section, std::string_view k6_key, std::string_view snake_key) {
  auto k6 = section.get(k6_key);
  auto snake = section.get(snake_key);
  if (k6 && snake) {
    return fail(snake->error(fmt::format("give {} or {}, not both", k6_key, snake_key)));
  }
  return k6 ? k6 : snake;
}

// `{threshold: "rate<0.01", severity: warn, abortOnFail: true, delayAbortEval: 10s}` (k6's object
// form plus severity) into `threshold`, whose expression is parsed here too.
util::Result<Threshold> load_threshold_object(const Field& item, const ThresholdKey& key) {
  auto section = Section::open(item, k_threshold_object_keys, "in a threshold object");
  if (!section) {
    return fail(section.error());
  }
  auto expression = section->require("threshold");
  if (!expression) {
    return fail(expression.error());
  }
  auto text = expression->as_string();
  if (!text) {
    return fail(text.error());
  }
  auto threshold = parse_threshold(key.metric->name, *text);
  if (!threshold) {
    return fail(expression->error(threshold.error()));
  }
  threshold->where = expression->where();
  if (auto severity = section->get("severity")) {
    auto value = severity->as_choice("severity", k_severities);
    if (!value) {
      return fail(value.error());
    }
    threshold->severity = *value;
  }
  auto abort = either_spelling(*section, "abortOnFail", "abort_on_fail");
  auto delay = either_spelling(*section, "delayAbortEval", "delay_abort_eval");
  for (const auto* result : {&abort, &delay}) {
    if (!*result) {
      return fail(result->error());
    }
  }
  if (*abort) {
    auto value = (*abort)->as_bool();
    if (!value) {
      return fail(value.error());
    }
    threshold->abort_on_fail = *value;
  }
  if (*delay) {
    auto value = (*delay)->as_duration(ZeroDuration::allowed);
    if (!value) {
      return fail(value.error());
    }
    if (!threshold->abort_on_fail) {
      return fail((*delay)->error("applies only with abortOnFail: true (it delays the evaluation that may abort the run)"));
    }
    threshold->delay_abort_eval = *value;
  }
  if (threshold->abort_on_fail && threshold->severity == ThresholdSeverity::warn) {
    return fail((*abort)->error("a threshold with severity: warn never fails the run, so it cannot abort it; "
                                "remove abortOnFail or the severity"));
  }
  if (threshold->abort_on_fail && is_post_run_metric(threshold->metric)) {
    return fail((*abort)->error(fmt::format(
        "{} cannot be evaluated during the run: {}; remove abortOnFail (the threshold is still judged at the end)",
        threshold->metric,
        is_cache_metric(threshold->metric)
            ? "the pods' counters are read only before and after the measured phases"
            : "the routing analysis is computed once the measured phases are over")));
  }
  return threshold;
}

util::Result<void> load_threshold_list(const Field& key_field, const Field& value, std::vector<Threshold>& out) {
  auto key = parse_threshold_key(key_field.node().Scalar());
  if (!key) {
    return fail(key_field.error(key.error()));
  }
  std::vector<Field> items;
  if (value.node().IsScalar() || value.node().IsMap()) {  // a single expression or object is accepted as is
    items.push_back(value);
  } else {
    auto list = value.as_list();
    if (!list) {
      return fail(list.error());
    }
    if (list->empty()) {
      return fail(value.error("expected at least one expression, e.g. [\"p(95)<2s\"]"));
    }
    items = std::move(*list);
  }
  for (const Field& item : items) {
    util::Result<Threshold> threshold = util::fail(std::string());
    if (item.node().IsMap()) {
      threshold = load_threshold_object(item, *key);
    } else {
      auto text = item.as_string();
      if (!text) {
        return fail(text.error());
      }
      threshold = parse_threshold(key->metric->name, *text);
      if (!threshold) {
        return fail(item.error(threshold.error()));
      }
      threshold->where = item.where();
    }
    if (!threshold) {
      return fail(threshold.error());
    }
    threshold->check = key->check;
    threshold->pod = key->pod;
    if (!key->pod.empty() && threshold->abort_on_fail) {
      return fail(item.error(fmt::format("{}{{pod:{}}} cannot be evaluated during the run (requests are attributed to "
                                         "pods once it is over); remove abortOnFail",
                                         key->metric->name, key->pod)));
    }
    out.push_back(std::move(*threshold));
  }
  return {};
}

// --- cache sources: one row per `cache.source`, each with its own keys ---

constexpr std::array<std::string_view, 6> k_cache_common_keys = {"source", "model_filter", "scrape_timeout",
                                                                 "max_parallel_scrapes", "allow_missing_pods", "interval"};

util::Result<void> load_nothing(const Section&, CacheSpec&) { return {}; }

// The list under `field`, which must not be empty: "must list at least one <what>".
util::Result<std::vector<Field>> non_empty_list(const Field& field, std::string_view what) {
  auto items = field.as_list();
  if (!items) {
    return fail(items.error());
  }
  if (items->empty()) {
    return fail(field.error(fmt::format("must list at least one {}", what)));
  }
  return items;
}

}  // namespace

util::Result<std::vector<std::string>> read_http_urls(const Field& field, std::string_view what) {
  auto items = non_empty_list(field, what);
  if (!items) {
    return fail(items.error());
  }
  std::vector<std::string> urls;
  for (const Field& item : *items) {
    auto url = item.as_string();
    if (!url) {
      return fail(url.error());
    }
    if (auto valid = check_http_url(*url); !valid) {
      return fail(item.error(valid.error()));
    }
    urls.push_back(std::move(*url));
  }
  return urls;
}

namespace {

util::Result<void> load_urls(const Section& section, CacheSpec& cache) {
  auto field = section.require("urls");
  if (!field) {
    return fail(field.error());
  }
  auto urls = read_http_urls(*field, "pod metrics URL, e.g. http://10.0.0.5:8000/metrics");
  if (!urls) {
    return fail(urls.error());
  }
  cache.urls = std::move(*urls);
  return {};
}

util::Result<void> load_files(const Section& section, CacheSpec& cache) {
  auto field = section.require("files");
  if (!field) {
    return fail(field.error());
  }
  auto items = non_empty_list(*field, "saved metrics file");
  if (!items) {
    return fail(items.error());
  }
  for (const Field& item : *items) {
    auto path = item.as_existing_file();
    if (!path) {
      return fail(path.error());
    }
    cache.files.push_back(std::move(*path));
  }
  return {};
}

constexpr std::pair<std::string_view, KubernetesSpec::Via> k_kube_vias[] = {
    {"proxy", KubernetesSpec::Via::proxy},
    {"exec", KubernetesSpec::Via::exec},
};

util::Result<void> load_ports(const Field& field, std::vector<std::uint16_t>& ports) {
  auto items = non_empty_list(field, "metrics port, e.g. [8200, 8001, 8000]");
  if (!items) {
    return fail(items.error());
  }
  ports.clear();
  for (const Field& item : *items) {
    auto port = item.as_unsigned(1, 65535);
    if (!port) {
      return fail(port.error());
    }
    ports.push_back(static_cast<std::uint16_t>(*port));
  }
  return {};
}

// `source: kubernetes`: every key optional (defaults in KubernetesSpec).
util::Result<void> load_kubernetes(const Section& section, CacheSpec& cache) {
  KubernetesSpec& kube = cache.kubernetes;
  LLMD_TRY(section.read("namespace", kube.namespace_name));
  LLMD_TRY(section.read("selector", kube.selector));
  LLMD_TRY(section.read("container", kube.container));
  LLMD_TRY(section.read("kubeconfig", kube.kubeconfig));
  LLMD_TRY(section.read("context", kube.context));
  LLMD_TRY(section.read("restart", kube.restart_pods));
  if (auto via = section.get("via")) {
    auto value = via->as_choice("via", k_kube_vias);
    if (!value) {
      return fail(value.error());
    }
    kube.via = *value;
  }
  if (auto ports = section.get("ports")) {
    LLMD_TRY(load_ports(*ports, kube.ports));
  }
  return {};
}

// `source: prometheus`: prometheus_url and matcher required.
util::Result<void> load_prometheus(const Section& section, CacheSpec& cache) {
  PrometheusSpec& prometheus = cache.prometheus;
  LLMD_TRY(section.read("prometheus_url", prometheus.url, Need::required));
  LLMD_TRY(section.read("matcher", prometheus.matcher, Need::required));
  LLMD_TRY(section.read("pod_label", prometheus.pod_label));
  LLMD_TRY(section.read_parsed("bearer_token_env", prometheus.bearer_token_env, checked(check_env_name)));
  LLMD_TRY(section.read("insecure", prometheus.insecure));
  if (auto ca_file = section.get("ca_file")) {
    auto path = ca_file->as_existing_file();
    if (!path) {
      return fail(path.error());
    }
    prometheus.ca_file = std::move(*path);
  }
  return section.read("scrape_interval", prometheus.scrape_interval, ZeroDuration::allowed);
}

struct CacheSourceRow {
  std::string_view name;
  CacheSpec::Source source;
  std::span<const std::string_view> keys;  // besides k_cache_common_keys; any of them present implies the row
  util::Result<void> (*load)(const Section&, CacheSpec&);
};

constexpr std::string_view k_urls_keys[] = {"urls"};
constexpr std::string_view k_files_keys[] = {"files"};

constexpr std::string_view k_kubernetes_keys[] = {"namespace", "selector", "container", "ports",
                                                  "via",       "kubeconfig", "context", "restart"};

constexpr std::string_view k_prometheus_keys[] = {"prometheus_url",   "matcher",  "pod_label", "scrape_interval",
                                                  "bearer_token_env", "insecure", "ca_file"};

constexpr std::array<CacheSourceRow, 6> k_cache_sources = {{
    {"auto", CacheSpec::Source::automatic, {}, load_nothing},
    {"none", CacheSpec::Source::none, {}, load_nothing},
    {"urls", CacheSpec::Source::urls, k_urls_keys, load_urls},
    {"files", CacheSpec::Source::files, k_files_keys, load_files},
    {"kubernetes", CacheSpec::Source::kubernetes, k_kubernetes_keys, load_kubernetes},
    {"prometheus", CacheSpec::Source::prometheus, k_prometheus_keys, load_prometheus},
}};

// `source` as written, else the first row whose own keys appear (`urls:` alone means urls), else auto.
util::Result<const CacheSourceRow*> cache_source_row(const Field& field) {
  if (auto source = field.peek("source")) {
    return source->as_row("cache source", k_cache_sources);
  }
  for (const CacheSourceRow& row : k_cache_sources) {
    for (std::string_view key : row.keys) {
      if (field.peek(key)) {
        return &row;
      }
    }
  }
  return &k_cache_sources.front();
}

}  // namespace

std::vector<CheckKind> default_checks(bool stream) {
  std::vector<CheckKind> checks = {CheckKind::status_200, CheckKind::non_empty_content};
  if (stream) {
    checks.push_back(CheckKind::sse_content_type);
  }
  return checks;
}

util::Result<void> load_checks(const Field& field, bool stream, std::vector<CheckKind>& checks,
                               std::map<CheckKind, std::string>& spellings) {
  auto items = field.as_list();
  if (!items) {
    return fail(items.error());
  }
  checks.clear();
  spellings.clear();
  for (const Field& item : *items) {
    auto name = item.as_string();
    if (!name) {
      return fail(name.error());
    }
    const auto check = find_check(*name);
    if (!check) {
      return fail(item.error(fmt::format("unknown check \"{}\"; expected one of status-200, non-empty-content, "
                                         "sse-content-type (or status_200, non_empty_content, sse_content_type)",
                                         *name)));
    }
    if (std::find(checks.begin(), checks.end(), *check) != checks.end()) {
      return fail(item.error(fmt::format("check \"{}\" is listed twice", *name)));
    }
    if (*check == CheckKind::sse_content_type && !stream) {
      return fail(item.error(fmt::format("{} needs requests.stream: true (a non-streaming answer is plain JSON)", *name)));
    }
    checks.push_back(*check);
    spellings[*check] = *name;
  }
  return {};
}

util::Result<std::vector<Threshold>> load_thresholds(const Field& field) {
  auto section = Section::open_any(field);
  if (!section) {
    return fail(section.error());
  }
  std::vector<Threshold> thresholds;
  for (const auto& [key, value] : section->entries()) {
    if (value.is_null()) {
      return fail(value.error("expected a list of expressions, e.g. [\"p(95)<2s\"]"));
    }
    LLMD_TRY(load_threshold_list(key, value, thresholds));
  }
  return thresholds;
}

util::Result<void> load_cache(const Field& field, CacheSpec& cache) {
  if (!field.node().IsMap()) {
    return fail(field.error("expected a mapping, got " + field.describe()));
  }
  auto row = cache_source_row(field);
  if (!row) {
    return fail(row.error());
  }
  std::vector<std::string_view> keys(k_cache_common_keys.begin(), k_cache_common_keys.end());
  keys.insert(keys.end(), (*row)->keys.begin(), (*row)->keys.end());
  auto section = Section::open(field, keys, fmt::format("for cache source {}", (*row)->name));
  if (!section) {
    return fail(section.error());
  }
  cache.source = (*row)->source;
  cache.where = field.where();
  LLMD_TRY(section->read("model_filter", cache.model_filter));
  LLMD_TRY(section->read("scrape_timeout", cache.scrape_timeout, ZeroDuration::rejected));
  LLMD_TRY(section->read_unsigned("max_parallel_scrapes", cache.max_parallel_scrapes, 1, limits::k_max_parallel_scrapes));
  LLMD_TRY(section->read_unsigned("allow_missing_pods", cache.allow_missing_pods, 0, limits::k_max_allow_missing_pods));
  if (section->has("interval")) {
    std::chrono::nanoseconds interval{};
    LLMD_TRY(section->read("interval", interval, ZeroDuration::rejected, yaml::Need::optional, std::chrono::hours(1)));
    if (interval < limits::k_min_cache_interval) {
      return fail(section->get("interval")->error(fmt::format(
          "must be >= {} (every pod is scraped this often during the loop)", util::format_duration(limits::k_min_cache_interval))));
    }
    cache.interval = interval;
  }
  return (*row)->load(*section, cache);
}

}  // namespace llmd::scenario::detail

namespace llmd::scenario {

std::string_view canonical_name(CheckKind check) {
  for (const auto& row : detail::k_checks) {
    if (row.kind == check) {
      return row.canonical;
    }
  }
  return "?";
}

std::optional<CheckKind> find_check(std::string_view name) {
  for (const auto& row : detail::k_checks) {
    if (name == row.name || name == row.canonical) {
      return row.kind;
    }
  }
  return std::nullopt;
}

std::string check_name(const Scenario& scenario, CheckKind check) {
  const auto spelled = scenario.check_spellings.find(check);
  return spelled != scenario.check_spellings.end() ? spelled->second : std::string(canonical_name(check));
}

}  // namespace llmd::scenario
