#include "engine/dataset.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "scenario/limits.hpp"
#include "sse/preview.hpp"
#include "util/atomic_file.hpp"
#include "util/json_text.hpp"

namespace llmd::engine {

using nlohmann::json;
using scenario::DatasetSpec;
using util::fail;
using util::Result;

namespace {

// ShareGPT speakers and the chat role each becomes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> k_speakers = {{
    {"human", "user"},
    {"user", "user"},
    {"gpt", "assistant"},
    {"assistant", "assistant"},
    {"chatgpt", "assistant"},
    {"bing", "assistant"},
    {"bard", "assistant"},
    {"system", "system"},
}};

bool is_message_array(const json& messages) {
  if (!messages.is_array() || messages.empty()) {
    return false;
  }
  return std::all_of(messages.begin(), messages.end(), [](const json& message) {
    return message.is_object() && message.contains("role") && message["role"].is_string() &&
           message.contains("content") && (message["content"].is_string() || message["content"].is_array());
  });
}

// ShareGPT "conversations" as chat messages ([{"role","content"}]).
Result<json> conversation_messages(const json& record, const std::string& where) {
  const json& turns = record["conversations"];
  if (!turns.is_array()) {
    return fail(fmt::format("{}: \"conversations\" must be an array, got: {}", where,
                            json_preview(turns)));
  }
  json messages = json::array();
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const json& turn = turns[i];
    if (!turn.is_object() || !turn.contains("from") || !turn["from"].is_string() || !turn.contains("value") ||
        !turn["value"].is_string()) {
      return fail(fmt::format("{}: conversations[{}]: expected {{\"from\": \"human\"|\"gpt\"|\"system\", \"value\": "
                              "\"...\"}}, got: {}",
                              where, i, json_preview(turn)));
    }
    const auto& from = turn["from"].get_ref<const std::string&>();
    const auto* speaker = std::find_if(k_speakers.begin(), k_speakers.end(), [&](const auto& s) { return s.first == from; });
    if (speaker == k_speakers.end()) {
      return fail(fmt::format("{}: conversations[{}].from: unknown speaker \"{}\"; expected human, gpt or system "
                              "(also user, assistant, chatgpt, bing, bard)",
                              where, i, sse::preview(from)));
    }
    messages.push_back(json{{"role", speaker->second}, {"content", turn["value"]}});
  }
  return messages;
}

std::optional<std::size_t> answer_after(const json& messages, std::size_t user) {
  if (user + 1 >= messages.size()) {
    return std::nullopt;
  }
  const json& next = messages[user + 1];
  if (next["role"] != "assistant" || !next["content"].is_string()) {
    return std::nullopt;
  }
  return count_words(next["content"].get_ref<const std::string&>());
}

// A conversation (chat messages) as an entry; nullopt when it has no user turn (skipped).
std::optional<DatasetEntry> conversation_entry(json messages, DatasetSpec::Replay replay) {
  DatasetEntry entry;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i]["role"] == "user") {
      entry.turns.push_back(DatasetTurn{i + 1, answer_after(messages, i)});
    }
  }
  if (entry.turns.empty()) {
    return std::nullopt;
  }
  if (replay == DatasetSpec::Replay::first_turn) {
    const json& first = messages[entry.turns.front().messages - 1]["content"];
    if (first.is_string()) {
      entry.prompt = first.get<std::string>();
    } else {  // OpenAI content parts: sent as the one user message they are
      entry.messages = json::array({messages[entry.turns.front().messages - 1]});
    }
    entry.answer_words = entry.turns.front().answer_words;
    entry.turns.clear();
    return entry;
  }
  entry.messages = std::move(messages);
  return entry;
}

// One record (a JSONL line's object or a ShareGPT array element); nullopt: skipped.
Result<std::optional<DatasetEntry>> parse_record(json value, std::string_view text, scenario::ApiKind api,
                                                 DatasetSpec::Replay replay, const std::string& where) {
  const bool multi_turn = replay == DatasetSpec::Replay::multi_turn;
  if (value.is_object() && value.contains("prompt") && value["prompt"].is_string()) {
    if (!multi_turn) {
      DatasetEntry entry;
      entry.prompt = value["prompt"].get<std::string>();
      return std::optional<DatasetEntry>(std::move(entry));
    }
    return conversation_entry(json::array({json{{"role", "user"}, {"content", value["prompt"]}}}), replay);
  }
  if (value.is_object() && value.contains("messages") && is_message_array(value["messages"])) {
    if (api != scenario::ApiKind::chat) {
      return fail(fmt::format("{}: \"messages\" needs request.api: chat (completions takes \"prompt\")", where));
    }
    if (!multi_turn) {
      DatasetEntry entry;
      entry.messages = std::move(value["messages"]);
      return std::optional<DatasetEntry>(std::move(entry));
    }
    return conversation_entry(std::move(value["messages"]), replay);
  }
  if (value.is_object() && value.contains("conversations")) {
    auto messages = conversation_messages(value, where);
    if (!messages) {
      return fail(messages.error());
    }
    return conversation_entry(std::move(*messages), replay);
  }
  return fail(fmt::format(
      "{}: expected an object with \"prompt\" (a string), \"messages\" (an array of {{\"role\",\"content\"}} objects) "
      "or \"conversations\" (ShareGPT: an array of {{\"from\",\"value\"}} objects), got: {}",
      where, sse::preview(text)));
}

Result<std::vector<DatasetEntry>> parse_jsonl(std::string_view text, const std::string& path, scenario::ApiKind api,
                                              DatasetSpec::Replay replay) {
  std::vector<DatasetEntry> entries;
  auto read = for_each_jsonl_value(text, path, [&](json value, std::string_view line, const std::string& where) -> Result<void> {
    auto entry = parse_record(std::move(value), line, api, replay, where);
    if (!entry) {
      return fail(entry.error());
    }
    if (*entry) {
      entries.push_back(std::move(**entry));
    }
    return {};
  });
  if (!read) {
    return fail(read.error());
  }
  if (entries.empty()) {
    return fail(fmt::format("{}: no prompts (expected one JSON object per line)", path));
  }
  return entries;
}

Result<std::vector<DatasetEntry>> parse_sharegpt(std::string_view text, const std::string& path, scenario::ApiKind api,
                                                 DatasetSpec::Replay replay) {
  auto parsed = util::parse_json_bounded(text, util::JsonLimits{128, scenario::limits::k_max_dataset_json_values});
  if (!parsed) {
    return fail(fmt::format("{}: the ShareGPT file {}", path, parsed.error()));
  }
  if (!parsed->is_array()) {
    return fail(fmt::format("{}: a ShareGPT file is one JSON array of {{\"conversations\": [...]}} records, got {}",
                            path, parsed->type_name()));
  }
  std::vector<DatasetEntry> entries;
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    json& record = (*parsed)[i];
    const std::string where = fmt::format("{}: record {}", path, i);
    if (!record.is_object() || !record.contains("conversations")) {
      return fail(fmt::format("{}: expected an object with \"conversations\" (an array of {{\"from\",\"value\"}} "
                              "objects), got: {}",
                              where, json_preview(record)));
    }
    auto entry = parse_record(std::move(record), "", api, replay, where);
    if (!entry) {
      return fail(entry.error());
    }
    if (*entry) {
      entries.push_back(std::move(**entry));
    }
  }
  if (entries.empty()) {
    return fail(fmt::format("{}: no conversation with a user turn among {} records", path, parsed->size()));
  }
  return entries;
}

}  // namespace

// A JSON value quoted in an error: its JSON text, cut after 60 bytes.
std::string json_preview(const json& value) {
  std::string text = util::dump_json(value);
  if (text.size() > 60) {
    text = util::valid_utf8(std::string_view(text).substr(0, 60)) + "...";
  }
  return text;
}

Result<void> for_each_jsonl_value(std::string_view rest, const std::string& path, const JsonlVisitor& visit) {
  for (std::size_t number = 1; !rest.empty(); ++number) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    const std::string where = fmt::format("{}:{}", path, number);
    auto parsed = util::parse_json_bounded(line);
    if (!parsed) {
      return fail(parsed.error().starts_with("is not JSON")
                      ? fmt::format("{}: not valid JSON: \"{}\"", where, sse::preview(line))
                      : fmt::format("{}: the line {}", where, parsed.error()));
    }
    LLMD_TRY(visit(std::move(*parsed), line, where));
  }
  return {};
}

std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    words += !space && !in_word ? 1 : 0;
    in_word = !space;
  }
  return words;
}

DatasetSpec::Format detect_dataset_format(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '[' ? DatasetSpec::Format::sharegpt
                                                               : DatasetSpec::Format::jsonl;
}

Result<std::vector<DatasetEntry>> load_dataset(const std::string& path, scenario::ApiKind api, const DatasetSpec& options) {
  auto text = util::read_file(path, scenario::limits::k_max_dataset_bytes + 1);
  if (!text) {
    return fail(text.error());
  }
  if (text->size() > scenario::limits::k_max_dataset_bytes) {
    return fail(fmt::format("{}: dataset is larger than {} MiB (the most llmd-bench reads): split it or sample it",
                            path, scenario::limits::k_max_dataset_bytes >> 20U));
  }
  const DatasetSpec::Format format =
      options.format == DatasetSpec::Format::automatic ? detect_dataset_format(*text) : options.format;
  if (format == DatasetSpec::Format::sharegpt) {
    return parse_sharegpt(*text, path, api, options.replay);
  }
  return parse_jsonl(*text, path, api, options.replay);
}

}  // namespace llmd::engine
