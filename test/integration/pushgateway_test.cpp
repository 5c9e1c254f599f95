// `llmd-bench run --out prometheus-push=URL` against Debian's real Pushgateway on 127.0.0.1 (issue 15
// item 5): what the Pushgateway then serves on /metrics equals the JSON result of the same run, with
// the grouping labels job/scenario; a bad URL is exit 2 before any load; a Pushgateway that is not
// there costs no other output and makes the run an error (exit 3) naming the flag and the URL.
#include <chrono>
#include <iostream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "prom/text_parser.hpp"
#include "support/canned_server.hpp"
#include "support/http_client.hpp"
#include "support/prometheus_process.hpp"

namespace {

namespace fs = std::filesystem;
using llmd::test::PushgatewayProcess;
using llmd::test::read_json;
using llmd::test::run_bench;
using llmd::test::scratch_dir;
using testing::HasSubstr;
using testing::Not;

const std::string k_cache_hit = std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml";

// The pushed sample `name` whose labels include every one of `labels` (a missing label counts as
// "", as in PromQL); nullptr when none.
const llmd::prom::Sample* find(const llmd::prom::Exposition& e, const std::string& name,
                               const std::map<std::string, std::string>& labels) {
  for (const auto* sample : e.samples(name)) {
    bool all = true;
    for (const auto& [key, value] : labels) {
      const std::string* have = sample->label(key);
      all = all && (have != nullptr ? *have : std::string()) == value;
    }
    if (all) {
      return sample;
    }
  }
  return nullptr;
}

}  // namespace

TEST(Pushgateway, PushedMetricsEqualTheJsonResult) {
  PushgatewayProcess gateway;
  ASSERT_EQ(gateway.error(), "");
  const auto dir = scratch_dir();
  const auto out = run_bench({k_cache_hit, "-q", "--out", "json=" + (dir / "r.json").string(), "--out",
                              "prometheus-push=" + gateway.url()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto scraped = llmd::test::http_get(gateway.url() + "/metrics");
  ASSERT_EQ(scraped.status, 200);
  auto parsed = llmd::prom::parse_text(scraped.body);
  ASSERT_TRUE(parsed) << llmd::prom::format_error(parsed.error(), "pushgateway");
  const auto& e = *parsed;
  const std::map<std::string, std::string> group = {{"job", "llmd_bench"}, {"scenario", "cache-hit"}};
  auto with = [&](std::map<std::string, std::string> labels) {
    labels.insert(group.begin(), group.end());
    return labels;
  };

  const auto& total = llmd::test::phase_total(result);
  const auto ok = total["counts"]["ok"].get<double>();
  const auto* pushed_ok = find(e, "llmd_bench_requests_total", with({{"phase", "total"}, {"outcome", "ok"}}));
  ASSERT_NE(pushed_ok, nullptr) << scraped.body;
  EXPECT_EQ(pushed_ok->value, ok);
  EXPECT_EQ(ok, 20);
  const auto* ttft_count = find(e, "llmd_bench_ttft_seconds_count", with({{"phase", "total"}}));
  ASSERT_NE(ttft_count, nullptr);
  EXPECT_EQ(ttft_count->value, ok);
  const auto* ttft_inf = find(e, "llmd_bench_ttft_seconds_bucket", with({{"phase", "total"}, {"le", "+Inf"}}));
  ASSERT_NE(ttft_inf, nullptr);
  EXPECT_EQ(ttft_inf->value, ok);
  const auto* ttft_phase = find(e, "llmd_bench_ttft_seconds_count", with({{"phase", "identical-prefix"}}));
  ASSERT_NE(ttft_phase, nullptr);
  EXPECT_EQ(ttft_phase->value, ok);
  const double json_hit_rate = result["cache"]["totals"]["hit_rate"].get<double>();
  const auto* fleet = find(e, "llmd_bench_cache_hit_ratio", with({{"pod", ""}}));
  ASSERT_NE(fleet, nullptr);
  EXPECT_DOUBLE_EQ(fleet->value, json_hit_rate);
  for (const auto& pod : result["cache"]["pods"]) {
    if (pod["hit_rate"].is_number()) {
      const auto* pushed = find(e, "llmd_bench_cache_hit_ratio", with({{"pod", pod["pod"].get<std::string>()}}));
      ASSERT_NE(pushed, nullptr) << pod["pod"];
      EXPECT_DOUBLE_EQ(pushed->value, pod["hit_rate"].get<double>());
    }
  }
  const auto* verdict = find(e, "llmd_bench_run_verdict_info", with({{"verdict", result["verdict"].get<std::string>()}}));
  ASSERT_NE(verdict, nullptr);
  EXPECT_EQ(verdict->value, 1);
  const auto* gate = find(e, "llmd_bench_threshold_passed", with({{"threshold", "cache_hit_rate >=0.90"}}));
  ASSERT_NE(gate, nullptr) << scraped.body;
  EXPECT_EQ(gate->value, 1);
  const auto* started = find(e, "llmd_bench_run_start_timestamp_seconds", group);
  ASSERT_NE(started, nullptr);
  EXPECT_GT(started->value, 1.7e9);
  std::cout << "[pushgateway] pushed vs JSON: requests ok " << pushed_ok->value << " vs " << ok << ", ttft _count "
            << ttft_count->value << ", fleet hit rate " << fleet->value << " vs " << json_hit_rate << ", verdict "
            << result["verdict"].get<std::string>() << "\n";
}

TEST(Pushgateway, ABadSchemeIsExit2BeforeAnyLoad) {
  const auto dir = scratch_dir();
  const auto start = std::chrono::steady_clock::now();
  const auto out = run_bench({k_cache_hit, "-q", "--out", "json=" + (dir / "r.json").string(), "--out",
                              "prometheus-push=ftp://alice:s3cret@127.0.0.1:9091"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out prometheus-push=ftp://***@127.0.0.1:9091: scheme \"ftp\" is not http or https"));
  EXPECT_THAT(out.err, Not(HasSubstr("s3cret")));
  EXPECT_FALSE(fs::exists(dir / "r.json"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Pushgateway, APushgatewayThatIsNotListeningLosesNoOtherOutput) {
  const auto dir = scratch_dir();
  const std::string url = "http://bob:hunter22@127.0.0.1:" + std::to_string(llmd::test::closed_port());
  const auto out = run_bench({k_cache_hit, "-q", "--out", "json=" + (dir / "r.json").string(), "--out",
                              "junit=" + (dir / "junit.xml").string(), "--out", "prometheus-push=" + url});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out prometheus-push=http://***@127.0.0.1:"));
  EXPECT_THAT(out.err, HasSubstr("push to http://***@127.0.0.1:"));
  EXPECT_THAT(out.err + out.out, Not(HasSubstr("hunter22")));
  ASSERT_TRUE(fs::exists(dir / "r.json"));
  ASSERT_TRUE(fs::exists(dir / "junit.xml"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_EQ(llmd::test::phase_total(result)["counts"]["ok"], 20);  // the run itself happened
  EXPECT_THAT(result["errors"].dump(), HasSubstr("result not written: --out prometheus-push=http://***@127.0.0.1:"));
}

TEST(Pushgateway, ANon2xxAnswerQuotesTheStatusAndFirstLine) {
  const std::string body = "text format parsing error in line 3: invalid metric name\nsecond line\n";
  llmd::test::CannedServer gateway("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto dir = scratch_dir();
  const auto out = run_bench({k_cache_hit, "-q", "--out", "json=" + (dir / "r.json").string(), "--out",
                              "prometheus-push=" + gateway.url() + "/"});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out prometheus-push=" + gateway.url() + "/: push to " + gateway.url() +
                                 "/metrics/job/llmd_bench/scenario/cache-hit failed: HTTP 400: text format parsing "
                                 "error in line 3: invalid metric name"));
  EXPECT_THAT(out.err, Not(HasSubstr("second line")));
  const std::string request = gateway.last_request();
  EXPECT_THAT(request, testing::StartsWith("PUT /metrics/job/llmd_bench/scenario/cache-hit HTTP/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("Content-Type: text/plain; version=0.0.4\r\n"));
  EXPECT_THAT(request, HasSubstr("llmd_bench_run_verdict_info{scenario=\"cache-hit\",verdict=\"pass\"} 1"));
  EXPECT_EQ(read_json(dir / "r.json")["verdict"], "error");
}

TEST(Pushgateway, AScenarioNameWithASlashGoesInTheBase64Form) {
  PushgatewayProcess gateway;
  ASSERT_EQ(gateway.error(), "");
  const auto dir = scratch_dir();
  const auto scenario = llmd::test::shared_prefix_scenario(dir, "1s", "name: team/a \"b\"\n");
  const auto out = run_bench({scenario.string(), "-q", "--out", "prometheus-push=" + gateway.url()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto scraped = llmd::test::http_get(gateway.url() + "/metrics");
  auto parsed = llmd::prom::parse_text(scraped.body);
  ASSERT_TRUE(parsed);
  const auto* verdict = find(*parsed, "llmd_bench_run_verdict_info", {{"job", "llmd_bench"}, {"scenario", "team/a \"b\""}});
  ASSERT_NE(verdict, nullptr) << scraped.body;
  EXPECT_EQ(verdict->value, 1);
}
