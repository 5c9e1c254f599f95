// report::render_html on hand-made results: what is no result, escaping and redaction, sections
// without data. A real run in a real browser: test/integration/html_report_test.cpp.
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/html_report.hpp"
#include "util/redact.hpp"

namespace llmd::report {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

json minimal_result() {
  return {{"schema", "llmd-bench/result"},
          {"version", 1},
          {"verdict", "fail"},
          {"scenario", {{"name", "demo"}, {"path", "s.yaml"}}},
          {"target", {{"url", "http://gw:8000"}, {"embedded_sim", false}}},
          {"thresholds", json::array({{{"name", "ttft"}, {"source", "p(95)<1s"}, {"status", "fail"}, {"observed", 1.25},
                                       {"reason", "ttft p(95) = 1.25s; required < 1s"}, {"where", "s.yaml:9:8"}}})},
          {"cache", nullptr},
          {"run", nullptr}};
}

TEST(HtmlReport, RefusesWhatIsNoResult) {
  EXPECT_FALSE(render_html(json::array()));
  EXPECT_FALSE(render_html(json{{"schema", "llmd-bench/comparison"}}));
  const auto error = render_html(json{{"x", 1}}).error();
  EXPECT_THAT(error, HasSubstr("not an llmd-bench result"));
}

TEST(HtmlReport, ShowsTheVerdictAndThresholdsAndSaysWhatIsMissing) {
  const auto page = render_html(minimal_result());
  ASSERT_TRUE(page) << page.error();
  EXPECT_THAT(*page, HasSubstr("id=\"verdict\" class=\"verdict fail\" data-verdict=\"fail\">FAIL<"));
  EXPECT_THAT(*page, HasSubstr("data-status=\"fail\""));
  EXPECT_THAT(*page, HasSubstr("<span data-value=\"1.25\">1.25</span>"));
  EXPECT_THAT(*page, HasSubstr("the run did not start"));
  EXPECT_THAT(*page, HasSubstr("no per-second data"));
  EXPECT_THAT(*page, HasSubstr("no cache report"));
  EXPECT_THAT(*page, Not(HasSubstr("id=\"hit-rate\"")));
  EXPECT_THAT(*page, HasSubstr("default-src 'none'"));
}

TEST(HtmlReport, EscapesMarkupAndRedactsSecretsFromTheResult) {
  util::add_secret("sk-html-report-secret");
  json result = minimal_result();
  result["scenario"]["name"] = "<script>alert(1)</script>";
  result["scenario"]["headers"] = {{"X-Token", "sk-html-report-secret"}};
  result["notes"] = json::array({"a note with \"quotes\" & <b>tags</b>"});
  const auto page = render_html(result);
  ASSERT_TRUE(page);
  EXPECT_THAT(*page, Not(HasSubstr("<script>alert(1)")));
  EXPECT_THAT(*page, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(*page, HasSubstr("&amp; &lt;b&gt;tags&lt;/b&gt;"));
  EXPECT_THAT(*page, Not(HasSubstr("sk-html-report-secret")));
}

// The client's own CPU (run.client_cpu) is a fact of the Requests section, as the text summary's
// cpu: line; in cores when more than one event loop ran; absent when the result has none.
TEST(HtmlReport, ShowsTheClientsOwnCpuWhenTheResultHasIt) {
  json result = minimal_result();
  result["run"] = {{"total", {{"counts", {{"started", 100}, {"ok", 90}, {"failed", 10}, {"aborted", 0}, {"dropped", 0}}},
                              {"wall_duration_ns", 4'000'000'000}}}};
  auto page = render_html(result);
  ASSERT_TRUE(page) << page.error();
  EXPECT_THAT(*page, Not(HasSubstr("client CPU")));
  result["run"]["client_cpu"] = {{"user_ns", 1'500'000'000}, {"system_ns", 500'000'000}};
  page = render_html(result);
  ASSERT_TRUE(page) << page.error();
  EXPECT_THAT(*page, HasSubstr("<dt>client CPU</dt><dd>2s in the measured loop (user 1.5s, system 500ms), 0.50 of a core; "
                               "20ms per request</dd>"));
  result["run"]["threads"] = json::array({json::object(), json::object()});
  page = render_html(result);
  ASSERT_TRUE(page) << page.error();
  EXPECT_THAT(*page, HasSubstr("system 500ms), 0.50 cores (2 event loops); 20ms per request</dd>"));
}

TEST(HtmlReport, DrawsPerSecondSeriesWithGapsWhereASecondHadNoOkRequest) {
  json result = minimal_result();
  result["run"] = {{"phases", json::array()},
                   {"per_second", {{"bucket_seconds", 1}, {"started", {2, 0, 1}}, {"ok", {2, 0, 1}}, {"failed", {0, 0, 0}},
                                   {"output_tokens", {20, 0, 10}}, {"peak_in_flight", {2, 2, 1}},
                                   {"ttft_p50_ns", {5e6, nullptr, 7e6}}, {"ttft_p95_ns", {6e6, nullptr, 8e6}},
                                   {"itl_p50_ns", {1e6, nullptr, 1e6}}, {"itl_p95_ns", {2e6, nullptr, 2e6}}}}};
  const auto page = render_html(result);
  ASSERT_TRUE(page);
  EXPECT_THAT(*page, HasSubstr("data-chart=\"ttft\""));
  // The TTFT p50 path lifts the pen over second 1: two "M" (move) commands.
  const auto at = page->find("data-series=\"p50\"", page->find("data-chart=\"ttft\""));
  ASSERT_NE(at, std::string::npos);
  const auto d = page->substr(page->find(" d=\"", at), page->find("\">", page->find(" d=\"", at)) - page->find(" d=\"", at));
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2) << d;
}

}  // namespace
}  // namespace llmd::report
