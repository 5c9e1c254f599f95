// PrometheusSource against a scripted Prometheus API on 127.0.0.1 (test/scrape/fake_prometheus.hpp):
// queries, synthesized expositions, errors. Freshness and HELP: prometheus_freshness_test.cpp.
#include "scrape/prometheus_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "prom/text_parser.hpp"
#include "scrape/fake_prometheus.hpp"
#include "scrape/prometheus_test_support.hpp"

namespace llmd::scrape {
namespace {

using testing::api_json;
using testing::CannedResponse;
using testing::FakePrometheus;
using testing::FakePrometheusScript;
using testing::FakeSeries;
using testing::HttpTestServer;
using testing::k_marker_ms;
using testing::k_matcher;
using testing::make_source;
using testing::options_for;
using testing::series;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::StartsWith;

std::map<std::string, std::string> engine(int e) {
  return {{"model_name", "meta-llama/Llama-3.1-8B"}, {"engine", std::to_string(e)}};
}

std::map<std::string, std::string> with(std::map<std::string, std::string> labels, const std::string& name,
                                        const std::string& value) {
  labels[name] = value;
  return labels;
}

// decode-0: vLLM 0.10 (both names, equal values), two engines; decode-1: vLLM 0.11 (new names),
// two engines, NaN / +Inf on the KV-connector counters; plus one series without a pod label.
std::vector<FakeSeries> two_pods() {
  return {
      series("vllm:prefix_cache_queries_total", "decode-0", engine(0), "1000"),
      series("vllm:prefix_cache_queries_total", "decode-0", engine(1), "234"),
      series("vllm:prefix_cache_hits_total", "decode-0", engine(0), "500"),
      series("vllm:prefix_cache_hits_total", "decode-0", engine(1), "67"),
      series("vllm:gpu_prefix_cache_queries_total", "decode-0", engine(0), "1000"),
      series("vllm:gpu_prefix_cache_queries_total", "decode-0", engine(1), "234"),
      series("vllm:gpu_prefix_cache_hits_total", "decode-0", engine(0), "500"),
      series("vllm:gpu_prefix_cache_hits_total", "decode-0", engine(1), "67"),
      series("vllm:prefix_cache_queries_created", "decode-0", engine(0), "1753795326.5"),
      series("vllm:request_success_total", "decode-0", with(engine(0), "finished_reason", "stop"), "7"),
      series("vllm:request_success_total", "decode-0", with(engine(1), "finished_reason", "length"), "2"),
      series("vllm:cache_config_info", "decode-0", {{"enable_prefix_caching", "True"}, {"block_size", "16"}}, "1"),
      series("vllm:prefix_cache_queries_total", "decode-1", engine(0), "300"),
      series("vllm:prefix_cache_queries_total", "decode-1", engine(1), "200"),
      series("vllm:prefix_cache_hits_total", "decode-1", engine(0), "100"),
      series("vllm:prefix_cache_hits_total", "decode-1", engine(1), "50"),
      series("vllm:external_prefix_cache_queries_total", "decode-1", engine(0), "+Inf"),
      series("vllm:external_prefix_cache_hits_total", "decode-1", engine(0), "NaN"),
      series("vllm:cache_config_info", "decode-1", {{"enable_prefix_caching", "False"}, {"block_size", "32"}}, "1"),
      series("vllm:prefix_cache_queries_total", "", engine(0), "999999"),
  };
}

FakePrometheusScript script(std::vector<FakeSeries> all, const std::string& matcher = k_matcher) {
  FakePrometheusScript result;
  result.promql = cache_counters_promql(matcher);
  result.marker_ms = k_marker_ms;
  result.series = std::move(all);
  return result;
}

// The request path the source sends for `matcher` (it does not depend on the server's port).
std::string query_path(const std::string& matcher = k_matcher) {
  const std::string base = "http://unused";
  return make_source(options_for(base, matcher)).query_url().substr(base.size());
}

std::string error_of(const PodScrape& scrape) {
  EXPECT_FALSE(scrape.text.has_value()) << "expected an error for pod " << scrape.pod;
  return scrape.text ? std::string() : scrape.text.error();
}

struct Failure {
  std::string error;     // the single failed scrape's error
  std::string base_url;  // the test server's root URL
};

// scrape_all() against a Prometheus answering the instant query with `response`; exactly one
// (failed) scrape expected.
Failure whole_error(CannedResponse response, PrometheusSourceOptions options = options_for("")) {
  auto fake_script = script(two_pods(), options.matcher);
  fake_script.instant_answer = std::move(response);
  FakePrometheus prometheus(fake_script);
  options.base_url = prometheus.url();
  const auto scrapes = make_source(options).scrape_all();
  EXPECT_EQ(scrapes.size(), 1u);
  if (scrapes.empty()) {
    return {};
  }
  EXPECT_EQ(scrapes[0].pod, "{" + options.matcher + "}");
  EXPECT_EQ(scrapes[0].source, prometheus.url() + "/api/v1/query");
  return {error_of(scrapes[0]), prometheus.url()};
}

TEST(PrometheusSource, SelectsEveryTableNameInBothNamespacesPlusTheMatcher) {
  EXPECT_EQ(cache_counters_promql(k_matcher),
            R"({__name__=~"(vllm:|ray_vllm:)(prefix_cache_queries_total|prefix_cache_queries_created|)"
            R"(prefix_cache_hits_total|gpu_prefix_cache_queries_total|gpu_prefix_cache_queries_created|)"
            R"(gpu_prefix_cache_hits_total|prefix_cache_queries|prefix_cache_hits|gpu_prefix_cache_hit_rate|)"
            R"(external_prefix_cache_queries_total|external_prefix_cache_hits_total|request_success_total|)"
            R"x(request_success|cache_config_info)",namespace="llm-d",pod=~"decode-.*"})x");
  EXPECT_THAT(cache_counters_promql(""), StartsWith(R"({__name__=~"(vllm:|ray_vllm:)(prefix_cache_queries_total|)"));
  EXPECT_THAT(cache_counters_promql(""), Not(HasSubstr("\",")));
}

TEST(PrometheusSource, QueryUrlPercentEncodesThePromql) {
  const auto source = make_source(options_for("http://prometheus:9090/", "{job=\"a b\"}"));
  EXPECT_EQ(source.options().base_url, "http://prometheus:9090");
  EXPECT_EQ(source.options().matcher, "job=\"a b\"");
  EXPECT_THAT(source.query_url(),
              StartsWith("http://prometheus:9090/api/v1/query?query=%7B__name__%3D~%22%28vllm%3A%7C"));
  EXPECT_THAT(source.query_url(), HasSubstr("%2Cjob%3D%22a%20b%22%7D"));
}

TEST(PrometheusSource, CreateRejectsBadOptionsQuotingThem) {
  auto error = [](PrometheusSourceOptions options) {
    auto source = PrometheusSource::create(std::move(options));
    return source ? std::string("no error") : source.error();
  };
  EXPECT_EQ(error(options_for("prometheus:9090")),
            "Prometheus URL \"prometheus:9090\" must start with http:// or https://, e.g. http://prometheus:9090");
  EXPECT_EQ(error(options_for("http://p:9090", "__name__=\"up\",pod=\"x\"")),
            "Prometheus matcher \"__name__=\"up\",pod=\"x\"\" must not select __name__: the vLLM metric names are "
            "chosen by llmd-bench; select the pods only, e.g. namespace=\"llm-d\",pod=~\"decode-.*\"");
  auto bad_label = options_for("http://p:9090");
  bad_label.pod_label = "kubernetes-pod";
  EXPECT_EQ(error(bad_label),
            "Prometheus pod label \"kubernetes-pod\" is not a label name (letters, digits, '_'; e.g. pod)");
  auto no_timeout = options_for("http://p:9090");
  no_timeout.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(error(no_timeout), "Prometheus query timeout must be positive, got 0 ms");
  auto two_lines = options_for("http://p:9090");
  two_lines.bearer_token = "abc\ndef";
  EXPECT_EQ(error(two_lines),
            "Prometheus bearer token contains a line break: pass the token alone (not printed here)");
}

TEST(PrometheusSource, SynthesizesOneParsableExpositionPerPod) {
  FakePrometheus prometheus(script(two_pods()));
  const auto scrapes = make_source(options_for(prometheus.url())).scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);  // the series without a pod label is skipped
  EXPECT_EQ(scrapes[0].pod, "decode-0");
  EXPECT_EQ(scrapes[1].pod, "decode-1");
  for (const PodScrape& scrape : scrapes) {
    ASSERT_TRUE(scrape.text) << scrape.text.error();
    EXPECT_EQ(scrape.source, prometheus.url() + "/api/v1/query");
    // The sample's own timestamp: the first scrape after the marker (200 ms after it).
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(scrape.scraped_at.time_since_epoch()).count(),
              k_marker_ms + 200);
    const auto parsed = prom::parse_text(*scrape.text);
    ASSERT_TRUE(parsed) << prom::format_error(parsed.error(), scrape.pod) << "\n" << *scrape.text;
    ASSERT_NE(parsed->family("vllm:prefix_cache_queries_total"), nullptr);
    EXPECT_EQ(parsed->family("vllm:prefix_cache_queries_total")->type, prom::MetricType::counter);
    EXPECT_EQ(parsed->family("vllm:cache_config_info")->type, prom::MetricType::gauge);
    const auto queries = parsed->samples("vllm:prefix_cache_queries_total");
    ASSERT_EQ(queries.size(), 2u);
    EXPECT_THAT(queries[0]->label("engine"), ::testing::Pointee(std::string("0")));
    EXPECT_THAT(queries[0]->label("pod"), ::testing::Pointee(scrape.pod));
    EXPECT_THAT(queries[0]->label("job"), ::testing::Pointee(std::string("llm-d/decode")));
  }
  EXPECT_THAT(*scrapes[1].text, HasSubstr(
      "vllm:external_prefix_cache_hits_total{engine=\"0\",instance=\"10.0.0.5:8200\",job=\"llm-d/decode\","
      "model_name=\"meta-llama/Llama-3.1-8B\",namespace=\"llm-d\",pod=\"decode-1\"} NaN\n"));
  EXPECT_THAT(*scrapes[1].text, HasSubstr("# TYPE vllm:external_prefix_cache_queries_total counter\n"));
  EXPECT_THAT(*scrapes[1].text, Not(HasSubstr("# HELP")));  // the fake has no metadata
  EXPECT_THAT(*scrapes[1].text, HasSubstr("} +Inf\n"));
  const auto requests = prometheus.requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests[0], "/api/v1/query?query=time()");
  EXPECT_EQ(requests[1], "/api/v1/query?query=" + cache_counters_promql(k_matcher));
  EXPECT_THAT(requests[2], StartsWith("/api/v1/query?query=" + cache_counters_promql(k_matcher) + "["));
  EXPECT_EQ(prometheus.range_polls(), 1u) << "every pod was fresh at the first poll";
  for (const std::string& head : prometheus.request_heads()) {
    EXPECT_THAT(head, HasSubstr("\r\nAccept: application/json"));
    EXPECT_THAT(head, Not(HasSubstr("Authorization")));
  }
  EXPECT_THAT(prometheus.request_heads()[1], StartsWith("GET " + query_path() + " HTTP/1.1\r\n"));
}

TEST(PrometheusSource, SnapshotsGiveThePerPodCountersSummedOverEngines) {
  FakePrometheus prometheus(script(two_pods()));
  const auto snapshots = snapshot_pods(make_source(options_for(prometheus.url())).scrape_all(), "");
  ASSERT_EQ(snapshots.size(), 2u);
  ASSERT_TRUE(snapshots[0].snapshot) << snapshots[0].snapshot.error();
  const PodSnapshot& both = *snapshots[0].snapshot;
  EXPECT_EQ(both.flavor, CounterFlavor::v1_both_names);
  EXPECT_THAT(both.queries, Optional(1234.0));  // engines 0 + 1, new names only (not 2468)
  EXPECT_THAT(both.hits, Optional(567.0));
  EXPECT_EQ(both.unit, CounterUnit::tokens);
  EXPECT_TRUE(both.unit_verified);  // both names: tokens whatever the HELP
  EXPECT_THAT(both.requests_success, Optional(9.0));
  EXPECT_THAT(both.prefix_caching_enabled, Optional(true));
  EXPECT_THAT(both.block_size_tokens, Optional(16u));
  EXPECT_THAT(both.counters_created_unix_seconds, Optional(1753795326.5));
  EXPECT_FALSE(both.external.queries_tokens);
  ASSERT_TRUE(snapshots[1].snapshot) << snapshots[1].snapshot.error();
  const PodSnapshot& current = *snapshots[1].snapshot;
  EXPECT_EQ(current.flavor, CounterFlavor::v1_new_names);
  EXPECT_THAT(current.queries, Optional(500.0));
  EXPECT_THAT(current.hits, Optional(150.0));
  EXPECT_THAT(current.prefix_caching_enabled, Optional(false));
  EXPECT_THAT(current.block_size_tokens, Optional(32u));
  EXPECT_THAT(current.external.queries_tokens, Optional(HUGE_VAL));
  ASSERT_TRUE(current.external.hits_tokens);
  EXPECT_TRUE(std::isnan(*current.external.hits_tokens));
  EXPECT_FALSE(current.requests_success);
}

TEST(PrometheusSource, SendsTheBearerTokenButNeverPrintsIt) {
  FakePrometheus prometheus(script(two_pods()));
  auto options = options_for(prometheus.url());
  options.bearer_token = "s3cr3t-token\n";  // as read from a token file
  auto source = make_source(options);
  const auto scrapes = source.scrape_all();
  EXPECT_EQ(scrapes.size(), 2u);
  ASSERT_GE(prometheus.request_heads().size(), 3u);
  for (const std::string& head : prometheus.request_heads()) {  // queries and metadata alike
    EXPECT_THAT(head, ::testing::EndsWith("\r\nAuthorization: Bearer s3cr3t-token"));
  }
  EXPECT_THAT(source.describe(), Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(source.describe(), HasSubstr("bearer token"));
  for (const std::string& note : source.notes()) {
    EXPECT_THAT(note, Not(HasSubstr("s3cr3t")));
  }
}

TEST(PrometheusSource, DescribeAndCaveatsNameTheWait) {
  auto options = options_for("http://prometheus:9090");
  options.scrape_interval = std::chrono::seconds(15);
  options.wait_margin = std::chrono::seconds(5);
  const auto source = make_source(options);
  EXPECT_EQ(source.scrape_interval(), std::chrono::seconds(15));
  EXPECT_EQ(source.max_wait(), std::chrono::seconds(35));
  EXPECT_EQ(PrometheusSourceOptions{}.scrape_interval, std::chrono::seconds(30));
  EXPECT_EQ(PrometheusSourceOptions{}.wait_margin, std::chrono::seconds(5));
  EXPECT_EQ(source.describe(),
            "Prometheus http://prometheus:9090 query of {namespace=\"llm-d\",pod=~\"decode-.*\"} by label \"pod\" "
            "(timeout 10 s; each pod's first scrape after the snapshot is requested, waiting at most 35 s)");
  EXPECT_EQ(source.caveats(),
            "counters read through Prometheus (http://prometheus:9090): each snapshot holds, per pod, the first scrape "
            "Prometheus took after the snapshot was requested (told by the samples' timestamps in Prometheus' clock), "
            "so it counts every request finished before and none started after; a pod not scraped within 35 s (2 x "
            "scrape_interval 15 s + 5 s) fails instead of giving old numbers; HELP texts come from Prometheus' "
            "metadata API, so the BLOCK counters of vLLM V1 <= 0.8.5 are told from tokens as on a direct scrape, and "
            "a pod whose HELP Prometheus cannot give is flagged \"unit unverified\"");
  EXPECT_EQ(source.notes(), std::vector<std::string>{source.caveats()});  // no snapshot yet
}

TEST(PrometheusSource, ErrorBodyQuotesErrorTypeAndError) {
  const std::string body =
      R"({"status":"error","errorType":"bad_data","error":"1:80: parse error: unexpected character: '~'"})";
  const Failure failure = whole_error(api_json(body, 400, "Bad Request"));
  EXPECT_EQ(failure.error, "Prometheus " + failure.base_url +
                               ": query failed (HTTP 400, errorType \"bad_data\"): \"1:80: parse error: unexpected "
                               "character: '~'\"; check the matcher namespace=\"llm-d\",pod=~\"decode-.*\"");
}

TEST(PrometheusSource, EmptyResultNamesTheMatcherAndThePrometheusUi) {
  FakePrometheus prometheus(script({}));
  const auto scrapes = make_source(options_for(prometheus.url())).scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_EQ(error_of(scrapes[0]),
            "Prometheus " + prometheus.url() + ": no series matched " + cache_counters_promql(k_matcher) +
                ": check the matcher {namespace=\"llm-d\",pod=~\"decode-.*\"} in the Prometheus UI (e.g. "
                "vllm:prefix_cache_queries_total{namespace=\"llm-d\",pod=~\"decode-.*\"}); are the pods scraped, "
                "and under these label names?");
  EXPECT_EQ(prometheus.range_polls(), 0u) << "no waiting for pods nobody knows";
}

TEST(PrometheusSource, ConnectionRefusedNamesThePrometheusUrl) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::closed_port());
  auto source = make_source(options_for(base));
  const auto scrapes = source.scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_EQ(scrapes[0].pod, std::string("{") + k_matcher + "}");
  EXPECT_THAT(error_of(scrapes[0]), StartsWith("Prometheus " + base + ": cannot connect ("));
  EXPECT_THAT(error_of(scrapes[0]), HasSubstr("): check the Prometheus URL and that it is reachable from here "
                                              "(e.g. kubectl port-forward svc/prometheus 9090)"));
  ASSERT_EQ(source.snapshots().size(), 1u);
  EXPECT_THAT(source.snapshots()[0].marker_clock_error, StartsWith("cannot connect ("));
}

TEST(PrometheusSource, Non200WithoutApiErrorSaysCheckTheUrl) {
  HttpTestServer server(std::map<std::string, CannedResponse>{});  // every path: 404
  const auto scrapes = make_source(options_for(server.url(""))).scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_EQ(error_of(scrapes[0]), "Prometheus " + server.url("") +
                                      ": HTTP 404: is this the Prometheus URL (the API lives under /api/v1)?");
}

TEST(PrometheusSource, UnauthorizedAsksForABearerToken) {
  const Failure failure = whole_error({401, "Unauthorized", "text/plain", "Unauthorized\n", {}, {}});
  EXPECT_THAT(failure.error, StartsWith("Prometheus " + failure.base_url +
                                        ": HTTP 401: the server wants credentials: set cache.bearer_token_env (or "
                                        "--prometheus-token-env)"));
  auto with_token = options_for("");
  with_token.bearer_token = "tok-Zq9x";
  const Failure refused = whole_error({403, "Forbidden", "text/plain", "Forbidden\n", {}, {}}, with_token);
  EXPECT_THAT(refused.error, StartsWith("Prometheus " + refused.base_url + ": HTTP 403: the bearer token was refused ("));
  EXPECT_THAT(refused.error, Not(HasSubstr("tok-Zq9x")));
}

TEST(PrometheusSource, HtmlAnswerIsNotPrometheusApiJson) {
  const Failure failure = whole_error({200, "OK", "text/html", "<html>Grafana</html>", {}, {}});
  EXPECT_EQ(failure.error, "Prometheus " + failure.base_url +
                               ": answer is not Prometheus API JSON (Content-Type \"text/html\"): is this the "
                               "Prometheus URL?");
  const Failure odd = whole_error(api_json(R"({"status":1,"data":[]})"));
  EXPECT_EQ(odd.error, "Prometheus " + odd.base_url +
                           ": answer is not Prometheus API JSON (Content-Type \"application/json\"): is this the "
                           "Prometheus URL?");
}

TEST(PrometheusSource, MatrixAnswerToTheInstantQueryIsRefused) {
  const Failure failure = whole_error(api_json(R"({"status":"success","data":{"resultType":"matrix","result":[]}})"));
  EXPECT_EQ(failure.error, "Prometheus " + failure.base_url +
                               ": unexpected answer: expected data.resultType \"vector\" with a result array, got "
                               "{\"result\":[],\"resultType\":\"matrix\"}");
}

TEST(PrometheusSource, SeriesWithoutThePodLabelListLabelsSeen) {
  auto fake_script = script(two_pods());
  FakePrometheus prometheus(fake_script);
  auto options = options_for(prometheus.url());
  options.pod_label = "kubernetes_pod_name";
  const auto scrapes = make_source(options).scrape_all();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_EQ(error_of(scrapes[0]), "Prometheus " + prometheus.url() +
                                      ": 20 series matched but none has the pod label \"kubernetes_pod_name\" (labels "
                                      "seen: block_size, enable_prefix_caching, engine, finished_reason, instance, "
                                      "job, model_name, namespace, pod): set the pod label to the one naming the pod");
}

TEST(PrometheusSource, SeriesScrapedByTwoTargetsFailThePodInsteadOfCountingTwice) {
  FakeSeries twice = series("vllm:prefix_cache_queries_total", "decode-0", engine(0), "1000");
  twice.labels["job"] = "other-monitor";
  FakePrometheus prometheus(script({series("vllm:prefix_cache_queries_total", "decode-0", engine(0), "1000"), twice,
                                    series("vllm:prefix_cache_queries_total", "decode-1", engine(0), "300")}));
  const auto scrapes = make_source(options_for(prometheus.url())).scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_EQ(error_of(scrapes[0]),
            "pod decode-0 (Prometheus " + prometheus.url() +
                "): series vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"meta-llama/Llama-3.1-8B\","
                "namespace=\"llm-d\",pod=\"decode-0\"} comes from two scrape targets ({engine=\"0\",instance="
                "\"10.0.0.5:8200\",job=\"llm-d/decode\",model_name=\"meta-llama/Llama-3.1-8B\",namespace=\"llm-d\","
                "pod=\"decode-0\"} and {engine=\"0\",instance=\"10.0.0.5:8200\",job=\"other-monitor\",model_name="
                "\"meta-llama/Llama-3.1-8B\",namespace=\"llm-d\",pod=\"decode-0\"}): add a target label such as "
                "job=\"...\" to the matcher so each series counts once");
  EXPECT_TRUE(scrapes[1].text) << scrapes[1].text.error();
}

}  // namespace
}  // namespace llmd::scrape
