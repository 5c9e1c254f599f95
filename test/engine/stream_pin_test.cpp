// Generated text is pinned across llmd-bench versions: the same scenario and seed send the same
// bytes in every release, so runs made months apart (or by two teams) hit the same prefixes and
// their cache numbers compare. A refactor of the generators that changes a byte fails here; a
// deliberate change updates the pins and says so in CHANGELOG.md.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/conversation.hpp"
#include "engine/prompt_groups.hpp"
#include "engine/prompt_source.hpp"
#include "engine/prompt_words.hpp"
#include "engine/trace.hpp"

namespace llmd::engine {
namespace {

// FNV-1a 64 of `text` (a short pin for a long text).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return hash;
}

std::string prompts_of(scenario::RequestSpec spec, std::size_t count) {
  auto source = PromptSource::create(spec);
  EXPECT_TRUE(source) << source.error();
  std::string all;
  for (std::size_t i = 0; i < count && source; ++i) {
    Prompt prompt;
    source->fill(i * 37, i % 3, prompt);
    all += prompt.text;
    all += '\n';
  }
  return all;
}

TEST(StreamPin, SharedPrefixPerSessionAndRandomPrompts) {
  scenario::RequestSpec spec;
  spec.seed = 42;
  spec.prompt = scenario::PromptKind::shared_prefix;
  spec.prefix_tokens = 64;
  spec.suffix_tokens = 12;
  const std::string shared = prompts_of(spec, 8);
  spec.prompt = scenario::PromptKind::per_session;
  const std::string per_session = prompts_of(spec, 8);
  spec.prompt = scenario::PromptKind::random;
  const std::string random = prompts_of(spec, 8);
  EXPECT_EQ(fnv1a(shared), 14534065005921220522ULL) << shared.substr(0, 200);
  EXPECT_EQ(fnv1a(per_session), 11104539279437090737ULL) << per_session.substr(0, 200);
  EXPECT_EQ(fnv1a(random), 8653722014255276112ULL) << random.substr(0, 200);
}

TEST(StreamPin, PrefixGroups) {
  scenario::PrefixGroupsSpec spec;
  spec.groups = 3;
  spec.prompts_per_group = 4;
  spec.system_prompt_tokens = scenario::LengthDistribution{scenario::LengthDistribution::Kind::uniform, 20, 40, 20, 40};
  spec.question_tokens = scenario::LengthDistribution{scenario::LengthDistribution::Kind::uniform, 6, 12, 6, 12};
  spec.order = scenario::PrefixGroupsSpec::Order::random;
  auto groups = PrefixGroups::create(spec, 42);
  ASSERT_TRUE(groups) << groups.error();
  std::string all;
  for (std::uint64_t i = 0; i < 15; ++i) {
    std::string text;
    groups->fill(i, text);
    all += text + '\n';
  }
  EXPECT_EQ(fnv1a(all), 11890567161953837006ULL) << all.substr(0, 200);
}

TEST(StreamPin, TracePrompts) {
  std::string all;
  for (std::uint64_t i = 0; i < 4; ++i) {
    TraceRecord record;
    record.input_length = 40 + 7 * i;
    record.hash_ids = {i, i + 1};
    std::string text;
    build_trace_prompt(record, i, 16, text);
    all += text + '\n';
  }
  EXPECT_EQ(fnv1a(all), 13122862633665644854ULL) << all.substr(0, 200);
}

TEST(StreamPin, MultiTurnConversations) {
  scenario::RequestSpec spec;
  spec.seed = 42;
  spec.api = scenario::ApiKind::chat;
  spec.prompt = scenario::PromptKind::multi_turn;
  spec.multi_turn.turns = {scenario::LengthDistribution::Kind::uniform, 2, 4, 2, 4};
  spec.multi_turn.user_tokens = {scenario::LengthDistribution::Kind::uniform, 8, 16, 8, 16};
  spec.multi_turn.system_prompt_tokens = 10;
  ConversationSource source(spec);
  std::string all;
  for (std::size_t vu = 0; vu < 3; ++vu) {
    for (int turn = 0; turn < 3; ++turn) {
      Prompt prompt;
      const TurnRequest request = source.next(0, 5, vu, prompt);
      all += prompt.messages->dump() + *request.session_id + '\n';
      source.finish(0, vu, true, "answer");
    }
  }
  EXPECT_EQ(fnv1a(all), 12423895834399449556ULL) << all.substr(0, 200);
}

}  // namespace
}  // namespace llmd::engine
