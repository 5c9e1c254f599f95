// `--out junit=FILE` and `--tekton-results DIR`: the renderers on hand-built reports (content and
// XML escaping, parsed back), and the real `run` writing both.
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"
#include "run/gates.hpp"
#include "report/junit_report.hpp"
#include "report/tekton_results.hpp"

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using llmd::run::RunReport;
using testing::HasSubstr;

namespace {

// A judged report: two cache thresholds (hit rate 0.5 fails ">=0.90", max pod share passes),
// one failed and one passed check, and a cache error whose text needs escaping.
struct Fixture {
  llmd::scenario::Scenario scenario;
  RunReport report;

  Fixture() {
    scenario.name = "cache<&>\"hit\"";
    scenario.thresholds.push_back(*llmd::scenario::parse_threshold("cache_hit_rate", ">=0.90"));
    scenario.thresholds.push_back(*llmd::scenario::parse_threshold("max_pod_share", "<=0.8"));
    report.scenario = &scenario;
    report.target_url = "http://gw/?a=1&b=2";
    llmd::scrape::CacheReport cache;
    cache.totals.queries = 1000;
    cache.totals.hits = 500;
    cache.totals.hit_rate = 0.5;
    cache.totals.max_pod_share = 0.123456;
    cache.diagnostics.push_back({llmd::scrape::Severity::error, std::string("pod<1>"),
                                 "prefix caching is off: enable_prefix_caching=\"False\" & 'x'\x01", "pass --enable-prefix-caching"});
    cache.diagnostics.push_back({llmd::scrape::Severity::warning, std::nullopt, "only a warning", ""});
    report.cache = cache;
    llmd::run::judge(report);
    report.checks.push_back({llmd::scenario::CheckKind::status_200, "status_200", 18, 2});
    report.checks.push_back({llmd::scenario::CheckKind::non_empty_content, "non_empty_content", 20, 0});
  }
};

pt::ptree parse_xml(const std::string& text) {
  std::istringstream in(text);
  pt::ptree tree;
  pt::read_xml(in, tree);
  return tree;
}

std::vector<pt::ptree> testcases(const pt::ptree& tree) {
  std::vector<pt::ptree> cases;
  for (const auto& [name, child] : tree.get_child("testsuite")) {
    if (name == "testcase") {
      cases.push_back(child);
    }
  }
  return cases;
}

}  // namespace

TEST(JunitReport, OneTestcasePerThresholdCheckAndCacheErrorParsesBack) {
  Fixture f;
  const auto tree = parse_xml(llmd::report::render_junit(f.report));
  const auto& suite = tree.get_child("testsuite");
  EXPECT_EQ(suite.get<std::string>("<xmlattr>.name"), "llmd-bench");
  EXPECT_EQ(suite.get<int>("<xmlattr>.tests"), 6);  // 2 thresholds, 2 checks, 1 cache error, run
  EXPECT_EQ(suite.get<int>("<xmlattr>.failures"), 2);  // a failed check is not a gate
  EXPECT_EQ(suite.get<int>("<xmlattr>.errors"), 0);
  EXPECT_EQ(suite.get<int>("<xmlattr>.skipped"), 0);
  const auto cases = testcases(tree);
  ASSERT_EQ(cases.size(), 6u);
  EXPECT_EQ(cases[0].get<std::string>("<xmlattr>.name"), "threshold: cache_hit_rate >=0.90");
  EXPECT_EQ(cases[0].get<std::string>("<xmlattr>.classname"), "llmd-bench.thresholds");
  EXPECT_EQ(cases[0].get<std::string>("failure.<xmlattr>.message"), "cache_hit_rate = 0.5; required >= 0.9");
  EXPECT_EQ(cases[0].get<std::string>("system-out"),
            "observed: 0.5\nseverity: fail\nresult: fail\nreason: cache_hit_rate = 0.5; required >= 0.9\n");
  EXPECT_EQ(cases[1].get<std::string>("<xmlattr>.name"), "threshold: max_pod_share <=0.8");
  EXPECT_FALSE(cases[1].get_child_optional("failure"));
  EXPECT_THAT(cases[1].get<std::string>("system-out"), HasSubstr("observed: 0.1235\n"));
  EXPECT_EQ(cases[2].get<std::string>("<xmlattr>.name"), "check: status_200");
  EXPECT_FALSE(cases[2].get_child_optional("failure"));
  EXPECT_EQ(cases[2].get<std::string>("system-out"), "passed: 18\nfailed: 2\nrate: 0.9\n");
  EXPECT_EQ(cases[3].get<std::string>("<xmlattr>.name"), "check: non_empty_content");
  EXPECT_FALSE(cases[3].get_child_optional("failure"));
  EXPECT_EQ(cases[4].get<std::string>("<xmlattr>.classname"), "llmd-bench.cache");
  EXPECT_EQ(cases[4].get<std::string>("<xmlattr>.name"), "cache: pod<1>");
  EXPECT_EQ(cases[4].get<std::string>("failure.<xmlattr>.message"),
            "prefix caching is off: enable_prefix_caching=\"False\" & 'x'\xEF\xBF\xBD");
  EXPECT_EQ(cases[4].get<std::string>("failure"), "fix: pass --enable-prefix-caching");
  EXPECT_EQ(cases[5].get<std::string>("<xmlattr>.name"), "run");
  EXPECT_FALSE(cases[5].get_child_optional("error"));
  EXPECT_EQ(cases[5].get<std::string>("system-out"), "verdict: fail\n");
}

// Testcase names come from the scenario and the kind of finding, never from values or order: two
// reports of different runs of the same scenario have the same names; the values are in system-out.
TEST(JunitReport, TestcaseNamesAreStableAcrossRunsAndValuesAreInSystemOut) {
  auto names_and_outputs = [](double hit_rate, std::uint64_t failed) {
    Fixture f;
    auto warn = *llmd::scenario::parse_threshold("cache_hit_rate", ">=0.95");
    warn.severity = llmd::scenario::ThresholdSeverity::warn;
    f.scenario.thresholds.push_back(warn);
    auto by_check = *llmd::scenario::parse_threshold("checks", "rate>0.99");
    by_check.check = "status-200";
    f.scenario.thresholds.push_back(by_check);
    f.scenario.check_spellings[llmd::scenario::CheckKind::status_200] = "status-200";
    f.report.cache->totals.hit_rate = hit_rate;
    f.report.run.emplace();
    f.report.run->total.checks = {llmd::scenario::CheckKind::status_200};
    f.report.run->total.check_counts[0] = {20 - failed, failed};
    llmd::run::judge(f.report);
    std::vector<std::pair<std::string, std::string>> out;
    const auto tree = parse_xml(llmd::report::render_junit(f.report));
    for (const auto& c : testcases(tree)) {
      out.emplace_back(c.get<std::string>("<xmlattr>.name"), c.get<std::string>("system-out", ""));
    }
    return std::make_pair(out, tree);
  };
  const auto [first, tree] = names_and_outputs(0.5, 2);
  const auto [second, tree2] = names_and_outputs(0.97, 0);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].first, second[i].first);
  }
  EXPECT_EQ(first[2].first, "threshold: cache_hit_rate >=0.95");
  EXPECT_EQ(first[3].first, "threshold: checks{check:status-200} rate>0.99");
  EXPECT_EQ(first[4].first, "check: status-200");
  EXPECT_THAT(first[2].second, HasSubstr("observed: 0.5\nseverity: warn\nresult: warn\n"));
  EXPECT_THAT(second[2].second, HasSubstr("observed: 0.97\nseverity: warn\nresult: pass\n"));
  EXPECT_THAT(first[3].second, HasSubstr("observed: 0.9\n"));
  EXPECT_THAT(second[3].second, HasSubstr("observed: 1\n"));
  // The warning is <skipped> (not a failure), counted in the suite's skipped attribute.
  const auto cases = testcases(tree);
  EXPECT_EQ(cases[2].get<std::string>("skipped.<xmlattr>.message"),
            "WARN (severity warn, not a gate): cache_hit_rate = 0.5; required >= 0.95");
  EXPECT_FALSE(cases[2].get_child_optional("failure"));
  EXPECT_EQ(tree.get<int>("testsuite.<xmlattr>.skipped"), 1);
  EXPECT_TRUE(cases[3].get_child_optional("failure"));
  EXPECT_FALSE(testcases(tree2)[2].get_child_optional("skipped"));
}

TEST(JunitReport, EscapesEveryTextAndAttribute) {
  Fixture f;
  const auto xml = llmd::report::render_junit(f.report);
  EXPECT_THAT(xml, HasSubstr("name=\"cache: pod&lt;1&gt;\""));
  EXPECT_THAT(xml, HasSubstr("message=\"prefix caching is off: enable_prefix_caching=&quot;False&quot; &amp; "
                             "&apos;x&apos;\xEF\xBF\xBD\""));
  EXPECT_THAT(xml, HasSubstr("<property name=\"scenario\" value=\"cache&lt;&amp;&gt;&quot;hit&quot;\"/>"));
  EXPECT_THAT(xml, HasSubstr("<property name=\"target\" value=\"http://gw/?a=1&amp;b=2\"/>"));
  EXPECT_EQ(llmd::report::xml_escape("a\nb\tc\rd\x7f"), "a&#10;b&#9;c&#13;d\xEF\xBF\xBD");
  const auto tree = parse_xml(xml);
  EXPECT_EQ(tree.get<std::string>("testsuite.properties.property.<xmlattr>.value"), "cache<&>\"hit\"");
}

TEST(JunitReport, RunErrorsAreErrorTestcases) {
  Fixture f;
  f.report.errors = {"no request reached the target <x> & more", "second"};
  llmd::run::judge(f.report);
  const auto tree = parse_xml(llmd::report::render_junit(f.report));
  EXPECT_EQ(tree.get<int>("testsuite.<xmlattr>.errors"), 1);
  const auto cases = testcases(tree);
  const auto& run = cases.back();
  EXPECT_EQ(run.get<std::string>("<xmlattr>.name"), "run");
  EXPECT_EQ(run.get<std::string>("error.<xmlattr>.message"), "no request reached the target <x> & more");
  EXPECT_EQ(run.get<std::string>("error"), "no request reached the target <x> & more\nsecond\n");
  EXPECT_EQ(tree.get<std::string>("testsuite.properties.property.<xmlattr>.value"), "cache<&>\"hit\"");
}

TEST(TektonResults, WritesEveryResultWithoutNewlines) {
  Fixture f;
  const auto dir = llmd::test::scratch_dir() / "results";
  ASSERT_TRUE(llmd::report::write_tekton_results(f.report, dir));
  EXPECT_EQ(llmd::test::read_text(dir / "hit-rate"), "0.5000");
  EXPECT_EQ(llmd::test::read_text(dir / "verdict"), "fail");
  EXPECT_EQ(llmd::test::read_text(dir / "max-pod-share"), "0.1235");
  EXPECT_EQ(llmd::test::read_text(dir / "ttft-p95-seconds"), "n/a");  // no run: no request, no TTFT
  EXPECT_EQ(llmd::test::read_text(dir / "http-req-failed-rate"), "n/a");
  EXPECT_EQ(llmd::test::read_text(dir / "target"), "http://gw/");  // the query is no part of it
  EXPECT_EQ(llmd::test::read_text(dir / "reason"), "gate failed: cache_hit_rate >=0.90");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) {
    ++files;
  }
  EXPECT_EQ(files, llmd::report::k_tekton_result_names.size());  // no temporary file left behind
  EXPECT_EQ(files, 7u);
}

TEST(TektonResults, WithoutCacheCountersValuesAreNa) {
  Fixture f;
  f.report.cache.reset();
  f.report.errors = {"boom"};
  llmd::run::judge(f.report);
  const auto results = llmd::report::tekton_results(f.report);
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results[0], (std::pair<std::string, std::string>{"hit-rate", "n/a"}));
  EXPECT_EQ(results[1], (std::pair<std::string, std::string>{"verdict", "error"}));
  EXPECT_EQ(results[2], (std::pair<std::string, std::string>{"max-pod-share", "n/a"}));
  EXPECT_EQ(results[6], (std::pair<std::string, std::string>{"reason", "boom"}));
}

TEST(TektonResults, TargetNeverCarriesCredentialsQueryOrFragment) {
  using llmd::report::target_label;
  EXPECT_EQ(target_label(true, "http://127.0.0.1:4000"), "simulator");
  EXPECT_EQ(target_label(false, "http://alice:s3cret@gw.llm-d.svc:80/v1?api_key=x#frag"), "http://gw.llm-d.svc:80/v1");
  EXPECT_EQ(target_label(false, "https://gw/a@b"), "https://gw/a@b");  // an @ in the path is no userinfo
  EXPECT_EQ(target_label(false, "http://gw"), "http://gw");
}

TEST(TektonResults, TheReasonIsOneShortRedactedLine) {
  Fixture f;
  std::string long_error = "first line\nsecond\tline ";
  for (int i = 0; i < 400; ++i) {
    long_error += "\u00e9";  // 2-byte UTF-8: the cut must not split one
  }
  f.report.errors = {long_error};
  llmd::run::judge(f.report);
  const auto reason = llmd::report::tekton_results(f.report)[6].second;
  EXPECT_LE(reason.size(), llmd::report::k_tekton_reason_max_bytes);
  EXPECT_EQ(reason.rfind("first line second line ", 0), 0u) << reason;
  EXPECT_EQ(reason.substr(reason.size() - 5), "\u00e9...");
}

TEST(TektonResults, ErrorResultsBeforeARunSayErrorWithTheReason) {
  const auto dir = llmd::test::scratch_dir() / "early";
  ASSERT_TRUE(llmd::report::write_tekton_error_results(dir, "s.yaml:3:5: bad\nvalue at http://u:pw@h/x", "simulator"));
  EXPECT_EQ(llmd::test::read_text(dir / "verdict"), "error");
  EXPECT_EQ(llmd::test::read_text(dir / "reason"), "s.yaml:3:5: bad value at http://***@h/x");
  EXPECT_EQ(llmd::test::read_text(dir / "target"), "simulator");
  for (const auto* name : {"hit-rate", "max-pod-share", "ttft-p95-seconds", "http-req-failed-rate"}) {
    EXPECT_EQ(llmd::test::read_text(dir / name), "n/a") << name;
  }
}

TEST(TektonResults, AnUnwritableFolderIsAnErrorNamingIt) {
  const auto dir = llmd::test::scratch_dir();
  llmd::test::write_text(dir / "file", "x");
  Fixture f;
  auto written = llmd::report::write_tekton_results(f.report, dir / "file" / "results");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr("cannot create Tekton results folder \"" + (dir / "file" / "results").string() + "\""));
}

TEST(RunOutputs, CacheHitRunWritesJunitAndTektonResults) {
  const auto dir = llmd::test::scratch_dir();
  auto out = llmd::test::bench({"run", std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--out",
                                "junit=" + (dir / "junit.xml").string(), "--out", "json=" + (dir / "r.json").string(),
                                "--tekton-results", (dir / "tekton").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "verdict"), "pass");
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "hit-rate"), "0.9349");  // 19 x 992 / (20 x 1008)
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "max-pod-share"), "1.0000");
  const double ttft_p95 = std::stod(llmd::test::read_text(dir / "tekton" / "ttft-p95-seconds"));
  EXPECT_GT(ttft_p95, 0.0);
  EXPECT_LT(ttft_p95, 5.0);
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "http-req-failed-rate"), "0.0000");  // 20 of 20 ok
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "target"), "simulator");
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "reason"), "every gate passed");
  const auto result = nlohmann::json::parse(llmd::test::read_text(dir / "r.json"));
  EXPECT_EQ(result["target"]["name"], "simulator");
  // the TTFT p95 of the JSON, in seconds with 6 decimals
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "ttft-p95-seconds"),
            fmt::format("{:.6f}", result["run"]["total"]["metrics"]["ttft_ns"]["summary"]["p95"].get<double>() * 1e-9));
  const auto tree = parse_xml(llmd::test::read_text(dir / "junit.xml"));
  EXPECT_EQ(tree.get<int>("testsuite.<xmlattr>.failures"), 0);
  const auto cases = testcases(tree);
  ASSERT_FALSE(cases.empty());
  EXPECT_EQ(cases[0].get<std::string>("<xmlattr>.name"), "threshold: cache_hit_rate >=0.90");
  EXPECT_EQ(cases[0].get<std::string>("system-out"),
            "observed: 0.9349\nseverity: fail\nresult: pass\nreason: cache_hit_rate = 0.9349; required >= 0.9\n");
  EXPECT_EQ(nlohmann::json::parse(llmd::test::read_text(dir / "r.json"))["verdict"], "pass");
}

TEST(RunOutputs, RoundRobinFailsTheGateInJunitAndTekton) {
  const auto dir = llmd::test::scratch_dir();
  auto out = llmd::test::bench({"run", std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--sim-route",
                                "round-robin", "--out", "junit=" + (dir / "junit.xml").string(), "--tekton-results",
                                dir.string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_EQ(llmd::test::read_text(dir / "verdict"), "fail");
  EXPECT_EQ(llmd::test::read_text(dir / "hit-rate"), "0.7873");
  EXPECT_EQ(llmd::test::read_text(dir / "reason"), "gate failed: cache_hit_rate >=0.90");
  const auto cases = testcases(parse_xml(llmd::test::read_text(dir / "junit.xml")));
  ASSERT_FALSE(cases.empty());
  EXPECT_EQ(cases[0].get<std::string>("failure.<xmlattr>.message"), "cache_hit_rate = 0.7873; required >= 0.9");
}

TEST(RunOutputs, AnUnknownOutputFormatIsAUsageError) {
  auto out = llmd::test::bench({"run", std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--out", "xml=r.xml"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--out \"xml=r.xml\": expected FORMAT=FILE with FORMAT json, junit, html or csv"));
  EXPECT_THAT(out.err, HasSubstr("or prometheus-push=URL"));
}

TEST(RunOutputs, AResultThatCannotBeWrittenMakesEveryOutputSayError) {
  // The gates pass, but one --out fails when written after the run: /dev/full passes the check
  // before the run (a writable device) and refuses the bytes (ENOSPC). Exit 3, and the text, the
  // JSON, JUnit and the Tekton verdict all say "error" (never "pass" next to exit 3). A
  // destination known to be unwritable before the run is exit 2 instead (run_outputs_test.cpp).
  const auto dir = llmd::test::scratch_dir();
  auto out = llmd::test::bench({"run", std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--out",
                                "json=/dev/full", "--out", "json=" + (dir / "r.json").string(), "--out",
                                "junit=" + (dir / "junit.xml").string(), "--tekton-results", (dir / "tekton").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: --out json=/dev/full: cannot write /dev/full: No space left on device"));
  EXPECT_THAT(out.out, HasSubstr("verdict: ERROR"));
  EXPECT_EQ(llmd::test::read_text(dir / "tekton" / "verdict"), "error");
  const auto result = nlohmann::json::parse(llmd::test::read_text(dir / "r.json"));
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_EQ(result["exit_code"], 3);
  EXPECT_THAT(result["errors"][0].get<std::string>(), HasSubstr("result not written: --out json="));
  const auto tree = parse_xml(llmd::test::read_text(dir / "junit.xml"));
  EXPECT_EQ(tree.get<int>("testsuite.<xmlattr>.errors"), 1);
  bool verdict_property = false;
  for (const auto& [name, child] : tree.get_child("testsuite.properties")) {
    if (child.get<std::string>("<xmlattr>.name") == "verdict") {
      verdict_property = true;
      EXPECT_EQ(child.get<std::string>("<xmlattr>.value"), "error");
    }
  }
  EXPECT_TRUE(verdict_property);
}
