// Multi-turn prompts (engine/conversation.hpp): deterministic conversations, the history that
// carries the text the server streamed back, per-turn figures and their merge across phases, and the
// engine driving conversations against a canned server and the simulator.
#include "engine/conversation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "engine_test_support.hpp"

namespace llmd::engine {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

scenario::RequestSpec multi_turn_spec(std::size_t turns = 3, std::size_t user_tokens = 12) {
  scenario::RequestSpec spec;
  spec.api = scenario::ApiKind::chat;
  spec.prompt = scenario::PromptKind::multi_turn;
  spec.multi_turn.turns = {scenario::LengthDistribution::Kind::constant, static_cast<double>(turns), 0, 1, 1000};
  spec.multi_turn.user_tokens = {scenario::LengthDistribution::Kind::constant, static_cast<double>(user_tokens), 0, 1,
                                 1 << 20};
  spec.multi_turn.system_prompt_tokens = 5;
  spec.seed = 7;
  return spec;
}

std::size_t words(const std::string& text) {
  std::size_t count = text.empty() ? 0 : 1;
  for (const char c : text) {
    count += c == ' ' ? 1 : 0;
  }
  return count;
}

TEST(Conversation, SameSeedSameFirstTurnByteForByte) {
  const auto spec = multi_turn_spec();
  ConversationSource a(spec);
  ConversationSource b(spec);
  Prompt pa;
  Prompt pb;
  const TurnRequest ta = a.next(0, phase_key("load[0]"), 3, pa);
  const TurnRequest tb = b.next(0, phase_key("load[0]"), 3, pb);
  ASSERT_NE(pa.messages, nullptr);
  ASSERT_NE(pb.messages, nullptr);
  EXPECT_EQ(pa.messages->dump(), pb.messages->dump());
  EXPECT_EQ(*ta.session_id, *tb.session_id);
  EXPECT_EQ(ta.number, 1u);
  EXPECT_EQ(ta.turns, 3u);
  // system (5 words) + user (12 words)
  ASSERT_EQ(pa.messages->size(), 2u);
  EXPECT_EQ((*pa.messages)[0]["role"], "system");
  EXPECT_EQ(words((*pa.messages)[0]["content"].get<std::string>()), 5u);
  EXPECT_EQ((*pa.messages)[1]["role"], "user");
  EXPECT_EQ(words((*pa.messages)[1]["content"].get<std::string>()), 12u);
  EXPECT_FALSE(pa.max_tokens.has_value());  // no output_tokens: requests.max_tokens

  // Another user, another phase or another seed: another conversation (the system prompt is shared).
  Prompt other;
  ConversationSource c(spec);
  c.next(0, phase_key("load[0]"), 4, other);
  EXPECT_NE((*other.messages)[1].dump(), (*pa.messages)[1].dump());
  EXPECT_EQ((*other.messages)[0].dump(), (*pa.messages)[0].dump());
  const TurnRequest warm = c.next(1, phase_key("warmup"), 3, other);
  EXPECT_NE((*other.messages)[1].dump(), (*pa.messages)[1].dump());
  EXPECT_NE(*warm.session_id, *ta.session_id);
  auto reseeded = spec;
  reseeded.seed = 8;
  ConversationSource d(reseeded);
  d.next(0, phase_key("load[0]"), 3, other);
  EXPECT_NE(other.messages->dump(), pa.messages->dump());
}

TEST(Conversation, EachTurnResendsTheHistoryWithTheAnswers) {
  const auto spec = multi_turn_spec(3);
  ConversationSource source(spec);
  Prompt prompt;
  const std::uint64_t key = phase_key("p");
  const TurnRequest first = source.next(0, key, 0, prompt);
  const std::string session = *first.session_id;
  EXPECT_THAT(session, ::testing::StartsWith("llmd-7-"));
  const json turn1 = *prompt.messages;
  EXPECT_TRUE(source.finish(0, 0, true, "Hello there \xc3\xa9"));

  const TurnRequest second = source.next(0, key, 0, prompt);
  EXPECT_EQ(second.number, 2u);
  EXPECT_EQ(*second.session_id, session);
  const json& turn2 = *prompt.messages;
  ASSERT_EQ(turn2.size(), 4u);  // system, user 1, assistant 1, user 2
  EXPECT_EQ(turn2[0], turn1[0]);
  EXPECT_EQ(turn2[1], turn1[1]);
  EXPECT_EQ(turn2[2], (json{{"role", "assistant"}, {"content", "Hello there \xc3\xa9"}}));
  EXPECT_EQ(turn2[3]["role"], "user");
  EXPECT_NE(turn2[3], turn1[1]);
  EXPECT_TRUE(source.finish(0, 0, true, "second answer"));

  const TurnRequest third = source.next(0, key, 0, prompt);
  EXPECT_EQ(third.number, 3u);
  ASSERT_EQ(prompt.messages->size(), 6u);
  EXPECT_EQ((*prompt.messages)[4]["content"], "second answer");
  EXPECT_FALSE(source.finish(0, 0, true, "last answer"));  // the last turn: the conversation ends

  // The next request starts a new conversation: turn 1, a new session id, only system + user.
  const TurnRequest next = source.next(0, key, 0, prompt);
  EXPECT_EQ(next.number, 1u);
  EXPECT_NE(*next.session_id, session);
  ASSERT_EQ(prompt.messages->size(), 2u);
  EXPECT_NE((*prompt.messages)[1], turn1[1]);
}

TEST(Conversation, AFailedTurnEndsTheConversation) {
  const auto spec = multi_turn_spec(5);
  ConversationSource source(spec);
  Prompt prompt;
  const TurnRequest first = source.next(2, 1, 9, prompt);
  const std::string session = *first.session_id;
  EXPECT_FALSE(source.finish(2, 9, false, ""));
  const TurnRequest again = source.next(2, 1, 9, prompt);
  EXPECT_EQ(again.number, 1u);
  EXPECT_NE(*again.session_id, session);
  EXPECT_EQ(prompt.messages->size(), 2u);
  EXPECT_FALSE(source.finish(3, 0, true, "nobody asked"));  // no conversation there
}

TEST(Conversation, DistributionsDrawPerConversationAndPerTurn) {
  auto spec = multi_turn_spec();
  spec.multi_turn.system_prompt_tokens = 0;
  spec.multi_turn.turns = {scenario::LengthDistribution::Kind::uniform, 2, 6, 2, 6};
  spec.multi_turn.user_tokens = {scenario::LengthDistribution::Kind::uniform, 3, 9, 3, 9};
  spec.multi_turn.output_tokens = scenario::LengthDistribution{scenario::LengthDistribution::Kind::uniform, 10, 20, 10, 20};
  ConversationSource source(spec);
  std::set<std::size_t> turns_seen;
  std::set<std::size_t> lengths_seen;
  std::set<std::size_t> outputs_seen;
  for (std::size_t vu = 0; vu < 40; ++vu) {
    Prompt prompt;
    const TurnRequest turn = source.next(0, 1, vu, prompt);
    turns_seen.insert(turn.turns);
    ASSERT_EQ(prompt.messages->size(), 1u);  // no system prompt
    lengths_seen.insert(words((*prompt.messages)[0]["content"].get<std::string>()));
    ASSERT_TRUE(prompt.max_tokens.has_value());
    outputs_seen.insert(*prompt.max_tokens);
  }
  EXPECT_GE(*turns_seen.begin(), 2u);
  EXPECT_LE(*turns_seen.rbegin(), 6u);
  EXPECT_GT(turns_seen.size(), 2u);
  EXPECT_GE(*lengths_seen.begin(), 3u);
  EXPECT_LE(*lengths_seen.rbegin(), 9u);
  EXPECT_GT(lengths_seen.size(), 2u);
  EXPECT_GE(*outputs_seen.begin(), 10u);
  EXPECT_LE(*outputs_seen.rbegin(), 20u);
  EXPECT_GT(outputs_seen.size(), 2u);
}

TEST(Conversation, AnswerText) {
  std::string text;
  append_chunk_text(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})", text);
  append_chunk_text(R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})", text);
  append_chunk_text(R"({"choices":[{"index":0,"delta":{"content":"lo \u00e9\n"},"logprobs":{"content":[{"token":"x"}]}}]})", text);
  append_chunk_text(R"({"choices":[{"index":0,"text":" and a completion"}]})", text);
  append_chunk_text(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})", text);
  append_chunk_text("not json", text);
  append_chunk_text(R"({"choices":[{"delta":{"content":null}}]})", text);
  EXPECT_EQ(text, "Hello \xc3\xa9\n and a completion");
  EXPECT_EQ(answer_from_body(R"({"choices":[{"message":{"role":"assistant","content":"full answer"}}]})"), "full answer");
  EXPECT_EQ(answer_from_body(R"({"choices":[{"text":"completion"}]})"), "completion");
  EXPECT_EQ(answer_from_body(R"({"error":{"message":"x"}})"), "");
  EXPECT_EQ(answer_from_body("{"), "");
  EXPECT_NE(phase_key("a"), phase_key("b"));
  EXPECT_EQ(phase_key("load[0]"), phase_key("load[0]"));
}

Outcome ok_outcome(std::optional<std::int64_t> prompt, std::optional<std::int64_t> cached) {
  Outcome outcome;
  outcome.ok = true;
  outcome.prompt_tokens = prompt;
  outcome.cached_tokens = cached;
  return outcome;
}

RequestTiming timing_with_ttft(std::chrono::nanoseconds ttft) {
  RequestTiming timing;
  timing.started = TimePoint{} + 1s;
  timing.first_token = timing.started + ttft;
  return timing;
}

TEST(ConversationTurns, RecordedPerTurnNumberAndMergedAcrossPhases) {
  PhaseResult a;
  record_turn(a, 1, ok_outcome(100, 0), timing_with_ttft(10ms));
  record_turn(a, 1, ok_outcome(100, 32), timing_with_ttft(20ms));
  record_turn(a, 2, ok_outcome(200, 150), timing_with_ttft(5ms));
  record_turn(a, 2, Outcome{}, RequestTiming{});      // failed
  record_turn(a, 2, ok_outcome(300, std::nullopt), timing_with_ttft(6ms));  // no cached_tokens: not in the rate
  record_turn_aborted(a, 2);
  ASSERT_EQ(a.turns.size(), 2u);
  EXPECT_EQ(a.turns[0].ok, 2u);
  EXPECT_EQ(a.turns[0].prompt_tokens, 200u);
  EXPECT_EQ(a.turns[0].cached_tokens, 32u);
  EXPECT_DOUBLE_EQ(*turn_hit_rate(a.turns[0]), 0.16);
  EXPECT_EQ(a.turns[0].ttft_ns.count(), 2u);
  EXPECT_EQ(a.turns[1].ok, 2u);
  EXPECT_EQ(a.turns[1].failed, 1u);
  EXPECT_EQ(a.turns[1].aborted, 1u);
  EXPECT_EQ(a.turns[1].responses_with_cached_tokens, 1u);
  EXPECT_DOUBLE_EQ(*turn_hit_rate(a.turns[1]), 0.75);

  PhaseResult b;
  record_turn(b, 3, ok_outcome(400, 400), timing_with_ttft(1ms));
  record_turn(b, 1, ok_outcome(100, 8), timing_with_ttft(30ms));
  ASSERT_EQ(b.turns.size(), 3u);
  EXPECT_EQ(b.turns[1].ok, 0u);  // a turn number not reached in this phase is empty
  EXPECT_FALSE(turn_hit_rate(b.turns[1]).has_value());

  PhaseResult total;
  ASSERT_TRUE(merge_into(total, a));
  ASSERT_TRUE(merge_into(total, b));
  ASSERT_EQ(total.turns.size(), 3u);
  EXPECT_EQ(total.turns[0].ok, 3u);
  EXPECT_EQ(total.turns[0].prompt_tokens, 300u);
  EXPECT_EQ(total.turns[0].cached_tokens, 40u);
  EXPECT_EQ(total.turns[0].ttft_ns.count(), 3u);
  EXPECT_NEAR(*total.turns[0].ttft_ns.percentile(50), 20e6, 20e6 * 0.004);
  EXPECT_EQ(total.turns[1].failed, 1u);
  EXPECT_DOUBLE_EQ(*turn_hit_rate(total.turns[2]), 1.0);

  const json turns = to_json(total)["turns"];
  ASSERT_EQ(turns.size(), 3u);
  EXPECT_EQ(turns[0]["turn"], 1);
  EXPECT_EQ(turns[0]["requests"], 3);
  EXPECT_EQ(turns[1]["requests"], 4);
  EXPECT_EQ(turns[1]["aborted"], 1);
  EXPECT_DOUBLE_EQ(turns[1]["hit_rate"].get<double>(), 0.75);
  EXPECT_EQ(turns[0]["ttft_ns"]["summary"]["count"], 3);
  EXPECT_TRUE(to_json(PhaseResult{})["turns"].empty());
}

// A chat stream whose answer is "Hello there é", with usage reporting 40 of 100 prompt tokens cached.
std::string canned_chat_stream() {
  return test::sse_response(
      "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
      "\"content\":\"\"},\"finish_reason\":null}]}\n\n"
      "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},"
      "\"finish_reason\":null}]}\n\n"
      "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there "
      "\\u00e9\"},\"finish_reason\":\"length\"}]}\n\n"
      "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,"
      "\"completion_tokens\":2,\"total_tokens\":102,\"prompt_tokens_details\":{\"cached_tokens\":40}}}\n\n"
      "data: [DONE]\n\n");
}

scenario::Scenario multi_turn_scenario(std::size_t turns) {
  auto scenario = test::test_scenario();
  scenario.request.api = scenario::ApiKind::chat;
  scenario.request.prompt = scenario::PromptKind::multi_turn;
  scenario.request.multi_turn.turns = {scenario::LengthDistribution::Kind::constant, static_cast<double>(turns), 0, 1, 1000};
  scenario.request.multi_turn.user_tokens = {scenario::LengthDistribution::Kind::constant, 6, 0, 1, 1 << 20};
  return scenario;
}

TEST(EngineMultiTurn, SecondTurnCarriesTheStreamedAnswerAndTheSessionHeader) {
  test::CannedServer server(canned_chat_stream(), 7);
  auto scenario = multi_turn_scenario(2);
  scenario.request.multi_turn.output_tokens =
      scenario::LengthDistribution{scenario::LengthDistribution::Kind::constant, 3, 0, 1, 1 << 20};
  scenario.request.session_header = "x-conversation";
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(2, 1)});
  ASSERT_EQ(server.requests(), 2u);
  const std::string request = server.last_request();  // turn 2
  EXPECT_THAT(request, HasSubstr("POST /v1/chat/completions"));
  EXPECT_THAT(request, HasSubstr(R"({"content":"Hello there )" "\xc3\xa9" R"(","role":"assistant"})"));
  EXPECT_THAT(request, HasSubstr("\"max_tokens\":3"));
  EXPECT_THAT(request, HasSubstr("\r\nx-conversation: llmd-1-"));
  const std::size_t body_at = request.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  const json body = json::parse(request.substr(body_at + 4));
  ASSERT_EQ(body["messages"].size(), 3u);  // user 1, assistant 1, user 2 (no system prompt)
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_EQ(body["messages"][2]["role"], "user");

  const PhaseResult& total = result.total;
  EXPECT_EQ(total.ok, 2u);
  ASSERT_EQ(total.turns.size(), 2u);
  for (const TurnStats& turn : total.turns) {
    EXPECT_EQ(turn.ok, 1u);
    EXPECT_EQ(turn.ttft_ns.count(), 1u);
    EXPECT_EQ(turn.prompt_tokens, 100u);
    EXPECT_EQ(turn.cached_tokens, 40u);
  }
  EXPECT_DOUBLE_EQ(*turn_hit_rate(total.turns[1]), 0.4);
}

TEST(EngineMultiTurn, AFailingServerRestartsTheConversationEveryTime) {
  test::CannedServer server("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: "
                            "close\r\nContent-Length: 27\r\n\r\n{\"error\":{\"message\":\"x\"}}  ");
  auto scenario = multi_turn_scenario(3);
  scenario.target.backoff.retry_after = false;
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(4, 1)});
  EXPECT_EQ(result.total.failed, 4u);
  ASSERT_EQ(result.total.turns.size(), 1u);  // every request was a first turn
  EXPECT_EQ(result.total.turns[0].failed, 4u);
  EXPECT_FALSE(turn_hit_rate(result.total.turns[0]).has_value());
}

TEST(EngineMultiTurn, AgainstTheSimulatorWithSessionRoutingLaterTurnsHitMore) {
  auto config = test::fast_sim_config();
  config.pods = 4;
  config.route = sim::RoutePolicy::session;
  config.pod.prompt_tokens_details = true;
  test::SimFleet fleet(config);
  auto scenario = multi_turn_scenario(4);
  scenario.request.multi_turn.user_tokens = {scenario::LengthDistribution::Kind::constant, 48, 0, 1, 1 << 20};
  scenario.request.max_tokens = 32;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(32, 4)});
  EXPECT_EQ(result.total.ok, 32u);
  ASSERT_EQ(result.total.turns.size(), 4u);
  std::optional<double> previous;
  std::uint64_t turns_ok = 0;
  for (const TurnStats& turn : result.total.turns) {
    EXPECT_GE(turn.ok, 4u);  // 4 users share 32 iterations: about 8 conversations reach each turn
    turns_ok += turn.ok;
    const auto rate = turn_hit_rate(turn);
    ASSERT_TRUE(rate.has_value());
    if (previous) {
      EXPECT_GT(*rate, *previous);
    }
    previous = rate;
  }
  EXPECT_EQ(turns_ok, 32u);
  EXPECT_LT(*turn_hit_rate(result.total.turns[0]), 0.05);  // nothing of a first turn was sent before
  EXPECT_GT(*turn_hit_rate(result.total.turns[3]), 0.6);
}

}  // namespace
}  // namespace llmd::engine
