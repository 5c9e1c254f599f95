// cli/shard_flags.hpp: which shard a process runs, from a flag, LLMD_SHARD, or an Indexed Job.
#include "cli/shard_flags.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/scoped_env.hpp"

namespace llmd::cli {
namespace {

using ::testing::HasSubstr;

using llmd::test::ScopedEnv;

TEST(ShardFlags, NoShardWithoutAFlagOrVariable) {
  ScopedEnv shard("LLMD_SHARD", nullptr);
  auto none = resolve_shard(std::nullopt, std::nullopt);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(ShardFlags, TheFlagComesBeforeTheVariable) {
  ScopedEnv shard("LLMD_SHARD", "3/4");
  auto flag = resolve_shard(std::string("1/2"), std::nullopt);
  ASSERT_TRUE(flag && *flag) << flag.error();
  EXPECT_EQ((*flag)->slice, (engine::Slice{1, 2}));
  EXPECT_EQ((*flag)->origin, "--shard");
  auto variable = resolve_shard(std::nullopt, std::nullopt);
  ASSERT_TRUE(variable && *variable);
  EXPECT_EQ((*variable)->slice, (engine::Slice{3, 4}));
  EXPECT_EQ((*variable)->origin, "LLMD_SHARD");
}

TEST(ShardFlags, AnIndexedJobGivesTheIndexAndShardsTheCount) {
  ScopedEnv shard("LLMD_SHARD", nullptr);
  {
    ScopedEnv index("JOB_COMPLETION_INDEX", "2");
    auto job = resolve_shard(std::nullopt, 4);
    ASSERT_TRUE(job && *job) << job.error();
    EXPECT_EQ((*job)->slice, (engine::Slice{2, 4}));
    EXPECT_EQ((*job)->origin, "JOB_COMPLETION_INDEX with --shards");
  }
  {
    ScopedEnv index("JOB_COMPLETION_INDEX", "4");
    EXPECT_THAT(resolve_shard(std::nullopt, 4).error(), HasSubstr("JOB_COMPLETION_INDEX 4 is not below --shards 4"));
  }
  {
    ScopedEnv index("JOB_COMPLETION_INDEX", "two");
    EXPECT_THAT(resolve_shard(std::nullopt, 4).error(), HasSubstr("JOB_COMPLETION_INDEX \"two\" is not a whole number"));
  }
  ScopedEnv index("JOB_COMPLETION_INDEX", nullptr);
  EXPECT_THAT(resolve_shard(std::nullopt, 4).error(), HasSubstr("give this process's shard as --shard INDEX/4"));
}

TEST(ShardFlags, BadValuesNameTheirFlagOrVariable) {
  ScopedEnv shard("LLMD_SHARD", "5/4");
  EXPECT_THAT(resolve_shard(std::nullopt, std::nullopt).error(), HasSubstr("LLMD_SHARD: \"5/4\": INDEX must be below COUNT"));
  EXPECT_THAT(resolve_shard(std::string("x"), std::nullopt).error(), HasSubstr("--shard: \"x\""));
  EXPECT_THAT(resolve_shard(std::string("1/3"), 2).error(), HasSubstr("--shard 1/3 says 3 shards but --shards says 2"));
  EXPECT_THAT(resolve_shard(std::nullopt, 0).error(), HasSubstr("--shards: 0 shards"));
  EXPECT_THAT(resolve_start_at(std::string("soon")).error(), HasSubstr("--start-at: \"soon\" is not an instant"));
  auto at = resolve_start_at(std::string("1796241600"));
  ASSERT_TRUE(at && *at);
  EXPECT_FALSE(*resolve_start_at(std::nullopt));
}

}  // namespace
}  // namespace llmd::cli
