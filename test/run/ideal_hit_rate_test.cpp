// The ideal hit rate on small workloads computed by hand (block size 16, simulator tokenizer: one
// token per generated word).
#include "run/ideal_hit_rate.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/prompt_source.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::run {
namespace {

using ::testing::HasSubstr;
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

// A fixed prompt sends the same text every time; the computation tokenizes it once (ideal_hit_rate.cpp) and
// must count every request as if it had tokenized each: prompt tokens, hits, the token cap, a primed copy.
TEST(IdealHitRate, AFixedPromptRepeatedCountsEveryRequest) {
  RequestSpec fixed;
  fixed.prompt = PromptKind::fixed;
  fixed.text = words(40);  // 2 full blocks, both may hit (39 tokens at most)
  const IdealHitRate many = ideal_hit_rate(fixed, 1000, 16);
  EXPECT_EQ(many.prompt_tokens, 40'000u);
  EXPECT_EQ(many.hit_tokens, 999u * 32);
  const IdealHitRate capped = ideal_hit_rate(fixed, 1000, 16, {}, 20'000);
  EXPECT_FALSE(capped.rate.has_value());
  EXPECT_THAT(capped.reason, HasSubstr("more than 20000 prompt tokens"));
  IdealInputs primed;
  engine::PrefixPrompt copy;
  copy.text = fixed.text;
  primed.primed.push_back(copy);
  const IdealHitRate warm = ideal_hit_rate(fixed, 10, 16, primed);
  EXPECT_EQ(warm.hit_tokens, 10u * 32);
  // A shared prefix without a suffix is the same text every time too.
  RequestSpec shared;
  shared.prompt = PromptKind::shared_prefix;
  shared.prefix_tokens = 32;
  shared.suffix_tokens = 0;
  const IdealHitRate same = ideal_hit_rate(shared, 4, 16);
  EXPECT_EQ(same.prompt_tokens, 4u * 32);
  EXPECT_EQ(same.hit_tokens, 3u * 16);  // 31 tokens may hit: one block
}

// The prefixes cache_state.prime sends for `spec` (PromptSource::prefixes).
std::vector<engine::PrefixPrompt> primed_prefixes(const RequestSpec& spec) {
  auto source = engine::PromptSource::create(spec);
  EXPECT_TRUE(source.has_value()) << source.error();
  return source->prefixes(0);
}

TEST(IdealHitRate, PrimedGroupsStartInTheCacheSoEveryRequestHitsItsSystemPrompt) {
  // As TwoGroupsOfTwoPrompts..., but both 32-token system prompts (2 full blocks each) are held from
  // the start: all 4 requests hit 2 blocks, 128 of 160 tokens (unprimed: 64).
  IdealInputs inputs;
  inputs.primed = primed_prefixes(groups_spec(32, 8));
  inputs.reset = "api";
  ASSERT_EQ(inputs.primed.size(), 2u);
  const IdealHitRate ideal = ideal_hit_rate(groups_spec(32, 8), 4, 16, inputs);
  ASSERT_TRUE(ideal.rate.has_value()) << ideal.reason;
  EXPECT_EQ(ideal.hit_tokens, 128u);
  EXPECT_DOUBLE_EQ(*ideal.rate, 0.8);
  EXPECT_EQ(ideal.initial_prefixes, 2u);
  EXPECT_EQ(ideal.initial_blocks, 4u);
  EXPECT_EQ(ideal.initial_reset, "api");
  // 30-token system prompts: a primed prefix holds 1 full block (its second is 14 tokens, never
  // cached), so each of the 4 requests hits 16 tokens: 64 of 160 (unprimed: 32).
  inputs.primed = primed_prefixes(groups_spec(30, 10));
  const IdealHitRate off_boundary = ideal_hit_rate(groups_spec(30, 10), 4, 16, inputs);
  EXPECT_EQ(off_boundary.initial_blocks, 2u);
  EXPECT_EQ(off_boundary.hit_tokens, 64u);
  EXPECT_DOUBLE_EQ(*off_boundary.rate, 0.4);
  // Without priming, the start is empty.
  const IdealHitRate empty = ideal_hit_rate(groups_spec(32, 8), 4, 16);
  EXPECT_EQ(empty.initial_prefixes, 0u);
  EXPECT_EQ(empty.initial_blocks, 0u);
  EXPECT_EQ(empty.initial_reset, "none");
}

TEST(IdealHitRate, APrimedSharedPrefixWithTheChatTemplateIsCutAsThePrimeRequestSentIt) {
  // Chat: "<|user|>" + 31 prefix words = 32 tokens, 2 full blocks held; each request is those 32
  // tokens + 8 suffix words = 40 tokens and hits 32 from the first on: 3 x 32 of 3 x 40.
  RequestSpec shared;
  shared.prompt = PromptKind::shared_prefix;
  shared.api = scenario::ApiKind::chat;
  shared.prefix_tokens = 31;
  shared.suffix_tokens = 8;
  IdealInputs inputs;
  inputs.primed = primed_prefixes(shared);
  const IdealHitRate ideal = ideal_hit_rate(shared, 3, 16, inputs);
  EXPECT_EQ(ideal.initial_blocks, 2u);
  EXPECT_EQ(ideal.prompt_tokens, 120u);
  EXPECT_EQ(ideal.hit_tokens, 96u);
}

// A trace file of `lines` in a fresh temporary directory.
std::string write_trace(const std::string& lines) {
  const auto dir = llmd::test::scratch_dir();
  const auto path = dir / "t.jsonl";
  std::ofstream(path) << lines;
  return path.string();
}

TEST(IdealHitRate, TraceRecordsThatStartedHitTheirSharedHashIdBlocks) {
  // Block 16. r0: 40 tokens, blocks [1, 2] full, 3 cut; r1: 40 tokens, [1, 2] then its own 4: hits
  // 2 blocks (32, below its last token); r2: 20 tokens, [1] full: hits 16. 48 of 100 tokens.
  RequestSpec spec;
  spec.prompt = PromptKind::trace;
  spec.trace.block_size = 16;
  spec.dataset_path = write_trace(
      "{\"timestamp\": 0, \"input_length\": 40, \"output_length\": 1, \"hash_ids\": [1, 2, 3]}\n"
      "{\"timestamp\": 1, \"input_length\": 40, \"output_length\": 1, \"hash_ids\": [1, 2, 4]}\n"
      "{\"timestamp\": 2, \"input_length\": 20, \"output_length\": 1, \"hash_ids\": [1, 5]}\n");
  IdealInputs inputs;
  inputs.trace_records = std::vector<std::size_t>{0, 1, 2};
  const IdealHitRate all = ideal_hit_rate(spec, 3, 16, inputs);
  ASSERT_TRUE(all.rate.has_value()) << all.reason;
  EXPECT_EQ(all.requests, 3u);
  EXPECT_EQ(all.prompt_tokens, 100u);
  EXPECT_EQ(all.hit_tokens, 48u);
  // Record 1 dropped (never started): r2 still finds block 1 of r0: 16 of 60.
  inputs.trace_records = std::vector<std::size_t>{0, 2};
  const IdealHitRate dropped = ideal_hit_rate(spec, 3, 16, inputs);
  EXPECT_EQ(dropped.requests, 2u);
  EXPECT_EQ(dropped.prompt_tokens, 60u);
  EXPECT_EQ(dropped.hit_tokens, 16u);
  // A larger block size than the trace's: r0 and r1 share one 32-token block, r2 has none full.
  const IdealHitRate big_blocks = ideal_hit_rate(spec, 3, 32, IdealInputs{{}, "none", std::vector<std::size_t>{0, 1, 2}});
  EXPECT_EQ(big_blocks.hit_tokens, 32u);
  // Sent by a phase that is not a trace phase: the record of a request is not known.
  EXPECT_EQ(ideal_hit_rate(spec, 3, 16).reason,
            "not computed for trace prompts sent by a phase that is not a trace phase (its request's record is its "
            "virtual user's, which the run does not record)");
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
  RequestSpec turns;
  turns.prompt = PromptKind::multi_turn;
  EXPECT_EQ(ideal_hit_rate(turns, 10, 16).reason,
            "not computed for multi-turn prompts (each turn resends the answers actually streamed back, which the run "
            "does not keep)");
  EXPECT_EQ(ideal_hit_rate(groups_spec(32, 8), 0, 16).reason, "not computed: no measured request");
  const IdealHitRate too_big = ideal_hit_rate(groups_spec(32, 8), 4, 16, {}, 100);
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
