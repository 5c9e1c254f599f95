// scripts/k8s/shards-job.yaml and cache-hit-pipeline-sharded.yaml (issue 16): the Indexed Job of shard pods
// parses, its counts agree, every flag it passes exists in `llmd-bench run --help`, and the scenario it
// names validates as each shard; the sharded Tekton Pipeline runs scrape -> shards -> scrape -> merge and
// every llmd-bench command line in its scripts uses flags its command has.
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace {

using ::testing::HasSubstr;

const std::string k_k8s_dir = std::string(LLMD_SOURCE_DIR) + "/scripts/k8s/";
const std::string k_image_scenarios = "/usr/share/llmd-bench/scenarios/";  // Containerfile: COPY scenarios there

std::vector<std::string> container_args(const YAML::Node& job) {
  std::vector<std::string> args;
  for (const auto& arg : job["spec"]["template"]["spec"]["containers"][0]["args"]) {
    args.push_back(arg.as<std::string>());
  }
  return args;
}

std::string value_after(const std::vector<std::string>& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) {
      return args[i + 1];
    }
  }
  ADD_FAILURE() << "no " << flag << " in the Job's args";
  return "";
}

TEST(ShardsJob, IsAnIndexedJobWhoseCountsAgreeWithShards) {
  const auto job = YAML::LoadFile(k_k8s_dir + "shards-job.yaml");
  EXPECT_EQ(job["kind"].as<std::string>(), "Job");
  const auto& spec = job["spec"];
  EXPECT_EQ(spec["completionMode"].as<std::string>(), "Indexed");
  const auto args = container_args(job);
  const auto shards = std::stoul(value_after(args, "--shards"));
  EXPECT_GE(shards, 2u);
  EXPECT_EQ(spec["completions"].as<std::size_t>(), shards);
  EXPECT_EQ(spec["parallelism"].as<std::size_t>(), shards);  // every shard at once: they start together
  EXPECT_EQ(spec["backoffLimit"].as<int>(), 0);               // a retried shard would run late
  EXPECT_EQ(spec["template"]["spec"]["restartPolicy"].as<std::string>(), "Never");
  EXPECT_EQ(value_after(args, "--start-at"), "${START_AT}");  // one instant for every pod, set when applied
  // Each shard writes its own file on the shared volume, named by its index.
  EXPECT_EQ(value_after(args, "--out"), "json=/reports/shard-$(SHARD_INDEX).json");
  const auto& env = spec["template"]["spec"]["containers"][0]["env"][0];
  EXPECT_EQ(env["name"].as<std::string>(), "SHARD_INDEX");
  EXPECT_EQ(env["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>(),
            "metadata.annotations['batch.kubernetes.io/job-completion-index']");
}

TEST(ShardsJob, EveryFlagExistsInRunHelpAndTheScenarioValidatesAsEachShard) {
  const auto job = YAML::LoadFile(k_k8s_dir + "shards-job.yaml");
  const auto args = container_args(job);
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args[0], "run");
  auto help = llmd::test::bench({"run", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const auto& arg : args) {
    if (arg.rfind("--", 0) == 0) {
      EXPECT_TRUE(std::regex_search(help.out, std::regex("(^|[ ,])" + arg + "([ ,=\n]|$)"))) << arg << " is not a run flag";
    }
  }
  const std::string scenario = args[1];
  ASSERT_EQ(scenario.rfind(k_image_scenarios, 0), 0u) << scenario;
  const std::string local = std::string(LLMD_SOURCE_DIR) + "/scenarios/" + scenario.substr(k_image_scenarios.size());
  ASSERT_TRUE(std::filesystem::exists(local)) << local;
  const auto shards = value_after(args, "--shards");
  for (std::size_t i = 0; i < std::stoul(shards); ++i) {
    auto valid = llmd::test::bench({"validate", local, "--target", "http://127.0.0.1:1", "--shard",
                                    std::to_string(i) + "/" + shards, "--start-at", "2026-12-02T20:00:00Z"});
    EXPECT_EQ(valid.exit_code, 0) << valid.err;
  }
  // A shard outside a Job without its index is told how to give it.
  auto outside = llmd::test::bench({"validate", local, "--target", "http://127.0.0.1:1", "--shards", shards});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_THAT(outside.err, HasSubstr("JOB_COMPLETION_INDEX is not set"));
}

// Every `llmd-bench SUBCOMMAND ...` line of the Pipeline's step scripts: (subcommand, its --flags).
std::vector<std::pair<std::string, std::vector<std::string>>> bench_lines(const YAML::Node& pipeline) {
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;
  const std::regex command(R"(^\s*llmd-bench\s+([a-z]+)\s(.*)$)");
  const std::regex flag(R"((^|\s)(--[a-z][a-z-]*))");
  for (const auto& task : pipeline["spec"]["tasks"]) {
    for (const auto& step : task["taskSpec"]["steps"]) {
      std::istringstream script(step["script"].as<std::string>());
      std::string line;
      while (std::getline(script, line)) {
        std::smatch m;
        if (!std::regex_match(line, m, command)) {
          continue;
        }
        std::vector<std::string> flags;
        const std::string rest = m[2];
        for (auto it = std::sregex_iterator(rest.begin(), rest.end(), flag); it != std::sregex_iterator(); ++it) {
          flags.push_back((*it)[2]);
        }
        lines.emplace_back(m[1], flags);
      }
    }
  }
  return lines;
}

TEST(ShardedPipeline, ScrapesRunsTheShardsTogetherScrapesAgainAndMerges) {
  const auto pipeline = YAML::LoadFile(k_k8s_dir + "cache-hit-pipeline-sharded.yaml");
  EXPECT_EQ(pipeline["kind"].as<std::string>(), "Pipeline");
  const auto& tasks = pipeline["spec"]["tasks"];
  ASSERT_EQ(tasks.size(), 4u);
  EXPECT_EQ(tasks[0]["name"].as<std::string>(), "scrape-before");
  EXPECT_EQ(tasks[1]["name"].as<std::string>(), "run");
  EXPECT_EQ(tasks[1]["runAfter"][0].as<std::string>(), "scrape-before");
  EXPECT_EQ(tasks[1]["matrix"]["params"][0]["value"].as<std::string>(), "$(params.shards[*])");
  EXPECT_EQ(tasks[2]["runAfter"][0].as<std::string>(), "run");
  EXPECT_EQ(tasks[3]["name"].as<std::string>(), "merge");
  EXPECT_EQ(tasks[3]["runAfter"][0].as<std::string>(), "scrape-after");
  // Every shard gets the one instant the first task picked.
  bool start_from_scrape = false;
  for (const auto& param : tasks[1]["params"]) {
    start_from_scrape = start_from_scrape || param["value"].as<std::string>() == "$(tasks.scrape-before.results.start-at)";
  }
  EXPECT_TRUE(start_from_scrape);
  // The default shards are 0/N .. N-1/N, once each.
  for (const auto& param : pipeline["spec"]["params"]) {
    if (param["name"].as<std::string>() != "shards") {
      continue;
    }
    const auto& shards = param["default"];
    ASSERT_GE(shards.size(), 2u);
    for (std::size_t i = 0; i < shards.size(); ++i) {
      EXPECT_EQ(shards[i].as<std::string>(), std::to_string(i) + "/" + std::to_string(shards.size()));
    }
  }
}

TEST(ShardedPipeline, EveryLlmdBenchCommandLineUsesFlagsItsCommandHas) {
  const auto pipeline = YAML::LoadFile(k_k8s_dir + "cache-hit-pipeline-sharded.yaml");
  const auto lines = bench_lines(pipeline);
  std::map<std::string, int> commands;
  std::map<std::string, std::string> helps;
  for (const auto& [command, flags] : lines) {
    ++commands[command];
    if (!helps.count(command)) {
      auto help = llmd::test::bench({command, "--help"});
      ASSERT_EQ(help.exit_code, 0) << command << ": " << help.err;
      helps[command] = help.out;
    }
    for (const auto& flag : flags) {
      EXPECT_TRUE(std::regex_search(helps[command], std::regex("(^|[ ,])" + flag + "([ ,=\n]|$)")))
          << "llmd-bench " << command << " has no " << flag;
    }
  }
  EXPECT_EQ(commands["scrape"], 2);  // before and after
  EXPECT_EQ(commands["run"], 1);
  EXPECT_EQ(commands["merge"], 1);
  // The shard lines carry what makes them shards.
  for (const auto& [command, flags] : lines) {
    if (command == "run") {
      EXPECT_THAT(flags, ::testing::IsSupersetOf({"--shard", "--start-at", "--target", "--out"}));
    }
    if (command == "merge") {
      EXPECT_THAT(flags, ::testing::IsSupersetOf({"--cache-before", "--cache-after", "--scenario", "--out"}));
    }
  }
}

}  // namespace
