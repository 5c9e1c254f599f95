// Dataset files (engine/dataset.hpp): ShareGPT JSON and JSONL records, format detection, errors
// with file and record/line, and the requests PromptSource makes of them (first-turn and
// multi-turn replay, output_tokens: dataset).
#include "engine/dataset.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/prompt_source.hpp"
#include "temp_file.hpp"

namespace llmd::engine {
namespace {

using nlohmann::json;
using scenario::ApiKind;
using scenario::DatasetSpec;
using testing::HasSubstr;

const std::string k_sample = std::string(LLMD_TEST_FIXTURES) + "/datasets/sharegpt-sample.json";

using test::TempFile;

DatasetSpec options(DatasetSpec::Replay replay, DatasetSpec::Format format = DatasetSpec::Format::automatic,
                    bool output_tokens = false) {
  DatasetSpec spec;
  spec.replay = replay;
  spec.format = format;
  spec.output_tokens_from_dataset = output_tokens;
  return spec;
}

// The error of loading `content`, after the file name.
std::string error_of(const std::string& content, ApiKind api = ApiKind::chat,
                     DatasetSpec spec = options(DatasetSpec::Replay::first_turn)) {
  TempFile file(content);
  auto loaded = load_dataset(file.path(), api, spec);
  EXPECT_FALSE(loaded) << content;
  const std::string error = loaded ? "" : loaded.error();
  EXPECT_EQ(error.rfind(file.path(), 0), 0u) << error;
  return error.substr(std::min(error.size(), file.path().size()));
}

TEST(DatasetFormat, DetectedFromTheFirstNonBlankByte) {
  EXPECT_EQ(detect_dataset_format("  \n[{\"conversations\": []}]"), DatasetSpec::Format::sharegpt);
  EXPECT_EQ(detect_dataset_format("{\"prompt\": \"a\"}\n"), DatasetSpec::Format::jsonl);
  EXPECT_EQ(detect_dataset_format(""), DatasetSpec::Format::jsonl);
  // The same ShareGPT file loads with format: sharegpt or detected; as JSONL it is not valid line by line.
  EXPECT_TRUE(load_dataset(k_sample, ApiKind::chat, options(DatasetSpec::Replay::first_turn)));
  EXPECT_TRUE(load_dataset(k_sample, ApiKind::chat, options(DatasetSpec::Replay::first_turn, DatasetSpec::Format::sharegpt)));
  auto as_jsonl = load_dataset(k_sample, ApiKind::chat, options(DatasetSpec::Replay::first_turn, DatasetSpec::Format::jsonl));
  ASSERT_FALSE(as_jsonl);
  EXPECT_EQ(as_jsonl.error(), k_sample + ":1: not valid JSON: \"[\"");
  TempFile jsonl("{\"prompt\": \"a\"}\n");
  auto as_sharegpt = load_dataset(jsonl.path(), ApiKind::chat, options(DatasetSpec::Replay::first_turn, DatasetSpec::Format::sharegpt));
  ASSERT_FALSE(as_sharegpt);
  EXPECT_EQ(as_sharegpt.error(),
            jsonl.path() + ": a ShareGPT file is one JSON array of {\"conversations\": [...]} records, got object");
}

TEST(DatasetShareGpt, FirstTurnIsTheFirstHumanMessageAndItsAnswer) {
  auto entries = load_dataset(k_sample, ApiKind::completions, options(DatasetSpec::Replay::first_turn));
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 3u);  // the empty conversation is skipped (vLLM skips those under 2 turns)
  EXPECT_EQ((*entries)[0].prompt, "How long should I boil an egg for a soft yolk?");
  EXPECT_EQ((*entries)[0].answer_words, 13u);
  EXPECT_TRUE((*entries)[0].messages.is_null());
  EXPECT_EQ((*entries)[1].prompt, "Why do trains have steel wheels?");
  EXPECT_EQ((*entries)[1].answer_words, 18u);
  EXPECT_EQ((*entries)[2].prompt, "Write one line about the sea.");
  EXPECT_EQ((*entries)[2].answer_words, 8u);
}

TEST(DatasetShareGpt, ErrorsNameTheFileAndTheRecord) {
  EXPECT_EQ(error_of("[{\"conversations\": []}, {\"conversations\": {\"from\": \"human\"}}]"),
            ": record 1: \"conversations\" must be an array, got: {\"from\":\"human\"}");
  EXPECT_EQ(error_of("[{\"conversations\": [{\"from\": \"human\", \"value\": 3}]}]"),
            ": record 0: conversations[0]: expected {\"from\": \"human\"|\"gpt\"|\"system\", \"value\": \"...\"}, got: "
            "{\"from\":\"human\",\"value\":3}");
  EXPECT_EQ(error_of("[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"robot\", \"value\": "
                     "\"b\"}]}]"),
            ": record 0: conversations[1].from: unknown speaker \"robot\"; expected human, gpt or system (also user, "
            "assistant, chatgpt, bing, bard)");
  EXPECT_EQ(error_of("[{\"conversations\": []}, {\"conversations\": []}, {\"conversations\": []}, 7]"),
            ": record 3: expected an object with \"conversations\" (an array of {\"from\",\"value\"} objects), got: 7");
  EXPECT_EQ(error_of("[{\"conversations\": [{\"from\": \"gpt\", \"value\": \"hello\"}]}]"),
            ": no conversation with a user turn among 1 records");
  EXPECT_THAT(error_of("[{\"conversations\": [}]"), HasSubstr(": the ShareGPT file is not JSON"));
}

TEST(DatasetJsonl, ConversationLinesAndTheirErrorsNameTheLine) {
  TempFile file("{\"prompt\": \"plain\"}\n"
                "{\"conversations\": [{\"from\": \"human\", \"value\": \"hi there\"}, {\"from\": \"gpt\", \"value\": \"a b c\"}]}\n");
  auto entries = load_dataset(file.path(), ApiKind::chat, options(DatasetSpec::Replay::first_turn));
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].prompt, "hi there");
  EXPECT_EQ((*entries)[1].answer_words, 3u);
  EXPECT_EQ(error_of("{\"prompt\": \"a\"}\n\n{\"conversations\": \"no\"}\n"),
            ":3: \"conversations\" must be an array, got: \"no\"");
}

// --- the requests made of a dataset ---

scenario::RequestSpec dataset_spec(const std::string& path, DatasetSpec::Replay replay, bool output_tokens = false) {
  scenario::RequestSpec spec;
  spec.api = ApiKind::chat;
  spec.prompt = scenario::PromptKind::dataset;
  spec.dataset_path = path;
  spec.dataset = options(replay, DatasetSpec::Format::automatic, output_tokens);
  spec.max_tokens = 77;
  return spec;
}

struct Sent {
  std::string messages;  // dump of the messages, or the text
  std::optional<std::size_t> max_tokens;
};

Sent fill(PromptSource& source, std::uint64_t index, std::size_t session) {
  Prompt prompt;
  source.fill(index, session, prompt);
  return Sent{prompt.messages != nullptr ? prompt.messages->dump() : prompt.text, prompt.max_tokens};
}

std::string user(const std::string& text) { return json{{"role", "user"}, {"content", text}}.dump(); }
std::string assistant(const std::string& text) { return json{{"role", "assistant"}, {"content", text}}.dump(); }
std::string system(const std::string& text) { return json{{"role", "system"}, {"content", text}}.dump(); }

TEST(DatasetReplay, MultiTurnResendsTheHistoryWithTheDatasetsAnswersPerVirtualUser) {
  auto source = PromptSource::create(dataset_spec(k_sample, DatasetSpec::Replay::multi_turn, true));
  ASSERT_TRUE(source) << source.error();
  const std::string sys = system("You are a patient cooking teacher.");
  const std::string q1 = user("How long should I boil an egg for a soft yolk?");
  const std::string a1 = assistant("About six minutes in gently boiling water, then cool it in cold water.");
  const std::string q2 = user("And for a hard yolk?");
  // VU 0 takes the first conversation, VU 1 the second; each goes on with its own.
  Sent s = fill(*source, 0, 0);
  EXPECT_EQ(s.messages, "[" + sys + "," + q1 + "]");
  EXPECT_EQ(s.max_tokens, 13u);
  s = fill(*source, 1, 1);
  EXPECT_EQ(s.messages, "[" + user("Why do trains have steel wheels?") + "]");
  EXPECT_EQ(s.max_tokens, 18u);
  s = fill(*source, 2, 0);
  EXPECT_EQ(s.messages, "[" + sys + "," + q1 + "," + a1 + "," + q2 + "]");
  EXPECT_EQ(s.max_tokens, 4u);
  // VU 0's conversation is over: it takes the next one not started (the third).
  s = fill(*source, 3, 0);
  EXPECT_EQ(s.messages, "[" + user("Write one line about the sea.") + "]");
  EXPECT_EQ(s.max_tokens, 8u);
  s = fill(*source, 4, 1);
  EXPECT_THAT(s.messages, HasSubstr(user("Is that why they brake slowly?") + "]"));
  EXPECT_THAT(s.messages, HasSubstr(assistant(
                              "Steel on steel rolls with very little friction, so a train needs little energy to move "
                              "heavy loads.")));
  s = fill(*source, 5, 1);
  EXPECT_THAT(s.messages, HasSubstr(user("Thanks!") + "]"));
  EXPECT_EQ(s.max_tokens, 3u);
  // Wrapping around: the first conversation again, from its first turn.
  s = fill(*source, 6, 0);
  EXPECT_EQ(s.messages, "[" + sys + "," + q1 + "]");
}

TEST(DatasetReplay, FirstTurnSendsOnePromptPerRecordAndMaxTokensOnlyWhenAsked) {
  auto plain = PromptSource::create(dataset_spec(k_sample, DatasetSpec::Replay::first_turn));
  ASSERT_TRUE(plain) << plain.error();
  Sent s = fill(*plain, 0, 0);
  EXPECT_EQ(s.messages, "How long should I boil an egg for a soft yolk?");
  EXPECT_EQ(s.max_tokens, std::nullopt);  // requests.max_tokens
  EXPECT_EQ(fill(*plain, 4, 0).messages, "Why do trains have steel wheels?");  // 3 records, wrapping
  auto sized = PromptSource::create(dataset_spec(k_sample, DatasetSpec::Replay::first_turn, true));
  ASSERT_TRUE(sized);
  EXPECT_EQ(fill(*sized, 2, 0).max_tokens, 8u);
}

TEST(DatasetReplay, MessagesAndPromptLinesBecomeConversationsInMultiTurn) {
  TempFile file("{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u1\"}, "
                "{\"role\": \"assistant\", \"content\": \"a1 a1\"}, {\"role\": \"user\", \"content\": \"u2\"}]}\n"
                "{\"prompt\": \"only one\"}\n");
  auto source = PromptSource::create(dataset_spec(file.path(), DatasetSpec::Replay::multi_turn, true));
  ASSERT_TRUE(source) << source.error();
  Sent s = fill(*source, 0, 0);
  EXPECT_EQ(s.messages, "[" + system("s") + "," + user("u1") + "]");
  EXPECT_EQ(s.max_tokens, 2u);
  s = fill(*source, 1, 0);
  EXPECT_EQ(s.messages, "[" + system("s") + "," + user("u1") + "," + assistant("a1 a1") + "," + user("u2") + "]");
  EXPECT_EQ(s.max_tokens, std::nullopt);  // the last turn has no answer in the dataset: requests.max_tokens
  s = fill(*source, 2, 0);
  EXPECT_EQ(s.messages, "[" + user("only one") + "]");
  // First turn: a {"messages"} line is sent as it is (the existing behaviour).
  auto whole = PromptSource::create(dataset_spec(file.path(), DatasetSpec::Replay::first_turn));
  ASSERT_TRUE(whole);
  EXPECT_THAT(fill(*whole, 0, 0).messages, HasSubstr(user("u2") + "]"));
}

TEST(DatasetWords, CountsWhitespaceSeparatedRuns) {
  EXPECT_EQ(count_words(""), 0u);
  EXPECT_EQ(count_words("  a\tbb\n ccc  "), 3u);
  EXPECT_EQ(count_words("one"), 1u);
}

}  // namespace
}  // namespace llmd::engine
