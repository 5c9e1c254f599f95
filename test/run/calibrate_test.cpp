// The calibrate stage's search (run/calibrate.hpp) with fake server tokenizers, and the prompts the
// engine builds from its result: exact counts, deterministic, errors named.
#include "run/calibrate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "engine/prompt_source.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::run {
namespace {

using scenario::PromptKind;
using scenario::RequestSpec;

RequestSpec shared_spec(std::size_t prefix_tokens) {
  RequestSpec spec;
  spec.prompt = PromptKind::shared_prefix;
  spec.prefix_tokens = prefix_tokens;
  spec.suffix_tokens = 8;
  spec.seed = 42;
  return spec;
}

engine::PromptSource source_of(const RequestSpec& spec) {
  auto source = engine::PromptSource::create(spec);
  EXPECT_TRUE(source.has_value()) << source.error();
  return std::move(*source);
}

// A server whose tokenizer cuts pieces at `bytes` (the simulator with tokenizer_piece_bytes), counting calls.
TokenCounter sim_counter(std::size_t bytes, std::size_t* calls = nullptr) {
  return [bytes, calls](const std::string& text) -> util::Result<std::size_t> {
    if (calls != nullptr) ++*calls;
    return sim::count_tokens(text, bytes);
  };
}

TEST(CalibrateSearch, ExactCountsForATokenizerThatSplitsLongerWords) {
  for (const std::size_t bytes : {1u, 2u, 3u, 5u}) {
    for (const std::size_t target : {1u, 7u, 100u, 1024u}) {
      auto source = source_of(shared_spec(target));
      const PrefixBuilder build = [&](std::size_t w, std::size_t f) { return source.generated_prefix(0, w, f); };
      auto found = search_prefix(target, build, sim_counter(bytes));
      ASSERT_TRUE(found.has_value()) << found.error();
      EXPECT_EQ(found->tokens, target);
      EXPECT_EQ(sim::count_tokens(source.generated_prefix(0, found->words, found->fillers), bytes), target)
          << "bytes " << bytes << " target " << target;
      EXPECT_LT(found->words, target + 1);
      EXPECT_GT(found->uncalibrated_tokens, target) << "the generator's words split into more tokens";
    }
  }
}

TEST(CalibrateSearch, TheGeneratorsOwnTokenizerNeedsOneCallAndNoFiller) {
  auto source = source_of(shared_spec(1024));
  std::size_t calls = 0;
  auto found = search_prefix(1024, [&](std::size_t w, std::size_t f) { return source.generated_prefix(0, w, f); },
                             sim_counter(8, &calls));
  ASSERT_TRUE(found.has_value()) << found.error();
  EXPECT_EQ(found->words, 1024u);
  EXPECT_EQ(found->fillers, 0u);
  EXPECT_EQ(found->uncalibrated_tokens, 1024u);
  EXPECT_EQ(calls, 1u);
}

TEST(CalibrateSearch, AServerThatMergesWordsGetsMoreWords) {
  // Two words a token (rounded up): 1,024 tokens need 2,047 or 2,048 words.
  const TokenCounter merging = [](const std::string& text) -> util::Result<std::size_t> {
    return (sim::count_tokens(text) + 1) / 2;
  };
  auto source = source_of(shared_spec(1024));
  auto found = search_prefix(1024, [&](std::size_t w, std::size_t f) { return source.generated_prefix(0, w, f); }, merging);
  ASSERT_TRUE(found.has_value()) << found.error();
  EXPECT_EQ(found->tokens, 1024u);
  EXPECT_EQ(found->uncalibrated_tokens, 512u);
  EXPECT_GE(found->words, 2047u);
}

TEST(CalibrateSearch, FailuresNameTheCauseAndTheClosestCount) {
  auto source = source_of(shared_spec(11));
  const PrefixBuilder build = [&](std::size_t w, std::size_t f) { return source.generated_prefix(0, w, f); };
  const TokenCounter missing = [](const std::string&) -> util::Result<std::size_t> {
    return util::fail("POST http://127.0.0.1:1/tokenize answered HTTP 404");
  };
  auto failed = search_prefix(11, build, missing);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), "POST http://127.0.0.1:1/tokenize answered HTTP 404");
  // Every word and filler is two tokens: an odd count cannot be reached.
  const TokenCounter doubling = [](const std::string& text) -> util::Result<std::size_t> {
    return 2 * sim::count_tokens(text);
  };
  auto odd = search_prefix(11, build, doubling);
  ASSERT_FALSE(odd.has_value());
  EXPECT_NE(odd.error().find("measures exactly 11 tokens"), std::string::npos) << odd.error();
  EXPECT_NE(odd.error().find("(closest 12)"), std::string::npos) << odd.error();
  // A server that never counts more than 3 tokens.
  const TokenCounter capped = [](const std::string&) -> util::Result<std::size_t> { return std::size_t{3}; };
  auto never = search_prefix(11, build, capped);
  ASSERT_FALSE(never.has_value());
  EXPECT_NE(never.error().find("no prefix of the generator's words reaches 11 tokens"), std::string::npos) << never.error();
}

TEST(CalibrateSearch, AlignUpAndTheTokenizeAnswer) {
  EXPECT_EQ(align_up(1000, 16), 1008u);
  EXPECT_EQ(align_up(1024, 16), 1024u);
  EXPECT_EQ(align_up(1, 16), 16u);
  EXPECT_EQ(align_up(1000, 0), 1000u);
  auto count = parse_tokenize_count(R"({"count":3,"max_model_len":32768,"tokens":[1,2,3],"token_strs":null})");
  ASSERT_TRUE(count.has_value()) << count.error();
  EXPECT_EQ(*count, 3u);
  auto bad = parse_tokenize_count(R"({"detail":"Not Found"})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("not vLLM's TokenizeResponse"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_tokenize_count("not json").has_value());
  EXPECT_FALSE(parse_tokenize_count(R"({"count":-1})").has_value());
}

// The engine's prompts with a calibration: the calibrated prefix, then the suffix; byte-identical for
// the same seed and calibration; prime / verify see the server's count.
TEST(CalibratedPrompts, UseTheCalibratedPrefixAndAreDeterministic) {
  RequestSpec spec = shared_spec(1024);
  auto probe = source_of(spec);
  auto found = search_prefix(1024, [&](std::size_t w, std::size_t f) { return probe.generated_prefix(0, w, f); },
                             sim_counter(3));
  ASSERT_TRUE(found.has_value()) << found.error();
  spec.calibrated = {{found->words, found->fillers, found->tokens}};
  auto a = source_of(spec);
  auto b = source_of(spec);
  engine::Prompt pa;
  engine::Prompt pb;
  const std::string prefix = probe.generated_prefix(0, found->words, found->fillers);
  for (std::uint64_t i = 0; i < 5; ++i) {
    a.fill(i, 0, pa);
    b.fill(i, 0, pb);
    EXPECT_EQ(pa.text, pb.text);
    ASSERT_EQ(pa.text.substr(0, prefix.size()), prefix);
    EXPECT_EQ(sim::count_tokens(std::string_view(pa.text).substr(0, prefix.size()), 3), 1024u);
  }
  const auto prefixes = a.prefixes(1);
  ASSERT_EQ(prefixes.size(), 1u);
  EXPECT_EQ(prefixes[0].text, prefix);
  EXPECT_EQ(prefixes[0].tokens, 1024u);
  // Without the calibration the prompt differs (the generator's 1,024 words).
  auto plain = source_of(shared_spec(1024));
  engine::Prompt pc;
  plain.fill(0, 0, pc);
  a.fill(0, 0, pa);
  EXPECT_NE(pc.text, pa.text);
}

TEST(CalibratedPrompts, PerSessionPrefixesUseTheirSessionsCalibration) {
  RequestSpec spec = shared_spec(64);
  spec.prompt = PromptKind::per_session;
  auto probe = source_of(spec);
  for (std::size_t session = 0; session < 2; ++session) {
    auto found = search_prefix(64, [&](std::size_t w, std::size_t f) { return probe.generated_prefix(session, w, f); },
                               sim_counter(2));
    ASSERT_TRUE(found.has_value()) << found.error();
    spec.calibrated.push_back({found->words, found->fillers, found->tokens});
  }
  auto source = source_of(spec);
  const auto prefixes = source.prefixes(3);
  ASSERT_EQ(prefixes.size(), 3u);
  EXPECT_EQ(sim::count_tokens(prefixes[0].text, 2), 64u);
  EXPECT_EQ(sim::count_tokens(prefixes[1].text, 2), 64u);
  EXPECT_NE(prefixes[0].text, prefixes[1].text);
  // Session 2 has no calibration: the generator's 64 words, counted by the generator's rule.
  EXPECT_EQ(prefixes[2].tokens, 64u);
  EXPECT_EQ(sim::count_tokens(prefixes[2].text), 64u);
}

}  // namespace
}  // namespace llmd::run
