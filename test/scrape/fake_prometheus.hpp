#pragma once
// A scripted stand-in for the Prometheus HTTP API on 127.0.0.1 (HttpTestServer), for unit tests of
// PrometheusSource that need exact timestamps, lagging pods and metadata on demand. The real
// Prometheus is exercised by prometheus_real_test.cpp and test/integration; this one answers:
//   /api/v1/query?query=time()             the marker (scalar), unless time_answer replaces it
//   /api/v1/query?query=<promql>           every series' newest point visible now (vector), unless
//                                          instant_answer replaces it
//   /api/v1/query?query=<promql>[Nms]      every point visible at this poll (matrix); poll k (0-based)
//                                          sees the points whose visible_from_poll <= k
//   /api/v1/targets/metadata?metric=M      target_metadata[M] (JSON array), else []; or 404 when
//                                          target_metadata_missing (Thanos has no such endpoint)
//   /api/v1/metadata?metric=M              {"M": metadata[M]} (JSON array), else {}
// Anything else: 404. Requests are recorded decoded (path and query as the source meant them; the
// source encodes '+' as %2B, so support/url_codec's form decoding reads them right).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "scrape/http_test_server.hpp"

namespace llmd::scrape::testing {

struct FakePoint {
  std::int64_t unix_ms = 0;
  std::string value;
  std::size_t visible_from_poll = 0;  // ingested before the range query of this index (0: from the start)
};

struct FakeSeries {
  std::string name;
  std::map<std::string, std::string> labels;  // without __name__
  std::vector<FakePoint> points;              // oldest first
};

struct FakePrometheusScript {
  std::string promql;          // the selector the source sends (PrometheusSource::promql())
  std::int64_t marker_ms = 0;  // what time() answers
  std::vector<FakeSeries> series;
  std::optional<CannedResponse> time_answer;
  std::optional<CannedResponse> instant_answer;
  std::map<std::string, std::string> target_metadata;  // metric -> JSON array of {"target":{..},"type","help","unit"}
  bool target_metadata_missing = false;
  std::map<std::string, std::string> metadata;  // metric -> JSON array of {"type","help","unit"}
};

class FakePrometheus {
 public:
  explicit FakePrometheus(FakePrometheusScript script);

  std::string url() const { return m_server->url(""); }
  // Decoded request targets so far, e.g. "/api/v1/query?query=time()".
  std::vector<std::string> requests() const;
  // Raw request heads (request line and headers).
  std::vector<std::string> request_heads() const { return m_server->requests(); }
  std::size_t range_polls() const;

 private:
  CannedResponse answer(const std::string& target);
  CannedResponse query(const std::string& promql);

  FakePrometheusScript m_script;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_requests;
  std::size_t m_range_polls = 0;
  std::unique_ptr<HttpTestServer> m_server;  // last: stopped first
};

// A JSON API answer with status 200.
CannedResponse api_json(std::string body, int status = 200, std::string reason = "OK");

}  // namespace llmd::scrape::testing
