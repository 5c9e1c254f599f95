// requests.token_counts end to end: the real binary, its embedded simulator with a tokenizer that
// differs from the prompt generator's (sim.tokenizer_piece_bytes: 3, so most words are 2 tokens),
// the completions API and a 1,024-token shared prefix: calibrated through POST /tokenize, the prefix
// is exactly 1,024 server tokens, which the pods' own counters confirm independently; and a target
// without /tokenize under calibrate: on is the finding `tokenize_unavailable`, exit 3.
#include <string>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/canned_server.hpp"
#include "run_test_support.hpp"

using llmd::test::CannedServer;
using llmd::test::read_json;
using llmd::test::run_bench;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

std::string scenario_text(const std::string& token_counts, const std::string& piece_bytes = "3") {
  return R"(
name: calibration
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 1024, suffix_tokens: 8}
  max_tokens: 4
  token_counts: )" + token_counts + R"(
load:
  - {name: measured, executor: iterations, iterations: 20, vus: 1}
cache_state:
  prime: true
sim:
  pods: 2
  route: prefix
  block_size: 16
  tokenizer_piece_bytes: )" + piece_bytes + R"(
  timing: {time_scale: 0.01}
)";
}

}  // namespace

TEST(TokenCalibrationRun, CalibratedPrefixIsExactly1024ServerTokensAsThePodsCountersShow) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", scenario_text("{calibrate: on, align_to_block: true}"));
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto& calibration = result["token_calibration"];
  EXPECT_EQ(calibration["mode"], "on");
  EXPECT_EQ(calibration["calibrated"], true);
  EXPECT_EQ(calibration["requested_tokens"], 1024);
  EXPECT_EQ(calibration["aligned_tokens"], 1024);
  EXPECT_EQ(calibration["block_size_tokens"], 16);
  EXPECT_EQ(calibration["block_size_source"], "vllm:cache_config_info");
  ASSERT_EQ(calibration["prefixes"].size(), 1u);
  const auto& prefix = calibration["prefixes"][0];
  EXPECT_EQ(prefix["server_tokens"], 1024);
  EXPECT_GT(prefix["uncalibrated_tokens"].get<int>(), 1200) << "the generator's 1,024 words are far more tokens";
  EXPECT_LT(prefix["words"].get<int>(), 1024);
  // Independent proof from the pods' counters: with the prefix primed, each of the 20 measured
  // requests hits exactly its 64 prefix blocks = 1,024 tokens (the next block holds the request's
  // own suffix). Were the prefix 1,023 or 1,025 tokens, the hits would be 1,008 per request.
  const auto& totals = result["cache"]["totals"];
  EXPECT_EQ(totals["hits_tokens"], 20 * 1024) << totals;
  EXPECT_THAT(out.out, HasSubstr("every prefix measures exactly 1024 server tokens"));
  EXPECT_THAT(out.out, HasSubstr("token counts (requests.token_counts.calibrate: on, via POST http://127.0.0.1:"));
}

TEST(TokenCalibrationRun, WithoutCalibrationTheSameWorkloadMissesTheBlockBoundary) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", scenario_text("{calibrate: \"off\"}"));
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  EXPECT_TRUE(result["token_calibration"].is_null());
  const auto hits = result["cache"]["totals"]["hits_tokens"].get<long>();
  EXPECT_NE(hits, 20 * 1024);
  EXPECT_EQ(hits % (20 * 16), 0) << "whole blocks, the same for every request";
  EXPECT_GT(hits, 20 * 1024) << "the uncalibrated prefix is more than 1,024 server tokens";
  // The report says by how much the generator's count is off, from usage.prompt_tokens.
  const auto& accuracy = result["run"]["total"]["summary"]["prompt_tokens_accuracy"];
  EXPECT_EQ(accuracy["responses"], 20);
  EXPECT_EQ(accuracy["generator_tokens"], 20 * 1032);
  EXPECT_GT(accuracy["server_tokens"].get<long>(), 20 * 1200);
  EXPECT_THAT(out.out, HasSubstr("prompt tokens approximate: generator 1032, server "));
  EXPECT_THAT(out.out, HasSubstr(" per request (usage.prompt_tokens, 20 responses): +"));
  EXPECT_THAT(out.out, HasSubstr("(not calibrated: requests.token_counts.calibrate makes prefixes exact"));
}

TEST(TokenCalibrationRun, TheDefaultSimulatorCountsAsTheGeneratorDoes) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", scenario_text("{calibrate: \"off\"}", "8"));
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("prompt tokens exact: generator 1032, server 1032 per request (usage.prompt_tokens, 20 "
                                 "responses): +0.0%\n"));
  EXPECT_EQ(read_json(dir / "r.json")["cache"]["totals"]["hits_tokens"], 20 * 1024);
}

TEST(TokenCalibrationRun, PrefixGroupsAreNotCalibratedAndTheReportSaysSo) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
name: groups
requests:
  prompt: {kind: prefix-groups, groups: 2, prompts_per_group: 2, system_prompt_tokens: 64, question_tokens: 8}
  max_tokens: 4
load:
  - {name: measured, executor: iterations, iterations: 4, vus: 1}
sim: {pods: 2, tokenizer_piece_bytes: 3, timing: {time_scale: 0.01}}
)");
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  // No calibrate stage ran (it covers shared-prefix and per-session), and the deviation line does
  // not point at a setting that would not help.
  EXPECT_TRUE(read_json(dir / "r.json")["token_calibration"].is_null());
  EXPECT_THAT(out.out, HasSubstr("prompt tokens approximate: generator 72, server "));
  EXPECT_THAT(out.out, HasSubstr("(prefix-groups prompts are not calibrated: their lengths are the generator's words)"));
  EXPECT_THAT(out.out, testing::Not(HasSubstr("makes prefixes exact")));
}

TEST(TokenCalibrationRun, MissingTokenizeWithCalibrateOnIsAFindingAndExit3) {
  const std::string body = R"({"detail":"Not Found"})";
  CannedServer server("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
target: {base_url: ")" + server.url() + R"(", preflight: false}
model: m
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}
  token_counts: {calibrate: on}
load:
  - {executor: iterations, iterations: 2, vus: 1}
)");
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  bool found = false;
  for (const auto& finding : result["diagnostics"]) {
    if (finding["code"] == "tokenize_unavailable") {
      found = true;
      EXPECT_THAT(finding["message"].get<std::string>(), HasSubstr("POST " + server.url() + "/tokenize answered HTTP 404"));
      EXPECT_THAT(finding["fix"].get<std::string>(), HasSubstr("calibrate: auto or off"));
    }
  }
  EXPECT_TRUE(found) << result["diagnostics"];
  EXPECT_TRUE(result["run"].is_null()) << "nothing was measured";
  EXPECT_THAT(out.out + out.err, HasSubstr("/tokenize answered HTTP 404"));

  // calibrate: auto goes on with a note saying the counts are the generator's.
  const auto automatic = write_file(dir / "a.yaml", R"(
target: {base_url: ")" + server.url() + R"(", preflight: false}
model: m
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}
load:
  - {executor: iterations, iterations: 2, vus: 1}
)");
  const auto went_on = run_bench({automatic.string(), "--out", "json=" + (dir / "a.json").string()});
  const auto auto_result = read_json(dir / "a.json");
  EXPECT_EQ(auto_result["token_calibration"]["calibrated"], false);
  EXPECT_THAT(auto_result["token_calibration"]["note"].get<std::string>(), HasSubstr("answered HTTP 404"));
  EXPECT_FALSE(auto_result["run"].is_null()) << went_on.out << went_on.err;
  EXPECT_THAT(went_on.out, HasSubstr("not calibrated: POST " + server.url() + "/tokenize answered HTTP 404"));
}
