// `cache: {source: prometheus}` with a bearer token, as OpenShift's thanos-querier wants one: Debian's
// real Prometheus (no auth of its own) behind Debian's HAProxy on 127.0.0.1 that answers 401 unless
// the request carries `Authorization: Bearer <the token>`. With the token the run reads the pods'
// counters through it; without one, or with a wrong one, the run fails with the Prometheus source
// named and the 401 explained; the token never appears in any output.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/haproxy_process.hpp"
#include "support/prometheus_process.hpp"
#include "support/sim_process.hpp"

using llmd::test::HaproxyProcess;
using llmd::test::PrometheusProcess;
using llmd::test::PrometheusTarget;
using llmd::test::read_json;
using llmd::test::RunOutput;
using llmd::test::scratch_dir;
using llmd::test::SimProcess;
using llmd::test::write_file;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* k_token = "sha256~Zx81-prom-TOKEN-q7";
constexpr const char* k_token_env = "LLMD_TEST_PROM_TOKEN";

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class PrometheusAuth : public testing::Test {
 protected:
  void SetUp() override {
    if (llmd::test::find_prometheus().empty() || ::access(llmd::test::k_haproxy, X_OK) != 0) {
      GTEST_SKIP() << "needs Debian's prometheus and haproxy (scripts/setup.sh installs them)";
    }
    m_dir = scratch_dir();
    m_sim = std::make_unique<SimProcess>(std::vector<std::string>{"--pods", "2", "--time-scale", "0.01"});
    std::vector<PrometheusTarget> targets;
    for (std::size_t i = 0; i < m_sim->pods(); ++i) {
      const std::string url = m_sim->pod_url(i);
      targets.push_back({url.substr(url.find("://") + 3), "sim-pod-" + std::to_string(i)});
    }
    std::filesystem::create_directories(m_dir / "prometheus");
    m_prometheus = std::make_unique<PrometheusProcess>(m_dir / "prometheus", targets, std::chrono::seconds(1));
    ASSERT_EQ(m_prometheus->error(), "");
    const std::string upstream = m_prometheus->url().substr(std::string("http://").size());
    m_proxy = std::make_unique<HaproxyProcess>(
        m_dir, upstream, "", "",
        std::string("  http-request deny deny_status 401 unless { req.hdr(authorization) -m str \"Bearer ") + k_token +
            "\" }\n");
  }
  void TearDown() override { ::unsetenv(k_token_env); }

  // The scenario reading the cache through the authenticating proxy; `auth` is added to its cache section.
  std::filesystem::path scenario(const std::string& auth) {
    return write_file(m_dir / "s.yaml", R"(
requests: {max_tokens: 4}
load:
  - {name: measured, executor: iterations, iterations: 8, vus: 2}
cache:
  source: prometheus
  prometheus_url: )" + m_proxy->url() + R"(
  matcher: 'job="llmd"'
  scrape_interval: 1s
)" + auth);
  }

  RunOutput run(const std::filesystem::path& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {file.string(), "--target", m_sim->gateway(), "-q", "--out",
                                     "json=" + (m_dir / "r.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return llmd::test::run_bench(args);
  }

  void expect_no_token(const RunOutput& out) {
    EXPECT_THAT(out.out, Not(HasSubstr(k_token)));
    EXPECT_THAT(out.err, Not(HasSubstr(k_token)));
    if (std::filesystem::exists(m_dir / "r.json")) {
      EXPECT_THAT(slurp(m_dir / "r.json"), Not(HasSubstr(k_token)));
    }
  }

  std::filesystem::path m_dir;
  std::unique_ptr<SimProcess> m_sim;
  std::unique_ptr<PrometheusProcess> m_prometheus;
  std::unique_ptr<HaproxyProcess> m_proxy;
};

TEST_F(PrometheusAuth, WithTheTokenTheRunReadsTheCountersThroughTheProxy) {
  ::setenv(k_token_env, k_token, 1);
  const auto out = run(scenario(std::string("  bearer_token_env: ") + k_token_env + "\n"));
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(m_dir / "r.json");
  EXPECT_EQ(result["cache"]["totals"]["requests_success"], 8);
  EXPECT_EQ(result["cache"]["totals"]["pods_failed"], 0);
  expect_no_token(out);
  // The same through the flag, the scenario naming no variable.
  std::filesystem::remove(m_dir / "r.json");
  const auto flagged = run(scenario(""), {"--prometheus-token-env", k_token_env});
  ASSERT_EQ(flagged.exit_code, 0) << flagged.out << flagged.err;
  EXPECT_EQ(read_json(m_dir / "r.json")["cache"]["totals"]["requests_success"], 8);
  expect_no_token(flagged);
}

TEST_F(PrometheusAuth, WithoutOrWithAWrongTokenTheRunFailsNamingThePrometheusSource) {
  const auto none = run(scenario(""));
  EXPECT_EQ(none.exit_code, 3) << none.out << none.err;
  EXPECT_THAT(none.out, HasSubstr("Prometheus " + m_proxy->url() + ": HTTP 401: the server wants credentials: set "
                                  "cache.bearer_token_env (or --prometheus-token-env)"));

  ::setenv(k_token_env, "sha256~not-the-one", 1);
  std::filesystem::remove(m_dir / "r.json");
  const auto wrong = run(scenario(std::string("  bearer_token_env: ") + k_token_env + "\n"));
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_THAT(wrong.out, HasSubstr("Prometheus " + m_proxy->url() + ": HTTP 401: the bearer token was refused"));
  EXPECT_THAT(wrong.out + wrong.err, Not(HasSubstr("sha256~not-the-one")));
  EXPECT_THAT(slurp(m_dir / "r.json"), Not(HasSubstr("sha256~not-the-one")));
  expect_no_token(wrong);
}

// A variable that is not set: exit 2 before anything is sent, naming the variable.
TEST_F(PrometheusAuth, AnUnsetTokenVariableIsAUsageErrorNamingIt) {
  ::unsetenv(k_token_env);
  const auto out = run(scenario(""), {"--prometheus-token-env", k_token_env});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr(std::string("names the environment variable ") + k_token_env + ", which is not set"));
  EXPECT_FALSE(std::filesystem::exists(m_dir / "r.json"));
  const auto misplaced = llmd::test::run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/smoke.yaml", "-q",
                                                "--prometheus-token-env", k_token_env});
  EXPECT_EQ(misplaced.exit_code, 2) << misplaced.out << misplaced.err;
  EXPECT_THAT(misplaced.err, HasSubstr("--prometheus-token-env: the scenario's cache source is not prometheus"));
}

}  // namespace
