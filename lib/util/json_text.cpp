#include "util/json_text.hpp"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace llmd::util {

namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char byte) { return (byte & 0xC0U) == 0x80U; }

}  // namespace

// RFC 3629 table 3-7: the second byte's range depends on the first for E0, ED, F0 and F4.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80U) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80U;
  unsigned char high = 0xBFU;
  if (lead >= 0xC2U && lead <= 0xDFU) {
    length = 2;
  } else if (lead >= 0xE0U && lead <= 0xEFU) {
    length = 3;
    low = lead == 0xE0U ? 0xA0U : 0x80U;
    high = lead == 0xEDU ? 0x9FU : 0xBFU;
  } else if (lead >= 0xF0U && lead <= 0xF4U) {
    length = 4;
    low = lead == 0xF0U ? 0x90U : 0x80U;
    high = lead == 0xF4U ? 0x8FU : 0xBFU;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  const auto second = static_cast<unsigned char>(text[i + 1]);
  if (second < low || second > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (!is_continuation(static_cast<unsigned char>(text[i + k]))) {
      return 0;
    }
  }
  return length;
}

namespace {

// One pass over the text outside strings: the deepest nesting and the number of values (each
// value but the first follows a ',' or opens a container's first element). Stops early past a
// limit. Malformed text is measured too; nlohmann says what is wrong with it.
std::optional<std::string> exceeds(std::string_view text, JsonLimits limits) {
  std::size_t depth = 0;
  std::size_t values = 1;
  bool in_string = false;
  bool escaped = false;
  bool empty_container = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    }
    if (empty_container && c != ']' && c != '}') {
      ++values;  // the first element of a container
    }
    empty_container = false;
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limits.max_depth) {
          return fmt::format("is nested deeper than {} levels", limits.max_depth);
        }
        empty_container = true;
        break;
      case ']':
      case '}':
        depth -= depth > 0 ? 1 : 0;
        break;
      case ',': ++values; break;
      default: break;
    }
    if (values > limits.max_values) {
      return fmt::format("has more than {} values", limits.max_values);
    }
  }
  return std::nullopt;
}

}  // namespace

tl::expected<nlohmann::json, std::string> parse_json_bounded(std::string_view text, JsonLimits limits) {
  if (auto too_much = exceeds(text, limits)) {
    return tl::make_unexpected(*too_much);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // caught here: the parser's message is the reason
    return tl::make_unexpected(fmt::format("is not JSON ({})", e.what()));
  }
}

std::string compact_json_whitespace(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const auto is_word = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '+';
  };
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (is_space(c)) {
      std::size_t next = i;
      while (next < text.size() && is_space(text[next])) {
        ++next;
      }
      if (!out.empty() && next < text.size() && is_word(out.back()) && is_word(text[next])) {
        out += ' ';
      }
      i = next - 1;
      continue;
    }
    in_string = c == '"';
    out += c;
  }
  return out;
}

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_excerpt(const nlohmann::json& value) {
  std::string text = dump_json(value);
  if (text.size() > 60) {
    text = text.substr(0, 57) + "...";
  }
  return text;
}

std::optional<std::uint64_t> json_uint(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    return value.get<std::uint64_t>();
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += k_replacement;
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace llmd::util
