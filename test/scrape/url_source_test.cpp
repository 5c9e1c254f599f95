// UrlSource against a real HTTP server on 127.0.0.1 (test/scrape/http_test_server.hpp).
#include "scrape/url_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "scrape/http_test_server.hpp"
#include "scrape/scrape_test_support.hpp"

namespace llmd::scrape {
namespace {

using testing::CannedResponse;
using testing::HttpTestServer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string k_hint(k_metrics_port_hint);

std::string metrics_text() { return sim::render_metrics(testing::sample_pod_metrics(), sim::MetricsFlavor::v0_11); }

CannedResponse ok_metrics() { return {200, "OK", "text/plain; version=0.0.4; charset=utf-8", metrics_text(), {}, {}}; }

// Routes every test shares; the slow one answers after 10 s (the server stops waiting on shutdown).
HttpTestServer make_server() {
  return HttpTestServer({
      {"/metrics", ok_metrics()},
      {"/old/metrics", {301, "Moved Permanently", "text/html", "", {{"Location", "/old/metrics/"}}, {}}},
      {"/old/metrics/", ok_metrics()},
      {"/html", {200, "OK", "text/html; charset=utf-8", "<!doctype html><html><body>Grafana</body></html>", {}, {}}},
      {"/json", {200, "OK", "application/json", "{\"status\":\"ok\"}", {}, {}}},
      {"/empty", {200, "OK", "text/plain; version=0.0.4", "", {}, {}}},
      {"/boom", {503, "Service Unavailable", "text/plain", "starting\n", {}, {}}},
      {"/slow", {200, "OK", "text/plain", metrics_text(), {}, std::chrono::milliseconds(10000)}},
  });
}

std::vector<PodScrape> scrape(std::vector<PodUrl> pods, UrlSourceOptions options = {}) {
  UrlSource source(std::move(pods), options);
  return source.scrape_all();
}

std::string error_of(const PodScrape& scrape) {
  EXPECT_FALSE(scrape.text.has_value()) << "expected an error for pod " << scrape.pod;
  return scrape.text ? std::string() : scrape.text.error();
}

TEST(UrlSource, ScrapesPrometheusTextWithPlainTextAccept) {
  HttpTestServer server({{"/metrics", ok_metrics()}});
  const auto scrapes = scrape({{"sim-pod-0", server.url("/metrics")}});
  ASSERT_EQ(scrapes.size(), 1u);
  ASSERT_TRUE(scrapes[0].text) << scrapes[0].text.error();
  EXPECT_EQ(*scrapes[0].text, metrics_text());
  EXPECT_EQ(scrapes[0].pod, "sim-pod-0");
  EXPECT_EQ(scrapes[0].source, server.url("/metrics"));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_THAT(server.requests()[0], HasSubstr("\r\nAccept: text/plain;version=0.0.4"));
  EXPECT_THAT(server.requests()[0], Not(HasSubstr("openmetrics")));
  EXPECT_THAT(server.requests()[0], StartsWith("GET /metrics HTTP/1.1\r\n"));
}

TEST(UrlSource, FollowsRedirectToTrailingSlash) {
  HttpTestServer server = make_server();
  const auto scrapes = scrape({{"old-vllm", server.url("/old/metrics")}});
  ASSERT_TRUE(scrapes[0].text) << scrapes[0].text.error();
  EXPECT_EQ(*scrapes[0].text, metrics_text());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[1], StartsWith("GET /old/metrics/ HTTP/1.1\r\n"));
}

TEST(UrlSource, Http404NamesPodUrlAndPort) {
  HttpTestServer server = make_server();
  const std::string url = server.url("/nothing-here");
  const auto scrapes = scrape({{"sim-pod-2", url}});
  EXPECT_EQ(error_of(scrapes[0]), "pod sim-pod-2 (" + url + "): HTTP 404: " + k_hint);
  EXPECT_EQ(k_hint,
            "is this the metrics port? vLLM serves /metrics on its API port (8000 by default; llm-d decode pods "
            "often 8200 or 8001)");
}

TEST(UrlSource, Http503SaysTheServerFailed) {
  HttpTestServer server = make_server();
  const auto scrapes = scrape({{"p", server.url("/boom")}});
  EXPECT_EQ(error_of(scrapes[0]),
            "pod p (" + server.url("/boom") + "): HTTP 503: the server failed: is vLLM still starting, or overloaded?");
}

TEST(UrlSource, HtmlBodyIsNotPrometheusText) {
  HttpTestServer server = make_server();
  const auto scrapes = scrape({{"grafana", server.url("/html")}});
  EXPECT_EQ(error_of(scrapes[0]), "pod grafana (" + server.url("/html") +
                                      "): answered with HTML (Content-Type \"text/html; charset=utf-8\"), not "
                                      "Prometheus text: " + k_hint);
}

TEST(UrlSource, UnparsableBodyQuotesTheParserError) {
  HttpTestServer server = make_server();
  const auto scrapes = scrape({{"api", server.url("/json")}});
  const std::string error = error_of(scrapes[0]);
  EXPECT_THAT(error, StartsWith("pod api (" + server.url("/json") +
                                "): not Prometheus text (Content-Type \"application/json\"): line 1: "));
  EXPECT_THAT(error, HasSubstr(k_hint));
}

TEST(UrlSource, EmptyBodyIsAValidEmptyExposition) {
  HttpTestServer server = make_server();
  const auto scrapes = scrape({{"old", server.url("/empty")}});
  ASSERT_TRUE(scrapes[0].text) << scrapes[0].text.error();
  EXPECT_EQ(*scrapes[0].text, "");
}

TEST(UrlSource, SlowAnswerTimesOut) {
  HttpTestServer server = make_server();
  UrlSourceOptions options;
  options.timeout = std::chrono::milliseconds(300);
  const auto scrapes = scrape({{"busy", server.url("/slow")}}, options);
  EXPECT_EQ(error_of(scrapes[0]), "pod busy (" + server.url("/slow") +
                                      "): no complete answer within 0.3 s (timeout): the pod may be overloaded or "
                                      "unreachable; raise the scrape timeout or check the network path to the pod");
}

TEST(UrlSource, ClosedPortIsConnectionRefused) {
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::closed_port()) + "/metrics";
  const auto scrapes = scrape({{"down", url}});
  const std::string error = error_of(scrapes[0]);
  EXPECT_THAT(error, StartsWith("pod down (" + url + "): cannot connect ("));
  EXPECT_THAT(error, HasSubstr("): is the pod running? " + k_hint));
}

TEST(UrlSource, UnsupportedSchemeIsRefused) {
  const auto scrapes = scrape({{"p", "ftp://127.0.0.1/metrics"}});
  EXPECT_THAT(error_of(scrapes[0]), StartsWith("pod p (ftp://127.0.0.1/metrics): unsupported URL scheme ("));
}

TEST(UrlSource, OversizedBodyIsRefused) {
  HttpTestServer server = make_server();
  UrlSourceOptions options;
  options.max_body_bytes = 100;
  const auto scrapes = scrape({{"big", server.url("/metrics")}}, options);
  EXPECT_EQ(error_of(scrapes[0]), "pod big (" + server.url("/metrics") + "): answer larger than 100 bytes: " + k_hint);
}

TEST(UrlSource, ManyPodsInParallelKeepTheirOrderAndErrors) {
  HttpTestServer server = make_server();
  std::vector<PodUrl> pods;
  for (int i = 0; i < 7; ++i) {
    pods.push_back({"pod-" + std::to_string(i), server.url(i % 3 == 2 ? "/missing" : "/metrics")});
  }
  UrlSourceOptions options;
  options.max_parallel = 2;
  UrlSource source(pods, options);
  EXPECT_EQ(source.describe(), "direct HTTP scrape of 7 pods (up to 2 in parallel, timeout 5 s per scrape)");
  const auto scrapes = source.scrape_all();
  ASSERT_EQ(scrapes.size(), pods.size());
  for (std::size_t i = 0; i < pods.size(); ++i) {
    EXPECT_EQ(scrapes[i].pod, pods[i].pod);
    EXPECT_EQ(scrapes[i].text.has_value(), i % 3 != 2) << pods[i].pod;
  }
  EXPECT_EQ(error_of(scrapes[2]), "pod pod-2 (" + server.url("/missing") + "): HTTP 404: " + k_hint);
  EXPECT_EQ(server.requests().size(), 7u);
}

TEST(UrlSource, ScrapedTextFeedsTheSnapshot) {
  HttpTestServer server = make_server();
  const auto results = snapshot_pods(scrape({{"p", server.url("/metrics")}}), "");
  ASSERT_TRUE(results[0].snapshot) << results[0].snapshot.error();
  EXPECT_EQ(results[0].snapshot->queries, 1234.0);
  EXPECT_EQ(results[0].source, server.url("/metrics"));
}

}  // namespace
}  // namespace llmd::scrape
