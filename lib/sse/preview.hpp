#pragma once
// Quoting of untrusted protocol bytes inside error messages (shared by the sse module's parsers).
#include <cstddef>
#include <string>
#include <string_view>

namespace llmd::sse {

// `text` cut to `max_bytes`, with '"' and '\' escaped and bytes outside printable ASCII written as
// \xNN, followed by "..." when cut; ready to be placed between double quotes in a message.
inline std::string preview(std::string_view text, std::size_t max_bytes = 60) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = text.size() < max_bytes ? text.size() : max_bytes;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (shown < text.size()) {
    out += "...";
  }
  return out;
}

}  // namespace llmd::sse
