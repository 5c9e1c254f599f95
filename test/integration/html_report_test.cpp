// The HTML report (issue 15 items 1 and 2) from a real run of scenarios/cache-hit.yaml against the
// embedded simulator: `run --out html=` and `report RESULT.json --html` write the same page, and
// Debian's headless Chromium loads it with networking disabled, without a console message, draws
// every chart and shows the verdict and hit rate the JSON has. The screenshot is kept as a CI
// artifact (build/test-artifacts/html-report.png; scripts/test.sh prints its path).
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/browser_support.hpp"
#include "integration/run_test_support.hpp"

namespace {

using llmd::test::attribute;
using llmd::test::chromium;
using llmd::test::console_lines;
using llmd::test::read_json;
using llmd::test::RunOutput;
using llmd::test::scratch_dir;
using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunOutput report(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "report"};
  argv.insert(argv.end(), args.begin(), args.end());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(60));
}

struct Report {
  std::filesystem::path dir;
  json result;
  std::filesystem::path html;
};

// One real run for every test of this file (a second's load, 20 requests).
const Report& cache_hit_report() {
  static const Report report = [] {
    Report r;
    r.dir = std::filesystem::temp_directory_path() / ("llmd-html-report-" + std::to_string(::getpid()));
    std::filesystem::remove_all(r.dir);
    std::filesystem::create_directories(r.dir);
    const auto out = llmd::test::run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--out",
                                            "json=" + (r.dir / "r.json").string(), "--out", "html=" + (r.dir / "r.html").string()});
    EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
    r.result = read_json(r.dir / "r.json");
    r.html = r.dir / "r.html";
    return r;
  }();
  return report;
}

TEST(HtmlReportRun, RunAndReportWriteTheSameSelfContainedPage) {
  const auto& r = cache_hit_report();
  const std::string page = read_text(r.html);
  ASSERT_FALSE(page.empty());
  EXPECT_LT(page.size(), 1u << 20);
  // Nothing to fetch: no src/href attribute, no CSS url(), and a policy that forbids fetching.
  EXPECT_THAT(page, Not(HasSubstr(" src=")));
  EXPECT_THAT(page, Not(HasSubstr(" href=")));
  EXPECT_THAT(page, Not(HasSubstr("url(")));
  EXPECT_THAT(page, HasSubstr("default-src 'none'"));
  const auto dir = scratch_dir();
  const auto out = report({(r.dir / "r.json").string(), "--html", (dir / "again.html").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(read_text(dir / "again.html"), page);  // rendered from the JSON alone, offline
}

TEST(HtmlReportRun, ChromiumLoadsItOfflineWithoutConsoleMessagesAndDrawsEveryChart) {
  const auto& r = cache_hit_report();
  const auto dir = scratch_dir();
  const auto dom = chromium(r.html, dir / "profile", {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_THAT(console_lines(dom.err), testing::IsEmpty()) << dom.err;
  // The verdict and the hit rate the page shows are the JSON's.
  EXPECT_EQ(attribute(dom.out, "id=\"verdict\"", "data-verdict"), r.result["verdict"].get<std::string>());
  ASSERT_TRUE(r.result["cache"]["totals"]["hit_rate"].is_number());
  EXPECT_EQ(attribute(dom.out, "id=\"hit-rate\"", "data-value"), r.result["cache"]["totals"]["hit_rate"].dump());
  EXPECT_THAT(dom.out, HasSubstr(">PASS<"));
  // Every chart drew something: the script measured its series in the laid-out page.
  const std::string charts = attribute(dom.out, "<body", "data-charts");
  ASSERT_NE(charts, "<absent>") << "the page's script did not run";
  const std::regex drawn_re("data-drawn=\"(yes|no)\"");
  int drawn = 0, empty = 0;
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), drawn_re); it != std::sregex_iterator(); ++it) {
    ++((*it)[1] == "yes" ? drawn : empty);
  }
  EXPECT_GE(drawn, 9);  // 5 over time, 3 CDFs, the per-pod bars
  EXPECT_EQ(empty, 0);
  EXPECT_EQ(std::to_string(drawn + empty), charts);
  // The screenshot a person would see at 1280x800 (the whole page, 1280 wide), kept for CI.
  const auto artifacts = std::filesystem::path(LLMD_ARTIFACT_DIR);
  std::filesystem::create_directories(artifacts);
  const auto png = artifacts / "html-report.png";
  std::filesystem::remove(png);
  const auto shot = chromium(r.html, dir / "profile2", {"--hide-scrollbars", "--window-size=1280,3000", "--screenshot=" + png.string()});
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_THAT(console_lines(shot.err), testing::IsEmpty()) << shot.err;
  const std::string bytes = read_text(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  const auto be32 = [&](std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1280u);  // IHDR width
  EXPECT_GT(bytes.size(), 50'000u) << "a blank page compresses to a few KB";
  std::cout << "HTML report screenshot: " << png.string() << "\n";
}

// The checks above can fail: a page that logs to the console, and a chart without data.
TEST(HtmlReportRun, TheBrowserChecksCatchAConsoleErrorAndAnEmptyChart) {
  const auto& r = cache_hit_report();
  const auto dir = scratch_dir();
  json broken = r.result;
  broken["run"]["total"]["metrics"]["ttft_ns"].erase("histogram");
  std::ofstream(dir / "broken.json") << broken.dump();
  const auto out = report({(dir / "broken.json").string(), "--html", (dir / "broken.html").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  std::string page = read_text(dir / "broken.html");
  page.replace(page.find("<script>"), 8, "<script>console.error('planted');");
  std::ofstream(dir / "broken.html") << page;
  const auto dom = chromium(dir / "broken.html", dir / "profile", {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  ASSERT_EQ(console_lines(dom.err).size(), 1u) << dom.err;
  EXPECT_THAT(console_lines(dom.err)[0], HasSubstr("planted"));
  EXPECT_EQ(attribute(dom.out, "data-chart=\"cdf-ttft_ns\"", "data-drawn"), "no");
}

TEST(HtmlReportRun, ReportRejectsWhatIsNoResultWithExit2NamingTheFile) {
  const auto dir = scratch_dir();
  auto out = report({(dir / "missing.json").string(), "--html", (dir / "x.html").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("missing.json"));
  std::ofstream(dir / "text.json") << "not json {";
  out = report({(dir / "text.json").string(), "--html", (dir / "x.html").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("text.json: is not JSON"));
  std::ofstream(dir / "deep.json") << std::string(100000, '[') << std::string(100000, ']');  // hostile nesting: an error, no crash
  out = report({(dir / "deep.json").string(), "--html", (dir / "x.html").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("deep.json: is nested deeper than"));
  std::ofstream(dir / "other.json") << R"({"schema": "something-else"})";
  out = report({(dir / "other.json").string(), "--html", (dir / "x.html").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("other.json: not an llmd-bench result"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.html"));
  const auto& r = cache_hit_report();
  out = report({(r.dir / "r.json").string(), "--html", (dir / "no-such-dir" / "x.html").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--html " + (dir / "no-such-dir" / "x.html").string()));
  out = report({(r.dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--html"));
}

}  // namespace
