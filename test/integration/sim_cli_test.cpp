// `llmd-bench sim` as a process: usage errors, exit codes, clean stop on SIGTERM/SIGINT.
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/sim_process.hpp"

using llmd::test::ChildProcess;
using llmd::test::run_to_completion;
using testing::HasSubstr;

TEST(SimCli, UnknownRouteIsAUsageErrorNamingTheFlagAndChoices) {
  auto run = run_to_completion({LLMD_BENCH_BINARY, "sim", "--route", "sticky"}, std::chrono::seconds(10));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--route: unknown route \"sticky\": choose prefix, session, round-robin, random or least-loaded"));
}

TEST(SimCli, ASessionHeaderThatIsNoHeaderNameExits2NamingTheFlag) {
  auto run = run_to_completion({LLMD_BENCH_BINARY, "sim", "--session-header", "x session"}, std::chrono::seconds(10));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--session-header \"x session\" is not a header name"));
}

TEST(SimCli, OutOfRangeValuesAndUnknownFlagsExitWith2) {
  auto rate = run_to_completion({LLMD_BENCH_BINARY, "sim", "--error-rate", "1.5"}, std::chrono::seconds(10));
  EXPECT_EQ(rate.exit_code, 2);
  EXPECT_THAT(rate.err, HasSubstr("--error-rate: must be <= 1, got 1.5"));
  auto unknown = run_to_completion({LLMD_BENCH_BINARY, "sim", "--podz", "3"}, std::chrono::seconds(10));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("--podz"));
  auto not_a_number = run_to_completion({LLMD_BENCH_BINARY, "sim", "--pods", "many"}, std::chrono::seconds(10));
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_THAT(not_a_number.err, HasSubstr("--pods"));
}

// `sim --kv-blocks 1000000000` preallocated 40 GB of blocks: std::bad_alloc, exit 3 (134 before
// internal errors were caught). Every count flag now has a bound, checked before anything starts.
TEST(SimCli, CountsPastTheirBoundExit2NamingTheFlagAndTheBound) {
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--kv-blocks", "1000000000"}, "llmd-bench: error: --kv-blocks: must be <= 1048576, got 1000000000"},
           {{"--pods", "1024", "--kv-blocks", "1048576"},
            "llmd-bench: error: --pods 1024 x --kv-blocks 1048576 = 1073741824 KV blocks in all; at most 16777216"},
           {{"--prefix-index-blocks", "100000000"}, "llmd-bench: error: --prefix-index-blocks: must be <= 4194304"},
           {{"--max-model-len", "100000000"}, "llmd-bench: error: --max-model-len: must be <= 1048576"},
           {{"--time-scale", "1e300"}, "llmd-bench: error: --time-scale: must be <= 1000, got 1e+300"},
           {{"--inter-token-ms", "1e12"}, "llmd-bench: error: --inter-token-ms: must be <= 3600000, got 1000000000000"},
       }) {
    std::vector<std::string> argv = {LLMD_BENCH_BINARY, "sim"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto run = run_to_completion(argv, std::chrono::seconds(30));
    EXPECT_EQ(run.exit_code, 2) << args.front() << ": " << run.err;
    EXPECT_THAT(run.err, HasSubstr(message));
  }
}

TEST(SimCli, HelpShowsDefaultsAndExits0) {
  auto run = run_to_completion({LLMD_BENCH_BINARY, "sim", "--help"}, std::chrono::seconds(10));
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--route"));
  EXPECT_THAT(run.out, HasSubstr("prefix"));
  EXPECT_THAT(run.out, HasSubstr("--kv-blocks"));
  EXPECT_THAT(run.out, HasSubstr("KV cache blocks per pod (1..1048576; --pods x --kv-blocks <= 16777216)"));
  EXPECT_THAT(run.out, HasSubstr("Interval between output tokens, ms (0..3600000)"));
}

TEST(SimCli, PortInUseExits3NamingThePort) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string port = std::to_string(ntohs(address.sin_port));
  auto run = run_to_completion({LLMD_BENCH_BINARY, "sim", "--bind", "127.0.0.1", "--gateway-port", port},
                               std::chrono::seconds(10));
  ::close(fd);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_THAT(run.err, HasSubstr("gateway: cannot listen on 127.0.0.1:" + port));
}

TEST(SimCli, StopsCleanlyOnSigtermAndSigint) {
  for (int signal : {SIGTERM, SIGINT}) {
    ChildProcess child({LLMD_BENCH_BINARY, "sim", "--bind", "127.0.0.1", "--pods", "2"});
    auto line = child.read_stdout_line(std::chrono::seconds(10));
    ASSERT_TRUE(line);
    const auto info = nlohmann::json::parse(*line);
    EXPECT_EQ(info["pods"].size(), 2u);
    EXPECT_THAT(info["gateway"].get<std::string>(), testing::StartsWith("http://127.0.0.1:"));
    child.send_signal(signal);
    EXPECT_EQ(child.wait(std::chrono::seconds(10)), 0) << child.stderr_text();
    EXPECT_THAT(child.stderr_text(), HasSubstr("stopped"));
  }
}
