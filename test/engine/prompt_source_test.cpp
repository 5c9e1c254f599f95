#include "engine/prompt_source.hpp"
#include "temp_file.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/prompt_words.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::engine {
namespace {

using scenario::PromptKind;
using scenario::RequestSpec;
using testing::HasSubstr;

using test::TempFile;

PromptSource make_source(const RequestSpec& spec) {
  auto source = PromptSource::create(spec);
  EXPECT_TRUE(source.has_value()) << source.error();
  return std::move(*source);
}

std::string prompt_text(PromptSource& source, std::uint64_t index, std::size_t session = 0) {
  Prompt prompt;
  source.fill(index, session, prompt);
  return prompt.text;
}

// The first `tokens` whitespace-separated words of `text`.
std::string first_words(const std::string& text, std::size_t tokens) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < tokens && at != std::string::npos; ++i) {
    at = text.find(' ', at + 1);
  }
  return text.substr(0, at);
}

TEST(PromptWords, AreDistinctShortLowercaseWords) {
  std::set<std::string_view> distinct(k_prompt_words.begin(), k_prompt_words.end());
  EXPECT_EQ(distinct.size(), 256u);
  for (const auto word : k_prompt_words) {
    ASSERT_FALSE(word.empty());
    EXPECT_LE(word.size(), sim::k_max_piece_bytes) << word;
    for (const char c : word) {
      EXPECT_TRUE(c >= 'a' && c <= 'z') << word;
    }
  }
}

TEST(PromptSource, SharedPrefixPromptHasExactSimTokenCount) {
  RequestSpec spec;
  spec.prompt = PromptKind::shared_prefix;
  spec.prefix_tokens = 1000;
  spec.suffix_tokens = 16;
  auto source = make_source(spec);
  for (std::uint64_t index : {0ULL, 1ULL, 255ULL, 256ULL, 70000ULL, 1ULL << 40}) {
    EXPECT_EQ(sim::count_tokens(prompt_text(source, index)), 1016u) << index;
  }
}

TEST(PromptSource, SharedPrefixIsIdenticalAcrossRequestsAndSuffixesDiffer) {
  RequestSpec spec;
  spec.prompt = PromptKind::shared_prefix;
  spec.prefix_tokens = 100;
  spec.suffix_tokens = 4;
  auto source = make_source(spec);
  const std::string first = prompt_text(source, 0, 0);
  std::set<std::string> prompts;
  for (std::uint64_t index = 0; index < 600; ++index) {
    const std::string text = prompt_text(source, index, index % 7);
    EXPECT_EQ(first_words(text, 100), first_words(first, 100)) << index;
    prompts.insert(text);
  }
  EXPECT_EQ(prompts.size(), 600u);  // the suffix carries the request index
}

TEST(PromptSource, SharedPrefixDependsOnTheSeed) {
  RequestSpec spec;
  spec.prompt = PromptKind::shared_prefix;
  spec.prefix_tokens = 50;
  auto one = make_source(spec);
  spec.seed = 2;
  auto two = make_source(spec);
  EXPECT_NE(first_words(prompt_text(one, 0), 50), first_words(prompt_text(two, 0), 50));
}

TEST(PromptSource, PerSessionPrefixesDifferPerSessionAndRepeatWithinOne) {
  RequestSpec spec;
  spec.prompt = PromptKind::per_session;
  spec.prefix_tokens = 64;
  spec.suffix_tokens = 8;
  auto source = make_source(spec);
  const std::string session0 = first_words(prompt_text(source, 0, 0), 64);
  const std::string session1 = first_words(prompt_text(source, 1, 1), 64);
  EXPECT_NE(session0, session1);
  EXPECT_EQ(first_words(prompt_text(source, 2, 0), 64), session0);
  EXPECT_EQ(sim::count_tokens(prompt_text(source, 3, 5)), 72u);
  EXPECT_TRUE(source.sends_session_header());
  EXPECT_EQ(source.session_id(3), "llmd-1-3");
}

TEST(PromptSource, PrefixGroupsPrimeEachGroupsSystemPromptTheStartOfItsPrompts) {
  RequestSpec spec;
  spec.prompt = PromptKind::prefix_groups;
  spec.prefix_groups.groups = 3;
  spec.prefix_groups.prompts_per_group = 2;
  spec.prefix_groups.system_prompt_tokens = scenario::fixed_length(40, 40);
  spec.prefix_groups.question_tokens = scenario::fixed_length(6, 6);
  PromptSource source = make_source(spec);
  const std::vector<PrefixPrompt> prefixes = source.prefixes(8);  // one per group, whatever the users
  ASSERT_EQ(prefixes.size(), 3u);
  for (std::size_t group = 0; group < 3; ++group) {
    EXPECT_EQ(prefixes[group].label, "group " + std::to_string(group));
    EXPECT_EQ(prefixes[group].tokens, 40u);
    EXPECT_EQ(sim::tokenize(prefixes[group].text).size(), 40u);
    EXPECT_EQ(prefixes[group].session_id, "");
  }
  EXPECT_NE(prefixes[0].text, prefixes[1].text);
  // Round-robin: request i is group i mod 3, and its prompt starts with that group's system prompt.
  for (std::uint64_t i = 0; i < 6; ++i) {
    const std::string prompt = prompt_text(source, i);
    EXPECT_EQ(first_words(prompt, 40), prefixes[i % 3].text) << i;
    EXPECT_EQ(sim::tokenize(prompt).size(), 46u);
  }
  // Drawn lengths: the prefix says its own count.
  spec.prefix_groups.system_prompt_tokens = scenario::fixed_length(20, 60);
  spec.prefix_groups.system_prompt_tokens.kind = scenario::LengthDistribution::Kind::uniform;
  spec.prefix_groups.system_prompt_tokens.a = 20;
  spec.prefix_groups.system_prompt_tokens.b = 60;
  PromptSource drawn = make_source(spec);
  for (const auto& prefix : drawn.prefixes(1)) {
    EXPECT_EQ(sim::tokenize(prefix.text).size(), prefix.tokens) << prefix.label;
  }
}

TEST(PromptSource, KindsWithoutAPrefixToPrimeHaveNone) {
  RequestSpec spec;
  for (const auto kind : {PromptKind::random, PromptKind::fixed, PromptKind::multi_turn}) {
    spec.prompt = kind;
    EXPECT_TRUE(make_source(spec).prefixes(4).empty());
  }
}

TEST(PromptSource, FixedTextIsSentAsIs) {
  RequestSpec spec;
  spec.prompt = PromptKind::fixed;
  spec.text = "Say hello.";
  auto source = make_source(spec);
  EXPECT_EQ(prompt_text(source, 0), "Say hello.");
  EXPECT_EQ(prompt_text(source, 9), "Say hello.");
  EXPECT_FALSE(source.sends_session_header());
}

TEST(PromptSource, RandomLengthsStayWithinBoundsAndVary) {
  RequestSpec spec;
  spec.prompt = PromptKind::random;
  spec.length.kind = scenario::LengthDistribution::Kind::normal;
  spec.length.a = 100;
  spec.length.b = 40;
  spec.length.min_tokens = 60;
  spec.length.max_tokens = 140;
  auto source = make_source(spec);
  std::set<std::size_t> lengths;
  double sum = 0;
  for (std::uint64_t index = 0; index < 400; ++index) {
    const std::size_t tokens = sim::count_tokens(prompt_text(source, index));
    EXPECT_EQ(tokens, source.random_length(index));
    EXPECT_GE(tokens, 60u);
    EXPECT_LE(tokens, 140u);
    lengths.insert(tokens);
    sum += static_cast<double>(tokens);
  }
  EXPECT_GT(lengths.size(), 30u);
  EXPECT_NEAR(sum / 400, 100, 10);
  EXPECT_TRUE(lengths.count(60) && lengths.count(140));  // clamped tails
}

TEST(PromptSource, RandomUniformCoversItsInclusiveRange) {
  RequestSpec spec;
  spec.prompt = PromptKind::random;
  spec.length.kind = scenario::LengthDistribution::Kind::uniform;
  spec.length.a = 3;
  spec.length.b = 5;
  auto source = make_source(spec);
  std::set<std::size_t> lengths;
  for (std::uint64_t index = 0; index < 200; ++index) {
    lengths.insert(source.random_length(index));
  }
  EXPECT_EQ(lengths, (std::set<std::size_t>{3, 4, 5}));
}

TEST(PromptSource, RandomLognormalHasTheRequestedMean) {
  RequestSpec spec;
  spec.prompt = PromptKind::random;
  spec.length.kind = scenario::LengthDistribution::Kind::lognormal;
  spec.length.a = 200;
  spec.length.b = 100;
  auto source = make_source(spec);
  double sum = 0;
  for (std::uint64_t index = 0; index < 4000; ++index) {
    sum += static_cast<double>(source.random_length(index));
  }
  EXPECT_NEAR(sum / 4000, 200, 12);
}

TEST(PromptSource, RejectsInvertedLengthBounds) {
  RequestSpec spec;
  spec.prompt = PromptKind::random;
  spec.length.min_tokens = 10;
  spec.length.max_tokens = 5;
  auto source = PromptSource::create(spec);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "request.length: min_tokens 10 is above max_tokens 5");
}

TEST(PromptSource, DatasetCyclesPromptsAndMessages) {
  TempFile file("{\"prompt\": \"first one\"}\n\n{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\r\n");
  RequestSpec spec;
  spec.api = scenario::ApiKind::chat;
  spec.prompt = PromptKind::dataset;
  spec.dataset_path = file.path();
  auto source = make_source(spec);
  Prompt prompt;
  source.fill(0, 0, prompt);
  EXPECT_EQ(prompt.text, "first one");
  EXPECT_EQ(prompt.messages, nullptr);
  source.fill(1, 0, prompt);
  ASSERT_NE(prompt.messages, nullptr);
  EXPECT_EQ(prompt.messages->dump(), R"([{"content":"hi","role":"user"}])");
  source.fill(2, 0, prompt);
  EXPECT_EQ(prompt.text, "first one");
}

TEST(PromptSource, DatasetErrorsNameFileAndLine) {
  TempFile bad_json("{\"prompt\": \"ok\"}\n{oops\n");
  auto parsed = load_dataset(bad_json.path(), scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), bad_json.path() + ":2: not valid JSON: \"{oops\"");

  TempFile wrong_shape("\n{\"text\": \"hi\"}\n");
  parsed = load_dataset(wrong_shape.path(), scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), wrong_shape.path() +
                                ":2: expected an object with \"prompt\" (a string), \"messages\" (an array of "
                                "{\"role\",\"content\"} objects) or \"conversations\" (ShareGPT: an array of "
                                "{\"from\",\"value\"} objects), got: {\\\"text\\\": \\\"hi\\\"}");

  TempFile messages("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
  parsed = load_dataset(messages.path(), scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), messages.path() + ":1: \"messages\" needs request.api: chat (completions takes \"prompt\")");

  TempFile empty("\n  \n");
  parsed = load_dataset(empty.path(), scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), empty.path() + ": no prompts (expected one JSON object per line)");
}

// Issue 10: a dataset path of /dev/zero grew one line (no newline ever comes) until std::bad_alloc.
// The file is read up to 256 MiB, devices included, and a larger one is refused by name.
TEST(PromptSource, DatasetFromAnEndlessDeviceIsRefusedNotReadForever) {
  auto parsed = load_dataset("/dev/zero", scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), "/dev/zero: dataset is larger than 256 MiB (the most llmd-bench reads): split it or sample it");
}

TEST(PromptSource, DatasetLinesEndWithLfOrCrLfAndTheLastNeedsNoNewline) {
  TempFile file("{\"prompt\": \"a\"}\r\n\n{\"prompt\": \"b c\"}");
  auto parsed = load_dataset(file.path(), scenario::ApiKind::completions);
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->size(), 2u);
  TempFile bad("{\"prompt\": \"a\"}\n\n{oops}\r\n");
  parsed = load_dataset(bad.path(), scenario::ApiKind::completions);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), bad.path() + ":3: not valid JSON: \"{oops}\"");
}

TEST(PromptSource, MissingDatasetFileIsAnError) {
  RequestSpec spec;
  spec.prompt = PromptKind::dataset;
  spec.dataset_path = "/nonexistent/prompts.jsonl";
  auto source = PromptSource::create(spec);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "cannot read /nonexistent/prompts.jsonl: No such file or directory");
  spec.where = {"s.yaml", 7, 3};
  source = PromptSource::create(spec);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "s.yaml:7: cannot read /nonexistent/prompts.jsonl: No such file or directory");
  spec.dataset_path.clear();
  source = PromptSource::create(spec);
  ASSERT_FALSE(source);
  EXPECT_THAT(source.error(), HasSubstr("a JSONL file path is required"));
}

}  // namespace
}  // namespace llmd::engine
