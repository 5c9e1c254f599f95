#pragma once
// The parts of Prometheus' HTTP API (v1) that PrometheusSource reads; internal to lib/scrape.
//
//   GET /api/v1/query?query=Q              instant query. time() gives a "scalar" (Prometheus' clock),
//                                          a selector a "vector" (one value per series, at the
//                                          evaluation time), selector[range] a "matrix" (every raw
//                                          sample of the range with the timestamp of its scrape)
//   GET /api/v1/targets/metadata?metric=M  per scrape target: {"target":{labels},"type","help","unit"}
//   GET /api/v1/metadata?metric=M          per metric name over all targets: the distinct {type, help, unit}
//
// Checked against Prometheus 2.42 (Debian 12). One libcurl GET per call (Accept JSON, the bearer
// token when given, redirects not followed). Errors are the cause in words with what to try, without
// the "Prometheus URL: " prefix (the caller adds it); no text ever contains the bearer token.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "scrape/prometheus_source.hpp"
#include "util/result.hpp"

namespace llmd::scrape::prometheus {

using Labels = std::map<std::string, std::string>;  // sorted by name: a stable exposition order

struct Point {
  std::int64_t unix_ms = 0;  // the sample's timestamp (matrix) or the evaluation time (vector, scalar)
  double value = 0;
};

// One series of a query result: vector results have one point, matrix results every raw sample in
// the range (oldest first), a scalar result one series without name or labels.
struct Series {
  std::string name;  // __name__ ("" when the result has none)
  Labels labels;     // without __name__
  std::vector<Point> points;
};

enum class ResultType { scalar, vector, matrix };

// One metadata entry. `target` is empty for /api/v1/metadata (which does not say whose it is).
struct MetadataEntry {
  Labels target;
  std::string type;
  std::string help;
};

class Api {
 public:
  explicit Api(const PrometheusSourceOptions& options) : m_options(options) {}

  // GET /api/v1/query?query=`promql`; fails unless the result has the `expected` type.
  util::Result<std::vector<Series>> query(const std::string& promql, ResultType expected);
  // GET /api/v1/targets/metadata?metric=`metric`.
  util::Result<std::vector<MetadataEntry>> target_metadata(const std::string& metric);
  // GET /api/v1/metadata?metric=`metric`.
  util::Result<std::vector<MetadataEntry>> metric_metadata(const std::string& metric);

  // base_url + path + "?" + name + "=" + percent-encoded value.
  std::string url(std::string_view path, std::string_view name, std::string_view value) const;
  // The time spent in HTTP transfers so far.
  std::chrono::microseconds transfer_time() const { return m_transfer_time; }

 private:
  struct Answer;
  // Either metadata endpoint (the path tells which).
  util::Result<std::vector<MetadataEntry>> metadata(std::string_view path, const std::string& metric);
  util::Result<Answer> get(std::string_view what, std::string_view path, std::string_view name,
                           std::string_view value);

  const PrometheusSourceOptions& m_options;
  std::chrono::microseconds m_transfer_time{0};
};

constexpr std::string_view k_query_path = "/api/v1/query";
constexpr std::string_view k_target_metadata_path = "/api/v1/targets/metadata";
constexpr std::string_view k_metadata_path = "/api/v1/metadata";

// ---- Reading answers: pure functions of the bytes, used by Api (and by tests and test/fuzz) ----

// The "data" member of a successful answer (HTTP 200, JSON with "status":"success"); else the cause,
// Prometheus' own error when the body is its JSON error object. `what` names the request ("query",
// "metadata request"); `options` words the hints (matcher, whether a bearer token was sent).
util::Result<nlohmann::json> answer_data(std::string_view what, long http_status, std::string_view content_type,
                                         std::string_view body, const PrometheusSourceOptions& options);

// The series of a query answer's data, which must have the `expected` resultType. Every time must
// lie within k_max_unix_seconds of the epoch: PrometheusSource subtracts times from each other and
// prints them, which a timestamp such as 1e300 (or 2^64) would overflow.
util::Result<std::vector<Series>> read_query_result(const nlohmann::json& data, ResultType expected);
inline constexpr double k_max_unix_seconds = 1e11;  // ~ year 5138; +-1e14 ms, far inside int64

// The entries of a metadata answer's data: targets/metadata (`per_target`) gives an array of entries,
// metadata an object keyed by metric name (only `metric`'s entries are read; none when absent).
util::Result<std::vector<MetadataEntry>> read_metadata_answer(const nlohmann::json& data, bool per_target,
                                                              const std::string& metric);

// RFC 3986 unreserved characters kept, everything else %XX.
std::string percent_encode(std::string_view text);

// "2026-11-23T14:50:10.568Z" (any int64 is accepted; years beyond what gmtime_r can give print as
// "1900-01-00T00:00:00" plus the milliseconds).
std::string format_utc(std::int64_t unix_ms);

}  // namespace llmd::scrape::prometheus
