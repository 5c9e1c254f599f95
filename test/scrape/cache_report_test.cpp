#include "scrape/cache_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scrape/scrape_test_support.hpp"

namespace llmd::scrape {
namespace {

using testing::failed_result;
using testing::result_of_sim;
using testing::result_of_text;
using testing::sample_pod_metrics;
using ::testing::Optional;

sim::PodMetrics counts(std::uint64_t queries, std::uint64_t hits, std::uint64_t stops = 0) {
  sim::PodMetrics m = sample_pod_metrics();
  m.prefix_cache_queries_tokens = queries;
  m.prefix_cache_hits_tokens = hits;
  m.request_success_by_reason = {{"stop", stops}};
  return m;
}

const PodCacheRow& row_of(const CacheReport& report, std::string_view pod) {
  for (const PodCacheRow& row : report.pods) {
    if (row.pod == pod) {
      return row;
    }
  }
  throw std::runtime_error("no row for pod " + std::string(pod));
}

std::vector<std::string> messages(const CacheReport& report) {
  std::vector<std::string> out;
  for (const CacheDiagnostic& diagnostic : report.diagnostics) {
    out.push_back(diagnostic.message);
  }
  return out;
}

const CacheDiagnostic* find_diagnostic(const CacheReport& report, std::string_view needle) {
  for (const CacheDiagnostic& diagnostic : report.diagnostics) {
    if (diagnostic.message.find(needle) != std::string::npos) {
      return &diagnostic;
    }
  }
  return nullptr;
}

TEST(CacheReport, DeltasHitRatesSharesAndConcentration) {
  const CacheReport report = compute_cache_report(
      {result_of_sim("pod-b", counts(0, 0, 0)), result_of_sim("pod-a", counts(100, 10, 3))},
      {result_of_sim("pod-a", counts(1100, 510, 13)), result_of_sim("pod-b", counts(3000, 2700, 30))});
  ASSERT_EQ(report.pods.size(), 2u);
  EXPECT_EQ(report.pods[0].pod, "pod-a");  // sorted by name
  const PodCacheRow& a = report.pods[0];
  EXPECT_EQ(a.status, PodStatus::ok);
  EXPECT_THAT(a.queries.delta, Optional(1000.0));
  EXPECT_THAT(a.hits.delta, Optional(500.0));
  EXPECT_THAT(a.requests_success.delta, Optional(10.0));
  EXPECT_THAT(a.hit_rate, Optional(0.5));
  EXPECT_THAT(a.share_of_queries, Optional(0.25));
  EXPECT_EQ(a.flavor_text, "vLLM >= 0.11 (vllm:prefix_cache_*)");
  const PodCacheRow& b = report.pods[1];
  EXPECT_THAT(b.hit_rate, Optional(0.9));
  EXPECT_THAT(b.share_of_queries, Optional(0.75));
  EXPECT_DOUBLE_EQ(report.totals.queries, 4000.0);
  EXPECT_DOUBLE_EQ(report.totals.hits, 3200.0);
  EXPECT_THAT(report.totals.hit_rate, Optional(0.8));
  EXPECT_THAT(report.totals.max_pod_share, Optional(0.75));
  EXPECT_EQ(report.totals.max_share_pod, "pod-b");
  EXPECT_DOUBLE_EQ(report.totals.requests_success, 40.0);
  EXPECT_EQ(report.totals.pods_ok, 2u);
  EXPECT_EQ(report.totals.pods_failed, 0u);
  EXPECT_TRUE(report.diagnostics.empty()) << ::testing::PrintToString(messages(report));
}

TEST(CacheReport, PodWithoutQueriesHasNoHitRateButAShareOfZero) {
  const CacheReport report =
      compute_cache_report({result_of_sim("idle", counts(50, 5)), result_of_sim("busy", counts(0, 0))},
                           {result_of_sim("idle", counts(50, 5)), result_of_sim("busy", counts(200, 100))});
  const PodCacheRow& idle = row_of(report, "idle");
  EXPECT_THAT(idle.queries.delta, Optional(0.0));
  EXPECT_FALSE(idle.hit_rate);  // undefined, not 0
  EXPECT_THAT(idle.share_of_queries, Optional(0.0));
  EXPECT_THAT(report.totals.max_pod_query_share, Optional(1.0));
  EXPECT_EQ(report.totals.max_query_share_pod, "busy");
  EXPECT_FALSE(report.totals.max_pod_share);  // no pod finished a request: no share of requests
}

TEST(CacheReport, NoQueriesAnywhereIsDiagnosed) {
  const CacheReport report = compute_cache_report({result_of_sim("p1", counts(10, 1, 2))},
                                                  {result_of_sim("p1", counts(10, 1, 7))});
  EXPECT_FALSE(report.totals.hit_rate);
  EXPECT_FALSE(report.totals.max_pod_query_share);
  EXPECT_THAT(report.totals.max_pod_share, Optional(1.0));  // the 5 finished requests all on p1
  EXPECT_FALSE(report.pods[0].hit_rate);
  EXPECT_FALSE(report.pods[0].share_of_queries);
  ASSERT_EQ(report.diagnostics.size(), 1u);
  const CacheDiagnostic& d = report.diagnostics[0];
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_FALSE(d.pod);
  EXPECT_EQ(d.message,
            "no prefix-cache queries reached the scraped pod during the run (sum of query deltas = 0, "
            "while 5 requests finished)");
  EXPECT_EQ(d.fix,
            "check the Host header, the selector/URLs and the namespace: the load may have reached other pods than "
            "the ones scraped");
}

TEST(CacheReport, CounterThatWentDownIsAResetCountedFromZero) {
  const CacheReport report = compute_cache_report({result_of_sim("p1", counts(5000, 4000, 50))},
                                                  {result_of_sim("p1", counts(300, 150, 4))});
  const PodCacheRow& row = report.pods[0];
  EXPECT_TRUE(row.reset);
  EXPECT_EQ(row.status, PodStatus::reset);
  EXPECT_THAT(row.queries.delta, Optional(300.0));
  EXPECT_THAT(row.hits.delta, Optional(150.0));
  EXPECT_THAT(row.requests_success.delta, Optional(4.0));
  EXPECT_EQ(row.queries.delta_status, prom::DeltaStatus::reset);
  EXPECT_TRUE(row.in_totals);
  const CacheDiagnostic* d = find_diagnostic(report, "restarted");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(d->message,
            "pod p1 restarted during the run (vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"meta-llama/"
            "Llama-3.1-8B\"} went down from 5000 to 300; counted from zero): its counters were counted from zero, so "
            "its figures are lower bounds");
  EXPECT_EQ(d->fix, "check the pod's restarts and last state (kubectl describe pod p1: OOMKilled?) and rerun");
}

TEST(CacheReport, RecreatedCountersAreAResetEvenWhenValuesGrew) {
  sim::PodMetrics after = counts(9000, 6000);
  after.process_start_unix_seconds += 600;  // the `_created` samples move with the restart
  const CacheReport report =
      compute_cache_report({result_of_sim("p1", counts(1000, 500))}, {result_of_sim("p1", after)});
  const PodCacheRow& row = report.pods[0];
  EXPECT_TRUE(row.reset);
  EXPECT_THAT(row.queries.delta, Optional(9000.0));  // from zero, not 8000
  EXPECT_THAT(row.hits.delta, Optional(6000.0));
  EXPECT_EQ(row.reset_reason,
            "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"meta-llama/Llama-3.1-8B\"} _created changed "
            "(1753795326.500 -> 1753795926.500); counted from zero: 9000");
}

TEST(CacheReport, NewPodCountsFromZero) {
  const CacheReport report = compute_cache_report(
      {result_of_sim("old", counts(100, 0))}, {result_of_sim("old", counts(300, 100)), result_of_sim("fresh", counts(200, 50))});
  const PodCacheRow& fresh = row_of(report, "fresh");
  EXPECT_EQ(fresh.status, PodStatus::new_pod);
  EXPECT_EQ(to_string(fresh.status), "new");
  EXPECT_THAT(fresh.queries.delta, Optional(200.0));
  EXPECT_TRUE(fresh.in_totals);
  EXPECT_DOUBLE_EQ(report.totals.queries, 400.0);
  const CacheDiagnostic* d = find_diagnostic(report, "appeared");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message, "pod fresh appeared during the run: its counters are counted from zero");
  EXPECT_EQ(d->severity, Severity::info);
}

TEST(CacheReport, VanishedPodIsLeftOutOfTotals) {
  const CacheReport report = compute_cache_report(
      {result_of_sim("gone", counts(100, 0)), result_of_sim("stay", counts(0, 0))}, {result_of_sim("stay", counts(80, 40))});
  const PodCacheRow& gone = row_of(report, "gone");
  EXPECT_EQ(gone.status, PodStatus::vanished);
  EXPECT_FALSE(gone.in_totals);
  EXPECT_FALSE(gone.queries.delta);
  EXPECT_THAT(gone.queries.before, Optional(100.0));
  EXPECT_DOUBLE_EQ(report.totals.queries, 80.0);
  EXPECT_THAT(report.totals.hit_rate, Optional(0.5));
  EXPECT_EQ(report.totals.pods_vanished, 1u);
  EXPECT_EQ(report.totals.missing_pods, std::vector<std::string>{"gone (vanished during the run)"});
  const CacheDiagnostic* d = find_diagnostic(report, "pod gone was scraped");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message, "pod gone was scraped before the run but is missing after it: left out of the totals");
  EXPECT_EQ(d->pod, "gone");
  const CacheDiagnostic* fleet = find_diagnostic(report, "the totals cover");
  ASSERT_NE(fleet, nullptr);
  EXPECT_EQ(fleet->severity, Severity::error);
  EXPECT_EQ(fleet->message,
            "the totals cover 1 of 2 pods: 1 missing (gone (vanished during the run)); the hit rate and the shares "
            "describe the other pods only");
}

TEST(CacheReport, FailedScrapeIsLeftOutAndCounted) {
  const std::string error = "pod p2 (http://p2:8000/metrics): HTTP 404: is this the metrics port?";
  const CacheReport report = compute_cache_report({result_of_sim("p1", counts(0, 0)), result_of_sim("p2", counts(0, 0))},
                                                  {result_of_sim("p1", counts(100, 20)), failed_result("p2", error)});
  const PodCacheRow& p2 = row_of(report, "p2");
  EXPECT_EQ(p2.status, PodStatus::scrape_failed);
  EXPECT_EQ(p2.error, "after the run: " + error);
  EXPECT_FALSE(p2.in_totals);
  EXPECT_EQ(report.totals.pods_ok, 1u);
  EXPECT_EQ(report.totals.pods_failed, 1u);
  EXPECT_THAT(report.totals.max_pod_query_share, Optional(1.0));
  EXPECT_EQ(report.totals.missing_pods, std::vector<std::string>{"p2 (scrape failed)"});
  const CacheDiagnostic* d = find_diagnostic(report, "HTTP 404");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::error);
  EXPECT_EQ(d->message, "after the run: " + error);
  EXPECT_EQ(d->fix, "the pod is left out of the totals: fix the cause above and rerun");
}

TEST(CacheReport, CachingDisabledIsDiagnosedWithTheFix) {
  sim::PodMetrics off = counts(0, 0);
  off.enable_prefix_caching = false;
  sim::PodMetrics off_after = counts(500, 0);
  off_after.enable_prefix_caching = false;
  const CacheReport report = compute_cache_report({result_of_sim("cpu-pod", off)}, {result_of_sim("cpu-pod", off_after)});
  const PodCacheRow& row = report.pods[0];
  EXPECT_EQ(row.status, PodStatus::caching_disabled);
  EXPECT_THAT(row.prefix_caching_enabled, Optional(false));
  EXPECT_TRUE(row.in_totals);  // its lookups still belong to the fleet's figures
  const CacheDiagnostic* d = find_diagnostic(report, "disabled");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(d->pod, "cpu-pod");
  EXPECT_EQ(d->message,
            "prefix caching is disabled on pod cpu-pod (vllm:cache_config_info enable_prefix_caching=\"False\")");
  EXPECT_EQ(d->fix,
            "vLLM disables prefix caching on some backends (e.g. ARM CPU); start vLLM with --enable-prefix-caching");
}

TEST(CacheReport, BlocksAreDiagnosedAndMixedUnitsFlagged) {
  const std::string blocks_text = R"(# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried blocks.
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{model_name="m"} QUERIES
# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of cached blocks.
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{model_name="m"} HITS
)";
  auto blocks = [&](int queries, int hits) {
    std::string text = blocks_text;
    text.replace(text.find("QUERIES"), 7, std::to_string(queries));
    text.replace(text.find("HITS"), 4, std::to_string(hits));
    return result_of_text("v08", text);
  };
  const CacheReport report = compute_cache_report({blocks(10, 2), result_of_sim("v011", counts(0, 0))},
                                                  {blocks(30, 12), result_of_sim("v011", counts(100, 50))});
  const PodCacheRow& row = row_of(report, "v08");
  EXPECT_EQ(row.unit, CounterUnit::blocks);
  EXPECT_THAT(row.hit_rate, Optional(0.5));
  EXPECT_TRUE(report.totals.mixed_units);
  const CacheDiagnostic* d = find_diagnostic(report, "BLOCKS");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message,
            "pod v08 counts prefix-cache lookups in BLOCKS (vLLM V1 <= 0.8): its hit rate is still valid as a ratio, "
            "its token counts are not");
  EXPECT_NE(find_diagnostic(report, "different units"), nullptr);
  // JSON: each pod's counters under its own unit, the other pair null; mixed totals name no unit.
  const nlohmann::json json = to_json(report);
  const auto pod = [&](std::string_view name) {
    for (const auto& p : json.at("pods")) {
      if (p.at("pod") == name) {
        return p;
      }
    }
    throw std::runtime_error("no pod");
  };
  EXPECT_EQ(pod("v08").at("queries_blocks").at("delta"), 20.0);
  EXPECT_EQ(pod("v08").at("hits_blocks").at("delta"), 10.0);
  EXPECT_TRUE(pod("v08").at("queries_tokens").is_null());
  EXPECT_TRUE(pod("v08").at("hits_tokens").is_null());
  EXPECT_EQ(pod("v011").at("queries_tokens").at("delta"), 100.0);
  EXPECT_TRUE(pod("v011").at("queries_blocks").is_null());
  for (const auto* key : {"queries_tokens", "hits_tokens", "queries_blocks", "hits_blocks"}) {
    EXPECT_TRUE(json.at("totals").at(key).is_null()) << key;  // 20 blocks + 100 tokens is no number
  }
  EXPECT_EQ(json.at("totals").at("hit_rate"), report.totals.hit_rate.value());
}

TEST(CacheReport, JsonTotalsCarryTheirUnitAndNullWhereNothingWasCounted) {
  const CacheReport tokens = compute_cache_report({result_of_sim("p", counts(100, 10, 1))}, {result_of_sim("p", counts(300, 110, 3))});
  const nlohmann::json counted = to_json(tokens).at("totals");
  EXPECT_EQ(counted.at("queries_tokens"), 200.0);
  EXPECT_EQ(counted.at("hits_tokens"), 100.0);
  EXPECT_TRUE(counted.at("queries_blocks").is_null());
  EXPECT_EQ(counted.at("requests_success"), 2.0);
  // Only a pod that could not be scraped: no counter counted anything, so nothing is 0.
  const CacheReport nothing = compute_cache_report({failed_result("down", "connection refused")},
                                                   {failed_result("down", "connection refused")});
  const nlohmann::json empty = to_json(nothing).at("totals");
  for (const auto* key : {"queries_tokens", "hits_tokens", "queries_blocks", "hits_blocks", "requests_success", "hit_rate"}) {
    EXPECT_TRUE(empty.at(key).is_null()) << key << " " << empty.dump();
  }
}

TEST(CacheReport, OldNamesWithoutHelpAreFlaggedUnverifiedWithTheFix) {
  auto old_names = [](int queries, int hits) {
    return result_of_text("v09", "vllm:gpu_prefix_cache_queries_total{model_name=\"m\"} " + std::to_string(queries) +
                                     "\nvllm:gpu_prefix_cache_hits_total{model_name=\"m\"} " + std::to_string(hits) +
                                     "\n");
  };
  const CacheReport report = compute_cache_report({old_names(100, 20)}, {old_names(300, 120)});
  const PodCacheRow& row = row_of(report, "v09");
  EXPECT_EQ(row.unit, CounterUnit::tokens);
  EXPECT_FALSE(row.unit_verified);
  EXPECT_THAT(row.hit_rate, Optional(0.5));
  EXPECT_EQ(to_json(report).at("pods").at(0).at("unit_verified"), false);
  const CacheDiagnostic* d = find_diagnostic(report, "unverified");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::warning);
  EXPECT_EQ(d->message,
            "pod v09: vllm:gpu_prefix_cache_queries_total came without HELP text, so its unit is unverified: read as "
            "tokens (vLLM 0.9.0-0.9.1), but vLLM V1 <= 0.8.5 counted BLOCKS under this name (the hit rate stays valid "
            "as a ratio, token counts would be off by the block size)");
  EXPECT_EQ(d->fix,
            "check the pod's vLLM version (>= 0.9.0 counts tokens); through Prometheus, make its metadata API "
            "(/api/v1/targets/metadata) answer for this pod, or scrape the pod directly");
}

TEST(CacheReport, V0GaugeOnlyHasNoDeltaAndSaysSo) {
  const CacheReport report = compute_cache_report({result_of_sim("v0", sample_pod_metrics(), sim::MetricsFlavor::v0)},
                                                  {result_of_sim("v0", sample_pod_metrics(), sim::MetricsFlavor::v0)});
  const PodCacheRow& row = report.pods[0];
  EXPECT_EQ(row.status, PodStatus::no_counters);
  EXPECT_FALSE(row.in_totals);
  EXPECT_FALSE(row.hit_rate);
  EXPECT_THAT(row.hit_rate_gauge_after, Optional(0.25));
  EXPECT_THAT(row.requests_success.delta, Optional(0.0));
  const CacheDiagnostic* d = find_diagnostic(report, "V0 gauge");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message,
            "pod v0 exports only the V0 gauge vllm:gpu_prefix_cache_hit_rate = 0.25 (a cumulative ratio since the pod "
            "started, no counts): a hit rate over the run cannot be computed");
  EXPECT_EQ(report.diagnostics.front().message,
            "the scraped pod gave no usable prefix-cache counters: no hit rate can be computed");
}

TEST(CacheReport, ModelFilterMatchingNothingIsDiagnosed) {
  const std::string text = sim::render_metrics(counts(10, 5), sim::MetricsFlavor::v0_11);
  const CacheReport report =
      compute_cache_report({result_of_text("p1", text, "other-model")}, {result_of_text("p1", text, "other-model")});
  EXPECT_EQ(report.pods[0].status, PodStatus::no_counters);
  const CacheDiagnostic* d = find_diagnostic(report, "model filter");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message,
            "pod p1: the model filter matched none of its prefix-cache series (model_name values: "
            "\"meta-llama/Llama-3.1-8B\")");
}

TEST(CacheReport, ExternalCacheIsTotalledApart) {
  auto text = [](int local_hits, int external_hits) {
    return "vllm:prefix_cache_queries_total{model_name=\"m\"} 1000\nvllm:prefix_cache_hits_total{model_name=\"m\"} " +
           std::to_string(local_hits) + "\nvllm:external_prefix_cache_queries_total{model_name=\"m\"} 800\n" +
           "vllm:external_prefix_cache_hits_total{model_name=\"m\"} " + std::to_string(external_hits) + "\n";
  };
  const CacheReport report = compute_cache_report({result_of_text("p1", text(0, 0))}, {result_of_text("p1", text(0, 400))});
  EXPECT_DOUBLE_EQ(report.totals.hits, 0.0);
  EXPECT_THAT(report.totals.external_hits_tokens, Optional(400.0));
  EXPECT_THAT(report.totals.external_queries_tokens, Optional(0.0));
  EXPECT_THAT(report.pods[0].external_hits_tokens.delta, Optional(400.0));
}

TEST(CacheReport, JsonUsesSnakeCaseAndNullForUndefined) {
  const CacheReport report = compute_cache_report({}, {result_of_sim("p1", counts(0, 0))});
  const nlohmann::json json = to_json(report);
  const nlohmann::json& pod = json.at("pods").at(0);
  EXPECT_EQ(pod.at("pod"), "p1");
  EXPECT_EQ(pod.at("status"), "new");
  EXPECT_EQ(pod.at("flavor"), "v1_new_names");
  EXPECT_EQ(pod.at("unit"), "tokens");
  EXPECT_EQ(pod.at("unit_verified"), true);
  EXPECT_TRUE(pod.at("hit_rate").is_null());
  EXPECT_EQ(pod.at("queries_tokens").at("delta"), 0.0);
  EXPECT_EQ(pod.at("queries_tokens").at("delta_status"), "new");
  EXPECT_TRUE(pod.at("queries_tokens").at("before").is_null());
  EXPECT_EQ(pod.at("block_size_tokens"), 16);
  EXPECT_TRUE(json.at("totals").at("hit_rate").is_null());
  EXPECT_TRUE(json.at("totals").at("max_share_pod").is_null());
  EXPECT_EQ(json.at("totals").at("pods_ok"), 1);
  EXPECT_EQ(json.at("diagnostics").at(0).at("severity"), "error");
  EXPECT_TRUE(json.at("diagnostics").at(0).at("pod").is_null());
}

TEST(CacheReport, NaNCounterMakesThePodInvalidAndMissing) {
  const std::string text =
      "vllm:prefix_cache_queries_total{model_name=\"m\"} NaN\nvllm:prefix_cache_hits_total{model_name=\"m\"} 3\n";
  const CacheReport report = compute_cache_report({result_of_text("p1", text)}, {result_of_text("p1", text)});
  const PodCacheRow& row = report.pods[0];
  EXPECT_EQ(row.status, PodStatus::invalid);
  EXPECT_EQ(row.queries.delta_status, prom::DeltaStatus::invalid);
  EXPECT_FALSE(row.in_totals);
  EXPECT_EQ(report.totals.pods_invalid, 1u);
  const CacheDiagnostic* d = find_diagnostic(report, "NaN");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::error);
  EXPECT_EQ(d->message,
            "pod p1: vllm:prefix_cache_queries_total{model_name=\"m\"} holds nan (before: nan): not a counter value "
            "(NaN, infinite or negative)");
}

TEST(CacheReport, FailedScrapeBeforeTheRunIsNotANewPod) {
  const CacheReport report = compute_cache_report({failed_result("p1", "pod p1 (u): HTTP 500")},
                                                  {result_of_sim("p1", counts(10, 5))});
  const PodCacheRow& row = report.pods[0];
  EXPECT_EQ(row.status, PodStatus::scrape_failed);
  EXPECT_EQ(row.error, "before the run: pod p1 (u): HTTP 500");
  EXPECT_FALSE(row.in_totals);
  EXPECT_EQ(row.flavor, CounterFlavor::v1_new_names);  // described from the scrape that worked
}


// A data-parallel vLLM pod: one series per engine, each with its own `_created`, as vLLM >= 0.10
// exports them (HELP/TYPE as in the v0.11 capture).
struct EngineCounters {
  double queries = 0;
  double hits = 0;
  double requests = 0;
  double created = 1753795326.5;
};

std::string two_engine_text(const EngineCounters& e0, const EngineCounters& e1, bool duplicate_engine0 = false) {
  std::string text;
  const EngineCounters* engines[] = {&e0, &e1};
  auto counter = [&](std::string_view name, std::string_view help, double EngineCounters::*field, std::string_view extra) {
    text += fmt::format("# HELP vllm:{}_total {}\n# TYPE vllm:{}_total counter\n", name, help, name);
    for (int engine = 0; engine < 2; ++engine) {
      text += fmt::format("vllm:{}_total{{engine=\"{}\",{}model_name=\"m\"}} {}\n", name, engine, extra,
                          engines[engine]->*field);
      if (engine == 0 && duplicate_engine0) {
        text += fmt::format("vllm:{}_total{{model_name=\"m\",{}engine=\"0\"}} {}\n", name, extra, engines[engine]->*field);
      }
    }
    text += fmt::format("# HELP vllm:{}_created {}\n# TYPE vllm:{}_created gauge\n", name, help, name);
    for (int engine = 0; engine < 2; ++engine) {
      text += fmt::format("vllm:{}_created{{engine=\"{}\",{}model_name=\"m\"}} {}\n", name, engine, extra,
                          engines[engine]->created);
    }
  };
  counter("prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", &EngineCounters::queries, "");
  counter("prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", &EngineCounters::hits, "");
  counter("request_success", "Count of successfully processed requests.", &EngineCounters::requests,
          "finished_reason=\"stop\",");
  return text;
}

TEST(CacheReport, OneEngineRestartCountsThatEngineFromZeroAndTheOtherByItsGrowth) {
  // Engine 0 grows 40,000 -> 40,800 tokens; engine 1 restarts (new _created) and reaches 1,200, more
  // than its old 1,000: the sum grew, so summing first saw no reset (Δ 1,000 instead of 2,000), and
  // judging the pod by _created took the whole after-sum (42,000: 21x too much).
  const EngineCounters e0_before{40000, 36000, 400};
  const EngineCounters e0_after{40800, 36600, 408};
  const EngineCounters e1_before{1000, 500, 10};
  const EngineCounters e1_after{1200, 900, 12, 1753799999.0};
  const CacheReport report = compute_cache_report({result_of_text("dp", two_engine_text(e0_before, e1_before))},
                                                  {result_of_text("dp", two_engine_text(e0_after, e1_after))});
  const PodCacheRow& row = report.pods[0];
  EXPECT_THAT(row.queries.delta, Optional(800.0 + 1200.0));
  EXPECT_THAT(row.hits.delta, Optional(600.0 + 900.0));
  EXPECT_THAT(row.requests_success.delta, Optional(8.0 + 12.0));
  EXPECT_EQ(row.status, PodStatus::reset);
  ASSERT_EQ(row.queries.series_events.size(), 1u);
  EXPECT_EQ(row.queries.series_events[0].series, "engine=\"1\",model_name=\"m\"");
  EXPECT_EQ(row.reset_reason,
            "vllm:prefix_cache_queries_total{engine=\"1\",model_name=\"m\"} _created changed (1753795326.500 -> "
            "1753799999.000); counted from zero: 1200");
  EXPECT_THAT(report.totals.hit_rate, Optional(1500.0 / 2000.0));
  const auto json = to_json(report);
  const auto& events = json["pods"][0]["queries_tokens"]["series_events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["status"], "reset");
  EXPECT_EQ(events[0]["series"], "engine=\"1\",model_name=\"m\"");
}

TEST(CacheReport, OneEngineThatWentDownIsNamedAndOnlyItCountsFromZero) {
  const CacheReport report = compute_cache_report(
      {result_of_text("dp", two_engine_text({5000, 4000, 50}, {900, 600, 9}))},
      {result_of_text("dp", two_engine_text({5600, 4500, 56}, {120, 60, 1}))});
  const PodCacheRow& row = report.pods[0];
  EXPECT_THAT(row.queries.delta, Optional(600.0 + 120.0));  // the sum went DOWN 5,900 -> 5,720
  EXPECT_THAT(row.hits.delta, Optional(500.0 + 60.0));
  EXPECT_EQ(row.reset_reason,
            "vllm:prefix_cache_queries_total{engine=\"1\",model_name=\"m\"} went down from 900 to 120; counted from "
            "zero");
}

TEST(CacheReport, DuplicatedSeriesMakeThePodInvalidNotASum) {
  // The same series twice (label order differs): summing gave 183% in a real scrape.
  const CacheReport report = compute_cache_report(
      {result_of_text("dup", two_engine_text({100, 90, 1}, {100, 90, 1}, true)), result_of_sim("ok", counts(0, 0))},
      {result_of_text("dup", two_engine_text({1100, 990, 11}, {200, 180, 2}, true)), result_of_sim("ok", counts(100, 50))});
  const PodCacheRow& row = row_of(report, "dup");
  EXPECT_EQ(row.status, PodStatus::invalid);
  EXPECT_FALSE(row.in_totals);
  EXPECT_FALSE(row.hit_rate);
  EXPECT_THAT(row.error, ::testing::HasSubstr("vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m\"}"));
  EXPECT_DOUBLE_EQ(report.totals.queries, 100.0);  // only pod "ok"
  EXPECT_EQ(report.totals.missing_pods, std::vector<std::string>{"dup (invalid figures)"});
  const CacheDiagnostic* d = find_diagnostic(report, "the same series more than once");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::error);
  EXPECT_EQ(d->pod, "dup");
}

TEST(CacheReport, MoreHitsThanQueriesIsAnErrorForThePodNeverAHitRate) {
  const CacheReport report = compute_cache_report({result_of_sim("p1", counts(1000, 100))},
                                                  {result_of_sim("p1", counts(1100, 590))});
  const PodCacheRow& row = report.pods[0];
  EXPECT_EQ(row.status, PodStatus::invalid);
  EXPECT_EQ(row.error, "Δhits 490 > Δqueries 100 (hit rate 4.9): a cache cannot hit more than it was asked");
  EXPECT_FALSE(row.in_totals);
  EXPECT_FALSE(report.totals.hit_rate);
  const CacheDiagnostic* d = find_diagnostic(report, "Δhits 490");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::error);
}

TEST(CacheReport, MaxPodShareIsAShareOfRequestsAndTheQueryShareIsApart) {
  // 6 of 12 requests on pod a, but longer prompts elsewhere: a share of queries of 0.4742 is not
  // "served half of the requests".
  const CacheReport report = compute_cache_report(
      {result_of_sim("a", counts(0, 0, 0)), result_of_sim("b", counts(0, 0, 0)), result_of_sim("c", counts(0, 0, 0))},
      {result_of_sim("a", counts(6012, 5000, 6)), result_of_sim("b", counts(3340, 3000, 3)),
       result_of_sim("c", counts(3326, 2900, 3))});
  EXPECT_THAT(row_of(report, "a").share_of_requests, Optional(0.5));
  EXPECT_THAT(report.totals.max_pod_share, Optional(0.5));
  EXPECT_EQ(report.totals.max_share_pod, "a");
  EXPECT_NEAR(*report.totals.max_pod_query_share, 6012.0 / 12678.0, 1e-12);
  EXPECT_EQ(report.totals.max_query_share_pod, "a");
  EXPECT_DOUBLE_EQ(report.totals.requests_success, 12.0);
  const auto json = to_json(report);
  EXPECT_EQ(json["totals"]["max_pod_share"], 0.5);
  EXPECT_EQ(json["pods"][0]["share_of_requests"], 0.5);
}

TEST(CacheReport, NoPodsAtAll) {
  const CacheReport report = compute_cache_report({}, {});
  ASSERT_EQ(report.diagnostics.size(), 1u);
  EXPECT_EQ(report.diagnostics[0].message, "no pod was scraped: there are no prefix-cache figures");
}

}  // namespace
}  // namespace llmd::scrape
