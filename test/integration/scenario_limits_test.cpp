// Scenario input past its limits, through the real binary (issue 10): the file size cap, mappings
// large enough that a quadratic lookup shows, and values past their bounds. Each must end quickly
// with exit 2 and a message naming the file, the key or flag, and the limit; the timeouts are only
// there to turn a hang into a failure.
#include <string>
#include <vector>

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

// Values past their bounds: each used to abort, hang or pass without measuring anything; now each
// is a usage error before anything starts.
TEST(ScenarioLimits, ValuesPastTheirBoundsExit2BeforeAnythingStarts) {
  const auto dir = scratch_dir();
  const std::string one_phase = "load:\n  - {executor: constant-vus, vus: 1, duration: 1s}\n";
  struct Case {
    std::string file;  // appended to one_phase unless it has its own load
    std::vector<std::string> flags;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           // std::bad_alloc: 1e9 KV blocks of 40 bytes per pod
           {one_phase + "sim: {kv_blocks: 1000000000}\n", {}, "s.yaml:3:18: sim.kv_blocks: must be <= 1048576, got 1000000000"},
           // overflowed every scaled duration: "completed in -2009454018us", PASS
           {one_phase + "time_scale: 1e300\n", {}, "s.yaml:3:13: time_scale: must be <= 1000000, got 1e300"},
           {one_phase, {"--time-scale", "1e-300"}, "--time-scale: must be >= 1e-06, got 1e-300"},
           // the arrival gap rounded to 0 ns: the loop never ended, SIGINT ignored
           {"load:\n  - {executor: poisson, rate: 1e15, duration: 2s}\n", {}, "s.yaml:2:31: load[0].rate: must be <= 100000, got 1e15"},
           {one_phase, {"--max-tokens", "100000000"}, "--max-tokens: must be <= 1048576, got 100000000"},
       }) {
    const auto scenario = write_file(dir / "s.yaml", c.file);
    std::vector<std::string> args = {scenario.string(), "-q"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto out = run_bench(args, k_hang_timeout);
    EXPECT_EQ(out.exit_code, 2) << c.file << out.err;
    EXPECT_THAT(out.err, HasSubstr(c.message)) << c.file;
  }
}
