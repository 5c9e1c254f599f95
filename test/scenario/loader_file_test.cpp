// Reading the scenario file: the size cap (regular files, devices, FIFOs) and mappings large
// enough that a quadratic key lookup would show.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "scenario/limits.hpp"
#include "support/scratch_dir.hpp"
#include "scenario/loader.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;

using llmd::test::scratch_dir;

std::string too_large(const std::string& path) {
  return path + ": larger than 4 MiB, the limit for a scenario file; check the path (a device or a FIFO is read up "
                "to the limit too)";
}

// `llmd-bench run /dev/zero` used to read until memory ran out.
TEST(ScenarioFile, DevZeroStopsAtTheLimit) {
  auto scenario = load_scenario("/dev/zero");
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error(), too_large("/dev/zero"));
}

TEST(ScenarioFile, ARegularFileOverTheLimitIsRejectedAndOneAtTheLimitIsRead) {
  const auto dir = scratch_dir();
  std::string text(k_load);
  text += "# padding\n";
  text.resize(limits::k_max_file_bytes, '#');  // one long comment line up to the limit
  text.back() = '\n';
  std::ofstream(dir / "at.yaml", std::ios::binary) << text;
  std::ofstream(dir / "over.yaml", std::ios::binary) << text << "\n";
  EXPECT_TRUE(load_scenario(dir / "at.yaml")) << "a file of exactly the limit loads";
  auto over = load_scenario(dir / "over.yaml");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), too_large((dir / "over.yaml").string()));
  std::filesystem::remove_all(dir);
}

// A FIFO is read like a file (`llmd-bench run <(envsubst < s.yaml)`): a short one loads, an endless
// writer is cut at the limit.
TEST(ScenarioFile, FifosAreReadUpToTheLimit) {
  std::signal(SIGPIPE, SIG_IGN);  // the endless writer sees EPIPE once the loader closes its end
  const auto dir = scratch_dir();
  const auto fifo = dir / "s.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread short_writer([&] { std::ofstream(fifo) << k_load; });
  auto loaded = load_scenario(fifo);
  short_writer.join();
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->phases.size(), 1u);

  std::thread endless_writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    const std::string block(64 * 1024, '#');
    while (fd >= 0 && ::write(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
  });
  auto endless = load_scenario(fifo);
  endless_writer.join();
  ASSERT_FALSE(endless);
  EXPECT_EQ(endless.error(), too_large(fifo.string()));
  std::filesystem::remove_all(dir);
}

// 50,000 headers: each key is looked up and checked for duplicates against the others. The last
// one repeats the first, so the whole mapping is compared.
TEST(ScenarioFile, FiftyThousandHeadersLoadAndADuplicateAtTheEndIsFound) {
  constexpr int k_headers = 50'000;
  std::string text = std::string(k_load) + "target:\n  base_url: http://gw:80\n  headers:\n";
  for (int i = 0; i < k_headers; ++i) {
    text += "    X-H" + std::to_string(i) + ": v\n";
  }
  auto scenario = load_scenario_text(text, test::k_file);
  ASSERT_TRUE(scenario) << scenario.error();
  ASSERT_EQ(scenario->target.headers.size(), static_cast<std::size_t>(k_headers));
  EXPECT_EQ(scenario->target.headers.back().first, "X-H49999");

  text += "    X-H0: again\n";
  auto duplicate = load_scenario_text(text, test::k_file);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error(), "scenarios/x.yaml:50008:5: target.headers: duplicate key \"X-H0\" (first at line 8)");
}

}  // namespace
}  // namespace llmd::scenario
