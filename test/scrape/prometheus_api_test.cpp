// The pure readers of Prometheus' API answers (lib/scrape/prometheus_api): answer_data,
// read_query_result, read_metadata_answer, format_utc. PrometheusSource's tests (prometheus_source_test,
// prometheus_freshness_test) go through them over HTTP; these pin what a hostile answer gets.
#include "scrape/prometheus_api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace llmd::scrape::prometheus {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;

util::Result<std::vector<Series>> query_answer(const std::string& body, ResultType type) {
  const PrometheusSourceOptions options;
  auto data = answer_data("query", 200, "application/json", body, options);
  if (!data) {
    return util::fail(data.error());
  }
  return read_query_result(*data, type);
}

std::string matrix_with_time(const std::string& time) {
  return R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"x","pod":"p"},"values":[[)" +
         time + R"(,"1"]]}]}})";
}

TEST(PrometheusApi, ReadsAMatrixAnswer) {
  auto series = query_answer(matrix_with_time("1700000000.123"), ResultType::matrix);
  ASSERT_TRUE(series.has_value()) << series.error();
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].name, "x");
  EXPECT_EQ((*series)[0].labels, (Labels{{"pod", "p"}}));
  ASSERT_EQ((*series)[0].points.size(), 1u);
  EXPECT_EQ((*series)[0].points[0].unix_ms, 1700000000123);
}

// Found by the prometheus_api_json fuzz target (corpus: case-huge-timestamps): a time of 1e300 or
// 2^64 became INT64_MIN milliseconds (llround out of range), which format_utc and the freshness
// arithmetic then overflowed (undefined behaviour). Such an answer is now refused.
TEST(PrometheusApi, RefusesTimesBeyondYear5138) {
  for (const char* time : {"1e300", "-1e300", "18446744073709551615", "9.3e15", "100000000001"}) {
    auto series = query_answer(matrix_with_time(time), ResultType::matrix);
    ASSERT_FALSE(series.has_value()) << time;
    EXPECT_THAT(series.error(), StartsWith("unexpected result entry {\"metric\":"));
  }
  EXPECT_TRUE(query_answer(matrix_with_time("100000000000"), ResultType::matrix).has_value());
  EXPECT_TRUE(query_answer(matrix_with_time("-100000000000"), ResultType::matrix).has_value());
}

std::string matrix_with_metric(const std::string& metric) {
  return R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)" + metric +
         R"(,"values":[[1700000000,"1"]]}]}})";
}

// Found by the prometheus_api_json fuzz target (corpus: case-series-without-name): a matrix series
// without "__name__" was taken, and the snapshot rebuilt from it was text its own parser refused
// ('invalid metric name ""'). A series needs a metric name in the text format's syntax; a label name
// outside it (Prometheus 3 allows UTF-8 names) is escaped as Prometheus' underscores scheme does.
TEST(PrometheusApi, SeriesNeedAMetricNameAndLabelNamesAreEscapedForTheTextFormat) {
  for (const char* metric : {R"({"pod":"p"})", R"({"__name__":"","pod":"p"})", R"({"__name__":"a b","pod":"p"})",
                             R"({"__name__":"1x"})"}) {
    for (const ResultType type : {ResultType::vector, ResultType::matrix}) {
      std::string body = matrix_with_metric(metric);
      if (type == ResultType::vector) {
        body = R"({"status":"success","data":{"resultType":"vector","result":[{"metric":)" + std::string(metric) +
               R"(,"value":[1700000000,"1"]}]}})";
      }
      auto series = query_answer(body, type);
      ASSERT_FALSE(series.has_value()) << metric;
      EXPECT_THAT(series.error(), StartsWith("unexpected result entry {\"metric\":")) << metric;
    }
  }
  auto series = query_answer(matrix_with_metric(R"({"__name__":"x","app.kubernetes.io/name":"vllm","0zone":"a"})"),
                             ResultType::matrix);
  ASSERT_TRUE(series.has_value()) << series.error();
  EXPECT_EQ((*series)[0].labels, (Labels{{"_0zone", "a"}, {"app_kubernetes_io_name", "vllm"}}));
  series = query_answer(matrix_with_metric(R"({"__name__":"x","a.b":"1","a_b":"2"})"), ResultType::matrix);
  EXPECT_FALSE(series.has_value());
}

// An answer nested deeper than 128 levels is refused before it is parsed: its "data" would be
// dumped into the error message (nlohmann's dump() recurses once a level).
TEST(PrometheusApi, RefusesAnswersNestedDeeperThan128Levels) {
  const PrometheusSourceOptions options;
  const std::string deep = R"({"status":"success","data":)" + std::string(200, '[') + std::string(200, ']') + "}";
  auto data = answer_data("query", 200, "application/json", deep, options);
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error(), "the answer to query is nested deeper than 128 levels: narrow the matcher");
}

TEST(PrometheusApi, FormatUtcTakesAnyInt64) {
  EXPECT_EQ(format_utc(1732366210568), "2024-11-23T12:50:10.568Z");
  EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_THAT(format_utc(std::numeric_limits<std::int64_t>::min()), testing::EndsWith(".192Z"));
  EXPECT_THAT(format_utc(std::numeric_limits<std::int64_t>::max()), testing::EndsWith(".807Z"));
}

}  // namespace
}  // namespace llmd::scrape::prometheus
