// Fast path of OpenAiStreamDecoder: one pass of JsonCursor over the payload, no allocation.
// Every "false" below means "unsure": decode() then asks decode_slow() (nlohmann/json).
#include "sse/openai_stream.hpp"

#include "sse/json_scanner.hpp"
#include "sse/openai_stream_rules.hpp"

namespace llmd::sse {
namespace {

// Calls on_member(key) with the cursor at each member's value; keys with escapes are "unsure"
// (an escaped "choices" would otherwise be skipped as an unknown key).
template <class OnMember>
bool for_each_member(JsonCursor& cursor, OnMember&& on_member) {
  if (!cursor.consume('{')) {
    return false;
  }
  if (cursor.consume('}')) {
    return true;
  }
  do {
    JsonString key;
    if (!cursor.read_string(key) || key.has_escapes || !cursor.consume(':') || !on_member(key.raw)) {
      return false;
    }
  } while (cursor.consume(','));
  return cursor.consume('}');
}

// The members a scan reads, each allowed once: nlohmann keeps the LAST of duplicate keys, so a
// duplicate makes the scan unsure rather than read both (or the first).
class SeenKeys {
 public:
  SeenKeys() = default;
  explicit SeenKeys(unsigned bits) : m_bits(bits) {}
  unsigned bits() const { return m_bits; }
  // True the first time `key` (one of up to 8, by index) is seen.
  bool first(unsigned index) {
    const unsigned bit = 1U << index;
    const bool fresh = (m_bits & bit) == 0;
    m_bits |= bit;
    return fresh;
  }

 private:
  unsigned m_bits = 0;
};

// Where the scan found generated-text strings (for ChunkTemplate): how many, and the last one's bytes
// (quotes included) and which count it went to.
struct TextSpans {
  std::size_t count = 0;
  std::size_t begin = 0;  // offset of the opening quote
  std::size_t end = 0;    // offset after the closing quote
  bool reasoning = false;
};

// A string (its decoded bytes added to `total_bytes`, its place noted in `spans`) or null.
bool scan_text(JsonCursor& cursor, std::size_t& total_bytes, TextSpans& spans, bool reasoning) {
  if (cursor.consume_null()) {
    return true;
  }
  JsonString text;
  if (!cursor.read_string(text)) {
    return false;
  }
  total_bytes += text.decoded_bytes;
  ++spans.count;
  spans.end = cursor.offset();
  spans.begin = spans.end - text.raw.size() - 2;
  spans.reasoning = reasoning;
  return true;
}

bool scan_delta(JsonCursor& cursor, OpenAiChunk& chunk, TextSpans& spans) {
  SeenKeys seen;
  return for_each_member(cursor, [&](std::string_view key) {
    if (key == "content") {
      return seen.first(0) && scan_text(cursor, chunk.text_bytes, spans, false);
    }
    if (key == "reasoning_content") {
      return seen.first(1) && scan_text(cursor, chunk.reasoning_bytes, spans, true);
    }
    if (key == "reasoning") {
      return seen.first(2) && scan_text(cursor, chunk.reasoning_bytes, spans, true);
    }
    return cursor.skip_value();  // role, tool_calls, ...
  });
}

bool scan_finish_reason(JsonCursor& cursor, OpenAiChunk& chunk) {
  if (cursor.consume_null()) {
    return true;
  }
  JsonString reason;
  if (!cursor.read_string(reason) || reason.has_escapes) {
    return false;
  }
  chunk.finish_reason = reason.raw;
  return true;
}

// One element of "choices". Only its own "text" / "delta" / "finish_reason" are read: "logprobs"
// (whose entries have "text" / "content" keys of their own) is skipped whole.
bool scan_choice(JsonCursor& cursor, OpenAiChunk& chunk, TextSpans& spans) {
  ++chunk.choice_count;
  SeenKeys seen;
  return for_each_member(cursor, [&](std::string_view key) {
    if (key == "text") {
      return seen.first(0) && scan_text(cursor, chunk.text_bytes, spans, false);
    }
    if (key == "delta") {
      return seen.first(1) && scan_delta(cursor, chunk, spans);
    }
    if (key == "finish_reason") {
      return seen.first(2) && scan_finish_reason(cursor, chunk);
    }
    return cursor.skip_value();
  });
}

bool scan_choices(JsonCursor& cursor, OpenAiChunk& chunk, TextSpans& spans) {
  if (!cursor.consume('[')) {
    return false;
  }
  if (cursor.consume(']')) {
    return true;
  }
  do {
    if (!scan_choice(cursor, chunk, spans)) {
      return false;
    }
  } while (cursor.consume(','));
  return cursor.consume(']');
}

bool scan_prompt_details(JsonCursor& cursor, Usage& usage) {
  if (cursor.consume_null()) {
    return true;
  }
  SeenKeys seen;
  return for_each_member(cursor, [&](std::string_view key) {
    if (key != "cached_tokens") {
      return cursor.skip_value();
    }
    if (!seen.first(0)) {
      return false;
    }
    if (cursor.consume_null()) {
      return true;
    }
    std::int64_t cached = 0;
    if (!cursor.read_count(cached)) {
      return false;
    }
    usage.cached_tokens = cached;
    return true;
  });
}

// null, or an object with integer prompt_tokens and completion_tokens (anything else: unsure).
bool scan_usage(JsonCursor& cursor, OpenAiChunk& chunk) {
  if (cursor.consume_null()) {
    return true;
  }
  Usage usage;
  bool has_prompt = false;
  bool has_completion = false;
  SeenKeys seen;
  const bool ok = for_each_member(cursor, [&](std::string_view key) {
    if (key == "prompt_tokens") {
      return seen.first(0) && (has_prompt = cursor.read_count(usage.prompt_tokens));
    }
    if (key == "completion_tokens") {
      return seen.first(1) && (has_completion = cursor.read_count(usage.completion_tokens));
    }
    if (key == "prompt_tokens_details") {
      return seen.first(2) && scan_prompt_details(cursor, usage);
    }
    return cursor.skip_value();  // total_tokens, ...
  });
  if (!ok || !has_prompt || !has_completion) {
    return false;
  }
  chunk.usage = usage;
  return true;
}

// The payload starts with `prefix.bytes` (and has more after them).
bool starts_with_prefix(std::string_view data, const ChunkPrefix& prefix) {
  return prefix.valid && data.size() > prefix.bytes.size() && data.starts_with(prefix.bytes);
}

// The whole payload; false when unsure (including "error" payloads and non-chunks). Resumes after
// `prefix` when the payload starts with it, and remembers a new one when it did not (ChunkPrefix).
bool scan_chunk(std::string_view data, OpenAiChunk& chunk, ChunkPrefix& prefix, TextSpans& spans) {
  const bool resumed = starts_with_prefix(data, prefix);
  JsonCursor cursor(data, resumed ? prefix.bytes.size() : 0);
  bool has_choices = false;
  bool has_message = resumed && prefix.has_message;
  bool usage_seen = false;  // before "choices": the prefix would carry a value, not only a state
  SeenKeys seen(resumed ? prefix.seen_bits : 0);
  std::size_t choices_at = 0;  // the offset of the "choices" member (0: not reached yet)
  unsigned seen_at_choices = 0;
  bool message_at_choices = false;
  const auto on_member = [&](std::string_view key) {
    if (key == "choices") {
      has_choices = true;
      return seen.first(0) && scan_choices(cursor, chunk, spans);
    }
    if (key == "usage") {
      usage_seen = true;
      return seen.first(1) && scan_usage(cursor, chunk);
    }
    if (key == "error") {
      return false;  // rare: nlohmann extracts the message
    }
    if (key == "object") {  // "object":"error" is an error payload (api_error_from_json decides)
      JsonString value;
      return cursor.read_string(value) && !value.has_escapes && value.raw != "error";
    }
    if (key == "message") {  // without "choices", a flat error payload
      has_message = true;
    }
    return cursor.skip_value();
  };
  bool ok = true;
  if (!resumed) {
    ok = cursor.consume('{');
    if (ok && cursor.consume('}')) {
      ok = false;  // {}: neither choices nor usage, not a chunk (kind_of below would say so)
    }
  }
  if (ok) {
    do {
      const std::size_t member_at = cursor.offset();
      JsonString key;
      if (!cursor.read_string(key) || key.has_escapes || !cursor.consume(':')) {
        ok = false;
        break;
      }
      if (key.raw == "choices" && !resumed && !usage_seen && choices_at == 0) {
        choices_at = member_at;
        seen_at_choices = seen.bits();  // reading the key changed neither
        message_at_choices = has_message;
      }
      if (!on_member(key.raw)) {
        ok = false;
        break;
      }
    } while (cursor.consume(','));
    ok = ok && cursor.consume('}');
  }
  if (!ok || !cursor.at_end() || (has_message && !has_choices)) {
    return false;
  }
  if (choices_at > 0) {  // a chunk scanned whole: its start is the next one's (capacity reused)
    prefix.bytes.assign(data.data(), choices_at);
    prefix.seen_bits = seen_at_choices;
    prefix.has_message = message_at_choices;
    prefix.valid = true;
  }
  const auto kind = rules::kind_of(chunk, has_choices);
  if (!kind) {
    return false;
  }
  chunk.kind = *kind;
  return true;
}

// The payload is `t`'s but for its text string (ChunkTemplate): fills `chunk` and returns true.
bool read_by_template(std::string_view data, const ChunkTemplate& t, OpenAiChunk& chunk) {
  if (!t.valid) {
    return false;
  }
  const std::string_view before = std::string_view(t.bytes).substr(0, t.text_begin);
  const std::string_view after = std::string_view(t.bytes).substr(t.text_end);
  if (data.size() < before.size() + 2 + after.size() || data[t.text_begin] != '"' || !data.starts_with(before)) {
    return false;
  }
  JsonCursor cursor(data, t.text_begin);
  JsonString text;
  if (!cursor.read_string(text)) {
    return false;
  }
  const std::size_t end = cursor.offset();
  if (data.size() - end != after.size() || !data.ends_with(after)) {
    return false;
  }
  chunk.choice_count = t.choice_count;
  chunk.usage = t.usage;
  (t.reasoning ? chunk.reasoning_bytes : chunk.text_bytes) = text.decoded_bytes;
  if (t.finish_length > 0) {
    const std::size_t at = t.finish_at < t.text_begin ? t.finish_at : t.finish_at - t.text_end + end;
    chunk.finish_reason = data.substr(at, t.finish_length);
  }
  chunk.kind = rules::kind_of(chunk, true).value_or(ChunkKind::empty_delta);  // choice_count > 0: always set
  return true;
}

// After a whole scan that returned true: `data` becomes the template when it had one text string.
void remember_template(std::string_view data, const TextSpans& spans, const OpenAiChunk& chunk, ChunkTemplate& t) {
  t.valid = spans.count == 1;
  if (!t.valid) {
    return;
  }
  t.bytes.assign(data);  // capacity reused
  t.text_begin = spans.begin;
  t.text_end = spans.end;
  t.reasoning = spans.reasoning;
  t.choice_count = chunk.choice_count;
  t.usage = chunk.usage;
  t.finish_length = chunk.finish_reason.size();
  t.finish_at = t.finish_length > 0 ? static_cast<std::size_t>(chunk.finish_reason.data() - data.data()) : 0;
}

}  // namespace

std::string_view to_string(ChunkKind kind) {
  switch (kind) {
    case ChunkKind::content:
      return "content";
    case ChunkKind::empty_delta:
      return "empty_delta";
    case ChunkKind::usage_only:
      return "usage_only";
    case ChunkKind::done:
      return "done";
    case ChunkKind::error:
      return "error";
    case ChunkKind::malformed:
      return "malformed";
  }
  return "unknown";
}

std::int64_t StreamTally::output_tokens() const {
  return last_usage ? last_usage->completion_tokens : static_cast<std::int64_t>(content_events);
}

OpenAiChunk OpenAiStreamDecoder::decode(std::string_view data) {
  OpenAiChunk chunk;
  if (rules::is_done(data)) {
    chunk.kind = ChunkKind::done;
  } else if (!read_by_template(data, m_template, chunk)) {
    TextSpans spans;
    if (scan_chunk(data, chunk, m_prefix, spans)) {
      remember_template(data, spans, chunk, m_template);
    } else {
      chunk = decode_slow(data);
    }
  }
  fold(chunk);
  return chunk;
}

void OpenAiStreamDecoder::fold(const OpenAiChunk& chunk) {
  if (m_tally.done_seen) {
    ++m_tally.events_after_done;
  }
  ++m_tally.events;
  m_tally.text_bytes += chunk.text_bytes;
  m_tally.reasoning_bytes += chunk.reasoning_bytes;
  if (chunk.usage) {
    m_tally.last_usage = chunk.usage;
  }
  if (!chunk.finish_reason.empty()) {
    m_tally.finish_reason.assign(chunk.finish_reason);
  }
  switch (chunk.kind) {
    case ChunkKind::content:
      ++m_tally.content_events;
      break;
    case ChunkKind::done:
      m_tally.done_seen = true;
      break;
    case ChunkKind::error:
      ++m_tally.error_events;
      if (!m_tally.first_error) {
        m_tally.first_error = chunk.error;
      }
      break;
    case ChunkKind::malformed:
      ++m_tally.malformed_events;
      break;
    case ChunkKind::empty_delta:
    case ChunkKind::usage_only:
      break;
  }
}

void OpenAiStreamDecoder::reset() { m_tally = StreamTally{}; }

}  // namespace llmd::sse
