// PrometheusSource, "counters as of the call": the marker, waiting for each pod's first scrape after
// it, lagging and vanished pods, and HELP texts from the metadata API (blocks vs tokens), against
// the scripted Prometheus of fake_prometheus.hpp. The real Prometheus: prometheus_real_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "scrape/cache_report.hpp"
#include "scrape/prometheus_source.hpp"
#include "scrape/prometheus_test_support.hpp"

namespace llmd::scrape {
namespace {

using testing::api_json;
using testing::FakePrometheus;
using testing::FakePrometheusScript;
using testing::FakeSeries;
using testing::k_marker_ms;
using testing::k_matcher;
using testing::make_source;
using testing::options_for;
using testing::series;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

const std::map<std::string, std::string> k_engine0 = {{"model_name", "m"}, {"engine", "0"}};

FakePrometheusScript script(std::vector<FakeSeries> all) {
  FakePrometheusScript result;
  result.promql = cache_counters_promql(k_matcher);
  result.marker_ms = k_marker_ms;
  result.series = std::move(all);
  return result;
}

// A pod exporting the current names: queries and hits with the points given (offset from the
// marker in ms, value, the poll from which Prometheus has ingested it).
struct Step {
  std::int64_t offset_ms;
  double queries;
  std::size_t visible_from_poll = 0;
};

std::vector<FakeSeries> pod_counters(const std::string& pod, const std::vector<Step>& steps) {
  FakeSeries queries = series("vllm:prefix_cache_queries_total", pod, k_engine0, "0", {});
  FakeSeries hits = series("vllm:prefix_cache_hits_total", pod, k_engine0, "0", {});
  for (const Step& step : steps) {
    queries.points.push_back({k_marker_ms + step.offset_ms, fmt::format("{:g}", step.queries), step.visible_from_poll});
    hits.points.push_back({k_marker_ms + step.offset_ms, fmt::format("{:g}", step.queries / 2), step.visible_from_poll});
  }
  return {queries, hits};
}

std::vector<FakeSeries> join(std::vector<FakeSeries> a, const std::vector<FakeSeries>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::int64_t unix_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

TEST(PrometheusFreshness, UsesEachSeriesFirstSampleStrictlyAfterTheMarker) {
  // Scrapes at -800 ms, exactly at the marker (not after it: could predate the call), +200, +1200.
  FakePrometheus prometheus(script(pod_counters("decode-0", {{-800, 100}, {0, 120}, {200, 150}, {1200, 300}})));
  auto source = make_source(options_for(prometheus.url()));
  const auto scrapes = source.scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_EQ(unix_ms(scrapes[0].scraped_at), k_marker_ms + 200);
  const auto snapshot = snapshot_pod(scrapes[0], "");
  ASSERT_TRUE(snapshot.snapshot) << snapshot.snapshot.error();
  EXPECT_THAT(snapshot.snapshot->queries, Optional(150.0));
  EXPECT_THAT(snapshot.snapshot->hits, Optional(75.0));
  ASSERT_EQ(source.snapshots().size(), 1u);
  const PrometheusSnapshotInfo& info = source.snapshots()[0];
  EXPECT_EQ(info.marker_unix_ms, k_marker_ms);
  EXPECT_EQ(info.marker_clock_error, "");
  EXPECT_THAT(info.first_sample_unix_ms, Optional(k_marker_ms + 200));
  EXPECT_EQ(info.pods_fresh, 1u);
  EXPECT_EQ(info.pods_stale, 0u);
  EXPECT_EQ(prometheus.range_polls(), 1u);
}

TEST(PrometheusFreshness, WaitsForALaggingPodAndSaysSoOnce) {
  // decode-1's scrape after the marker reaches Prometheus only before the third poll.
  FakePrometheus prometheus(script(join(pod_counters("decode-0", {{-500, 10}, {100, 20}}),
                                        pod_counters("decode-1", {{-900, 30}, {150, 40, 2}}))));
  auto options = options_for(prometheus.url());
  std::vector<std::string> told;
  options.on_wait = [&told](const std::string& line) { told.push_back(line); };
  auto source = make_source(options);
  const auto snapshots = snapshot_pods(source.scrape_all(), "");
  ASSERT_EQ(snapshots.size(), 2u);
  ASSERT_TRUE(snapshots[1].snapshot) << snapshots[1].snapshot.error();
  EXPECT_THAT(snapshots[1].snapshot->queries, Optional(40.0));
  EXPECT_EQ(unix_ms(snapshots[1].scraped_at), k_marker_ms + 150);
  EXPECT_EQ(prometheus.range_polls(), 3u);
  EXPECT_THAT(told, ElementsAre("waiting for Prometheus to scrape 1 of 2 pods after 2024-11-23T12:26:25.500Z (at "
                                "most 0.4 s)"));
  const PrometheusSnapshotInfo& info = source.snapshots()[0];
  EXPECT_GE(info.waited, std::chrono::milliseconds(100));  // two poll periods of 50 ms
  EXPECT_THAT(info.first_sample_unix_ms, Optional(k_marker_ms + 100));
  EXPECT_THAT(info.last_sample_unix_ms, Optional(k_marker_ms + 150));
  const auto notes = source.notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_THAT(notes[1], StartsWith("Prometheus snapshot 1/1: requested at 2024-11-23T12:26:25.500Z (Prometheus' "
                                   "clock); 2 pods read from their first scrape after it, taken 100ms to 150ms later; "
                                   "waited "));
}

TEST(PrometheusFreshness, APodNotScrapedSinceTheMarkerFailsNamingItsNewestSampleAndTheFix) {
  FakePrometheus prometheus(script(join(pod_counters("decode-0", {{-500, 10}, {100, 20}}),
                                        pod_counters("decode-1", {{-3000, 30}, {-2000, 31}}))));
  auto source = make_source(options_for(prometheus.url()));
  const auto started = std::chrono::steady_clock::now();
  const auto scrapes = source.scrape_all();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(400)) << "waits 2 x 100 ms + 200 ms";
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_TRUE(scrapes[0].text) << scrapes[0].text.error();
  ASSERT_FALSE(scrapes[1].text);
  EXPECT_THAT(scrapes[1].text.error(),
              AllOf(StartsWith("pod decode-1 (Prometheus " + prometheus.url() +
                               "): not scraped after the snapshot was requested at 2024-11-23T12:26:25.500Z "
                               "(Prometheus' clock), waited "),
                    HasSubstr("; its newest sample is from 2024-11-23T12:26:23.500Z, 2s before: Prometheus scrapes "
                              "it less often than every 0.1 s (set cache.scrape_interval to its job's scrape_interval), "
                              "its scrapes fail (see up{pod=\"decode-1\"} and Prometheus' /targets page), the pod is "
                              "gone, or Prometheus is behind")));
  EXPECT_EQ(source.snapshots()[0].pods_stale, 1u);
  EXPECT_THAT(source.notes()[1], HasSubstr("; 1 pod read from their first scrape after it, taken 100ms to 100ms "
                                           "later; 1 pod not scraped since (failed); waited "));
}

TEST(PrometheusFreshness, APodPrometheusStillListsButNoLongerScrapesFails) {
  // decode-1: in the instant query (5-minute lookback) but without a sample in the range window.
  auto fake = script(pod_counters("decode-0", {{-500, 10}, {100, 20}}));
  fake.instant_answer = api_json(
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"vllm:prefix_cache_queries_total","pod":"decode-0","job":"j"},"value":[1732364785.5,"20"]},)"
      R"({"metric":{"__name__":"vllm:prefix_cache_queries_total","pod":"decode-1","job":"j"},"value":[1732364785.5,"9"]}]}})");
  FakePrometheus prometheus(fake);
  const auto scrapes = make_source(options_for(prometheus.url())).scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_EQ(scrapes[1].pod, "decode-1");
  ASSERT_FALSE(scrapes[1].text);
  EXPECT_THAT(scrapes[1].text.error(), HasSubstr("; it has no sample in the last "));
  EXPECT_THAT(scrapes[1].text.error(), HasSubstr("the pod is gone"));
}

TEST(PrometheusFreshness, APodPrometheusNoLongerListsIsReportedVanished) {
  FakePrometheus both(script(join(pod_counters("decode-0", {{-500, 10}, {100, 20}}),
                                  pod_counters("decode-1", {{-500, 30}, {100, 40}}))));
  FakePrometheus one(script(pod_counters("decode-0", {{-500, 10}, {100, 25}})));
  const auto before = snapshot_pods(make_source(options_for(both.url())).scrape_all(), "");
  const auto after = snapshot_pods(make_source(options_for(one.url())).scrape_all(), "");
  EXPECT_EQ(one.range_polls(), 1u) << "no waiting for a pod Prometheus has dropped";
  const auto report = compute_cache_report(before, after);
  ASSERT_EQ(report.pods.size(), 2u);
  EXPECT_EQ(report.pods[0].status, PodStatus::ok);
  EXPECT_THAT(report.pods[0].queries.delta, Optional(5.0));
  EXPECT_EQ(report.pods[1].status, PodStatus::vanished);
}

TEST(PrometheusFreshness, TheAbortFlagCutsTheWaitShort) {
  FakePrometheus prometheus(script(pod_counters("decode-0", {{-5000, 10}})));
  auto options = options_for(prometheus.url());
  options.scrape_interval = std::chrono::seconds(30);  // would wait 65 s
  std::atomic<bool> abort{false};
  options.abort = &abort;
  auto source = make_source(options);
  std::thread aborter([&abort] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    abort = true;
  });
  const auto started = std::chrono::steady_clock::now();
  const auto scrapes = source.scrape_all();
  aborter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(scrapes.size(), 1u);
  ASSERT_FALSE(scrapes[0].text);
  EXPECT_THAT(scrapes[0].text.error(), HasSubstr("(Prometheus' clock), interrupted after waiting "));
}

TEST(PrometheusFreshness, WithoutPrometheusClockTheLocalClockIsUsedAndSaid) {
  const auto now_ms = unix_ms(std::chrono::system_clock::now());
  auto fake = script(pod_counters("decode-0", {{-900, 1}, {now_ms - k_marker_ms + 3'600'000, 2}}));
  fake.time_answer = api_json(R"({"status":"error","errorType":"bad_data","error":"time() not allowed"})", 422,
                              "Unprocessable Entity");
  FakePrometheus prometheus(fake);
  auto source = make_source(options_for(prometheus.url()));
  const auto scrapes = source.scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  ASSERT_TRUE(scrapes[0].text) << scrapes[0].text.error();
  const PrometheusSnapshotInfo& info = source.snapshots()[0];
  EXPECT_GE(info.marker_unix_ms, now_ms);
  EXPECT_EQ(info.marker_clock_error,
            "query failed (HTTP 422, errorType \"bad_data\"): \"time() not allowed\"; check the matcher " +
                std::string(k_matcher));
  EXPECT_THAT(source.notes()[1], HasSubstr("(this machine's clock, as Prometheus' time() failed (query failed (HTTP "
                                           "422"));
  EXPECT_THAT(source.notes()[1], HasSubstr("a skew between the two clocks shifts what is counted"));
}

// ---- HELP from the metadata API ----

// decode-0 exporting only vllm:gpu_prefix_cache_* (vLLM V1 <= 0.9.1).
std::vector<FakeSeries> old_names_pod(const std::string& pod = "decode-0", const std::string& instance = "10.0.0.5:8200") {
  std::vector<FakeSeries> out = {series("vllm:gpu_prefix_cache_queries_total", pod, k_engine0, "80"),
                                 series("vllm:gpu_prefix_cache_hits_total", pod, k_engine0, "20")};
  for (FakeSeries& one : out) {
    one.labels["instance"] = instance;
  }
  return out;
}

std::string target_entry(const std::string& pod, const std::string& instance, const std::string& help) {
  return fmt::format(R"({{"target":{{"instance":"{}","job":"llm-d/decode","namespace":"llm-d","pod":"{}"}},)"
                     R"("type":"counter","help":"{}","unit":""}})",
                     instance, pod, help);
}

constexpr char k_blocks_help[] = "GPU prefix cache queries, in terms of number of queried blocks.";
constexpr char k_tokens_help[] = "GPU prefix cache queries, in terms of number of queried tokens.";

PodSnapshot only_snapshot(const std::vector<PodScrape>& scrapes, std::size_t index = 0) {
  EXPECT_GT(scrapes.size(), index);
  const auto result = snapshot_pod(scrapes.at(index), "");
  EXPECT_TRUE(result.snapshot) << result.snapshot.error();
  return result.snapshot ? *result.snapshot : PodSnapshot{};
}

TEST(PrometheusHelp, TargetMetadataSayingBlocksMakesTheUnitBlocks) {
  auto fake = script(old_names_pod());
  fake.target_metadata["vllm:gpu_prefix_cache_queries_total"] =
      "[" + target_entry("decode-0", "10.0.0.5:8200", k_blocks_help) + "]";
  FakePrometheus prometheus(fake);
  auto source = make_source(options_for(prometheus.url()));
  const auto scrapes = source.scrape_all();
  ASSERT_TRUE(scrapes.at(0).text) << scrapes[0].text.error();
  EXPECT_THAT(*scrapes[0].text, HasSubstr("# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in "
                                          "terms of number of queried blocks.\n# TYPE "
                                          "vllm:gpu_prefix_cache_queries_total counter\n"));
  const PodSnapshot snapshot = only_snapshot(scrapes);
  EXPECT_EQ(snapshot.flavor, CounterFlavor::v1_blocks);
  EXPECT_EQ(snapshot.unit, CounterUnit::blocks);
  EXPECT_TRUE(snapshot.unit_verified);
  EXPECT_THAT(source.snapshots()[0].help_problems, ::testing::IsEmpty());
  EXPECT_THAT(prometheus.requests(), Contains("/api/v1/targets/metadata?metric=vllm:gpu_prefix_cache_queries_total"));
}

TEST(PrometheusHelp, OpenMetricsFamilyNamesWithoutTotalAreFound) {
  // A target scraped in OpenMetrics: Prometheus keys its metadata by the family name, without _total.
  auto fake = script(old_names_pod());
  fake.target_metadata["vllm:gpu_prefix_cache_hits"] =
      "[" + target_entry("decode-0", "10.0.0.5:8200", "GPU prefix cache hits, in terms of number of cached blocks.") +
      "]";
  FakePrometheus prometheus(fake);
  const PodSnapshot snapshot = only_snapshot(make_source(options_for(prometheus.url())).scrape_all());
  EXPECT_EQ(snapshot.unit, CounterUnit::blocks);
}

TEST(PrometheusHelp, EachPodGetsTheHelpOfItsOwnTarget) {
  auto fake = script(join(old_names_pod("decode-0", "10.0.0.5:8200"), old_names_pod("decode-1", "10.0.0.6:8200")));
  fake.target_metadata["vllm:gpu_prefix_cache_queries_total"] =
      "[" + target_entry("decode-1", "10.0.0.6:8200", k_tokens_help) + "," +
      target_entry("decode-0", "10.0.0.5:8200", k_blocks_help) + "]";
  FakePrometheus prometheus(fake);
  const auto scrapes = make_source(options_for(prometheus.url())).scrape_all();
  EXPECT_EQ(only_snapshot(scrapes, 0).unit, CounterUnit::blocks);
  EXPECT_EQ(only_snapshot(scrapes, 1).flavor, CounterFlavor::v1_old_names);
  EXPECT_EQ(only_snapshot(scrapes, 1).unit, CounterUnit::tokens);
  EXPECT_TRUE(only_snapshot(scrapes, 1).unit_verified);
}

TEST(PrometheusHelp, NoMetadataLeavesTheUnitUnverifiedAndSaysWhy) {
  FakePrometheus prometheus(script(old_names_pod()));
  auto source = make_source(options_for(prometheus.url()));
  const auto scrapes = source.scrape_all();
  const PodSnapshot snapshot = only_snapshot(scrapes);
  EXPECT_EQ(snapshot.flavor, CounterFlavor::v1_old_names);
  EXPECT_EQ(snapshot.unit, CounterUnit::tokens);
  EXPECT_FALSE(snapshot.unit_verified);
  EXPECT_EQ(snapshot.flavor_text, "vLLM 0.9.0-0.9.1 (vllm:gpu_prefix_cache_*), no HELP text: tokens assumed (BLOCKS "
                                  "if vLLM V1 <= 0.8.5)");
  EXPECT_THAT(source.snapshots()[0].help_problems,
              UnorderedElementsAre("pod decode-0: Prometheus gave no HELP text for vllm:gpu_prefix_cache_hits_total "
                          "(/api/v1/targets/metadata has no entry for its target {job=\"llm-d/decode\",instance="
                          "\"10.0.0.5:8200\"}; /api/v1/metadata has none): its unit is unverified, read as tokens, "
                          "but vLLM V1 <= 0.8.5 counted blocks under this name",
                          "pod decode-0: Prometheus gave no HELP text for vllm:gpu_prefix_cache_queries_total "
                          "(/api/v1/targets/metadata has no entry for its target {job=\"llm-d/decode\",instance="
                          "\"10.0.0.5:8200\"}; /api/v1/metadata has none): its unit is unverified, read as tokens, "
                          "but vLLM V1 <= 0.8.5 counted blocks under this name"));
  EXPECT_THAT(source.notes(), Contains(source.snapshots()[0].help_problems[0]));
  // The report warns for the pod, with what to do.
  const auto before = snapshot_pods(scrapes, "");
  const auto report = compute_cache_report(before, before);
  ASSERT_EQ(report.pods.size(), 1u);
  EXPECT_FALSE(report.pods[0].unit_verified);
  const auto warning = std::find_if(report.diagnostics.begin(), report.diagnostics.end(), [](const auto& d) {
    return d.message.find("unit is unverified") != std::string::npos;
  });
  ASSERT_NE(warning, report.diagnostics.end());
  EXPECT_EQ(warning->severity, Severity::warning);
  EXPECT_THAT(warning->pod, Optional(std::string("decode-0")));
  EXPECT_THAT(warning->fix, HasSubstr("/api/v1/targets/metadata"));
}

TEST(PrometheusHelp, WithoutTargetMetadataTheOneHelpPrometheusHasIsUsedAndSeveralAreAmbiguous) {
  auto fake = script(old_names_pod());
  fake.target_metadata_missing = true;  // e.g. Thanos Query
  fake.metadata["vllm:gpu_prefix_cache_queries_total"] =
      std::string(R"([{"type":"counter","help":")") + k_blocks_help + R"(","unit":""}])";
  FakePrometheus one(fake);
  auto source = make_source(options_for(one.url()));
  EXPECT_EQ(only_snapshot(source.scrape_all()).unit, CounterUnit::blocks);
  EXPECT_THAT(source.snapshots()[0].help_problems,
              Contains(StartsWith("pod decode-0: the HELP text of vllm:gpu_prefix_cache_queries_total comes from "
                                  "/api/v1/metadata, the only one Prometheus has for this name (/api/v1/targets/"
                                  "metadata failed: HTTP 404")));

  fake.metadata["vllm:gpu_prefix_cache_queries_total"] = std::string(R"([{"type":"counter","help":")") +
                                                         k_blocks_help + R"(","unit":""},{"type":"counter","help":")" +
                                                         k_tokens_help + R"(","unit":""}])";
  FakePrometheus two(fake);
  auto ambiguous = make_source(options_for(two.url()));
  const PodSnapshot snapshot = only_snapshot(ambiguous.scrape_all());
  EXPECT_FALSE(snapshot.unit_verified);
  EXPECT_THAT(ambiguous.snapshots()[0].help_problems,
              Contains(HasSubstr("; /api/v1/metadata has 2 different ones): its unit is unverified")));
  const auto requests = two.requests();
  EXPECT_EQ(std::count_if(requests.begin(), requests.end(),
                          [](const std::string& r) { return r.starts_with("/api/v1/targets/metadata"); }),
            1)
      << "a failed endpoint is not asked again in the same snapshot";
}

TEST(PrometheusHelp, CurrentNamesNeedNoHelpAndRaiseNoWarning) {
  FakePrometheus prometheus(script(pod_counters("decode-0", {{-500, 10}, {100, 20}})));
  auto source = make_source(options_for(prometheus.url()));
  const PodSnapshot snapshot = only_snapshot(source.scrape_all());
  EXPECT_EQ(snapshot.flavor, CounterFlavor::v1_new_names);
  EXPECT_TRUE(snapshot.unit_verified);
  EXPECT_THAT(source.snapshots()[0].help_problems, ::testing::IsEmpty());
  EXPECT_THAT(source.notes(), Not(Contains(HasSubstr("HELP text of"))));
}

}  // namespace
}  // namespace llmd::scrape
