// `run --out csv=FILE` (issue 15 item 4) with the real binary against the embedded simulator: one
// row per request, equal to the JSON result's counts and latencies, pods named; what cannot be
// written is a usage error before any load; an interrupted run still writes its rows.
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

namespace {

using llmd::test::phase_total;
using llmd::test::read_csv;
using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using testing::HasSubstr;

TEST(RequestCsvRun, OneRowPerRequestEqualToTheJsonResult) {
  const auto dir = scratch_dir();
  const auto out = llmd::test::run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--out",
                                          "json=" + (dir / "r.json").string(), "--out", "csv=" + (dir / "r.csv").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto rows = read_csv(dir / "r.csv");
  const auto& total = phase_total(result);
  ASSERT_EQ(rows.size(), total["counts"]["started"].get<std::size_t>());
  std::vector<double> ttft_ms;
  std::uint64_t tokens = 0;
  std::set<std::string> pods;
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("phase"), "identical-prefix");
    EXPECT_EQ(row.at("result"), "ok");
    EXPECT_EQ(row.at("status"), "200");
    EXPECT_LE(std::stod(row.at("scheduled_s")), std::stod(row.at("started_s")));
    EXPECT_LE(std::stod(row.at("started_s")), std::stod(row.at("first_byte_s")));
    EXPECT_LE(std::stod(row.at("first_byte_s")), std::stod(row.at("first_event_s")));
    ttft_ms.push_back(std::stod(row.at("ttft_ms")));
    EXPECT_LE(ttft_ms.back(), std::stod(row.at("e2e_ms")));
    tokens += std::stoull(row.at("output_tokens"));
    EXPECT_THAT(row.at("pod"), testing::StartsWith("sim-pod-"));
    EXPECT_THAT(row.at("endpoint"), testing::StartsWith("127.0.0.1:"));
    pods.insert(row.at("pod"));
  }
  EXPECT_EQ(tokens, total["output_tokens_total"].get<std::uint64_t>());
  // The same TTFTs as the histogram: its max exactly (µs in the file), its p50 within 0.39% + 1 µs.
  std::sort(ttft_ms.begin(), ttft_ms.end());
  const auto& summary = total["metrics"]["ttft_ns"]["summary"];
  EXPECT_NEAR(ttft_ms.back(), summary["max"].get<double>() / 1e6, 0.001);
  const double p50 = ttft_ms[(ttft_ms.size() + 1) / 2 - 1];  // nearest rank
  EXPECT_NEAR(p50, summary["p50"].get<double>() / 1e6, summary["p50"].get<double>() / 1e6 * 0.004 + 0.001);
  // Per pod, the routing report's counts.
  for (const auto& pod : result["routing"]["pods"]) {
    const auto name = pod["pod"].get<std::string>();
    EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [&](const auto& row) { return row.at("pod") == name; }),
              pod["requests"].get<long>())
        << name;
  }
}

TEST(RequestCsvRun, FailuresCarryTheirClassAndAnUnwritableCsvIsAUsageErrorBeforeTheLoad) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: fixed, text: "hello"}, max_tokens: 4}
load: [{executor: iterations, iterations: 200, vus: 4}]
)");
  auto out = llmd::test::run_bench({scenario.string(), "-q", "--sim-error-rate", "0.1", "--sim-time-scale", "0.01",
                                    "--out", "json=" + (dir / "r.json").string(), "--out", "csv=" + (dir / "r.csv").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto rows = read_csv(dir / "r.csv");
  const auto result = read_json(dir / "r.json");
  const auto& total = phase_total(result);
  ASSERT_EQ(rows.size(), 200u);
  const auto failed = std::count_if(rows.begin(), rows.end(), [](const auto& row) { return row.at("result") == "failed"; });
  EXPECT_EQ(failed, total["counts"]["failed"].get<long>());
  ASSERT_GT(failed, 0);
  for (const auto& row : rows) {
    if (row.at("result") == "failed") {
      EXPECT_EQ(row.at("error_class"), "http_status");
      EXPECT_EQ(row.at("status"), "500");
      EXPECT_EQ(row.at("ttft_ms"), "");
    }
  }
  out = llmd::test::run_bench({scenario.string(), "-q", "--out", "csv=" + (dir / "missing" / "r.csv").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--out csv=" + (dir / "missing" / "r.csv").string()));
  EXPECT_THAT(out.out + out.err, testing::Not(HasSubstr("requests ........")));
}

TEST(RequestCsvRun, AnInterruptedRunWritesTheRowsSoFar) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: fixed, text: "hello"}, max_tokens: 4}
load: [{executor: constant-vus, vus: 2, duration: 1m}]
)");
  llmd::test::ChildProcess child({LLMD_BENCH_BINARY, "run", scenario.string(), "-q", "--sim-time-scale", "0.01", "--out",
                                  "json=" + (dir / "r.json").string(), "--out", "csv=" + (dir / "r.csv").string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.send_signal(SIGINT);
  const auto code = child.wait(std::chrono::seconds(60));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 130) << child.stderr_text();
  const auto rows = read_csv(dir / "r.csv");
  const auto result = read_json(dir / "r.json");
  const auto& total = phase_total(result);
  EXPECT_GT(rows.size(), 0u);
  EXPECT_EQ(rows.size(), total["counts"]["started"].get<std::size_t>());
}

}  // namespace
