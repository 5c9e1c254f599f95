// The pure readers of Prometheus' API answers (lib/scrape/prometheus_api): answer_data,
// read_query_result, read_metadata_answer. PrometheusSource's tests (prometheus_source_test,
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

// An answer nested deeper than 128 levels is refused before it is parsed: its "data" would be
// dumped into the error message (nlohmann's dump() recurses once a level).
TEST(PrometheusApi, RefusesAnswersNestedDeeperThan128Levels) {
  const PrometheusSourceOptions options;
  const std::string deep = R"({"status":"success","data":)" + std::string(200, '[') + std::string(200, ']') + "}";
  auto data = answer_data("query", 200, "application/json", deep, options);
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error(), "answer is JSON nested deeper than 128 levels (HTTP 200): is this the Prometheus URL?");
}

}  // namespace
}  // namespace llmd::scrape::prometheus
