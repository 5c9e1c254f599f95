#include "scrape/prometheus_api.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "prom/text_parser.hpp"
#include "scrape/http_get.hpp"
#include "util/json_text.hpp"

namespace llmd::scrape::prometheus {

namespace {

using Json = nlohmann::json;

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

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
  if (options.insecure) {
    curl_easy_setopt(http.easy.get(), CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(http.easy.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options.ca_file.empty()) {
    curl_easy_setopt(http.easy.get(), CURLOPT_CAINFO, options.ca_file.c_str());
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
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return fmt::format("TLS: {}: give the CA that signed the server's certificate with cache.ca_file (OpenShift "
                         "in a pod: /var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt), or cache.insecure: "
                         "true to skip verification",
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
// `what` names the request ("query", "metadata request").
std::string api_error(std::string_view what, long http_status, std::string_view content_type, const Json& body,
                      const PrometheusSourceOptions& options) {
  if (string_field(body, "status") == "error") {
    const std::string hint = what == "query" ? "; check the matcher " + options.matcher : "";
    return fmt::format("{} failed (HTTP {}, errorType \"{}\"): \"{}\"{}", what, http_status,
                       string_field(body, "errorType"), string_field(body, "error"), hint);
  }
  if (http_status == 401 || http_status == 403) {
    return fmt::format("HTTP {}: {}", http_status,
                       options.bearer_token.empty()
                           ? "the server wants credentials: set cache.bearer_token_env (or --prometheus-token-env) to "
                             "the environment variable holding a bearer token (OpenShift thanos-querier: a "
                             "ServiceAccount token with the cluster-monitoring-view role)"
                           : "the bearer token was refused (wrong or expired token, or one without access to the "
                             "metrics; the token is not shown)");
  }
  if (http_status != 200) {
    return fmt::format("HTTP {}: is this the Prometheus URL (the API lives under /api/v1)?", http_status);
  }
  return fmt::format("answer is not Prometheus API JSON (Content-Type \"{}\"): is this the Prometheus URL?",
                     content_type);
}

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

// [unix_seconds, "value"] (Prometheus prints timestamps in seconds with millisecond decimals), the
// time within k_max_unix_seconds of the epoch.
std::optional<Point> read_point(const Json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return std::nullopt;
  }
  const auto value = parse_value(pair[1].get<std::string>());
  const double unix_seconds = pair[0].get<double>();
  if (!value || !(std::fabs(unix_seconds) <= k_max_unix_seconds)) {
    return std::nullopt;
  }
  return Point{std::llround(unix_seconds * 1000.0), *value};
}

// A label name in the text format's syntax: every other character becomes '_', and a leading digit
// gets a '_' before it.
std::string underscore_escaped(std::string_view name) {
  std::string out;
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    out += '_';
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

// One entry of a vector or matrix result: {"metric":{"__name__":...,labels...},"value":[t,"v"]} or
// {"metric":{...},"values":[[t,"v"],...]}.
std::optional<Series> read_series(const Json& entry, ResultType type) {
  const char* key = type == ResultType::vector ? "value" : "values";
  if (!entry.is_object() || !entry.contains("metric") || !entry["metric"].is_object() || !entry.contains(key)) {
    return std::nullopt;
  }
  Series series;
  for (const auto& [name, label] : entry["metric"].items()) {
    const std::string text = label.is_string() ? label.get<std::string>() : label.dump();
    if (name == "__name__") {
      series.name = text;
    } else if (!series.labels.emplace(prom::is_label_name(name) ? name : underscore_escaped(name), text).second) {
      // Prometheus 3 allows any UTF-8 label name ("app.kubernetes.io/name"); the text format the
      // snapshot is rebuilt in does not. Escaped as Prometheus' "underscores" scheme does; two
      // labels that become one make the entry unexpected.
      return std::nullopt;
    }
  }
  if (!prom::is_metric_name(series.name)) {
    return std::nullopt;  // every series of a raw selector has a name in the text format's syntax
  }
  if (type == ResultType::vector) {
    auto point = read_point(entry[key]);
    if (!point) {
      return std::nullopt;
    }
    series.points.push_back(*point);
  } else if (entry[key].is_array()) {
    for (const Json& pair : entry[key]) {
      auto point = read_point(pair);
      if (!point) {
        return std::nullopt;
      }
      series.points.push_back(*point);
    }
  } else {
    return std::nullopt;
  }
  return series;
}

std::string_view type_name(ResultType type) {
  switch (type) {
    case ResultType::scalar: return "scalar";
    case ResultType::vector: return "vector";
    case ResultType::matrix: return "matrix";
  }
  return "vector";
}

}  // namespace

util::Result<std::vector<Series>> read_query_result(const Json& data, ResultType type) {
  const std::string_view expected = type_name(type);
  const bool shaped = data.is_object() && string_field(data, "resultType") == expected && data.contains("result") &&
                      (type == ResultType::scalar || data["result"].is_array());
  if (!shaped) {
    return util::fail(fmt::format("expected data.resultType \"{}\" with a result{}, got {:.200}", expected,
                                  type == ResultType::scalar ? "" : " array", data.dump()));
  }
  std::vector<Series> result;
  if (type == ResultType::scalar) {
    auto point = read_point(data["result"]);
    if (!point) {
      return util::fail(fmt::format("unexpected scalar {:.200}", data["result"].dump()));
    }
    result.push_back(Series{{}, {}, {*point}});
    return result;
  }
  for (const Json& entry : data["result"]) {
    auto series = read_series(entry, type);
    if (!series) {
      return util::fail(fmt::format("unexpected result entry {:.200}", entry.dump()));
    }
    result.push_back(std::move(*series));
  }
  return result;
}

namespace {

MetadataEntry read_metadata(const Json& entry) {
  MetadataEntry out;
  if (entry.contains("target") && entry["target"].is_object()) {
    for (const auto& [name, value] : entry["target"].items()) {
      out.target[name] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  out.type = string_field(entry, "type");
  out.help = string_field(entry, "help");
  return out;
}

}  // namespace

struct Api::Answer {
  Json data;  // the answer's "data" member
};

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

std::string format_utc(std::int64_t unix_ms) {
  // Floor division without overflow at the int64 extremes: seconds and a millisecond part 0..999.
  const std::int64_t ms = (unix_ms % 1000 + 1000) % 1000;
  const auto seconds = static_cast<std::time_t>(unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0));
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

std::string Api::url(std::string_view path, std::string_view name, std::string_view value) const {
  return fmt::format("{}{}?{}={}", m_options.base_url, path, name, percent_encode(value));
}

util::Result<Api::Answer> Api::get(std::string_view what, std::string_view path, std::string_view name,
                                   std::string_view value) {
  HttpGet answer(m_options.max_body_bytes);
  const CURLcode code = http_get(answer, url(path, name, value), m_options);
  m_transfer_time += answer.duration;
  if (code != CURLE_OK) {
    return util::fail(transport_error(code, answer, m_options));
  }
  auto data = answer_data(what, answer.status, answer.content_type, answer.body, m_options);
  if (!data) {
    return util::fail(data.error());
  }
  return Answer{std::move(*data)};
}

util::Result<Json> answer_data(std::string_view what, long http_status, std::string_view content_type,
                               std::string_view body_text, const PrometheusSourceOptions& options) {
  auto parsed = util::parse_json_bounded(body_text);
  if (!parsed && !parsed.error().starts_with("is not JSON")) {
    return util::fail(fmt::format("the answer to {} {}: narrow the matcher", what, parsed.error()));
  }
  Json body = parsed ? std::move(*parsed) : Json(Json::value_t::discarded);
  if (http_status != 200 || body.is_discarded() || string_field(body, "status") != "success") {
    return util::fail(api_error(what, http_status, content_type, body, options));
  }
  return body.contains("data") ? std::move(body["data"]) : Json();
}

util::Result<std::vector<Series>> Api::query(const std::string& promql, ResultType expected) {
  auto answer = get("query", k_query_path, "query", promql);
  if (!answer) {
    return util::fail(answer.error());
  }
  auto result = read_query_result(answer->data, expected);
  if (!result) {
    return util::fail("unexpected answer: " + result.error());
  }
  return result;
}

util::Result<std::vector<MetadataEntry>> Api::target_metadata(const std::string& metric) {
  return metadata(k_target_metadata_path, metric);
}

util::Result<std::vector<MetadataEntry>> Api::metric_metadata(const std::string& metric) {
  return metadata(k_metadata_path, metric);
}

util::Result<std::vector<MetadataEntry>> Api::metadata(std::string_view path, const std::string& metric) {
  auto answer = get("metadata request", path, "metric", metric);
  if (!answer) {
    return util::fail(answer.error());
  }
  return read_metadata_answer(answer->data, path == k_target_metadata_path, metric);
}

util::Result<std::vector<MetadataEntry>> read_metadata_answer(const Json& data, bool per_target, const std::string& metric) {
  // targets/metadata: [entry, ...]; metadata: {"<metric>": [entry, ...]} ({} when unknown).
  if (per_target ? !data.is_array() : !data.is_object()) {
    return util::fail(fmt::format("unexpected answer from {}: {:.200}", per_target ? k_target_metadata_path : k_metadata_path,
                                  data.dump()));
  }
  std::vector<MetadataEntry> entries;
  const Json* list = per_target ? &data : (data.contains(metric) ? &data[metric] : nullptr);
  if (list != nullptr && list->is_array()) {
    for (const Json& entry : *list) {
      entries.push_back(read_metadata(entry));
    }
  }
  return entries;
}

}  // namespace llmd::scrape::prometheus
