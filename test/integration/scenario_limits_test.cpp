// Scenario input past its limits, through the real binary (issue 10): the file size cap, mappings
// large enough that a quadratic lookup shows, and values past their bounds. Each must end quickly
// with exit 2 and a message naming the file, the key or flag, and the limit; the timeouts are only
// there to turn a hang into a failure.
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

using llmd::test::run_bench;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using testing::HasSubstr;

namespace {

constexpr auto k_hang_timeout = std::chrono::seconds(60);

}  // namespace

// `run /dev/zero` read until memory ran out.
TEST(ScenarioLimits, RunDevZeroExits2NamingTheLimit) {
  auto out = run_bench({"/dev/zero", "-q"}, k_hang_timeout);
  EXPECT_EQ(out.exit_code, 2) << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: /dev/zero: larger than 4 MiB, the limit for a scenario file"));
}

// 200,000 headers and the first repeated at the end: every key is checked against the others.
// The quadratic duplicate check took 20 s for 50,000 keys, so 200,000 would take minutes.
TEST(ScenarioLimits, TwoHundredThousandHeadersAreCheckedWellWithinTheTimeout) {
  const auto dir = scratch_dir();
  std::string text = "load:\n  - {executor: constant-vus, vus: 1, duration: 1s}\ntarget:\n  base_url: http://127.0.0.1:9\n"
                     "  headers:\n";
  for (int i = 0; i < 200'000; ++i) {
    text += "    X-H" + std::to_string(i) + ": v\n";
  }
  text += "    X-H0: again\n";
  const auto scenario = write_file(dir / "s.yaml", text);
  auto out = run_bench({scenario.string(), "-q"}, k_hang_timeout);
  EXPECT_EQ(out.exit_code, 2) << out.err;
  EXPECT_THAT(out.err, HasSubstr("s.yaml:200006:5: target.headers: duplicate key \"X-H0\" (first at line 6)"));
}
