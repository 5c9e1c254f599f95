#pragma once
// A minimal pull scanner over JSON text, for the OpenAI stream decoder's fast path.
//
// It walks the text once, never allocates and never builds values: strings come back as views of
// their raw (still escaped) bytes plus the byte length they decode to; numbers are read only when
// they are plain non-negative integers. Every method returns false (leaving the cursor wherever it
// stopped) when the text is not what was asked for. That is "unsure", not "invalid": the decoder
// then hands the whole payload to nlohmann/json, which decides.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace llmd::sse {

struct JsonString {
  std::string_view raw;            // between the quotes, escapes NOT decoded
  std::size_t decoded_bytes = 0;   // UTF-8 bytes after decoding escapes ("\u00e9" counts 2)
  bool has_escapes = false;        // raw contains at least one backslash escape
};

class JsonCursor {
 public:
  // Nesting deeper than this makes skip_value() give up (the decoder falls back to nlohmann).
  static constexpr int k_max_depth = 64;

  explicit JsonCursor(std::string_view text) : m_text(text) {}
  // Starts at byte `offset` of `text` (the caller knows what came before: ChunkPrefix).
  JsonCursor(std::string_view text, std::size_t offset) : m_text(text), m_pos(offset) {}

  // Skips whitespace, then consumes `c` if it is next. Inline (as skip_ws): it runs several times
  // per JSON member, and the call cost showed in the engine's profile.
  bool consume(char c) {
    skip_ws();
    if (m_pos >= m_text.size() || m_text[m_pos] != c) {
      return false;
    }
    ++m_pos;
    return true;
  }
  // Skips whitespace, then consumes the literal `null` if it is next.
  bool consume_null();
  // Skips whitespace; true when only whitespace is left.
  bool at_end();
  // Skips whitespace, then reads a string. Rejects raw control bytes, lone UTF-16 surrogates and
  // ill-formed UTF-8 (which nlohmann/json rejects too): raw bytes >= 0x80 count when they form
  // well-formed UTF-8 sequences.
  bool read_string(JsonString& out);
  // Skips whitespace, then reads a plain non-negative integer that fits in int64 ("12", not
  // "-1", "1.0", "1e3", "007").
  bool read_count(std::int64_t& out);
  // Skips whitespace, then any one JSON value, checking its syntax (and that its numbers fit a
  // double, as nlohmann/json requires).
  bool skip_value() { return skip_value(0); }
  // Byte offset of the cursor in the text.
  std::size_t offset() const { return m_pos; }

 private:
  bool skip_value(int depth);
  bool skip_container(char close, int depth);
  bool skip_number();
  bool skip_number_syntax();
  // Longer numbers without an exponent are checked against a double's range (~1.8e308).
  static constexpr std::size_t k_max_plain_number_chars = 300;
  bool skip_literal(std::string_view word);
  bool read_escape(std::size_t& decoded_bytes);
  bool read_hex4(std::uint32_t& code_unit);
  void skip_ws() {
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      ++m_pos;
    }
  }
  char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

}  // namespace llmd::sse
