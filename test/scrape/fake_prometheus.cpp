#include "scrape/fake_prometheus.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/url_codec.hpp"

namespace llmd::scrape::testing {

namespace {

using Json = nlohmann::json;

constexpr std::string_view k_query = "/api/v1/query?query=";
constexpr std::string_view k_targets = "/api/v1/targets/metadata?metric=";
constexpr std::string_view k_metadata = "/api/v1/metadata?metric=";

// Prometheus prints timestamps as seconds with millisecond decimals: 1732364785.5.
Json point_json(const FakePoint& point) {
  return Json::array({static_cast<double>(point.unix_ms) / 1000.0, point.value});
}

Json metric_json(const FakeSeries& series) {
  Json metric = {{"__name__", series.name}};
  for (const auto& [name, value] : series.labels) {
    metric[name] = value;
  }
  return metric;
}

std::string success(const std::string& result_type, Json result) {
  return Json{{"status", "success"}, {"data", {{"resultType", result_type}, {"result", std::move(result)}}}}.dump();
}

CannedResponse not_found() { return {404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n", {}, {}}; }

}  // namespace

CannedResponse api_json(std::string body, int status, std::string reason) {
  return {status, std::move(reason), "application/json", std::move(body), {}, {}};
}

FakePrometheus::FakePrometheus(FakePrometheusScript script)
    : m_script(std::move(script)),
      m_server(std::make_unique<HttpTestServer>([this](const std::string& target) { return answer(target); })) {}

std::vector<std::string> FakePrometheus::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::size_t FakePrometheus::range_polls() const {
  std::lock_guard lock(m_mutex);
  return m_range_polls;
}

CannedResponse FakePrometheus::answer(const std::string& raw_target) {
  const std::string target = test::url_decode(raw_target);
  std::lock_guard lock(m_mutex);
  m_requests.push_back(target);
  if (target.starts_with(k_query)) {
    return query(target.substr(k_query.size()));
  }
  if (target.starts_with(k_targets)) {
    if (m_script.target_metadata_missing) {
      return not_found();
    }
    const auto it = m_script.target_metadata.find(target.substr(k_targets.size()));
    return api_json(R"({"status":"success","data":)" + (it == m_script.target_metadata.end() ? "[]" : it->second) +
                    "}");
  }
  if (target.starts_with(k_metadata)) {
    const std::string metric = target.substr(k_metadata.size());
    const auto it = m_script.metadata.find(metric);
    const std::string data = it == m_script.metadata.end() ? "{}" : Json{{metric, Json::parse(it->second)}}.dump();
    return api_json(R"({"status":"success","data":)" + data + "}");
  }
  return not_found();
}

CannedResponse FakePrometheus::query(const std::string& promql) {
  if (promql == "time()") {
    if (m_script.time_answer) {
      return *m_script.time_answer;
    }
    const FakePoint now{m_script.marker_ms, fmt::format("{:.3f}", static_cast<double>(m_script.marker_ms) / 1000.0)};
    return api_json(success("scalar", point_json(now)));
  }
  if (promql == m_script.promql) {
    if (m_script.instant_answer) {
      return *m_script.instant_answer;
    }
    Json result = Json::array();
    for (const FakeSeries& series : m_script.series) {
      const FakePoint* newest = nullptr;
      for (const FakePoint& point : series.points) {
        newest = point.visible_from_poll <= m_range_polls ? &point : newest;
      }
      if (newest != nullptr) {
        result.push_back({{"metric", metric_json(series)}, {"value", point_json(*newest)}});
      }
    }
    return api_json(success("vector", std::move(result)));
  }
  if (promql.starts_with(m_script.promql + "[") && promql.ends_with("ms]")) {
    Json result = Json::array();
    for (const FakeSeries& series : m_script.series) {
      Json values = Json::array();
      for (const FakePoint& point : series.points) {
        if (point.visible_from_poll <= m_range_polls) {
          values.push_back(point_json(point));
        }
      }
      if (!values.empty()) {
        result.push_back({{"metric", metric_json(series)}, {"values", std::move(values)}});
      }
    }
    ++m_range_polls;
    return api_json(success("matrix", std::move(result)));
  }
  return api_json(R"({"status":"error","errorType":"bad_data","error":"unexpected query in the fake"})", 400,
                  "Bad Request");
}

}  // namespace llmd::scrape::testing
