// report/prometheus_push: the exposition text parsed back with lib/prom's parser.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "prom/text_parser.hpp"
#include "report/prometheus_push.hpp"
#include "report/pushgateway.hpp"
#include "run/gates.hpp"

namespace {

namespace engine = llmd::engine;
namespace prom = llmd::prom;
namespace report = llmd::report;
namespace run = llmd::run;
namespace scenario = llmd::scenario;
using testing::HasSubstr;

// A run of two phases ("warm \"up\"", with a quote, and "steady"), a cache report of two pods and
// one threshold.
struct Fixture {
  scenario::Scenario scenario;
  run::RunReport report;

  Fixture() {
    scenario.name = "cache-hit";
    report.scenario = &scenario;
    engine::RunResult result;
    result.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    result.ended_at = result.started_at + std::chrono::seconds(30);
    for (const auto* name : {"warm \"up\"\nphase", "steady"}) {
      engine::PhaseResult phase;
      phase.name = name;
      phase.ok = 40;
      phase.failed = 2;
      phase.aborted = 1;
      phase.dropped = 3;
      phase.started = 43;
      phase.completed = 42;
      phase.output_tokens_total = 4000;
      phase.wall_duration = std::chrono::seconds(10);
      for (std::uint64_t i = 0; i < 40; ++i) {
        phase.histograms.ttft_ns.record(1'000'000 * (i + 1) * (i + 1));  // 1 ms .. 1.6 s
        phase.histograms.http_req_duration_ns.record(5'000'000'000 + i);
        phase.histograms.inter_token_latency_ns.record(5'000'000);  // exactly the nominal 5 ms bound
      }
      result.phases.push_back(phase);
    }
    result.total = result.phases[0];
    EXPECT_TRUE(engine::merge_into(result.total, result.phases[1]));
    result.total.name = "total";
    result.total.wall_duration = std::chrono::seconds(20);
    report.run = std::move(result);
    llmd::scrape::CacheReport cache;
    cache.totals.hit_rate = 0.75;
    llmd::scrape::PodCacheRow a;
    a.pod = "pod-a";
    a.hit_rate = 0.5;
    llmd::scrape::PodCacheRow b;
    b.pod = "pod-b";
    b.hit_rate = 1.0;
    cache.pods = {a, b};
    report.cache = cache;
    auto threshold = scenario::parse_threshold("ttft", "p(95)<2s");
    EXPECT_TRUE(threshold);
    report.thresholds.push_back({*threshold, {true, 1.5, ""}});
    report.verdict = run::Verdict::pass;
  }
};

prom::Exposition parsed(const run::RunReport& r) {
  const std::string text = report::render_prometheus_push(r);
  auto exposition = prom::parse_text(text);
  EXPECT_TRUE(exposition) << (exposition ? "" : prom::format_error(exposition.error(), "push")) << "\n" << text;
  return exposition ? *exposition : prom::Exposition{};
}

// label name -> value of a sample.
std::map<std::string, std::string> labels_of(const prom::Sample& sample) {
  std::map<std::string, std::string> labels;
  for (const auto& label : sample.labels) {
    labels[label.name] = label.value;
  }
  return labels;
}

double value_of(const prom::Exposition& e, const std::string& name, const std::map<std::string, std::string>& labels) {
  for (const auto* sample : e.samples(name)) {
    if (labels_of(*sample) == labels) {
      return sample->value;
    }
  }
  ADD_FAILURE() << "no sample " << name;
  return NAN;
}

}  // namespace

TEST(PrometheusPush, RendersEveryFamilyOnceWithScenarioAndPhaseLabels) {
  Fixture f;
  const auto e = parsed(f.report);
  for (const auto* name : {"llmd_bench_requests_total", "llmd_bench_http_req_failed_ratio", "llmd_bench_output_tokens_total",
                           "llmd_bench_output_tokens_per_second", "llmd_bench_ttft_seconds", "llmd_bench_itl_seconds",
                           "llmd_bench_e2e_seconds", "llmd_bench_cache_hit_ratio", "llmd_bench_threshold_passed",
                           "llmd_bench_run_verdict_info", "llmd_bench_run_start_timestamp_seconds",
                           "llmd_bench_run_end_timestamp_seconds"}) {
    ASSERT_NE(e.family(name), nullptr) << name;
    for (const auto& sample : e.family(name)->samples) {
      EXPECT_EQ(labels_of(sample)["scenario"], "cache-hit") << sample.name;
    }
  }
  EXPECT_EQ(e.family("llmd_bench_ttft_seconds")->type, prom::MetricType::histogram);
  EXPECT_EQ(e.family("llmd_bench_requests_total")->type, prom::MetricType::counter);
  const std::string odd = "warm \"up\"\nphase";  // escaped in the text, decoded by the parser
  EXPECT_EQ(value_of(e, "llmd_bench_requests_total", {{"scenario", "cache-hit"}, {"phase", odd}, {"outcome", "ok"}}), 40);
  EXPECT_EQ(value_of(e, "llmd_bench_requests_total", {{"scenario", "cache-hit"}, {"phase", "total"}, {"outcome", "ok"}}), 80);
  EXPECT_EQ(value_of(e, "llmd_bench_requests_total", {{"scenario", "cache-hit"}, {"phase", "total"}, {"outcome", "dropped"}}), 6);
  EXPECT_EQ(value_of(e, "llmd_bench_requests_total", {{"scenario", "cache-hit"}, {"phase", "steady"}, {"outcome", "aborted"}}), 1);
  EXPECT_DOUBLE_EQ(value_of(e, "llmd_bench_http_req_failed_ratio", {{"scenario", "cache-hit"}, {"phase", "steady"}}), 3.0 / 43);
  EXPECT_DOUBLE_EQ(value_of(e, "llmd_bench_output_tokens_per_second", {{"scenario", "cache-hit"}, {"phase", "total"}}), 400);
  EXPECT_EQ(value_of(e, "llmd_bench_cache_hit_ratio", {{"scenario", "cache-hit"}}), 0.75);
  EXPECT_EQ(value_of(e, "llmd_bench_cache_hit_ratio", {{"scenario", "cache-hit"}, {"pod", "pod-b"}}), 1.0);
  EXPECT_EQ(value_of(e, "llmd_bench_threshold_passed", {{"scenario", "cache-hit"}, {"threshold", "ttft p(95)<2s"}}), 1);
  EXPECT_EQ(value_of(e, "llmd_bench_run_verdict_info", {{"scenario", "cache-hit"}, {"verdict", "pass"}}), 1);
  EXPECT_EQ(value_of(e, "llmd_bench_run_start_timestamp_seconds", {{"scenario", "cache-hit"}}), 1.7e9);
  EXPECT_EQ(value_of(e, "llmd_bench_run_end_timestamp_seconds", {{"scenario", "cache-hit"}}), 1.7e9 + 30);
  EXPECT_EQ(e.family("llmd_bench_routing_efficiency_ratio"), nullptr);  // not computed: absent, not 0
}

TEST(PrometheusPush, HistogramsAreCumulativeInSecondsWithInfEqualToCount) {
  Fixture f;
  const auto e = parsed(f.report);
  for (const auto* family : {"llmd_bench_ttft_seconds", "llmd_bench_itl_seconds", "llmd_bench_e2e_seconds"}) {
    for (const auto* phase : {"steady", "total"}) {
      double previous_le = -1;
      double previous_count = 0;
      double inf = -1;
      std::size_t buckets = 0;
      for (const auto* sample : e.samples(std::string(family) + "_bucket")) {
        auto labels = labels_of(*sample);
        if (labels["phase"] != phase) {
          continue;
        }
        ++buckets;
        if (labels["le"] == "+Inf") {
          inf = sample->value;
          continue;
        }
        const double le = std::stod(labels["le"]);
        EXPECT_GT(le, previous_le) << family;
        EXPECT_GE(sample->value, previous_count) << family << " le=" << labels["le"];
        previous_le = le;
        previous_count = sample->value;
      }
      EXPECT_EQ(buckets, report::k_push_bucket_bounds_seconds.size() + 1);
      const double count = value_of(e, std::string(family) + "_count", {{"scenario", "cache-hit"}, {"phase", phase}});
      EXPECT_EQ(inf, count) << family;
      EXPECT_EQ(count, std::string(phase) == "total" ? 80 : 40);
    }
  }
  // Sum in seconds: 40 x 5 s (+ a few ns).
  EXPECT_NEAR(value_of(e, "llmd_bench_e2e_seconds_sum", {{"scenario", "cache-hit"}, {"phase", "steady"}}), 200, 1e-6);
}

TEST(PrometheusPush, BucketBoundsAreExactBucketEdgesWithinOnePercentAboveNominal) {
  auto histogram = engine::make_engine_histogram();
  // TTFT i^2 ms for i = 1..40 as in the fixture: check each cumulative count against a direct count.
  std::vector<std::uint64_t> values;
  for (std::uint64_t i = 1; i <= 40; ++i) {
    values.push_back(1'000'000 * i * i);
    histogram.record(values.back());
  }
  values.push_back(5'000'000);  // exactly a nominal bound
  histogram.record(5'000'000);
  const auto buckets = report::push_buckets(histogram);
  ASSERT_EQ(buckets.size(), report::k_push_bucket_bounds_seconds.size());
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const double nominal_ns = report::k_push_bucket_bounds_seconds[i] * 1e9;
    EXPECT_GE(static_cast<double>(buckets[i].le_ns), nominal_ns);
    EXPECT_LE(static_cast<double>(buckets[i].le_ns), nominal_ns * (1 + 1.0 / 128));  // <= 0.78% above
    const auto exact = static_cast<std::uint64_t>(
        std::count_if(values.begin(), values.end(), [&](std::uint64_t v) { return v <= buckets[i].le_ns; }));
    EXPECT_EQ(buckets[i].cumulative, exact) << "le_ns=" << buckets[i].le_ns;
  }
  EXPECT_EQ(buckets[2].le_ns, 5'013'503u);  // 5 ms -> the highest value of its bucket
}

TEST(PrometheusPush, RunThatNeverStartedHasOnlyTheVerdict) {
  scenario::Scenario s;
  s.name = "x";
  run::RunReport r;
  r.scenario = &s;
  r.errors.push_back("target unreachable");
  run::judge(r);
  const auto e = parsed(r);
  EXPECT_EQ(e.family("llmd_bench_requests_total"), nullptr);
  EXPECT_EQ(value_of(e, "llmd_bench_run_verdict_info", {{"scenario", "x"}, {"verdict", "error"}}), 1);
}

TEST(Pushgateway, GroupUrlUsesBase64ForSlashesAndEmptyNames) {
  EXPECT_EQ(report::pushgateway_group_url("http://127.0.0.1:9091/", "cache-hit"),
            "http://127.0.0.1:9091/metrics/job/llmd_bench/scenario/cache-hit");
  EXPECT_EQ(report::pushgateway_group_url("http://pg:9091", "a/b"), "http://pg:9091/metrics/job/llmd_bench/scenario@base64/YS9i");
  EXPECT_EQ(report::pushgateway_group_url("http://pg:9091", ""), "http://pg:9091/metrics/job/llmd_bench/scenario@base64/=");
  EXPECT_EQ(report::base64url("ab?>"), "YWI_Pg==");  // URL-safe alphabet, padded
  EXPECT_EQ(report::base64url("abc"), "YWJj");
}

TEST(Pushgateway, ChecksTheUrlUpFront) {
  EXPECT_TRUE(report::check_pushgateway_url("http://127.0.0.1:9091"));
  EXPECT_TRUE(report::check_pushgateway_url("https://pg.example/prefix"));
  auto ftp = report::check_pushgateway_url("ftp://127.0.0.1:9091");
  ASSERT_FALSE(ftp);
  EXPECT_THAT(ftp.error(), HasSubstr("scheme \"ftp\" is not http or https"));
  EXPECT_FALSE(report::check_pushgateway_url("127.0.0.1:9091"));  // no scheme
  EXPECT_FALSE(report::check_pushgateway_url("http://"));
  EXPECT_FALSE(report::check_pushgateway_url("http://pg:9091/?x=1"));
}
