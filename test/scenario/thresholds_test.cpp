#include "scenario/thresholds.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace llmd::scenario {
namespace {

Threshold parse(std::string_view metric, std::string_view source) {
  auto threshold = parse_threshold(metric, source);
  EXPECT_TRUE(threshold) << (threshold ? "" : threshold.error());
  return threshold ? *threshold : Threshold{};
}

std::string parse_error(std::string_view metric, std::string_view source) {
  auto threshold = parse_threshold(metric, source);
  EXPECT_FALSE(threshold) << source;
  return threshold ? std::string() : threshold.error();
}

// Fixed values per "metric aggregation", e.g. {"ttft p(95)", 1.5}.
class FakeLookup : public MetricLookup {
 public:
  explicit FakeLookup(std::map<std::string, double> values) : m_values(std::move(values)) {}
  std::optional<double> value(std::string_view metric, const Aggregation& aggregation) const override {
    auto it = m_values.find(std::string(metric) + " " + to_string(aggregation));
    return it == m_values.end() ? std::nullopt : std::optional<double>(it->second);
  }

 private:
  std::map<std::string, double> m_values;
};

// One check's pass rate, for checks{check:NAME}.
class CheckLookup : public FakeLookup {
 public:
  CheckLookup() : FakeLookup({{"checks rate", 0.5}}) {}
  std::optional<double> check_rate(std::string_view check) const override {
    return check == "status-200" ? std::optional<double>(0.995) : std::nullopt;
  }
};

TEST(ParseThreshold, PercentileWithDurationConvertedToSeconds) {
  const Threshold t = parse("ttft", "p(95)<2s");
  EXPECT_EQ(t.metric, "ttft");
  EXPECT_EQ(t.source, "p(95)<2s");
  EXPECT_EQ(t.aggregation.kind, AggregationKind::percentile);
  EXPECT_DOUBLE_EQ(t.aggregation.percentile, 95);
  EXPECT_EQ(t.comparison, Comparison::less);
  EXPECT_DOUBLE_EQ(t.limit, 2.0);
  EXPECT_DOUBLE_EQ(parse("http_req_duration", "p(99.9) <= 150ms").limit, 0.15);
  EXPECT_DOUBLE_EQ(parse("http_req_duration", "p(99.9) <= 150ms").aggregation.percentile, 99.9);
  EXPECT_DOUBLE_EQ(parse("schedule_lag", "max<1m30s").limit, 90.0);
  EXPECT_DOUBLE_EQ(parse("itl", "med<500us").limit, 0.0005);
}

TEST(ParseThreshold, KeepsSourceTextAndCanonicalMetricName) {
  const Threshold t = parse("itl", "  avg < 50ms ");
  EXPECT_EQ(t.metric, "inter_token_latency");
  EXPECT_EQ(t.source, "  avg < 50ms ");
  EXPECT_EQ(t.aggregation.kind, AggregationKind::avg);
}

TEST(ParseThreshold, EveryOperator) {
  EXPECT_EQ(parse("tokens_per_second", "avg<30").comparison, Comparison::less);
  EXPECT_EQ(parse("tokens_per_second", "avg<=30").comparison, Comparison::less_equal);
  EXPECT_EQ(parse("tokens_per_second", "avg>30").comparison, Comparison::greater);
  EXPECT_EQ(parse("tokens_per_second", "avg>=30").comparison, Comparison::greater_equal);
  EXPECT_EQ(parse("tokens_per_second", "avg==30").comparison, Comparison::equal);
  EXPECT_EQ(parse("tokens_per_second", "avg!=30").comparison, Comparison::not_equal);
}

TEST(ParseThreshold, AggregationsByMetricKind) {
  EXPECT_EQ(parse("tokens_per_second", "min>10").aggregation.kind, AggregationKind::min);
  EXPECT_EQ(parse("output_tokens", "max<=64").aggregation.kind, AggregationKind::max);
  EXPECT_EQ(parse("output_tokens", "med==64").aggregation.kind, AggregationKind::med);
  EXPECT_EQ(parse("http_req_failed", "rate<0.05").aggregation.kind, AggregationKind::rate);
  EXPECT_EQ(parse("checks", "rate>0.99").aggregation.kind, AggregationKind::rate);
  EXPECT_EQ(parse("http_reqs", "count>100").aggregation.kind, AggregationKind::count);
  EXPECT_DOUBLE_EQ(parse("http_reqs", "rate>12.5").limit, 12.5);
  EXPECT_EQ(parse("dropped_requests", "count==0").aggregation.kind, AggregationKind::count);
  EXPECT_EQ(parse("max_pod_share", "value>=0.8").aggregation.kind, AggregationKind::value);
}

TEST(ParseThreshold, ShortFormForRatioMetrics) {
  const Threshold hit = parse("cache_hit_rate", ">=0.90");
  EXPECT_EQ(hit.aggregation.kind, AggregationKind::value);
  EXPECT_EQ(hit.comparison, Comparison::greater_equal);
  EXPECT_DOUBLE_EQ(hit.limit, 0.9);
  EXPECT_EQ(parse("max_pod_share", ">= 0.8").comparison, Comparison::greater_equal);
}

TEST(ParseThreshold, RejectsShortFormForOtherMetrics) {
  EXPECT_EQ(parse_error("ttft", "<2s"),
            "\"<2s\": missing aggregation; ttft (a time metric) takes avg, min, max, med or p(N), e.g. \"p(95)<2s\"");
}

TEST(ParseThreshold, RejectsUnknownAggregation) {
  EXPECT_EQ(parse_error("ttft", "p95<2s"),
            "\"p95<2s\": unknown aggregation \"p95\"; ttft (a time metric) takes avg, min, max, med or p(N), "
            "e.g. \"p(95)<2s\"");
}

TEST(ParseThreshold, RejectsAggregationOfAnotherKind) {
  EXPECT_EQ(parse_error("ttft", "rate<0.1"),
            "\"rate<0.1\": aggregation \"rate\" does not apply here; ttft (a time metric) takes avg, min, max, med "
            "or p(N), e.g. \"p(95)<2s\"");
  EXPECT_EQ(parse_error("http_req_failed", "avg<0.1"),
            "\"avg<0.1\": aggregation \"avg\" does not apply here; http_req_failed (a rate metric) takes rate, "
            "e.g. \"rate<0.05\"");
  EXPECT_EQ(parse_error("http_reqs", "p(95)>1"),
            "\"p(95)>1\": aggregation \"p(95)\" does not apply here; http_reqs (a counter metric) takes count or "
            "rate, e.g. \"count>100\"");
  EXPECT_EQ(parse_error("cache_hit_rate", "avg>0.9"),
            "\"avg>0.9\": aggregation \"avg\" does not apply here; cache_hit_rate (a ratio metric) takes value, or "
            "no aggregation at all, e.g. \">=0.9\"");
}

TEST(ParseThreshold, RejectsBadPercentile) {
  EXPECT_EQ(parse_error("ttft", "p(101)<2s"),
            "\"p(101)<2s\": \"p(101)\" is not a percentile; expected p(N) with 0 <= N <= 100, e.g. p(95)");
  EXPECT_EQ(parse_error("ttft", "p(x)<2s"),
            "\"p(x)<2s\": \"p(x)\" is not a percentile; expected p(N) with 0 <= N <= 100, e.g. p(95)");
  EXPECT_EQ(parse_error("ttft", "p(95<2s"),
            "\"p(95<2s\": \"p(95\" is not a percentile; expected p(N) with 0 <= N <= 100, e.g. p(95)");
}

TEST(ParseThreshold, RejectsMissingOrUnknownOperator) {
  EXPECT_EQ(parse_error("ttft", "p(95) 2s"), "\"p(95) 2s\": expected an operator (<, <=, >, >=, ==, !=) after \"p(95)\"");
  EXPECT_EQ(parse_error("ttft", "avg"), "\"avg\": expected an operator (<, <=, >, >=, ==, !=) after \"avg\"");
  EXPECT_EQ(parse_error("output_tokens", "avg=5"),
            "\"avg=5\": unknown operator at \"=5\"; expected <, <=, >, >=, == or !=");
  EXPECT_EQ(parse_error("output_tokens", "avg===5"), "\"avg===5\": value \"=5\" is not a number");
}

TEST(ParseThreshold, RejectsBadValues) {
  EXPECT_EQ(parse_error("ttft", "p(95)<2"),
            "\"p(95)<2\": duration \"2\" has no unit; add one, e.g. \"2s\" or \"2ms\" (units: h, m, s, ms, us, ns)");
  EXPECT_EQ(parse_error("ttft", "p(95)<"), "\"p(95)<\": missing value after the operator");
  EXPECT_EQ(parse_error("tokens_per_second", "avg>30s"), "\"avg>30s\": value \"30s\" is not a number");
  EXPECT_EQ(parse_error("http_req_failed", "rate<5"),
            "\"rate<5\": http_req_failed is a fraction between 0 and 1 (0.05 = 5%), got 5");
  EXPECT_EQ(parse_error("cache_hit_rate", ">=90"),
            "\">=90\": cache_hit_rate is a fraction between 0 and 1 (0.05 = 5%), got 90");
}

TEST(ParseThreshold, RejectsEmptyAndUnknownMetric) {
  EXPECT_EQ(parse_error("ttft", "  "),
            "empty threshold; ttft (a time metric) takes avg, min, max, med or p(N), e.g. \"p(95)<2s\"");
  EXPECT_EQ(parse_error("ttfb", "p(95)<2s"),
            "unknown metric \"ttfb\"; valid metrics: ttft, inter_token_latency (itl), http_req_duration, "
            "time_to_first_byte, time_to_first_event, tokens_per_second, output_tokens, http_reqs, http_req_failed, "
            "http_req_cut, stream_buffered, dropped_requests, goodput, good_fraction, checks, cache_hit_rate, max_pod_share, "
            "max_pod_query_share, schedule_lag, event_loop_lag, routing_efficiency, affinity, pod_switches, load_imbalance_cv, cache_recovery_time");
}

TEST(MetricTable, NamesAliasesAndKinds) {
  ASSERT_NE(find_metric("itl"), nullptr);
  EXPECT_EQ(find_metric("itl")->name, "inter_token_latency");
  EXPECT_EQ(find_metric("ttft")->kind, MetricKind::time);
  EXPECT_EQ(find_metric("tokens_per_second")->kind, MetricKind::trend);
  EXPECT_EQ(find_metric("http_req_failed")->kind, MetricKind::rate);
  EXPECT_EQ(find_metric("http_reqs")->kind, MetricKind::counter);
  EXPECT_EQ(find_metric("cache_hit_rate")->kind, MetricKind::ratio);
  EXPECT_EQ(find_metric("nope"), nullptr);
  EXPECT_EQ(find_metric(""), nullptr);
  for (const MetricInfo& metric : metric_table()) {
    EXPECT_FALSE(metric.description.empty()) << metric.name;
  }
}

TEST(EvaluateThreshold, PassesAndFailsWithReason) {
  const Threshold t = parse("ttft", "p(95)<2s");
  const ThresholdResult pass = evaluate(t, FakeLookup({{"ttft p(95)", 1.25}}));
  EXPECT_TRUE(pass.passed);
  EXPECT_EQ(pass.observed, 1.25);
  EXPECT_EQ(pass.reason, "ttft p(95) = 1.25s; required < 2s");
  const ThresholdResult fail = evaluate(t, FakeLookup({{"ttft p(95)", 2.5}}));
  EXPECT_FALSE(fail.passed);
  EXPECT_EQ(fail.reason, "ttft p(95) = 2.5s; required < 2s");
}

TEST(EvaluateThreshold, NoDataFails) {
  const ThresholdResult result = evaluate(parse("ttft", "p(95)<2s"), FakeLookup({}));
  EXPECT_FALSE(result.passed);
  EXPECT_FALSE(result.observed.has_value());
  EXPECT_EQ(result.reason, "no data");
  const ThresholdResult nan = evaluate(parse("cache_hit_rate", ">=0.9"), FakeLookup({{"cache_hit_rate value", std::nan("")}}));
  EXPECT_FALSE(nan.passed);
  EXPECT_EQ(nan.reason, "no data");
}

TEST(EvaluateThreshold, EachOperatorAtTheBoundary) {
  const FakeLookup at_30({{"tokens_per_second avg", 30}});
  EXPECT_FALSE(evaluate(parse("tokens_per_second", "avg<30"), at_30).passed);
  EXPECT_TRUE(evaluate(parse("tokens_per_second", "avg<=30"), at_30).passed);
  EXPECT_FALSE(evaluate(parse("tokens_per_second", "avg>30"), at_30).passed);
  EXPECT_TRUE(evaluate(parse("tokens_per_second", "avg>=30"), at_30).passed);
  EXPECT_TRUE(evaluate(parse("tokens_per_second", "avg==30"), at_30).passed);
  EXPECT_FALSE(evaluate(parse("tokens_per_second", "avg!=30"), at_30).passed);
  const FakeLookup at_31({{"tokens_per_second avg", 31}});
  EXPECT_TRUE(evaluate(parse("tokens_per_second", "avg>30"), at_31).passed);
  EXPECT_TRUE(evaluate(parse("tokens_per_second", "avg!=30"), at_31).passed);
  EXPECT_FALSE(evaluate(parse("tokens_per_second", "avg==30"), at_31).passed);
}

TEST(EvaluateThreshold, UnitConversionComparesSeconds) {
  // "150ms" is 0.15 s: an observed 0.149 s passes, 0.151 s fails.
  const Threshold t = parse("http_req_duration", "max<150ms");
  EXPECT_TRUE(evaluate(t, FakeLookup({{"http_req_duration max", 0.149}})).passed);
  const ThresholdResult slow = evaluate(t, FakeLookup({{"http_req_duration max", 0.151}}));
  EXPECT_FALSE(slow.passed);
  EXPECT_EQ(slow.reason, "http_req_duration max = 151ms; required < 150ms");
}

TEST(EvaluateThreshold, ShortFormAsksForValueAndNamesTheMetric) {
  const ThresholdResult result = evaluate(parse("cache_hit_rate", ">=0.90"), FakeLookup({{"cache_hit_rate value", 0.9333333}}));
  EXPECT_TRUE(result.passed);
  EXPECT_EQ(result.reason, "cache_hit_rate = 0.9333; required >= 0.9");
  const ThresholdResult count = evaluate(parse("http_reqs", "count>100"), FakeLookup({{"http_reqs count", 100}}));
  EXPECT_FALSE(count.passed);
  EXPECT_EQ(count.reason, "http_reqs count = 100; required > 100");
}

TEST(ThresholdKey, MetricNamesAliasesAndTheCheckTag) {
  auto plain = parse_threshold_key("itl");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->metric->name, "inter_token_latency");
  EXPECT_EQ(plain->check, "");
  auto tagged = parse_threshold_key("checks{check:status_200}");
  ASSERT_TRUE(tagged) << tagged.error();
  EXPECT_EQ(tagged->metric->name, "checks");
  EXPECT_EQ(tagged->check, "status_200");
  EXPECT_EQ(parse_threshold_key(" checks { check : status-200 } ")->check, "status-200");
  const std::string usage =
      "a tag filter is supported only as checks{check:NAME} or ttft / inter_token_latency / http_req_duration "
      "{pod:NAME}, e.g. checks{check:status_200}, ttft{pod:sim-pod-0}";
  for (const char* bad : {"checks{check:}", "checks{check:a", "checks{}", "checks{name:x}", "ttft{check:x}", "checks{check}",
                          "checks{pod:a}", "ttft{pod:}", "http_reqs{pod:a}", "ttft{pod:a"}) {
    auto key = parse_threshold_key(bad);
    ASSERT_FALSE(key) << bad;
    EXPECT_EQ(key.error(), fmt::format("\"{}\": {}", bad, usage));
  }
  EXPECT_EQ(parse_threshold_key("ttfb").error().substr(0, 41), "unknown metric \"ttfb\"; valid metrics: ttf");
  auto pod = parse_threshold_key("itl{pod:sim-pod-1}");
  ASSERT_TRUE(pod) << pod.error();
  EXPECT_EQ(pod->metric->name, "inter_token_latency");
  EXPECT_EQ(pod->pod, "sim-pod-1");
  EXPECT_EQ(pod->check, "");
}

TEST(EvaluateThreshold, ACheckTagAsksForThatChecksRate) {
  Threshold one = parse("checks", "rate>0.99");
  one.check = "status-200";
  const CheckLookup lookup;
  const auto result = evaluate(one, lookup);
  EXPECT_TRUE(result.passed);
  EXPECT_DOUBLE_EQ(*result.observed, 0.995);
  EXPECT_EQ(result.reason, "checks{check:status-200} rate = 0.995; required > 0.99");
  EXPECT_FALSE(evaluate(parse("checks", "rate>0.99"), lookup).passed);  // all checks: 0.5
  one.check = "sse-content-type";  // never evaluated
  EXPECT_EQ(evaluate(one, lookup).reason, "no data");
  EXPECT_EQ(display_name(one), "checks{check:sse-content-type}");
  EXPECT_EQ(label(one), "checks{check:sse-content-type} rate>0.99");  // as every report names a threshold
  EXPECT_TRUE(is_cache_metric("cache_hit_rate"));
  EXPECT_TRUE(is_cache_metric("max_pod_query_share"));
  EXPECT_TRUE(is_cache_metric("cache_recovery_time"));
  EXPECT_FALSE(is_cache_metric("checks"));
}

TEST(AggregationText, RoundTripsPercentiles) {
  EXPECT_EQ(to_string(Aggregation{AggregationKind::percentile, 95}), "p(95)");
  EXPECT_EQ(to_string(Aggregation{AggregationKind::percentile, 99.9}), "p(99.9)");
  EXPECT_EQ(to_string(Aggregation{AggregationKind::med, 0}), "med");
  EXPECT_EQ(to_string(Comparison::not_equal), "!=");
}

}  // namespace
}  // namespace llmd::scenario
