// Goodput (issue 17 item 1) with the real binary against the embedded simulator: one pod with two
// sequence slots and six users, so half the requests queue behind the others and miss a 70 ms TTFT
// objective. The JSON's good count equals a hand count over the per-request CSV, the report prints
// the goodput lines, and a good_fraction gate fails the run (exit 1).
#include <cmath>

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

TEST(GoodputRun, TheGoodCountEqualsAHandCountOverThePerRequestCsv) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "goodput.yaml", R"(name: goodput
requests: {prompt: {kind: shared-prefix, prefix_tokens: 32, suffix_tokens: 8}, max_tokens: 8}
load: [{name: queue, executor: iterations, iterations: 18, vus: 6}]
slo: {ttft: 70ms, e2e: 5s}
thresholds:
  good_fraction: ["rate>=0.99"]
sim:
  pods: 1
  max_num_seqs: 2
  timing: {prefill_base: 20ms, prefill_per_token: 0us, inter_token: 10ms}
)");
  const auto out = llmd::test::run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string(), "--out",
                                          "csv=" + (dir / "r.csv").string()});
  ASSERT_EQ(out.exit_code, 1) << out.out << out.err;  // the good_fraction gate fails
  const auto result = read_json(dir / "r.json");
  const auto& goodput = phase_total(result)["goodput"];
  ASSERT_TRUE(goodput.is_object()) << phase_total(result).dump();
  const auto rows = read_csv(dir / "r.csv");
  ASSERT_EQ(rows.size(), 18u);
  std::uint64_t good = 0;
  std::uint64_t missed_ttft = 0;
  std::uint64_t good_tokens = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.at("result"), "ok") << out.out;
    const double ttft_ms = std::stod(row.at("ttft_ms"));
    const double e2e_ms = std::stod(row.at("e2e_ms"));
    // The CSV rounds to 1 us; a row within that of a limit cannot be judged by hand.
    ASSERT_GT(std::abs(ttft_ms - 70.0), 0.001) << "ttft on the limit: " << ttft_ms;
    const bool by_hand = ttft_ms <= 70.0 && e2e_ms <= 5000.0;
    EXPECT_EQ(row.at("good"), by_hand ? "1" : "0") << "ttft " << ttft_ms << " ms, e2e " << e2e_ms << " ms";
    good += by_hand ? 1 : 0;
    good_tokens += by_hand ? std::stoull(row.at("output_tokens")) : 0;
    missed_ttft += ttft_ms > 70.0 ? 1 : 0;
  }
  EXPECT_EQ(goodput["good"].get<std::uint64_t>(), good);
  EXPECT_EQ(goodput["good_output_tokens"].get<std::uint64_t>(), good_tokens);
  EXPECT_EQ(goodput["missed"]["ttft"].get<std::uint64_t>(), missed_ttft);
  EXPECT_EQ(goodput["missed"]["e2e"].get<std::uint64_t>(), 0u);
  // Two slots for six users: some requests queued past 70 ms, some did not.
  EXPECT_GT(good, 0u);
  EXPECT_LT(good, 18u);
  EXPECT_DOUBLE_EQ(goodput["good_fraction"].get<double>(), static_cast<double>(good) / 18.0);
  EXPECT_EQ(goodput["slo"]["ttft_ns"].get<std::int64_t>(), 70'000'000);
  EXPECT_TRUE(goodput["slo"]["itl_ns"].is_null());
  EXPECT_EQ(result["scenario"]["slo"]["ttft_s"].get<double>(), 0.07);
  // The summary: goodput and the SLO with the misses, and the gate.
  EXPECT_THAT(out.out, HasSubstr("    goodput .........: "));
  EXPECT_THAT(out.out, HasSubstr(" good (" + std::to_string(good) + " of 18: ok 18, failed 0, aborted 0, dropped 0)"));
  EXPECT_THAT(out.out, HasSubstr("    slo .............: ttft <= 70ms, e2e <= 5s per request; ok requests that missed: ttft " +
                                 std::to_string(missed_ttft)));
  EXPECT_THAT(out.out, HasSubstr("good_fraction"));
}

}  // namespace
