#pragma once
// `dataset` prompt files (scenario/trace_spec.hpp DatasetSpec): JSONL lines or a ShareGPT JSON
// array, read whole when the run starts (at most limits::k_max_dataset_bytes), checked record by
// record, and turned into what requests send.
//
// Records:
//   {"prompt": "..."}                       a completions prompt (chat: one user message)
//   {"messages": [{"role", "content"}...]}  OpenAI chat messages (needs api: chat)
//   {"conversations": [{"from", "value"}...]}  ShareGPT (ShareGPT_V3 as vLLM's benchmarks use it):
//       from "human" or "user" -> user, "gpt", "assistant", "chatgpt", "bing", "bard" -> assistant,
//       "system" -> system; converted to chat messages.
// Replay (DatasetSpec::Replay):
//   first_turn  a record is one request. A conversation's first user turn is the prompt (vLLM's
//               sharegpt benchmark: conversations[0] as the prompt, [1] as the answer); a
//               {"messages"} line is sent as it is; records with no user turn are skipped (vLLM
//               skips conversations of fewer than 2 turns).
//   multi_turn  a record is a conversation of turns, one per user message: turn k sends every
//               message before the k-th user message and that message, so the history holds the
//               dataset's own assistant turns (the cache reuse pattern of the dataset, whatever the
//               server answers). A {"prompt"} line is a one-turn conversation.
// Answers: the assistant message right after a user turn; its length in whitespace-separated words
// is the request's max_tokens with `output_tokens: dataset` (words are the simulator's tokens when
// at most 8 bytes; a real tokenizer counts roughly 1.3 tokens a word for English).
// Errors name the file and the 1-based line (JSONL) or the record counted from 0 (ShareGPT array):
//   "data/p.jsonl:3: not valid JSON: \"{oops\""
//   "data/sg.json: record 3: \"conversations\" must be an array, got: {...}"
//   "data/sg.json: record 3: conversations[1].from: unknown speaker \"robot\"; expected one of ..."
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// One turn of a conversation replayed turn by turn.
struct DatasetTurn {
  std::size_t messages = 0;                 // the first `messages` of DatasetEntry::messages are sent
  std::optional<std::size_t> answer_words;  // the dataset's answer to this turn, in words
};

// One record, already checked: a prompt text or chat messages, and for multi-turn replay its turns.
struct DatasetEntry {
  std::string prompt;       // first-turn replay of a {"prompt"} line or a conversation; chat API: one user message
  nlohmann::json messages;  // {"messages"} sent as is (first turn), or the conversation (multi-turn); null: prompt
  std::vector<DatasetTurn> turns;           // multi-turn replay: one per user message (empty otherwise)
  std::optional<std::size_t> answer_words;  // first-turn replay: the dataset's answer to the prompt, in words
};

// The format of `text` (the whole file) for DatasetSpec::Format::automatic: sharegpt when its first
// non-blank byte is '[', else jsonl.
scenario::DatasetSpec::Format detect_dataset_format(std::string_view text);

// Reads and checks a dataset (see above). Fails on a file that cannot be read, is larger than
// limits::k_max_dataset_bytes, has a record that does not fit, or yields no request:
//   "data/p.jsonl: no prompts (expected one JSON object per line)"
//   "data/sg.json: no conversation with a user turn among 12 records"
util::Result<std::vector<DatasetEntry>> load_dataset(const std::string& path, scenario::ApiKind api,
                                                     const scenario::DatasetSpec& options = {});

// Each non-blank line of a JSONL text (LF or CRLF ends; the last line needs none), parsed with
// util::parse_json_bounded and handed to `visit` with its text and "PATH:N" (N from 1). Stops at the
// first error: a line that is not JSON ("PATH:3: not valid JSON: \"{oops\""), or visit's own.
using JsonlVisitor = std::function<util::Result<void>(nlohmann::json value, std::string_view line, const std::string& where)>;
util::Result<void> for_each_jsonl_value(std::string_view text, const std::string& path, const JsonlVisitor& visit);

// A JSON value quoted in an error message: its JSON text, cut after 60 bytes ("{\"from\":1}").
std::string json_preview(const nlohmann::json& value);

// Whitespace-separated words in `text` (the answer length of `output_tokens: dataset`).
std::size_t count_words(std::string_view text);

}  // namespace llmd::engine
