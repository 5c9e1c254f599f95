#include "sse/sse_parser.hpp"

#include <cstring>

#include <fmt/format.h>

#include "sse/preview.hpp"

namespace llmd::sse {
namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";
constexpr std::size_t k_bom_done = k_bom.size();
constexpr std::string_view k_default_event_type = "message";

// Index of the first CR or LF in `bytes`, or npos. Two memchr calls (vectorised by libc) instead of
// a byte loop: look for LF, then for a CR before it.
std::size_t find_line_end(std::string_view bytes) {
  const char* begin = bytes.data();
  const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', bytes.size()));
  const std::size_t lf_at = lf == nullptr ? bytes.size() : static_cast<std::size_t>(lf - begin);
  const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', lf_at));
  if (cr != nullptr) {
    return static_cast<std::size_t>(cr - begin);
  }
  return lf == nullptr ? std::string_view::npos : lf_at;
}

std::string_view strip_one_space(std::string_view value) {
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  return value;
}

// WHATWG: "retry" is honoured only when the value is ASCII digits. Values that overflow are ignored.
std::optional<std::uint64_t> parse_retry(std::string_view value) {
  if (value.empty() || value.size() > 18) {
    return std::nullopt;
  }
  std::uint64_t result = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    result = result * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return result;
}

}  // namespace

SseParser::SseParser(SseListener& listener, SseParserOptions options)
    : m_listener(&listener), m_options(options) {}

util::Result<void> SseParser::feed(std::string_view bytes) {
  if (!m_error.empty()) {
    return util::fail(m_error);
  }
  if (m_bom_matched != k_bom_done) {
    bytes = skip_bom(bytes);
  }
  while (!bytes.empty()) {
    if (m_skip_lf) {
      m_skip_lf = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = find_line_end(bytes);
    if (end == std::string_view::npos) {
      const std::size_t buffered = m_data.size() + m_line.size() + bytes.size();
      if (buffered > m_options.max_event_bytes) {
        return fail_too_large(m_line.empty() ? bytes : std::string_view(m_line), buffered);
      }
      m_line.append(bytes);
      return {};
    }
    m_skip_lf = bytes[end] == '\r';
    const std::string_view tail = bytes.substr(0, end);
    bytes.remove_prefix(end + 1);
    util::Result<void> processed;
    if (m_line.empty()) {
      processed = process_line(tail);  // fast path: the whole line is in this feed
    } else {
      m_line.append(tail);
      processed = process_line(m_line);
      m_line.clear();
    }
    if (!processed) {
      return processed;
    }
  }
  return {};
}

// Consumes the BOM (or the part of it seen so far) at stream start. On a mismatch, the bytes that
// looked like a BOM prefix were ordinary line bytes and are put back in front of the line.
std::string_view SseParser::skip_bom(std::string_view bytes) {
  while (m_bom_matched != k_bom_done && !bytes.empty()) {
    if (bytes.front() != k_bom[m_bom_matched]) {
      m_line.append(k_bom.substr(0, m_bom_matched));
      m_bom_matched = k_bom_done;
      break;
    }
    ++m_bom_matched;
    bytes.remove_prefix(1);
  }
  return bytes;
}

util::Result<void> SseParser::process_line(std::string_view line) {
  if (line.empty()) {
    dispatch();
    return {};
  }
  const std::size_t buffered = m_data.size() + line.size();
  if (buffered > m_options.max_event_bytes) {
    return fail_too_large(m_has_data ? std::string_view(m_data) : line, buffered);
  }
  if (line.front() == ':') {
    m_listener->on_comment(strip_one_space(line.substr(1)));
    return {};
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    process_field(line, {});
  } else {
    process_field(line.substr(0, colon), strip_one_space(line.substr(colon + 1)));
  }
  return {};
}

void SseParser::process_field(std::string_view field, std::string_view value) {
  if (field == "data") {
    if (m_has_data) {
      m_data.push_back('\n');
    }
    m_data.append(value);
    m_has_data = true;
  } else if (field == "event") {
    m_event_type.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      m_last_id.assign(value);
    }
  } else if (field == "retry") {
    if (const auto retry = parse_retry(value)) {
      m_retry_ms = retry;
    }
  }
}

void SseParser::dispatch() {
  if (m_has_data) {
    const SseEvent event{m_event_type.empty() ? k_default_event_type : std::string_view(m_event_type),
                         m_data, m_last_id};
    m_listener->on_event(event);
  }
  m_data.clear();
  m_event_type.clear();
  m_has_data = false;
}

util::Result<void> SseParser::fail_too_large(std::string_view start, std::size_t buffered_bytes) {
  m_error = fmt::format(
      "SSE event larger than max_event_bytes ({} bytes): {} bytes buffered without a blank line, "
      "starting \"{}\"",
      m_options.max_event_bytes, buffered_bytes, preview(start, 40));
  return util::fail(m_error);
}

SseFinish SseParser::finish() const {
  SseFinish result;
  result.event_pending = m_has_data;
  result.pending_data = m_data;
  const bool bom_cut = m_bom_matched != 0 && m_bom_matched != k_bom_done;
  result.line_pending = !m_line.empty() || bom_cut;
  result.pending_line = m_line;
  return result;
}

void SseParser::reset() {
  m_line.clear();
  m_data.clear();
  m_event_type.clear();
  m_last_id.clear();
  m_retry_ms.reset();
  m_error.clear();
  m_bom_matched = 0;
  m_has_data = false;
  m_skip_lf = false;
}

}  // namespace llmd::sse
