#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation", section 9.2.6).
//
// Fed raw response bytes exactly as libcurl's write callback hands them over: any split is
// accepted, down to one byte per feed(). No I/O, no clock: the caller timestamps the callbacks.
//
// Rules implemented:
// - lines end with CR, LF or CRLF; a CR ending one feed() and an LF starting the next are ONE line end;
// - one UTF-8 BOM (EF BB BF) is skipped at stream start, even when split across feeds;
// - ":" lines are comments, reported through SseListener::on_comment;
// - "field: value" with ONE optional space after the colon stripped; a line without ':' is a field
//   with an empty value; fields data / event / id / retry, anything else is ignored;
// - several data lines are joined with '\n'; a blank line dispatches the event;
//   an event that got no data line is not dispatched (its "event" field is dropped);
// - the end of the stream never dispatches: finish() reports what was pending instead.
//
// Performance: a complete line inside one feed() is processed in place; only a line split across
// feeds is copied into an internal buffer. Data is appended to a reused buffer, so once the
// buffers reached the largest event size seen, parsing does not allocate.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::sse {

// One dispatched event. Every view is valid only during the SseListener::on_event call.
struct SseEvent {
  std::string_view type;            // the "event" field; "message" when the event had none
  std::string_view data;            // the data lines joined with '\n' (no trailing '\n'); may be empty
  std::string_view last_event_id;   // the last "id" seen on the stream (persists across events); empty if none
};

// Receives what the parser finds. A listener interface rather than a template parameter: it keeps
// the state machine in sse_parser.cpp (compiled and tested once, no parser code in every includer),
// and one virtual call per event (~16 per request) is noise next to the per-byte work.
// Callbacks must not call back into the parser that invoked them.
class SseListener {
 public:
  virtual ~SseListener() = default;
  virtual void on_event(const SseEvent& event) = 0;
  // A ":" line. `text` is what follows the colon, one leading space stripped (": ts=12" gives "ts=12").
  virtual void on_comment(std::string_view text) { (void)text; }

 protected:
  SseListener() = default;
  SseListener(const SseListener&) = default;
  SseListener& operator=(const SseListener&) = default;
};

inline constexpr std::size_t k_default_max_event_bytes = std::size_t{1} << 20;  // 1 MiB

struct SseParserOptions {
  // Upper bound on the bytes buffered for one event: the data lines kept so far plus the line being
  // read (field name included). Exceeding it makes feed() fail instead of growing without bound.
  std::size_t max_event_bytes = k_default_max_event_bytes;
};

// What finish() found at the end of the stream. Views are valid until the next feed() or reset().
struct SseFinish {
  bool event_pending = false;      // data lines arrived but not the blank line that dispatches them
  bool line_pending = false;       // bytes after the last line end (a line cut in the middle)
  std::string_view pending_data;   // the undispatched event's joined data ("" when !event_pending)
  std::string_view pending_line;   // the unterminated line's bytes ("" when !line_pending)

  // True when the stream ended on an event boundary.
  bool clean() const { return !event_pending && !line_pending; }
};

class SseParser {
 public:
  explicit SseParser(SseListener& listener, SseParserOptions options = {});

  // Parses `bytes`, calling the listener for every event and comment completed by them.
  // Fails when an event outgrows options.max_event_bytes; the parser then stays failed (every
  // later feed() returns the same error) until reset().
  util::Result<void> feed(std::string_view bytes);

  // Reports whether the stream was cut mid-event. Does not dispatch anything (WHATWG: pending data
  // is discarded at end of stream); the caller decides what a pending "[DONE]" means.
  SseFinish finish() const;

  // Back to the start of a new stream (BOM allowed again, id/retry/error cleared); keeps buffer
  // capacity so a pooled parser stays allocation-free.
  void reset();

  // The last valid "retry" field (ASCII digits only), in milliseconds; nullopt if none seen.
  std::optional<std::uint64_t> retry_ms() const { return m_retry_ms; }

 private:
  std::string_view skip_bom(std::string_view bytes);
  util::Result<void> process_line(std::string_view line);
  void process_field(std::string_view field, std::string_view value);
  void dispatch();
  util::Result<void> fail_too_large(std::string_view start, std::size_t buffered_bytes);

  SseListener* m_listener;
  SseParserOptions m_options;
  std::string m_line;        // a line split across feeds, without its line end
  std::string m_data;        // data lines of the current event, joined with '\n'
  std::string m_event_type;  // "event" field of the current event
  std::string m_last_id;     // last "id" field of the stream
  std::optional<std::uint64_t> m_retry_ms;
  std::string m_error;       // non-empty once failed
  std::size_t m_bom_matched = 0;  // BOM bytes matched so far; k_bom_done once the stream start is past
  bool m_has_data = false;   // the current event got at least one data line
  bool m_skip_lf = false;    // the previous line ended with CR: an LF right after it belongs to it
};

}  // namespace llmd::sse
