// `requests:`: every prompt kind, length distributions, sampling and streaming options.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::scenario {
namespace {

namespace fs = std::filesystem;
using test::k_load;
using test::load_error;
using test::load_ok;

std::string with_requests(std::string_view lines) { return std::string(k_load) + "requests:\n" + std::string(lines); }

fs::path temp_dir() {
  auto dir = llmd::test::scratch_dir();
  fs::create_directories(dir / "data");
  return dir;
}

TEST(ScenarioRequests, DefaultsAreTheSharedPrefixLoop) {
  const RequestSpec request = load_ok(k_load).request;
  EXPECT_EQ(request.prompt, PromptKind::shared_prefix);
  EXPECT_EQ(request.prefix_tokens, 1000u);
  EXPECT_EQ(request.max_tokens, 64u);
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
  EXPECT_FALSE(request.ignore_eos);
  EXPECT_FALSE(request.temperature.has_value());
}

TEST(ScenarioRequests, Fixed) {
  const RequestSpec request = load_ok(with_requests("  prompt:\n    kind: fixed\n    text: Hello there\n")).request;
  EXPECT_EQ(request.prompt, PromptKind::fixed);
  EXPECT_EQ(request.text, "Hello there");
  EXPECT_EQ(request.where.line, 6);  // a block mapping starts at its first key
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: fixed\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"text\"");
}

TEST(ScenarioRequests, SharedPrefix) {
  const RequestSpec request =
      load_ok(with_requests("  prompt:\n    kind: shared-prefix\n    prefix_tokens: 2000\n    suffix_tokens: 4\n    seed: 7\n"))
          .request;
  EXPECT_EQ(request.prompt, PromptKind::shared_prefix);
  EXPECT_EQ(request.prefix_tokens, 2000u);
  EXPECT_EQ(request.suffix_tokens, 4u);
  EXPECT_EQ(request.seed, 7u);
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: shared-prefix\n    prefix_tokens: 0\n")),
            "scenarios/x.yaml:8:20: requests.prompt.prefix_tokens: must be >= 1, got 0");
}

TEST(ScenarioRequests, PerSession) {
  const RequestSpec request =
      load_ok(with_requests("  prompt:\n    kind: per-session\n    prefix_tokens: 500\n    session_header: x-user\n")).request;
  EXPECT_EQ(request.prompt, PromptKind::per_session);
  EXPECT_EQ(request.prefix_tokens, 500u);
  EXPECT_EQ(request.session_header, "x-user");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: per-session\n    session_header: x user\n")),
            "scenarios/x.yaml:8:21: requests.prompt.session_header: \"x user\" is not a valid header name (letters, "
            "digits and !#$%&'*+-.^_`|~)");
}

TEST(ScenarioRequests, DatasetPathIsRelativeToTheScenarioFile) {
  const fs::path dir = temp_dir();
  std::ofstream(dir / "data" / "prompts.jsonl") << "{\"prompt\": \"hi\"}\n";
  std::ofstream(dir / "s.yaml") << with_requests("  prompt:\n    kind: dataset\n    path: data/prompts.jsonl\n");
  auto scenario = load_scenario(dir / "s.yaml");
  ASSERT_TRUE(scenario) << scenario.error();
  EXPECT_EQ(scenario->request.prompt, PromptKind::dataset);
  EXPECT_EQ(scenario->request.dataset_path, (dir / "data" / "prompts.jsonl").string());
}

TEST(ScenarioRequests, DatasetFileMustExist) {
  const fs::path dir = temp_dir();
  const std::string file = (dir / "s.yaml").string();
  auto scenario = load_scenario_text(with_requests("  prompt:\n    kind: dataset\n    path: missing.jsonl\n"), file);
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error(), file + ":8:11: requests.prompt.path: file \"missing.jsonl\" not found (looked for " +
                                  (dir / "missing.jsonl").string() +
                                  "; relative paths start at the scenario's directory)");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: dataset\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"path\"");
  // Issue 10: a device is refused at load time, named for what it is (it read "not found").
  scenario = load_scenario_text(with_requests("  prompt:\n    kind: dataset\n    path: /dev/zero\n"), file);
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error(), file + ":8:11: requests.prompt.path: \"/dev/zero\" is not a regular file (a directory, "
                                     "device or FIFO): give a file");
}

TEST(ScenarioRequests, RandomWithEveryDistribution) {
  using Kind = LengthDistribution::Kind;
  LengthDistribution length = load_ok(with_requests("  prompt:\n    kind: random\n    length: 256\n")).request.length;
  EXPECT_EQ(length.kind, Kind::constant);
  EXPECT_DOUBLE_EQ(length.a, 256);
  length = load_ok(with_requests("  prompt:\n    kind: random\n    length: {distribution: constant, value: 64}\n"))
               .request.length;
  EXPECT_EQ(length.kind, Kind::constant);
  EXPECT_DOUBLE_EQ(length.a, 64);
  length = load_ok(with_requests("  prompt:\n    kind: random\n    length: {distribution: uniform, min: 100, max: 200}\n"))
               .request.length;
  EXPECT_EQ(length.kind, Kind::uniform);
  EXPECT_DOUBLE_EQ(length.a, 100);
  EXPECT_DOUBLE_EQ(length.b, 200);
  length = load_ok(with_requests("  prompt:\n    kind: random\n    seed: 3\n    length:\n      distribution: normal\n"
                                 "      mean: 500\n      stddev: 50\n      min: 10\n      max: 900\n"))
               .request.length;
  EXPECT_EQ(length.kind, Kind::normal);
  EXPECT_DOUBLE_EQ(length.a, 500);
  EXPECT_DOUBLE_EQ(length.b, 50);
  EXPECT_EQ(length.min_tokens, 10u);
  EXPECT_EQ(length.max_tokens, 900u);
  length = load_ok(with_requests("  prompt:\n    kind: random\n    length: {distribution: lognormal, mean: 300, stddev: 100}\n"))
               .request.length;
  EXPECT_EQ(length.kind, Kind::lognormal);
  EXPECT_EQ(length.max_tokens, 32768u);
}

TEST(ScenarioRequests, RandomLengthErrors) {
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: {distribution: uniform, min: 200, max: 100}\n")),
            "scenarios/x.yaml:8:52: requests.prompt.length.max: must be >= min (200), got 100");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: {distribution: normal, mean: 5, stddev: 1, min: 40000}\n")),
            "scenarios/x.yaml:8:61: requests.prompt.length.min: must be <= max (32768), got 40000");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: {distribution: zipf}\n")),
            "scenarios/x.yaml:8:28: requests.prompt.length.distribution: unknown distribution \"zipf\"; expected one "
            "of constant, uniform, normal, lognormal");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: {distribution: uniform, mean: 3}\n")),
            "scenarios/x.yaml:8:37: requests.prompt.length: unknown key \"mean\" for distribution uniform; valid keys: "
            "distribution, min, max");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: {min: 3}\n")),
            "scenarios/x.yaml:8:13: requests.prompt.length: missing required key \"distribution\"");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: random\n    length: 0\n")),
            "scenarios/x.yaml:8:13: requests.prompt.length: must be >= 1, got 0");
}

TEST(ScenarioRequests, UnknownKindAndKeysOfAnotherKind) {
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: shared_prefix\n")),
            "scenarios/x.yaml:7:11: requests.prompt.kind: unknown prompt kind \"shared_prefix\"; expected one of "
            "fixed, shared-prefix, per-session, dataset, random, multi-turn, trace, prefix-groups");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    kind: shared-prefix\n    text: hi\n")),
            "scenarios/x.yaml:8:5: requests.prompt: unknown key \"text\" for prompt kind shared-prefix; valid keys: "
            "kind, prefix_tokens, suffix_tokens, seed");
  EXPECT_EQ(load_error(with_requests("  prompt: fixed\n")),
            "scenarios/x.yaml:6:11: requests.prompt: expected a mapping with a `kind`, got \"fixed\"");
  EXPECT_EQ(load_error(with_requests("  prompt:\n    text: hi\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"kind\"");
}

TEST(ScenarioRequests, SamplingAndStreaming) {
  const RequestSpec request = load_ok(with_requests("  max_tokens: 128\n  temperature: 0\n  stream: true\n"
                                                    "  stream_options:\n    include_usage: false\n  ignore_eos: true\n"))
                                  .request;
  EXPECT_EQ(request.max_tokens, 128u);
  EXPECT_EQ(request.temperature, 0.0);
  EXPECT_TRUE(request.stream);
  EXPECT_FALSE(request.include_usage);
  EXPECT_TRUE(request.ignore_eos);
  EXPECT_FALSE(load_ok(with_requests("  stream: false\n")).request.stream);
}

TEST(ScenarioRequests, SamplingErrors) {
  EXPECT_EQ(load_error(with_requests("  max_tokens: 0\n")), "scenarios/x.yaml:6:15: requests.max_tokens: must be >= 1, got 0");
  EXPECT_EQ(load_error(with_requests("  temperature: -0.5\n")),
            "scenarios/x.yaml:6:16: requests.temperature: must be >= 0, got -0.5");
  EXPECT_EQ(load_error(with_requests("  stream: false\n  stream_options: {include_usage: true}\n")),
            "scenarios/x.yaml:7:19: requests.stream_options: only valid with stream: true (vLLM rejects stream_options "
            "without streaming)");
  EXPECT_EQ(load_error(with_requests("  stream_options: {usage: true}\n")),
            "scenarios/x.yaml:6:20: requests.stream_options: unknown key \"usage\"; valid keys: include_usage");
  EXPECT_EQ(load_error(with_requests("  max_token: 5\n")),
            "scenarios/x.yaml:6:3: requests: unknown key \"max_token\"; valid keys: prompt, max_tokens, temperature, "
            "stream, stream_options, ignore_eos, token_counts");
}

TEST(ScenarioRequests, TokenCounts) {
  const RequestSpec defaults = load_ok(with_requests("  max_tokens: 5\n")).request;
  EXPECT_EQ(defaults.token_counts.calibrate, TokenCountsSpec::Calibrate::automatic);
  EXPECT_FALSE(defaults.token_counts.align_to_block);
  EXPECT_TRUE(defaults.calibrated.empty());
  const RequestSpec on = load_ok(with_requests("  token_counts: {calibrate: on, align_to_block: true}\n")).request;
  EXPECT_EQ(on.token_counts.calibrate, TokenCountsSpec::Calibrate::on);
  EXPECT_TRUE(on.token_counts.align_to_block);
  EXPECT_EQ(load_ok(with_requests("  token_counts: {calibrate: \"off\"}\n")).request.token_counts.calibrate,
            TokenCountsSpec::Calibrate::off);
  EXPECT_EQ(load_ok(with_requests("  token_counts:\n    calibrate: auto\n")).request.token_counts.calibrate,
            TokenCountsSpec::Calibrate::automatic);
}

TEST(ScenarioRequests, TokenCountsErrors) {
  EXPECT_EQ(load_error(with_requests("  token_counts: {calibrate: always}\n")),
            "scenarios/x.yaml:6:29: requests.token_counts.calibrate: unknown calibrate \"always\": choose auto (calibrate "
            "when POST /tokenize answers), on (a missing /tokenize fails the run) or off");
  EXPECT_EQ(load_error(with_requests("  token_counts: {align: true}\n")),
            "scenarios/x.yaml:6:18: requests.token_counts: unknown key \"align\"; valid keys: calibrate, align_to_block");
  const auto not_bool = load_error(with_requests("  token_counts: {align_to_block: 16}\n"));
  EXPECT_NE(not_bool.find("scenarios/x.yaml:6:"), std::string::npos) << not_bool;
  EXPECT_NE(not_bool.find("requests.token_counts.align_to_block"), std::string::npos) << not_bool;
  const auto scalar = load_error(with_requests("  token_counts: on\n"));
  EXPECT_NE(scalar.find("requests.token_counts"), std::string::npos) << scalar;
}

}  // namespace
}  // namespace llmd::scenario
