#pragma once
// Test support (unit tests and the http1_response fuzz target): records what Http1Response reports
// for some bytes, fed whole or cut at given offsets the way the built-in client feeds it (bytes
// not consumed are presented again in front of the next piece).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "engine/http1_response.hpp"

namespace llmd::engine::test {

struct Http1Recording {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  Http1Response::State end = Http1Response::State::more;
  bool keep_alive = false;
  std::size_t left_over = 0;  // bytes after a complete response, not consumed
  std::string error;
  bool operator==(const Http1Recording&) const = default;
};

class Http1Recorder final : public Http1Listener {
 public:
  void on_status(unsigned status) override { recording.status = status; }
  void on_field(std::string_view name, std::string_view value) override { recording.fields.emplace_back(name, value); }
  bool on_body(std::string_view bytes) override {
    if (reject_after != std::string::npos && recording.body.size() + bytes.size() > reject_after) {
      return false;
    }
    recording.body.append(bytes);
    return true;
  }
  Http1Recording recording;
  std::size_t reject_after = std::string::npos;
};

// 1, 2, ..., size - 1.
inline std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) {
    cuts.push_back(i);
  }
  return cuts;
}

// Feeds `bytes` cut at `cuts` (ascending offsets); `close_at_end`: then the peer closes (finish()).
inline Http1Recording parse_http1(const std::string& bytes, const std::vector<std::size_t>& cuts,
                                  bool close_at_end = false, std::size_t reject_body_after = std::string::npos) {
  Http1Recorder recorder;
  recorder.reject_after = reject_body_after;
  Http1Response response(recorder);
  std::string pending;
  std::size_t from = 0;
  Http1Response::State state = Http1Response::State::more;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (const std::size_t to : ends) {
    if (to <= from || to > bytes.size()) {
      continue;
    }
    pending.append(bytes, from, to - from);
    from = to;
    const Http1Response::Fed fed = response.feed(pending);
    pending.erase(0, fed.consumed);
    state = fed.state;
    if (state != Http1Response::State::more) {
      break;
    }
  }
  if (state == Http1Response::State::more && close_at_end) {
    state = response.finish();
  }
  Http1Recording out = std::move(recorder.recording);
  out.end = state;
  if (state == Http1Response::State::done) {
    out.keep_alive = response.keep_alive();
    out.left_over = pending.size() + (bytes.size() - from);
  }
  out.error = state == Http1Response::State::error ? response.error() : std::string();
  return out;
}

}  // namespace llmd::engine::test
