#pragma once
// Classification rules shared by the decoder's fast (scanner) and slow (nlohmann) paths, so both
// paths agree by construction. Internal to the sse module.
#include <optional>
#include <string_view>

#include "sse/openai_stream.hpp"

namespace llmd::sse::rules {

// The stream terminator; surrounding ASCII whitespace tolerated.
inline bool is_done(std::string_view data) {
  constexpr std::string_view k_space = " \t\r\n";
  const std::size_t first = data.find_first_not_of(k_space);
  if (first == std::string_view::npos) {
    return false;
  }
  const std::size_t last = data.find_last_not_of(k_space);
  return data.substr(first, last - first + 1) == "[DONE]";
}

// The kind of a chunk whose choices and usage were read into `chunk`; nullopt when the payload had
// neither a "choices" member nor a usage object (not an OpenAI chunk).
inline std::optional<ChunkKind> kind_of(const OpenAiChunk& chunk, bool has_choices_member) {
  if (chunk.text_bytes + chunk.reasoning_bytes > 0) {
    return ChunkKind::content;
  }
  if (chunk.choice_count > 0) {
    return ChunkKind::empty_delta;
  }
  if (chunk.usage) {
    return ChunkKind::usage_only;
  }
  if (has_choices_member) {
    return ChunkKind::empty_delta;
  }
  return std::nullopt;
}

}  // namespace llmd::sse::rules
