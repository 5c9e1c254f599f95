// `checks:`, `thresholds:`, `cache:`, `sim:` and the rules that span sections.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario_test_support.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::scenario {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::k_load;
using test::load_error;
using test::load_ok;

std::string with(std::string_view lines) { return std::string(k_load) + std::string(lines); }

TEST(ScenarioChecks, DefaultDependsOnStreaming) {
  EXPECT_EQ(load_ok(k_load).checks,
            (std::vector<CheckKind>{CheckKind::status_200, CheckKind::non_empty_content, CheckKind::sse_content_type}));
  EXPECT_EQ(load_ok(with("requests: {stream: false}\n")).checks,
            (std::vector<CheckKind>{CheckKind::status_200, CheckKind::non_empty_content}));
}

TEST(ScenarioChecks, ExplicitListAndErrors) {
  EXPECT_EQ(load_ok(with("checks: [status-200]\n")).checks, (std::vector<CheckKind>{CheckKind::status_200}));
  EXPECT_TRUE(load_ok(with("checks: []\n")).checks.empty());
  EXPECT_EQ(load_error(with("checks: [status-200, status_200]\n")),
            "scenarios/x.yaml:5:22: checks[1]: check \"status_200\" is listed twice");
  EXPECT_EQ(load_error(with("checks: [status-201]\n")),
            "scenarios/x.yaml:5:10: checks[0]: unknown check \"status-201\"; expected one of status-200, "
            "non-empty-content, sse-content-type (or status_200, non_empty_content, sse_content_type)");
  EXPECT_EQ(load_error(with("checks: [status-200, status-200]\n")),
            "scenarios/x.yaml:5:22: checks[1]: check \"status-200\" is listed twice");
  EXPECT_EQ(load_error(with("requests: {stream: false}\nchecks: [sse-content-type]\n")),
            "scenarios/x.yaml:6:10: checks[0]: sse-content-type needs requests.stream: true (a non-streaming answer is "
            "plain JSON)");
}

// Reports name a check as the scenario wrote it; either spelling is accepted.
TEST(ScenarioChecks, KeepTheirSpellingForReports) {
  const Scenario scenario = load_ok(with("checks: [status-200, non_empty_content]\n"));
  EXPECT_EQ(scenario.checks, (std::vector<CheckKind>{CheckKind::status_200, CheckKind::non_empty_content}));
  EXPECT_EQ(check_name(scenario, CheckKind::status_200), "status-200");
  EXPECT_EQ(check_name(scenario, CheckKind::non_empty_content), "non_empty_content");
  const Scenario defaults = load_ok(k_load);
  EXPECT_EQ(check_name(defaults, CheckKind::status_200), "status_200");
  EXPECT_EQ(check_name(defaults, CheckKind::sse_content_type), "sse_content_type");
}

// k6: `checks: ['rate>0.99']` over every check, `'checks{check:NAME}'` over one.
TEST(ScenarioThresholds, ChecksAndOneCheckByItsTag) {
  const Scenario scenario = load_ok(with("checks: [status-200, non-empty-content]\n"
                                         "thresholds:\n"
                                         "  checks: ['rate>0.99']\n"
                                         "  'checks{check:status-200}': ['rate>0.999']\n"
                                         "  'checks{ check : non_empty_content }': rate>0.9\n"));
  ASSERT_EQ(scenario.thresholds.size(), 3u);
  EXPECT_EQ(scenario.thresholds[0].metric, "checks");
  EXPECT_EQ(scenario.thresholds[0].check, "");
  EXPECT_EQ(scenario.thresholds[1].metric, "checks");
  EXPECT_EQ(scenario.thresholds[1].check, "status-200");
  EXPECT_EQ(display_name(scenario.thresholds[1]), "checks{check:status-200}");
  EXPECT_DOUBLE_EQ(scenario.thresholds[1].limit, 0.999);
  EXPECT_EQ(scenario.thresholds[2].check, "non_empty_content");
  // The default checks by their canonical names.
  EXPECT_EQ(load_ok(with("thresholds:\n  checks{check:sse_content_type}: [rate==1]\n")).thresholds[0].check,
            "sse_content_type");
}

TEST(ScenarioThresholds, ACheckTagMustNameOneOfTheRunsChecks) {
  EXPECT_EQ(load_error(with("checks: [status-200]\nthresholds:\n  checks{check:non-empty-content}: [rate>0.9]\n")),
            "scenarios/x.yaml:7:37: thresholds.checks{check:non-empty-content}: \"rate>0.9\": no check \"non-empty-content\" in this run; its "
            "checks: status-200");
  EXPECT_EQ(load_error(with("checks: []\nthresholds:\n  checks{check:status-200}: [rate>0.9]\n")),
            "scenarios/x.yaml:7:30: thresholds.checks{check:status-200}: \"rate>0.9\": no check \"status-200\" in this run; its checks: "
            "none (checks: [])");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft{check:status-200}: [\"p(95)<2s\"]\n")),
            "scenarios/x.yaml:6:3: thresholds: \"ttft{check:status-200}\": a tag filter is supported only as "
            "checks{check:NAME} or ttft / inter_token_latency / http_req_duration {pod:NAME}, e.g. "
            "checks{check:status_200}, ttft{pod:sim-pod-0}");
  EXPECT_EQ(load_error(with("thresholds:\n  checks{scenario:a}: [rate>0.9]\n")),
            "scenarios/x.yaml:6:3: thresholds: \"checks{scenario:a}\": a tag filter is supported only as "
            "checks{check:NAME} or ttft / inter_token_latency / http_req_duration {pod:NAME}, e.g. "
            "checks{check:status_200}, ttft{pod:sim-pod-0}");
}

// k6-style tag filter on the per-request latencies: the requests a served-by header attributed to one pod.
TEST(ScenarioThresholds, PodTagOnLatencies) {
  const Scenario scenario = load_ok(with("thresholds:\n"
                                         "  'ttft{pod:sim-pod-0}': ['p(95)<2s']\n"
                                         "  'itl{ pod : sim-pod-1 }': ['p(99)<50ms']\n"
                                         "  http_req_duration{pod:10.0.0.5:8000}: ['max<10s']\n"));
  ASSERT_EQ(scenario.thresholds.size(), 3u);
  EXPECT_EQ(scenario.thresholds[0].metric, "ttft");
  EXPECT_EQ(scenario.thresholds[0].pod, "sim-pod-0");
  EXPECT_EQ(scenario.thresholds[0].check, "");
  EXPECT_EQ(display_name(scenario.thresholds[0]), "ttft{pod:sim-pod-0}");
  EXPECT_EQ(scenario.thresholds[1].metric, "inter_token_latency");
  EXPECT_EQ(scenario.thresholds[1].pod, "sim-pod-1");
  EXPECT_EQ(scenario.thresholds[2].pod, "10.0.0.5:8000");
  EXPECT_EQ(load_error(with("thresholds:\n  http_reqs{pod:sim-pod-0}: [count>1]\n")),
            "scenarios/x.yaml:6:3: thresholds: \"http_reqs{pod:sim-pod-0}\": a tag filter is supported only as "
            "checks{check:NAME} or ttft / inter_token_latency / http_req_duration {pod:NAME}, e.g. "
            "checks{check:status_200}, ttft{pod:sim-pod-0}");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft{pod:}: ['p(95)<2s']\n")),
            "scenarios/x.yaml:6:3: thresholds: \"ttft{pod:}\": a tag filter is supported only as "
            "checks{check:NAME} or ttft / inter_token_latency / http_req_duration {pod:NAME}, e.g. "
            "checks{check:status_200}, ttft{pod:sim-pod-0}");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft{pod:a}: [{threshold: 'p(95)<2s', abortOnFail: true}]\n")),
            "scenarios/x.yaml:6:17: thresholds.ttft{pod:a}[0]: ttft{pod:a} cannot be evaluated during the run (requests "
            "are attributed to pods once it is over); remove abortOnFail");
}

// The routing metrics: trends over groups, a ratio, and a gauge whose limit may exceed 1.
TEST(ScenarioThresholds, RoutingMetrics) {
  const Scenario scenario = load_ok(with("thresholds:\n"
                                         "  affinity: ['p(10)>=0.95']\n"
                                         "  pod_switches: ['max<=2']\n"
                                         "  routing_efficiency: ['>=0.9']\n"
                                         "  load_imbalance_cv: ['<1.5']\n"));
  ASSERT_EQ(scenario.thresholds.size(), 4u);
  EXPECT_EQ(scenario.thresholds[0].aggregation.kind, AggregationKind::percentile);
  EXPECT_EQ(scenario.thresholds[0].aggregation.percentile, 10);
  EXPECT_EQ(scenario.thresholds[3].aggregation.kind, AggregationKind::value);
  EXPECT_DOUBLE_EQ(scenario.thresholds[3].limit, 1.5);
  EXPECT_THAT(load_error(with("thresholds:\n  routing_efficiency: ['>=1.5']\n")),
              testing::HasSubstr("routing_efficiency is a fraction between 0 and 1"));
  EXPECT_THAT(load_error(with("thresholds:\n  affinity: [{threshold: 'p(10)>0.9', abortOnFail: true}]\n")),
              testing::HasSubstr("affinity cannot be evaluated during the run: the routing analysis is computed once "
                                 "the measured phases are over; remove abortOnFail"));
  EXPECT_THAT(load_error(with("thresholds:\n  load_imbalance_cv: ['avg<1']\n")),
              testing::HasSubstr("load_imbalance_cv (a gauge metric) takes value, or no aggregation at all"));
}

// k6's object form with llmd-bench's severity; abortOnFail / delayAbortEval in k6's spelling or
// this format's snake_case.
TEST(ScenarioThresholds, ObjectFormWithSeverityAndAbortOnFail) {
  const Scenario scenario = load_ok(with("thresholds:\n"
                                         "  cache_hit_rate: [{threshold: \">=0.90\", severity: warn}, \">=0.70\"]\n"
                                         "  http_req_failed:\n"
                                         "    - {threshold: rate<0.01, abortOnFail: true, delayAbortEval: 10s}\n"
                                         "    - {threshold: rate<0.05, abort_on_fail: true, delay_abort_eval: 1m, severity: fail}\n"
                                         "  ttft: {threshold: \"p(95)<2s\"}\n"));
  ASSERT_EQ(scenario.thresholds.size(), 5u);
  EXPECT_EQ(scenario.thresholds[0].severity, ThresholdSeverity::warn);
  EXPECT_EQ(scenario.thresholds[0].source, ">=0.90");
  EXPECT_EQ(scenario.thresholds[0].where.line, 6);
  EXPECT_EQ(scenario.thresholds[1].severity, ThresholdSeverity::fail);
  EXPECT_FALSE(scenario.thresholds[1].abort_on_fail);
  EXPECT_TRUE(scenario.thresholds[2].abort_on_fail);
  EXPECT_EQ(scenario.thresholds[2].delay_abort_eval, 10s);
  EXPECT_TRUE(scenario.thresholds[3].abort_on_fail);
  EXPECT_EQ(scenario.thresholds[3].delay_abort_eval, 1min);
  EXPECT_EQ(scenario.thresholds[4].metric, "ttft");
}

TEST(ScenarioThresholds, ObjectFormErrors) {
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{severity: warn}]\n")),
            "scenarios/x.yaml:6:10: thresholds.ttft[0]: missing required key \"threshold\"");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", severity: error}]\n")),
            "scenarios/x.yaml:6:44: thresholds.ttft[0].severity: unknown severity \"error\"; expected one of fail, warn");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", abortOnFail: yes}]\n")),
            "scenarios/x.yaml:6:47: thresholds.ttft[0].abortOnFail: expected a boolean (true or false), got \"yes\"");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", abortOnFail: true, abort_on_fail: true}]\n")),
            "scenarios/x.yaml:6:68: thresholds.ttft[0].abort_on_fail: give abortOnFail or abort_on_fail, not both");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", delayAbortEval: 10s}]\n")),
            "scenarios/x.yaml:6:50: thresholds.ttft[0].delayAbortEval: applies only with abortOnFail: true (it delays the "
            "evaluation that may abort the run)");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", severity: warn, abortOnFail: true}]\n")),
            "scenarios/x.yaml:6:63: thresholds.ttft[0].abortOnFail: a threshold with severity: warn never fails the run, "
            "so it cannot abort it; remove abortOnFail or the severity");
  EXPECT_EQ(load_error(with("thresholds:\n  cache_hit_rate: [{threshold: \">=0.9\", abortOnFail: true}]\n")),
            "scenarios/x.yaml:6:54: thresholds.cache_hit_rate[0].abortOnFail: cache_hit_rate cannot be evaluated during "
            "the run: the pods' counters are read only before and after the measured phases; remove abortOnFail (the "
            "threshold is still judged at the end)");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p(95)<2s\", abortOnFall: true}]\n")),
            "scenarios/x.yaml:6:34: thresholds.ttft[0]: unknown key \"abortOnFall\" in a threshold object; valid keys: "
            "threshold, severity, abortOnFail, abort_on_fail, delayAbortEval, delay_abort_eval");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [{threshold: \"p99<2s\"}]\n")),
            "scenarios/x.yaml:6:22: thresholds.ttft[0].threshold: \"p99<2s\": unknown aggregation \"p99\"; ttft (a time "
            "metric) takes avg, min, max, med or p(N), e.g. \"p(95)<2s\"");
}

TEST(ScenarioThresholds, ParsedAtLoadWithLocations) {
  const Scenario scenario = load_ok(with("thresholds:\n"
                                         "  ttft: [\"p(95)<2s\", \"p(99)<3s\"]\n"
                                         "  itl: \"p(95)<50ms\"\n"
                                         "  http_req_failed:\n    - rate<0.05\n"));
  ASSERT_EQ(scenario.thresholds.size(), 4u);
  EXPECT_EQ(scenario.thresholds[0].metric, "ttft");
  EXPECT_EQ(scenario.thresholds[0].source, "p(95)<2s");
  EXPECT_DOUBLE_EQ(scenario.thresholds[1].limit, 3.0);
  EXPECT_EQ(scenario.thresholds[1].where.line, 6);
  EXPECT_EQ(scenario.thresholds[1].where.column, 22);
  EXPECT_EQ(scenario.thresholds[2].metric, "inter_token_latency");
  EXPECT_DOUBLE_EQ(scenario.thresholds[2].limit, 0.05);
  EXPECT_EQ(scenario.thresholds[3].source, "rate<0.05");
  EXPECT_EQ(scenario.thresholds[3].where.line, 9);
}

TEST(ScenarioThresholds, BadExpressionFailsTheLoad) {
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: [\"p(95)<2s\", \"p99<3s\"]\n")),
            "scenarios/x.yaml:6:22: thresholds.ttft[1]: \"p99<3s\": unknown aggregation \"p99\"; ttft (a time metric) "
            "takes avg, min, max, med or p(N), e.g. \"p(95)<2s\"");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft: []\n")),
            "scenarios/x.yaml:6:9: thresholds.ttft: expected at least one expression, e.g. [\"p(95)<2s\"]");
  EXPECT_EQ(load_error(with("thresholds:\n  ttft:\n")),
            "scenarios/x.yaml:6:3: thresholds.ttft: expected a list of expressions, e.g. [\"p(95)<2s\"]");
}

TEST(ScenarioThresholds, UnknownMetricListsValidOnes) {
  EXPECT_EQ(load_error(with("thresholds:\n  ttfb: [\"p(95)<2s\"]\n")),
            "scenarios/x.yaml:6:3: thresholds: unknown metric \"ttfb\"; valid metrics: ttft, inter_token_latency (itl), "
            "http_req_duration, time_to_first_byte, time_to_first_event, tokens_per_second, output_tokens, http_reqs, "
            "http_req_failed, http_req_cut, stream_buffered, dropped_requests, goodput, good_fraction, checks, cache_hit_rate, max_pod_share, "
            "max_pod_query_share, schedule_lag, event_loop_lag, routing_efficiency, affinity, pod_switches, load_imbalance_cv, cache_recovery_time");
}

TEST(ScenarioThresholds, StreamingMetricsNeedStreaming) {
  EXPECT_EQ(load_error(with("requests: {stream: false}\nthresholds:\n  ttft: [\"p(95)<2s\"]\n")),
            "scenarios/x.yaml:7:10: thresholds.ttft: \"p(95)<2s\" needs requests.stream: true (tokens are timed on the "
            "stream)");
  EXPECT_EQ(load_error(with("requests: {stream: false}\nthresholds:\n  stream_buffered: [\"rate<0.1\"]\n")),
            "scenarios/x.yaml:7:21: thresholds.stream_buffered: \"rate<0.1\" needs requests.stream: true (tokens are "
            "timed on the stream)");
}

TEST(ScenarioThresholds, CacheMetricsNeedPodMetrics) {
  EXPECT_EQ(load_error(with("cache: {source: none}\nthresholds:\n  cache_hit_rate: [\">=0.9\"]\n")),
            "scenarios/x.yaml:7:20: thresholds.cache_hit_rate: \">=0.9\" needs per-pod metrics: list the pods' metrics "
            "URLs in cache.urls (or run against the embedded simulator)");
  EXPECT_EQ(load_error(with("target: {base_url: \"http://gw\"}\nthresholds:\n  max_pod_share: [\">=0.8\"]\n")),
            "scenarios/x.yaml:7:19: thresholds.max_pod_share: \">=0.8\" needs per-pod metrics: list the pods' metrics "
            "URLs in cache.urls (or run against the embedded simulator)");
  EXPECT_EQ(load_ok(with("target: {base_url: \"http://gw\"}\ncache: {urls: [\"http://10.0.0.5:8000/metrics\"]}\n"
                         "thresholds:\n  max_pod_share: [\">=0.8\"]\n"))
                .thresholds.size(),
            1u);
}

TEST(ScenarioCache, DefaultIsAutomatic) {
  const CacheSpec cache = load_ok(k_load).cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::automatic);
  EXPECT_EQ(cache.scrape_timeout, 10s);
  EXPECT_EQ(cache.max_parallel_scrapes, 32u);
  EXPECT_EQ(cache.allow_missing_pods, 0u);
  EXPECT_EQ(load_ok(with("cache: {source: auto, allow_missing_pods: 2}\n")).cache.allow_missing_pods, 2u);
}

TEST(ScenarioCache, UrlsInferredOrExplicit) {
  const CacheSpec cache = load_ok(with("cache:\n  urls:\n    - http://10.0.0.5:8000/metrics\n    - http://10.0.0.6:8000/metrics\n"
                                       "  model_filter: llama\n  scrape_timeout: 2s\n  max_parallel_scrapes: 4\n"))
                              .cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::urls);
  EXPECT_EQ(cache.urls, (std::vector<std::string>{"http://10.0.0.5:8000/metrics", "http://10.0.0.6:8000/metrics"}));
  EXPECT_EQ(cache.model_filter, "llama");
  EXPECT_EQ(cache.scrape_timeout, 2s);
  EXPECT_EQ(cache.max_parallel_scrapes, 4u);
  EXPECT_EQ(cache.where.line, 6);
  EXPECT_EQ(load_ok(with("cache: {source: urls, urls: [\"http://p:1/metrics\"]}\n")).cache.source, CacheSpec::Source::urls);
  EXPECT_EQ(load_ok(with("cache: {source: none}\n")).cache.source, CacheSpec::Source::none);
  EXPECT_EQ(load_ok(with("cache: {source: auto}\n")).cache.source, CacheSpec::Source::automatic);
}

TEST(ScenarioCache, Files) {
  const fs::path dir = llmd::test::scratch_dir();
  std::ofstream(dir / "pod-0.prom") << "# empty\n";
  auto scenario = load_scenario_text(with("cache:\n  files: [pod-0.prom]\n"), (dir / "s.yaml").string());
  ASSERT_TRUE(scenario) << scenario.error();
  EXPECT_EQ(scenario->cache.source, CacheSpec::Source::files);
  EXPECT_EQ(scenario->cache.files, (std::vector<std::string>{(dir / "pod-0.prom").string()}));
}

TEST(ScenarioCache, Errors) {
  EXPECT_EQ(load_error(with("cache: {source: graphite}\n")),
            "scenarios/x.yaml:5:17: cache.source: unknown cache source \"graphite\"; expected one of auto, none, urls, "
            "files, kubernetes, prometheus");
  EXPECT_EQ(load_error(with("cache: {source: none, urls: [\"http://p:1/metrics\"]}\n")),
            "scenarios/x.yaml:5:23: cache: unknown key \"urls\" for cache source none; valid keys: source, model_filter, "
            "scrape_timeout, max_parallel_scrapes, allow_missing_pods, interval");
  EXPECT_EQ(load_error(with("cache: {source: auto, allow_missing_pods: -1}\n")),
            "scenarios/x.yaml:5:43: cache.allow_missing_pods: must be >= 0, got -1");
  EXPECT_EQ(load_error(with("cache: {source: urls}\n")), "scenarios/x.yaml:5:8: cache: missing required key \"urls\"");
  EXPECT_EQ(load_error(with("cache: {urls: []}\n")),
            "scenarios/x.yaml:5:15: cache.urls: must list at least one pod metrics URL, e.g. "
            "http://10.0.0.5:8000/metrics");
  EXPECT_EQ(load_error(with("cache: {urls: [\"10.0.0.5:8000\"]}\n")),
            "scenarios/x.yaml:5:16: cache.urls[0]: expected an http:// or https:// URL with a host, got \"10.0.0.5:8000\"");
  EXPECT_EQ(load_error(with("cache: {pods: 3}\n")),
            "scenarios/x.yaml:5:9: cache: unknown key \"pods\" for cache source auto; valid keys: source, model_filter, "
            "scrape_timeout, max_parallel_scrapes, allow_missing_pods, interval");
}

TEST(ScenarioSim, MapsOntoSimConfig) {
  const sim::SimConfig config = load_ok(with("sim:\n  pods: 3\n  route: round-robin\n  metrics_flavor: v0.10\n"
                                             "  host: llm.example\n  block_size: 32\n  kv_blocks: 1024\n"
                                             "  prefix_caching: false\n  session_timeout: 2h\n  error_rate: 0.1\n"
                                             "  restart_downtime: 1500ms\n  first_pod_port: 18000\n"
                                             "  timing:\n    prefill_base: 5ms\n    prefill_per_token: 20us\n"
                                             "    inter_token: 2ms\n    time_scale: 0.5\n"))
                                    .sim;
  EXPECT_EQ(config.pods, 3u);
  EXPECT_EQ(config.route, sim::RoutePolicy::round_robin);
  EXPECT_EQ(config.pod.metrics_flavor, sim::MetricsFlavor::v0_10);
  EXPECT_EQ(config.host, "llm.example");
  EXPECT_EQ(config.pod.block_size_tokens, 32u);
  EXPECT_EQ(config.pod.kv_blocks, 1024u);
  EXPECT_FALSE(config.pod.enable_prefix_caching);
  EXPECT_DOUBLE_EQ(config.session_timeout_s, 7200);
  EXPECT_DOUBLE_EQ(config.pod.error_rate, 0.1);
  EXPECT_DOUBLE_EQ(config.pod.restart_downtime_s, 1.5);
  EXPECT_EQ(config.first_pod_port, 18000);
  EXPECT_DOUBLE_EQ(config.pod.timing.prefill_base_ms, 5);
  EXPECT_DOUBLE_EQ(config.pod.timing.prefill_per_token_us, 20);
  EXPECT_DOUBLE_EQ(config.pod.timing.inter_token_ms, 2);
  EXPECT_DOUBLE_EQ(config.pod.timing.time_scale, 0.5);
}

TEST(ScenarioSim, ErrorsFromTheSimulatorAreLocated) {
  EXPECT_EQ(load_error(with("sim:\n  route: sticky\n")),
            "scenarios/x.yaml:6:10: sim.route: unknown route \"sticky\": choose prefix, session, round-robin, random or "
            "least-loaded");
  EXPECT_EQ(load_error(with("sim:\n  metrics_flavor: v1\n")),
            "scenarios/x.yaml:6:19: sim.metrics_flavor: unknown metrics flavor \"v1\": expected one of \"v0\", "
            "\"v0.10\", \"v0.11\"");
  EXPECT_EQ(load_error(with("sim:\n  pods: 0\n")), "scenarios/x.yaml:6:9: sim.pods: must be >= 1, got 0");
  EXPECT_EQ(load_error(with("sim:\n  error_rate: 2\n")),
            "scenarios/x.yaml:6:15: sim.error_rate: must be <= 1, got 2");
  EXPECT_EQ(load_error(with("sim:\n  gateway_port: 70000\n")),
            "scenarios/x.yaml:6:17: sim.gateway_port: must be <= 65535, got 70000");
  EXPECT_EQ(load_error(with("sim:\n  timing: {inter_token: 10}\n")),
            "scenarios/x.yaml:6:25: sim.timing.inter_token: duration \"10\" has no unit; add one, e.g. \"10s\" or "
            "\"10ms\" (units: h, m, s, ms, us, ns)");
  EXPECT_EQ(load_error(with("sim:\n  replicas: 2\n")),
            "scenarios/x.yaml:6:3: sim: unknown key \"replicas\"; valid keys: pods, bind, gateway_port, first_pod_port, "
            "host, route, session_timeout, prefix_index_blocks, seed, model, block_size, kv_blocks, prefix_caching, "
            "metrics_flavor, max_num_seqs, max_model_len, default_max_tokens, error_rate, abort_rate, "
            "restart_downtime, timing, prompt_tokens_details, gateway_allow_no_model, dev_mode, tokenizer_piece_bytes, endpoint_header");
  EXPECT_EQ(load_error(with("sim:\n  tokenizer_piece_bytes: 9\n")),
            "scenarios/x.yaml:6:26: sim.tokenizer_piece_bytes: must be <= 8, got 9");
  EXPECT_EQ(load_ok(with("sim: {tokenizer_piece_bytes: 3}\n")).sim.pod.tokenizer_piece_bytes, 3u);
  EXPECT_EQ(load_ok(with("sim: {pods: 2}\n")).sim.pod.tokenizer_piece_bytes, 8u);  // the generator's rule
  EXPECT_TRUE(load_ok(with("sim: {prompt_tokens_details: true}\n")).sim.pod.prompt_tokens_details);
  EXPECT_FALSE(load_ok(with("sim: {pods: 2}\n")).sim.pod.prompt_tokens_details);  // off by default, as in vLLM
}

TEST(ScenarioSim, OnlyWithoutTarget) {
  EXPECT_EQ(load_error(with("target: {base_url: \"http://gw\"}\nsim: {pods: 2}\n")),
            "scenarios/x.yaml:6:6: sim: the embedded simulator runs only without target.base_url; remove `sim` or the "
            "base_url");
}

TEST(ScenarioSim, ServesTheScenarioModel) {
  EXPECT_EQ(load_ok(with("model: tiny\n")).sim.pod.model, "tiny");
  EXPECT_EQ(load_ok(with("model: tiny\nsim: {pods: 2}\n")).sim.pod.model, "tiny");
  EXPECT_EQ(load_ok(with("sim: {model: big}\n")).sim.pod.model, "big");
  EXPECT_EQ(load_error(with("model: tiny\nsim: {model: big}\n")),
            "scenarios/x.yaml:6:14: sim.model: the simulator would serve \"big\" but requests ask for model \"tiny\"; "
            "drop one of the two");
}

// `slo:` (issue 17 item 1): per-request objectives for goodput.
TEST(ScenarioSlo, ReadsEveryObjectiveAndHowItlIsJudged) {
  const Scenario plain = load_ok(with(""));
  EXPECT_FALSE(plain.slo);
  const Scenario s = load_ok(with("slo: {ttft: 2s, itl: 100ms, itl_stat: max, tpot: 50ms, e2e: 30s}\n"
                                  "thresholds:\n  goodput: [\"rate>=5\"]\n  good_fraction: [\"rate>=0.9\"]\n"));
  ASSERT_TRUE(s.slo);
  EXPECT_EQ(s.slo->ttft, 2s);
  EXPECT_EQ(s.slo->itl, 100ms);
  EXPECT_EQ(s.slo->itl_stat, ItlStat::max);
  EXPECT_EQ(s.slo->tpot, 50ms);
  EXPECT_EQ(s.slo->e2e, 30s);
  EXPECT_EQ(to_string(s.slo->where), "scenarios/x.yaml:5:6");
  const Scenario ttft_only = load_ok(with("slo: {ttft: 1500ms}\n"));
  ASSERT_TRUE(ttft_only.slo);
  EXPECT_EQ(ttft_only.slo->itl_stat, ItlStat::p95);
  EXPECT_FALSE(ttft_only.slo->itl || ttft_only.slo->tpot || ttft_only.slo->e2e);
  // Without streaming only e2e can be judged.
  EXPECT_TRUE(load_ok(with("requests: {stream: false}\nslo: {e2e: 10s}\n")).slo);
}

TEST(ScenarioSlo, ErrorsNameTheKeyAndTheFix) {
  EXPECT_EQ(load_error(with("slo: {ttft: 2s, p99: 1s}\n")),
            "scenarios/x.yaml:5:17: slo: unknown key \"p99\"; valid keys: ttft, itl, itl_stat, tpot, e2e");
  EXPECT_EQ(load_error(with("slo: {}\n")),
            "scenarios/x.yaml:5:6: slo: set at least one objective: ttft, itl, tpot or e2e (e.g. `slo: {ttft: 2s}`)");
  EXPECT_EQ(load_error(with("slo: {ttft: 0s}\n")).substr(0, 28), "scenarios/x.yaml:5:13: slo.t");
  EXPECT_THAT(load_error(with("slo: {ttft: 2 seconds}\n")), testing::StartsWith("scenarios/x.yaml:5:13: slo.ttft: "));
  EXPECT_EQ(load_error(with("slo: {ttft: 2s, itl_stat: p95}\n")),
            "scenarios/x.yaml:5:27: slo.itl_stat: itl_stat says how to judge slo.itl, which is not set; add `itl: 100ms` "
            "or remove it");
  EXPECT_EQ(load_error(with("slo: {itl: 50ms, itl_stat: p99}\n")),
            "scenarios/x.yaml:5:28: slo.itl_stat: unknown slo.itl_stat \"p99\"; expected one of p95, max");
  EXPECT_EQ(load_error(with("requests: {stream: false}\nslo: {ttft: 2s}\n")),
            "scenarios/x.yaml:6:6: slo: ttft, itl and tpot need requests.stream: true (tokens are timed on the stream); "
            "without streaming only e2e can be judged");
  EXPECT_EQ(load_error(with("thresholds:\n  good_fraction: [\"rate>=0.9\"]\n")),
            "scenarios/x.yaml:6:19: thresholds.good_fraction: \"rate>=0.9\" needs an `slo:` section: a request is good "
            "when it meets the SLOs (e.g. `slo: {ttft: 2s}`)");
  EXPECT_THAT(load_error(with("slo: {ttft: 2s}\nthresholds:\n  good_fraction: [\">=0.9\"]\n")),
              testing::HasSubstr("good_fraction"));
}

}  // namespace
}  // namespace llmd::scenario
