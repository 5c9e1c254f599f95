#include "prom/text_writer.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "prom/text_parser.hpp"

namespace llmd::prom {
namespace {

TEST(PromTextWriter, FormatsValuesLikePrometheusClient) {
  EXPECT_EQ(format_value(32.0), "32.0");
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(0.0), "0.0");
  EXPECT_EQ(format_value(-0.0), "-0.0");
  EXPECT_EQ(format_value(-3.0), "-3.0");
  EXPECT_EQ(format_value(10.950000000000001), "10.950000000000001");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(1.5e-05), "1.5e-05");
  EXPECT_EQ(format_value(9.75010481363281e-06), "9.75010481363281e-06");
  EXPECT_EQ(format_value(123456.0), "123456.0");
  EXPECT_EQ(format_value(1e16), "1e+16");
  EXPECT_EQ(format_value(1.5e16), "1.5e+16");
  EXPECT_EQ(format_value(1e100), "1e+100");
  EXPECT_EQ(format_value(-2.5e-300), "-2.5e-300");
}

// prometheus_client's floatToGoString writes positive values >= 1e6 Go-style, as the real
// vLLM fixtures show (process_max_fds 1.048576e+06, 1.7537953269352946e+09, ...e+010).
TEST(PromTextWriter, FormatsLargePositiveValuesGoStyle) {
  EXPECT_EQ(format_value(1e6), "1e+06");
  EXPECT_EQ(format_value(1048576.0), "1.048576e+06");
  EXPECT_EQ(format_value(1.7537953269352946e+09), "1.7537953269352946e+09");
  EXPECT_EQ(format_value(6.634254336e+09), "6.634254336e+09");
  EXPECT_EQ(format_value(1.0931263819e+10), "1.0931263819e+010");
  EXPECT_EQ(format_value(1e15), "1e+015");
  EXPECT_EQ(format_value(-1e6), "-1000000.0");  // Python keeps negative values in repr() form
}

TEST(PromTextWriter, FormatsSpecialValues) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(PromTextWriter, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("plain/model-1"), "plain/model-1");
  EXPECT_EQ(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(PromTextWriter, AppendsHeaderAndSamples) {
  std::string out;
  append_header(out, "vllm:prefix_cache_queries_total", "counter", "Prefix cache queries.\nIn tokens.");
  append_sample(out, "vllm:prefix_cache_queries_total", {{"engine", "0"}, {"model_name", "m"}}, 32.0);
  append_sample(out, "up", {}, 1.0);
  EXPECT_EQ(out,
            "# HELP vllm:prefix_cache_queries_total Prefix cache queries.\\nIn tokens.\n"
            "# TYPE vllm:prefix_cache_queries_total counter\n"
            "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m\"} 32.0\n"
            "up 1.0\n");
}

TEST(PromTextWriter, RoundTripsThroughTheParser) {
  const double values[] = {std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           1e16,
                           1.5e-05,
                           32.0,
                           1e6,
                           1.7537953269352946e+09,
                           1.0931263819e+10,
                           -1e6,
                           0.1 + 0.2,
                           5e-324,
                           std::numeric_limits<double>::max()};
  const std::string tricky = "back\\slash \"quoted\"\nnew line";
  std::string text;
  append_header(text, "m", "gauge", "Help with \\ and\nnewline.");
  for (double value : values) {
    append_sample(text, "m", {{"model_name", tricky}, {"v", format_value(value)}}, value);
  }
  const auto parsed = parse_text(text);
  ASSERT_TRUE(parsed.has_value()) << format_error(parsed.error(), "writer") << "\n" << text;
  const Family* family = parsed->family("m");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, MetricType::gauge);
  EXPECT_EQ(family->help, "Help with \\ and\nnewline.");
  ASSERT_EQ(family->samples.size(), std::size(values));
  for (std::size_t i = 0; i < std::size(values); ++i) {
    const Sample& sample = family->samples[i];
    EXPECT_EQ(*sample.label("model_name"), tricky);
    if (std::isnan(values[i])) {
      EXPECT_TRUE(std::isnan(sample.value)) << *sample.label("v");
    } else {
      EXPECT_EQ(sample.value, values[i]) << *sample.label("v");
    }
  }
}

}  // namespace
}  // namespace llmd::prom
