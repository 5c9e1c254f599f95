#include "engine/conversation.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/prompt_words.hpp"

namespace llmd::engine {

using nlohmann::json;

namespace {

// choices[0] of a parsed chunk or body, when there is one.
const json* first_choice(const json& value) {
  if (!value.is_object()) {
    return nullptr;
  }
  const auto choices = value.find("choices");
  if (choices == value.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
    return nullptr;
  }
  return &(*choices)[0];
}

// object[outer][inner] (inner empty: object[outer]) when it is a string.
const std::string* string_member(const json& object, const char* outer, const char* inner = nullptr) {
  const auto it = object.find(outer);
  if (it == object.end()) {
    return nullptr;
  }
  const json* value = &*it;
  if (inner != nullptr) {
    if (!value->is_object()) {
      return nullptr;
    }
    const auto nested = value->find(inner);
    if (nested == value->end()) {
      return nullptr;
    }
    value = &*nested;
  }
  return value->is_string() ? value->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

void append_chunk_text(std::string_view data, std::string& out) {
  const json chunk = json::parse(data, nullptr, false);
  const json* choice = first_choice(chunk);
  if (choice == nullptr) {
    return;
  }
  if (const std::string* text = string_member(*choice, "delta", "content")) {
    out += *text;
  } else if (const std::string* completion = string_member(*choice, "text")) {
    out += *completion;
  }
}

std::string answer_from_body(std::string_view body) {
  const json document = json::parse(body, nullptr, false);
  const json* choice = first_choice(document);
  if (choice == nullptr) {
    return "";
  }
  if (const std::string* text = string_member(*choice, "message", "content")) {
    return *text;
  }
  const std::string* completion = string_member(*choice, "text");
  return completion != nullptr ? *completion : "";
}

std::uint64_t phase_key(std::string_view phase_name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : phase_name) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return hash;
}

ConversationSource::ConversationSource(const scenario::RequestSpec& spec) : m_spec(spec) {
  append_words(m_system_prompt, spec.seed, stream_tag::conversation_system, 0, spec.multi_turn.system_prompt_tokens);
}

void ConversationSource::start(Conversation& conversation, std::uint64_t key, std::size_t vu) {
  const scenario::MultiTurnSpec& spec = m_spec.multi_turn;
  conversation.key = mix64(mix64(m_spec.seed, stream_tag::conversation, key, vu), conversation.ordinal);
  ++conversation.ordinal;
  conversation.turns = std::max<std::size_t>(draw_length(spec.turns, mix64(conversation.key, stream_tag::conversation_turns)), 1);
  conversation.sent = 0;
  conversation.messages = json::array();
  if (!m_system_prompt.empty()) {
    conversation.messages.push_back({{"role", "system"}, {"content", m_system_prompt}});
  }
  conversation.session_id = fmt::format("llmd-{}-{:016x}", m_spec.seed, conversation.key);
}

TurnRequest ConversationSource::next(std::size_t phase, std::uint64_t key, std::size_t vu, Prompt& out) {
  Conversation& conversation = m_users[{phase, vu}];
  if (conversation.turns == 0) {
    start(conversation, key, vu);
  }
  const scenario::MultiTurnSpec& spec = m_spec.multi_turn;
  const std::size_t number = ++conversation.sent;
  std::string text;
  const std::size_t words = draw_length(spec.user_tokens, mix64(conversation.key, stream_tag::conversation_user_length, number));
  append_words(text, m_spec.seed, stream_tag::conversation_user_words, mix64(conversation.key, number), words);
  conversation.messages.push_back({{"role", "user"}, {"content", std::move(text)}});
  out.text.clear();
  out.messages = &conversation.messages;
  out.max_tokens.reset();
  if (spec.output_tokens) {
    out.max_tokens = draw_length(*spec.output_tokens, mix64(conversation.key, stream_tag::conversation_output, number));
  }
  return TurnRequest{number, conversation.turns, &conversation.session_id};
}

bool ConversationSource::finish(std::size_t phase, std::size_t vu, bool ok, std::string_view answer) {
  const auto it = m_users.find({phase, vu});
  if (it == m_users.end() || it->second.turns == 0) {
    return false;
  }
  Conversation& conversation = it->second;
  if (ok && conversation.sent < conversation.turns) {
    conversation.messages.push_back({{"role", "assistant"}, {"content", std::string(answer)}});
    return true;
  }
  conversation.turns = 0;  // done, or broken: the next request starts a new conversation
  return false;
}

const json* ConversationSource::history(std::size_t phase, std::size_t vu) const {
  const auto it = m_users.find({phase, vu});
  return it == m_users.end() ? nullptr : &it->second.messages;
}

namespace {

TurnStats& turn_stats(PhaseResult& phase, std::size_t turn) {
  const std::size_t index = std::max<std::size_t>(turn, 1) - 1;
  if (phase.turns.size() <= index) {
    phase.turns.resize(index + 1);
  }
  return phase.turns[index];
}

}  // namespace

void record_turn(PhaseResult& phase, std::size_t turn, const Outcome& outcome, const RequestTiming& timing) {
  TurnStats& stats = turn_stats(phase, turn);
  if (!outcome.ok) {
    ++stats.failed;
    return;
  }
  ++stats.ok;
  if (timing.first_token != TimePoint{}) {
    stats.ttft_ns.record(elapsed_ns(timing.started, timing.first_token));
  }
  if (outcome.cached_tokens && outcome.prompt_tokens) {
    stats.cached_tokens = saturating_add(stats.cached_tokens, static_cast<std::uint64_t>(std::max<std::int64_t>(*outcome.cached_tokens, 0)));
    stats.prompt_tokens = saturating_add(stats.prompt_tokens, static_cast<std::uint64_t>(std::max<std::int64_t>(*outcome.prompt_tokens, 0)));
    ++stats.responses_with_cached_tokens;
  }
}

void record_turn_aborted(PhaseResult& phase, std::size_t turn) { ++turn_stats(phase, turn).aborted; }

}  // namespace llmd::engine
