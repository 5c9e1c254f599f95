#include "sse/json_scanner.hpp"

#include <bit>
#include <charconv>
#include <cstring>

#include "util/json_text.hpp"

namespace llmd::sse {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// UTF-8 length of a Basic Multilingual Plane code point (surrogates are handled by the caller).
std::size_t utf8_bytes(std::uint32_t code_point) {
  if (code_point < 0x80) {
    return 1;
  }
  return code_point < 0x800 ? 2 : 3;
}

// Offset of the first byte at or after `pos` that needs attention inside a JSON string: '"', '\\',
// a control byte (< 0x20) or a non-ASCII byte (>= 0x80, the start of a UTF-8 sequence to check);
// `size` when there is none. Hand-written (no library scans for a byte set this cheaply): strings
// are most of every streamed chunk, and a byte-by-byte loop was the largest single cost of the
// engine's profile (callgrind, scripts/bench.sh peers). Eight bytes at a time with the classic
// "has zero byte" bit trick; the last < 8 bytes one by one.
std::size_t find_special(const char* text, std::size_t pos, std::size_t size) {
  static_assert(std::endian::native == std::endian::little, "find_special reads words little-endian");
  constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
  while (pos + 8 <= size) {
    std::uint64_t word = 0;
    std::memcpy(&word, text + pos, 8);
    const std::uint64_t quote = word ^ (k_ones * '"');
    const std::uint64_t backslash = word ^ (k_ones * '\\');
    // A byte b is flagged when b == 0 (for the XORed words) or b < 0x20 (the "& ~" terms keep
    // bytes >= 0x80 out of those tests), and when b >= 0x80 (its own high bit, the "| word").
    const std::uint64_t flags = ((quote - k_ones) & ~quote) | ((backslash - k_ones) & ~backslash) |
                                ((word - k_ones * 0x20) & ~word) | word;
    if (const std::uint64_t found = flags & k_highs; found != 0) {
      // The lowest flagged byte is always a real match (a borrow only flags bytes above a real
      // match); the byte order of the load is little-endian on every target we build for.
      return pos + static_cast<std::size_t>(std::countr_zero(found)) / 8;
    }
    pos += 8;
  }
  while (pos < size) {
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
      return pos;
    }
    ++pos;
  }
  return size;
}

}  // namespace

bool JsonCursor::consume_null() {
  skip_ws();
  return peek() == 'n' && skip_literal("null");
}

bool JsonCursor::at_end() {
  skip_ws();
  return m_pos == m_text.size();
}

bool JsonCursor::read_string(JsonString& out) {
  if (!consume('"')) {
    return false;
  }
  const std::size_t start = m_pos;
  out.decoded_bytes = 0;
  out.has_escapes = false;
  const char* const text = m_text.data();
  const std::size_t size = m_text.size();
  while (true) {
    // Plain ASCII bytes (everything but '"', '\\' and control bytes) decode to themselves: skip them
    // eight at a time (word-at-a-time test, see find_special) and count them all at once.
    const std::size_t plain_end = find_special(text, m_pos, size);
    out.decoded_bytes += plain_end - m_pos;
    m_pos = plain_end;
    if (m_pos >= size) {
      return false;  // unterminated string
    }
    const auto c = static_cast<unsigned char>(text[m_pos]);
    if (c == '"') {
      out.raw = std::string_view(text + start, m_pos - start);
      ++m_pos;
      return true;
    }
    if (c < 0x20) {
      return false;  // raw control characters must be escaped in JSON strings
    }
    if (c >= 0x80) {
      // Raw UTF-8 decodes to itself, but only a well-formed sequence: nlohmann rejects the rest, so
      // an ill-formed one is "unsure" (the slow path then calls the payload malformed).
      const std::size_t length = util::utf8_sequence_length(m_text, m_pos);
      if (length == 0) {
        return false;
      }
      out.decoded_bytes += length;
      m_pos += length;
      continue;
    }
    out.has_escapes = true;  // a backslash
    if (!read_escape(out.decoded_bytes)) {
      return false;
    }
  }
}

// At a backslash: consumes one escape and adds the UTF-8 length of what it decodes to.
bool JsonCursor::read_escape(std::size_t& decoded_bytes) {
  ++m_pos;
  const char kind = peek();
  ++m_pos;
  switch (kind) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      ++decoded_bytes;
      return true;
    case 'u':
      break;
    default:
      return false;
  }
  std::uint32_t unit = 0;
  if (!read_hex4(unit)) {
    return false;
  }
  if (unit >= 0xDC00 && unit <= 0xDFFF) {
    return false;  // low surrogate without a high one
  }
  if (unit >= 0xD800 && unit <= 0xDBFF) {
    std::uint32_t low = 0;
    if (m_text.substr(m_pos, 2) != "\\u") {
      return false;  // high surrogate without a low one
    }
    m_pos += 2;
    if (!read_hex4(low) || low < 0xDC00 || low > 0xDFFF) {
      return false;
    }
    decoded_bytes += 4;  // a supplementary-plane code point
    return true;
  }
  decoded_bytes += utf8_bytes(unit);
  return true;
}

bool JsonCursor::read_hex4(std::uint32_t& code_unit) {
  if (m_pos + 4 > m_text.size()) {
    return false;
  }
  code_unit = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_value(m_text[m_pos++]);
    if (digit < 0) {
      return false;
    }
    code_unit = code_unit * 16 + static_cast<std::uint32_t>(digit);
  }
  return true;
}

bool JsonCursor::read_count(std::int64_t& out) {
  skip_ws();
  const std::size_t start = m_pos;
  std::int64_t value = 0;
  while (is_digit(peek())) {
    if (m_pos - start >= 15) {
      return false;  // 1e15 and up: the slow path decides (it rejects counts above 1e15)
    }
    value = value * 10 + (m_text[m_pos] - '0');
    ++m_pos;
  }
  const std::size_t length = m_pos - start;
  const char next = peek();
  if (length == 0 || (length > 1 && m_text[start] == '0') || next == '.' || next == 'e' || next == 'E') {
    return false;
  }
  out = value;
  return true;
}

bool JsonCursor::skip_value(int depth) {
  skip_ws();
  switch (peek()) {
    case '{':
      return skip_container('}', depth);
    case '[':
      return skip_container(']', depth);
    case '"': {
      JsonString ignored;
      return read_string(ignored);
    }
    case 't':
      return skip_literal("true");
    case 'f':
      return skip_literal("false");
    case 'n':
      return skip_literal("null");
    default:
      return skip_number();
  }
}

// At '{' or '[': skips the whole container, checking commas, colons and (for objects) string keys.
bool JsonCursor::skip_container(char close, int depth) {
  if (depth >= k_max_depth) {
    return false;
  }
  ++m_pos;
  if (consume(close)) {
    return true;
  }
  do {
    if (close == '}') {
      JsonString key;
      if (!read_string(key) || !consume(':')) {
        return false;
      }
    }
    if (!skip_value(depth + 1)) {
      return false;
    }
  } while (consume(','));
  return consume(close);
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// A number beyond a double's range (1e400, or 400 digits) is "unsure": nlohmann refuses it.
bool JsonCursor::skip_number() {
  const std::size_t start = m_pos;
  if (!skip_number_syntax()) {
    return false;
  }
  const std::string_view number = m_text.substr(start, m_pos - start);
  if (number.size() > k_max_plain_number_chars || number.find_first_of("eE") != std::string_view::npos) {
    double value = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    return error == std::errc() && end == number.data() + number.size();
  }
  return true;
}

bool JsonCursor::skip_number_syntax() {
  if (peek() == '-') {
    ++m_pos;
  }
  if (peek() == '0') {
    ++m_pos;
  } else if (is_digit(peek())) {
    while (is_digit(peek())) {
      ++m_pos;
    }
  } else {
    return false;
  }
  if (peek() == '.') {
    ++m_pos;
    if (!is_digit(peek())) {
      return false;
    }
    while (is_digit(peek())) {
      ++m_pos;
    }
  }
  if (peek() == 'e' || peek() == 'E') {
    ++m_pos;
    if (peek() == '+' || peek() == '-') {
      ++m_pos;
    }
    if (!is_digit(peek())) {
      return false;
    }
    while (is_digit(peek())) {
      ++m_pos;
    }
  }
  return true;
}

bool JsonCursor::skip_literal(std::string_view word) {
  if (m_text.substr(m_pos, word.size()) != word) {
    return false;
  }
  m_pos += word.size();
  return true;
}

}  // namespace llmd::sse
