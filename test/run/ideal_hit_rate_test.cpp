// The ideal hit rate on small workloads computed by hand (block size 16, simulator tokenizer: one
// token per generated word).
#include "run/ideal_hit_rate.hpp"

#include <string>

#include <gtest/gtest.h>

namespace llmd::run {
namespace {

using scenario::PromptKind;
using scenario::RequestSpec;

RequestSpec groups_spec(std::size_t system_tokens, std::size_t question_tokens) {
  RequestSpec spec;
  spec.prompt = PromptKind::prefix_groups;
  spec.prefix_groups.groups = 2;
  spec.prefix_groups.prompts_per_group = 2;
  spec.prefix_groups.system_prompt_tokens = scenario::fixed_length(system_tokens, system_tokens);
  spec.prefix_groups.question_tokens = scenario::fixed_length(question_tokens, question_tokens);
  return spec;
}

// "w0 w1 ... w(n-1)": n tokens.
std::string words(std::size_t n) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) {
    text += (i == 0 ? "w" : " w") + std::to_string(i);
  }
  return text;
}

TEST(IdealHitRate, TwoGroupsOfTwoPromptsWithBlockAlignedSystemPrompts) {
  // 32-token system prompts (2 full blocks) + 8-token questions = 40 tokens a prompt. Round-robin:
  // g0q0 and g1q0 miss; g0q1 and g1q1 find their group's 2 blocks: 64 of 160 tokens.
  const IdealHitRate one_pass = ideal_hit_rate(groups_spec(32, 8), 4, 16);
  ASSERT_TRUE(one_pass.rate.has_value()) << one_pass.reason;
  EXPECT_EQ(one_pass.prompt_tokens, 160u);
  EXPECT_EQ(one_pass.hit_tokens, 64u);
  EXPECT_DOUBLE_EQ(*one_pass.rate, 0.4);
  EXPECT_EQ(one_pass.requests, 4u);
  EXPECT_EQ(one_pass.reason, "");
  // A second pass repeats the 4 prompts: each hits its 2 full blocks (the partial third never counts).
  const IdealHitRate two_passes = ideal_hit_rate(groups_spec(32, 8), 8, 16);
  EXPECT_EQ(two_passes.hit_tokens, 64u + 4 * 32u);
  EXPECT_DOUBLE_EQ(*two_passes.rate, 192.0 / 320.0);
}

TEST(IdealHitRate, ASystemPromptOffTheBlockBoundaryLosesTheBlockItSharesWithTheQuestion) {
  // 30 + 10 tokens: block 2 holds 14 system and 2 question tokens, so it differs per question and
  // only block 1 is shared: 2 x 16 of 160.
  const IdealHitRate ideal = ideal_hit_rate(groups_spec(30, 10), 4, 16);
  EXPECT_EQ(ideal.hit_tokens, 32u);
  EXPECT_DOUBLE_EQ(*ideal.rate, 0.2);
}

TEST(IdealHitRate, SharedPrefixFixedAndTheCapAtPromptMinusOne) {
  RequestSpec shared;
  shared.prompt = PromptKind::shared_prefix;
  shared.prefix_tokens = 32;
  shared.suffix_tokens = 8;
  EXPECT_DOUBLE_EQ(*ideal_hit_rate(shared, 5, 16).rate, 4.0 * 32 / (5 * 40));

  RequestSpec fixed;
  fixed.prompt = PromptKind::fixed;
  fixed.text = words(20);  // one full block, hit from the second request on
  EXPECT_DOUBLE_EQ(*ideal_hit_rate(fixed, 3, 16).rate, 32.0 / 60);
  // 32 tokens: 2 full blocks, but at most 31 tokens may hit, so 1 block does.
  fixed.text = words(32);
  const IdealHitRate capped = ideal_hit_rate(fixed, 2, 16);
  EXPECT_EQ(capped.hit_tokens, 16u);
  EXPECT_DOUBLE_EQ(*capped.rate, 0.25);
  // Chat: the simulator's template puts "<|user|>" first, 33 tokens, 2 full blocks may hit.
  fixed.api = scenario::ApiKind::chat;
  const IdealHitRate chat = ideal_hit_rate(fixed, 2, 16);
  EXPECT_EQ(chat.prompt_tokens, 66u);
  EXPECT_EQ(chat.hit_tokens, 32u);
}

TEST(IdealHitRate, RandomPromptsShareNothing) {
  RequestSpec random;
  random.prompt = PromptKind::random;
  random.length = scenario::fixed_length(64, 64);
  const IdealHitRate ideal = ideal_hit_rate(random, 50, 16);
  EXPECT_EQ(ideal.prompt_tokens, 50u * 64);
  EXPECT_DOUBLE_EQ(*ideal.rate, 0.0);
}

TEST(IdealHitRate, NotComputedSaysWhy) {
  RequestSpec dataset;
  dataset.prompt = PromptKind::dataset;
  const IdealHitRate for_dataset = ideal_hit_rate(dataset, 10, 16);
  EXPECT_FALSE(for_dataset.rate.has_value());
  EXPECT_EQ(for_dataset.reason, "not computed for dataset prompts");
  RequestSpec sessions;
  sessions.prompt = PromptKind::per_session;
  EXPECT_EQ(ideal_hit_rate(sessions, 10, 16).reason,
            "not computed for per-session prompts (a request's prefix is its virtual user's, which the run does not "
            "record)");
  EXPECT_EQ(ideal_hit_rate(groups_spec(32, 8), 0, 16).reason, "not computed: no measured request");
  const IdealHitRate too_big = ideal_hit_rate(groups_spec(32, 8), 4, 16, 100);
  EXPECT_FALSE(too_big.rate.has_value());
  EXPECT_EQ(too_big.reason,
            "not computed: the measured requests hold more than 100 prompt tokens, the most this computation reads");
}

TEST(IdealHitRate, BlockSizeFromTheSimulatorElseAssumed) {
  scenario::Scenario embedded;
  embedded.request = groups_spec(32, 8);
  embedded.sim.pod.block_size_tokens = 32;
  const IdealHitRate from_sim = ideal_hit_rate(embedded, 4);
  EXPECT_EQ(from_sim.block_size_tokens, 32u);
  EXPECT_EQ(from_sim.block_size_source, "sim.block_size");
  EXPECT_DOUBLE_EQ(*from_sim.rate, 0.4);  // one 32-token block, the system prompt
  scenario::Scenario real = embedded;
  real.target.base_url = "http://gw";
  const IdealHitRate assumed = ideal_hit_rate(real, 4);
  EXPECT_EQ(assumed.block_size_tokens, 16u);
  EXPECT_EQ(assumed.block_size_source, "assumed (vLLM's default; the target's is not known)");
}

}  // namespace
}  // namespace llmd::run
