#include "scrape/prometheus_source.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "prom/text_writer.hpp"
#include "scrape/http_get.hpp"

namespace llmd::scrape {

namespace {

using Json = nlohmann::json;
using Labels = std::map<std::string, std::string>;  // sorted by name: a stable exposition order

constexpr std::string_view k_query_path = "/api/v1/query";
constexpr std::string_view k_help = "read from the Prometheus query API (which carries no HELP text)";
// Labels Prometheus (or kube-prometheus, Thanos) adds per scrape target: two series of one pod that
// differ only in these are the same counter scraped twice.
constexpr std::array<std::string_view, 6> k_target_labels = {"job",     "instance",   "endpoint",
                                                             "service", "prometheus", "prometheus_replica"};

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

bool is_label_name(std::string_view name) {
  auto word = [](char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0; };
  return !name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) == 0 &&
         std::all_of(name.begin(), name.end(), word);
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

// ---- HTTP ----

// One GET of `url` into `http` (Accept JSON, the bearer token if any); CURLE_OUT_OF_MEMORY when libcurl
// could not create the handle.
CURLcode http_get(HttpGet& http, const std::string& url, const PrometheusSourceOptions& options) {
  std::vector<std::string> header_lines = {"Accept: application/json"};
  if (!options.bearer_token.empty()) {
    header_lines.push_back("Authorization: Bearer " + options.bearer_token);
  }
  if (!http.configure(url, header_lines, options.timeout)) {
    return CURLE_OUT_OF_MEMORY;
  }
  const CURLcode code = curl_easy_perform(http.easy.get());
  http.finish();
  return code;
}

std::string transport_error(CURLcode code, const HttpGet& http, const PrometheusSourceOptions& options) {
  const std::string detail = http.describe_error(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format("cannot connect ({}): check the Prometheus URL and that it is reachable from here "
                         "(e.g. kubectl port-forward svc/prometheus 9090)",
                         detail);
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("no complete answer within {} (timeout): raise the timeout or narrow the matcher",
                         seconds_text(options.timeout));
    case CURLE_WRITE_ERROR:
      if (http.body_too_large) {
        return fmt::format("answer larger than {} bytes: narrow the matcher", options.max_body_bytes);
      }
      return fmt::format("curl error: {}", detail);
    default: return fmt::format("curl error: {}", detail);
  }
}

// The string member `key` of `object` ("" when absent or not a string; never throws).
std::string string_field(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) {
    return {};
  }
  return object[key].get<std::string>();
}

// The cause of a non-success answer: Prometheus' own error when the body is its JSON error object.
std::string api_error(const HttpGet& answer, const Json& body, const PrometheusSourceOptions& options) {
  if (string_field(body, "status") == "error") {
    return fmt::format("query failed (HTTP {}, errorType \"{}\"): \"{}\"; check the matcher {}", answer.status,
                       string_field(body, "errorType"), string_field(body, "error"), options.matcher);
  }
  if (answer.status == 401 || answer.status == 403) {
    return fmt::format("HTTP {}: {}", answer.status,
                       options.bearer_token.empty() ? "the server wants credentials: pass a bearer token"
                                                    : "the bearer token was refused");
  }
  if (answer.status != 200) {
    return fmt::format("HTTP {}: is this the Prometheus URL (the API lives under /api/v1)?", answer.status);
  }
  return fmt::format("answer is not Prometheus API JSON (Content-Type \"{}\"): is this the Prometheus URL?",
                     answer.content_type);
}

// ---- API result -> samples ----

struct ApiSample {
  std::string name;
  Labels labels;  // without __name__
  double value = 0;
};

std::optional<double> parse_value(const std::string& text) {
  if (text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (text == "+Inf" || text == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

struct QueryResult {
  std::vector<ApiSample> samples;
  std::chrono::system_clock::time_point evaluated_at;  // the query's evaluation time
};

std::chrono::system_clock::time_point unix_time(double seconds) {
  const std::chrono::duration<double> since_epoch(seconds);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

// One entry of a vector result: {"metric":{"__name__":...,labels...},"value":[unix_seconds,"value"]}.
std::optional<ApiSample> read_entry(const Json& entry, std::chrono::system_clock::time_point& evaluated_at) {
  if (!entry.is_object() || !entry.contains("metric") || !entry["metric"].is_object() || !entry.contains("value")) {
    return std::nullopt;
  }
  const Json& value = entry["value"];
  if (!value.is_array() || value.size() != 2 || !value[0].is_number() || !value[1].is_string()) {
    return std::nullopt;
  }
  ApiSample sample;
  for (const auto& [name, label] : entry["metric"].items()) {
    const std::string text = label.is_string() ? label.get<std::string>() : label.dump();
    if (name == "__name__") {
      sample.name = text;
    } else {
      sample.labels[name] = text;
    }
  }
  const auto parsed = parse_value(value[1].get<std::string>());
  if (!parsed || sample.name.empty()) {
    return std::nullopt;
  }
  sample.value = *parsed;
  evaluated_at = unix_time(value[0].get<double>());
  return sample;
}

util::Result<QueryResult> read_vector(const Json& body) {
  const Json* data = body.contains("data") ? &body["data"] : nullptr;
  if (data == nullptr || !data->is_object() || string_field(*data, "resultType") != "vector" ||
      !data->contains("result") || !(*data)["result"].is_array()) {
    return util::fail(fmt::format("expected data.resultType \"vector\" with a result array, got {:.200}",
                                  data == nullptr ? body.dump() : data->dump()));
  }
  QueryResult result;
  for (const Json& entry : (*data)["result"]) {
    auto sample = read_entry(entry, result.evaluated_at);
    if (!sample) {
      return util::fail(fmt::format("unexpected result entry {:.200}", entry.dump()));
    }
    result.samples.push_back(std::move(*sample));
  }
  return result;
}

// ---- samples -> text ----

std::string_view type_of(std::string_view name) {
  std::string_view bare = name;
  for (std::string_view ns : k_metric_namespaces) {
    if (name.starts_with(ns)) {
      bare = name.substr(ns.size());
    }
  }
  for (const MetricNameRow& row : metric_name_rows()) {
    if (row.name == bare) {
      return row.role == MetricRole::hit_rate_gauge || row.role == MetricRole::cache_config ? "gauge" : "counter";
    }
  }
  return "gauge";  // the `_created` timestamps
}

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", name, prom::escape_label_value(value));
  }
  return out;
}

// The exposition of one pod's samples, or why it would count a series twice.
util::Result<std::string> synthesize(std::vector<const ApiSample*> samples) {
  std::sort(samples.begin(), samples.end(), [](const ApiSample* a, const ApiSample* b) {
    return std::tie(a->name, a->labels) < std::tie(b->name, b->labels);
  });
  std::map<std::pair<std::string, Labels>, const ApiSample*> identities;
  std::string text;
  std::string_view family;
  for (const ApiSample* sample : samples) {
    Labels identity = sample->labels;
    for (std::string_view target : k_target_labels) {
      identity.erase(std::string(target));
    }
    const auto [it, fresh] = identities.emplace(std::make_pair(sample->name, identity), sample);
    if (!fresh) {
      return util::fail(fmt::format("series {}{{{}}} comes from two scrape targets ({{{}}} and {{{}}}): add a "
                                    "target label such as job=\"...\" to the matcher so each series counts once",
                                    sample->name, render_labels(identity), render_labels(it->second->labels),
                                    render_labels(sample->labels)));
    }
    if (sample->name != family) {
      family = sample->name;
      prom::append_header(text, family, type_of(family), k_help);
    }
    prom::LabelPairs labels(sample->labels.begin(), sample->labels.end());
    prom::append_sample(text, sample->name, labels, sample->value);
  }
  return text;
}

std::string labels_seen(const std::vector<ApiSample>& samples) {
  std::set<std::string> names;
  for (const ApiSample& sample : samples) {
    for (const auto& entry : sample.labels) {
      names.insert(entry.first);
    }
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

// The query's samples, or the cause (without the "Prometheus URL: " prefix) when it failed.
util::Result<QueryResult> run_query(const std::string& url, const PrometheusSourceOptions& options,
                                    std::chrono::microseconds& duration) {
  HttpGet answer(options.max_body_bytes);
  const CURLcode code = http_get(answer, url, options);
  duration = answer.duration;
  if (code != CURLE_OK) {
    return util::fail(transport_error(code, answer, options));
  }
  const Json body = Json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || body.is_discarded() || string_field(body, "status") != "success") {
    return util::fail(api_error(answer, body, options));
  }
  auto result = read_vector(body);
  if (!result) {
    return util::fail("unexpected answer: " + result.error());
  }
  return result;
}

}  // namespace

std::string cache_counters_promql(std::string_view matcher) {
  std::vector<std::string> names;
  for (const MetricNameRow& row : metric_name_rows()) {
    names.emplace_back(row.name);
    if (constexpr std::string_view total = "_total"; row.role == MetricRole::queries && row.name.ends_with(total)) {
      names.push_back(std::string(row.name.substr(0, row.name.size() - total.size())) + "_created");
    }
  }
  const std::string selector = fmt::format("__name__=~\"({})({})\"", fmt::join(k_metric_namespaces, "|"),
                                           fmt::join(names, "|"));
  return matcher.empty() ? "{" + selector + "}" : fmt::format("{{{},{}}}", selector, matcher);
}

util::Result<PrometheusSource> PrometheusSource::create(PrometheusSourceOptions options) {
  const std::string given_url = options.base_url;
  options.base_url = trim(options.base_url);
  while (options.base_url.ends_with('/')) {
    options.base_url.pop_back();
  }
  if (!options.base_url.starts_with("http://") && !options.base_url.starts_with("https://")) {
    return util::fail(fmt::format("Prometheus URL \"{}\" must start with http:// or https://, e.g. "
                                  "http://prometheus:9090",
                                  given_url));
  }
  options.bearer_token = trim(options.bearer_token);  // token files usually end in a newline
  if (options.bearer_token.find_first_of("\r\n") != std::string::npos) {
    return util::fail("Prometheus bearer token contains a line break: pass the token alone (not printed here)");
  }
  options.matcher = trim(options.matcher);
  if (options.matcher.starts_with('{') && options.matcher.ends_with('}')) {
    options.matcher = trim(std::string_view(options.matcher).substr(1, options.matcher.size() - 2));
  }
  if (options.matcher.find("__name__") != std::string::npos) {
    return util::fail(fmt::format("Prometheus matcher \"{}\" must not select __name__: the vLLM metric names are "
                                  "chosen by llmd-bench; select the pods only, e.g. "
                                  "namespace=\"llm-d\",pod=~\"decode-.*\"",
                                  options.matcher));
  }
  if (!is_label_name(options.pod_label)) {
    return util::fail(fmt::format("Prometheus pod label \"{}\" is not a label name (letters, digits, '_'; "
                                  "e.g. pod)",
                                  options.pod_label));
  }
  if (options.timeout.count() <= 0) {
    return util::fail(fmt::format("Prometheus query timeout must be positive, got {} ms", options.timeout.count()));
  }
  if (options.scrape_interval.count() < 0) {
    return util::fail(fmt::format("Prometheus scrape interval must not be negative, got {} s",
                                  options.scrape_interval.count()));
  }
  return PrometheusSource(std::move(options));
}

PrometheusSource::PrometheusSource(PrometheusSourceOptions options)
    : m_options(std::move(options)), m_promql(cache_counters_promql(m_options.matcher)) {
  init_curl_once();
}

std::string PrometheusSource::query_url() const {
  return fmt::format("{}{}?query={}", m_options.base_url, k_query_path, percent_encode(m_promql));
}

std::string PrometheusSource::describe() const {
  return fmt::format("Prometheus {} instant query of {{{}}} by label \"{}\" (timeout {}{}; counters lag the pods by "
                     "up to one scrape interval, {} s)",
                     m_options.base_url, m_options.matcher, m_options.pod_label, seconds_text(m_options.timeout),
                     m_options.bearer_token.empty() ? "" : ", bearer token", m_options.scrape_interval.count());
}

std::string PrometheusSource::caveats() const {
  return fmt::format(
      "counters read through Prometheus ({}) are those of its last scrape, up to one scrape interval old: the "
      "after-snapshot waits {} s after the load so its last requests are counted (set the scrape interval to "
      "Prometheus' own for these pods if it is longer); Prometheus' query API has no HELP text, so the "
      "vllm:gpu_prefix_cache_* counters of vLLM V1 <= 0.8.5, which count blocks, are read as tokens",
      m_options.base_url, m_options.scrape_interval.count());
}

std::vector<PodScrape> PrometheusSource::scrape_all() {
  const std::string source = m_options.base_url + std::string(k_query_path);
  std::chrono::microseconds duration{0};
  auto result = run_query(query_url(), m_options, duration);
  if (result && result->samples.empty()) {
    result = util::fail(fmt::format("no series matched {}: check the matcher {{{}}} in the Prometheus UI (e.g. "
                                    "vllm:prefix_cache_queries_total{{{}}}); are the pods scraped, and under "
                                    "these label names?",
                                    m_promql, m_options.matcher, m_options.matcher));
  }
  std::map<std::string, std::vector<const ApiSample*>> by_pod;
  if (result) {
    for (const ApiSample& sample : result->samples) {
      if (const auto it = sample.labels.find(m_options.pod_label); it != sample.labels.end()) {
        by_pod[it->second].push_back(&sample);
      }
    }
    if (by_pod.empty()) {
      result = util::fail(fmt::format("{} series matched but none has the pod label \"{}\" (labels seen: {}): set "
                                      "the pod label to the one naming the pod",
                                      result->samples.size(), m_options.pod_label, labels_seen(result->samples)));
    }
  }
  if (!result) {
    return {PodScrape{"{" + m_options.matcher + "}", source,
                      util::fail(fmt::format("Prometheus {}: {}", m_options.base_url, result.error())), duration,
                      std::chrono::system_clock::now()}};
  }
  std::vector<PodScrape> scrapes;
  for (auto& [pod, samples] : by_pod) {
    auto text = synthesize(samples);
    if (!text) {
      text = util::fail(fmt::format("pod {} (Prometheus {}): {}", pod, m_options.base_url, text.error()));
    }
    scrapes.push_back(PodScrape{pod, source, std::move(text), duration, result->evaluated_at});
  }
  return scrapes;
}

}  // namespace llmd::scrape
