// The prefix-groups generator: orders, determinism under the seed, exact token counts against the
// simulator's tokenizer, per-request max_tokens.
#include "engine/prompt_groups.hpp"

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/prompt_source.hpp"
#include "engine/request_builder.hpp"
#include "sim/tokenizer.hpp"

namespace llmd::engine {
namespace {

using scenario::LengthDistribution;
using scenario::PrefixGroupsSpec;
using Order = PrefixGroupsSpec::Order;

PrefixGroupsSpec spec_of(std::size_t groups, std::size_t per_group, Order order = Order::round_robin) {
  PrefixGroupsSpec spec;
  spec.groups = groups;
  spec.prompts_per_group = per_group;
  spec.system_prompt_tokens = scenario::fixed_length(40, 40);
  spec.question_tokens = scenario::fixed_length(6, 6);
  spec.order = order;
  return spec;
}

PrefixGroups make(const PrefixGroupsSpec& spec, std::uint64_t seed = 1) {
  auto groups = PrefixGroups::create(spec, seed);
  EXPECT_TRUE(groups.has_value()) << groups.error();
  return std::move(*groups);
}

std::vector<std::string> prompts(PrefixGroups& groups, std::size_t count) {
  std::vector<std::string> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    groups.fill(i, out[i]);
  }
  return out;
}

TEST(PrefixGroups, RoundRobinVisitsEveryGroupBeforeTheNextQuestion) {
  const PrefixGroups groups = make(spec_of(3, 2));
  const std::vector<GroupPick> expected = {{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1}, {2, 1}, {0, 0}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(groups.pick(i), expected[i]) << i;
  }
}

TEST(PrefixGroups, GroupedSendsAGroupsQuestionsTogether) {
  const PrefixGroups groups = make(spec_of(3, 2, Order::grouped));
  const std::vector<GroupPick> expected = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}, {0, 0}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(groups.pick(i), expected[i]) << i;
  }
}

TEST(PrefixGroups, RandomOrderIsAPermutationOfEveryPassAndReshufflesEachPass) {
  const PrefixGroups groups = make(spec_of(7, 11, Order::random), 5);
  std::vector<std::size_t> first_pass;
  for (std::uint64_t pass = 0; pass < 3; ++pass) {
    std::set<std::pair<std::size_t, std::size_t>> seen;
    std::vector<std::size_t> order;
    for (std::uint64_t i = 0; i < 77; ++i) {
      const GroupPick pick = groups.pick(pass * 77 + i);
      ASSERT_LT(pick.group, 7u);
      ASSERT_LT(pick.question, 11u);
      seen.insert({pick.group, pick.question});
      order.push_back(pick.group * 11 + pick.question);
    }
    EXPECT_EQ(seen.size(), 77u) << "pass " << pass;  // every pair exactly once
    if (pass == 0) {
      first_pass = order;
      std::vector<std::size_t> identity(77);
      for (std::size_t i = 0; i < 77; ++i) identity[i] = i;
      EXPECT_NE(order, identity);  // shuffled
    } else {
      EXPECT_NE(order, first_pass);  // a new order each pass
    }
  }
}

TEST(PrefixGroups, PromptIsTheGroupsSystemPromptThenItsQuestionWithExactTokenCounts) {
  PrefixGroups groups = make(spec_of(2, 3));
  const std::vector<std::string> texts = prompts(groups, 6);
  for (const std::string& text : texts) {
    EXPECT_EQ(sim::count_tokens(text), 46u) << text;  // 40 system + 6 question words, one token each
  }
  // Requests 0 and 2 are group 0's questions 0 and 1: the same 40 words, then different questions.
  const auto system = [](const std::string& text) {
    std::size_t at = 0;
    for (int words = 0; words < 40; ++words) at = text.find(' ', at) + 1;
    return text.substr(0, at);
  };
  EXPECT_EQ(system(texts[0]), system(texts[2]));
  EXPECT_EQ(system(texts[0]), system(texts[4]));
  EXPECT_NE(system(texts[0]), system(texts[1]));
  EXPECT_NE(texts[0], texts[2]);
  EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()).size(), 6u);
}

TEST(PrefixGroups, SameSeedSameBytesOtherSeedOtherBytes) {
  PrefixGroupsSpec spec = spec_of(4, 5, Order::random);
  spec.system_prompt_tokens = LengthDistribution{LengthDistribution::Kind::uniform, 50, 90, 50, 90};
  spec.question_tokens = LengthDistribution{LengthDistribution::Kind::normal, 20, 5, 4, 40};
  PrefixGroups a = make(spec, 9);
  PrefixGroups b = make(spec, 9);
  PrefixGroups c = make(spec, 10);
  const auto first = prompts(a, 45);
  EXPECT_EQ(first, prompts(b, 45));
  const auto other = prompts(c, 45);
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_NE(first[i], other[i]) << i;
  }
  // The lengths are drawn per group / per question within the bounds, and not all equal.
  std::set<std::size_t> system_lengths;
  for (std::size_t g = 0; g < 4; ++g) {
    const std::size_t tokens = a.system_prompt_tokens(g);
    EXPECT_GE(tokens, 50u);
    EXPECT_LE(tokens, 90u);
    system_lengths.insert(tokens);
  }
  EXPECT_GT(system_lengths.size(), 1u);
  for (std::size_t i = 0; i < 20; ++i) {
    const GroupPick pick = a.pick(i);
    EXPECT_EQ(sim::count_tokens(first[i]), a.system_prompt_tokens(pick.group) + a.question_tokens(pick)) << i;
  }
}

TEST(PrefixGroups, OutputTokensSetEachRequestsMaxTokens) {
  scenario::RequestSpec request;
  request.prompt = scenario::PromptKind::prefix_groups;
  request.prefix_groups = spec_of(2, 2);
  request.max_tokens = 64;
  {
    auto source = PromptSource::create(request);
    ASSERT_TRUE(source.has_value()) << source.error();
    Prompt prompt;
    source->fill(0, 0, prompt);
    EXPECT_FALSE(prompt.max_tokens.has_value());
    std::string body;
    BodyTemplate(request, "m").render(prompt, body);
    EXPECT_NE(body.find("\"max_tokens\":64"), std::string::npos) << body;
  }
  request.prefix_groups.output_tokens = LengthDistribution{LengthDistribution::Kind::uniform, 100, 200, 100, 200};
  auto source = PromptSource::create(request);
  ASSERT_TRUE(source.has_value()) << source.error();
  const BodyTemplate body_template(request, "m");
  std::set<std::size_t> drawn;
  for (std::uint64_t i = 0; i < 4; ++i) {
    Prompt prompt;
    source->fill(i, 0, prompt);
    ASSERT_TRUE(prompt.max_tokens.has_value());
    EXPECT_GE(*prompt.max_tokens, 100u);
    EXPECT_LE(*prompt.max_tokens, 200u);
    drawn.insert(*prompt.max_tokens);
    std::string body;
    body_template.render(prompt, body);
    EXPECT_NE(body.find(fmt::format("\"max_tokens\":{}", *prompt.max_tokens)), std::string::npos) << body;
    Prompt again;
    source->fill(i + 4, 0, again);  // the same (group, question) one pass later: the same count
    EXPECT_EQ(again.max_tokens, prompt.max_tokens);
  }
  EXPECT_GT(drawn.size(), 1u);
}

TEST(PrefixGroups, ZeroGroupsIsRefused) {
  EXPECT_EQ(PrefixGroups::create(spec_of(0, 2), 1).error(),
            "request.prefix_groups: needs groups >= 1 and prompts_per_group >= 1, got 0 and 2");
}

}  // namespace
}  // namespace llmd::engine
