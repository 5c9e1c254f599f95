#pragma once
// Test helpers for the sse module: a listener that records everything, feeding in chosen pieces,
// and fixture loading.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sse/sse_parser.hpp"

namespace llmd::sse::test {

struct RecordedEvent {
  std::string type;
  std::string data;
  std::string last_event_id;
  bool operator==(const RecordedEvent&) const = default;
};

// Everything one parse produced, including finish() at the end.
struct Recording {
  std::vector<RecordedEvent> events;
  std::vector<std::string> comments;
  std::string error;  // the first feed() error, "" if none
  bool event_pending = false;
  bool line_pending = false;
  std::string pending_data;
  std::string pending_line;
  bool operator==(const Recording&) const = default;
};

class RecordingListener : public SseListener {
 public:
  explicit RecordingListener(Recording& out) : m_out(&out) {}
  void on_event(const SseEvent& event) override {
    m_out->events.push_back({std::string(event.type), std::string(event.data), std::string(event.last_event_id)});
  }
  void on_comment(std::string_view text) override { m_out->comments.emplace_back(text); }

 private:
  Recording* m_out;
};

// Feeds `stream` in pieces that end at each offset in `cuts` (ascending) and at the end, then
// records finish(). Stops feeding at the first error.
inline Recording parse_in_pieces(std::string_view stream, const std::vector<std::size_t>& cuts,
                                 SseParserOptions options = {}) {
  Recording out;
  RecordingListener listener(out);
  SseParser parser(listener, options);
  std::size_t start = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (const std::size_t end : ends) {
    auto fed = parser.feed(stream.substr(start, end - start));
    start = end;
    if (!fed) {
      out.error = fed.error();
      break;
    }
  }
  const SseFinish finish = parser.finish();
  out.event_pending = finish.event_pending;
  out.line_pending = finish.line_pending;
  out.pending_data = std::string(finish.pending_data);
  out.pending_line = std::string(finish.pending_line);
  return out;
}

inline Recording parse_one_shot(std::string_view stream, SseParserOptions options = {}) {
  return parse_in_pieces(stream, {}, options);
}

inline Recording parse_byte_by_byte(std::string_view stream, SseParserOptions options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) {
    cuts.push_back(i);
  }
  return parse_in_pieces(stream, cuts, options);
}

// Every byte-split of `stream` (two pieces at each offset, then one byte at a time) must record
// the same as the one-shot parse. Returns "" or a description of the first difference.
inline std::string first_split_difference(std::string_view stream, SseParserOptions options = {}) {
  const Recording expected = parse_one_shot(stream, options);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    if (!(parse_in_pieces(stream, {cut}, options) == expected)) {
      return "split at byte " + std::to_string(cut) + " differs from the one-shot parse";
    }
  }
  if (!(parse_byte_by_byte(stream, options) == expected)) {
    return "byte-by-byte feeding differs from the one-shot parse";
  }
  return {};
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string read_fixture(std::string_view relative_path) {
  return read_file(std::filesystem::path(LLMD_TEST_FIXTURES) / relative_path);
}

// Every recorded stream under test/fixtures/openai, sorted by name.
inline std::vector<std::filesystem::path> sse_fixtures() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(LLMD_TEST_FIXTURES) / "openai")) {
    if (entry.path().extension() == ".sse") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// `text` with every "\n" replaced by `line_end`.
inline std::string with_line_ends(std::string_view text, std::string_view line_end) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') {
      out += line_end;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace llmd::sse::test
