#pragma once
// One reusable request slot: a libcurl easy handle plus everything a streaming request needs
// (SSE parser, OpenAI chunk decoder, timestamps, body buffers). The engine keeps a pool of them:
// a slot is configured once (URL, HTTP version, timeouts, TLS, callbacks) and then serves request
// after request, so the steady state allocates nothing per token and little per request (the
// JSON body; see engine.hpp).
//
// Data path, all on the loop thread: libcurl write callback -> SseParser::feed (any split of bytes)
// -> on_event -> OpenAiStreamDecoder::decode -> timestamps (one steady_clock read per write
// callback) and inter-token gaps, kept in the slot's gap buffer until the request ends (they count
// only when it ends ok: outcome.hpp record_completion). The buffer keeps its capacity from request
// to request: it grows (8 bytes per token) only when the slot serves a longer stream than before.
//
// Timing stamps (`llmd-bench sim --stamp-events`): a comment line `: llmd-sent-ns=<N>` in an event
// block carries the server's CLOCK_MONOTONIC send time in ns. When the next event of that block is a
// content event, receive time (the write callback's steady_clock stamp, the same clock on Linux) − N
// is the delay the network and this client added; it goes to ttft_client_added_ns (first token) or
// itl_client_added_ns (every later token). Parsing the stamp allocates nothing.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "engine/outcome.hpp"
#include "sse/openai_stream.hpp"
#include "sse/sse_parser.hpp"
#include "stats/histogram.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// Bytes of a response body kept when it is not an SSE stream (error bodies, non-stream JSON).
inline constexpr std::size_t k_max_error_body_bytes = 16 * 1024;
inline constexpr std::size_t k_max_document_bytes = 16 * 1024 * 1024;
// Non-streamed answers kept at once by all requests of a run (each up to k_max_document_bytes):
// 1,000 requests in flight could otherwise hold 16 GB. A body that would pass the budget is cut
// there and fails its request (malformed_event, "larger than the run's budget").
inline constexpr std::size_t k_run_document_budget_bytes = 256 * 1024 * 1024;
// A slot's body buffer larger than this is given back after its request (a pooled slot would
// otherwise keep the largest answer it ever saw).
inline constexpr std::size_t k_kept_buffer_bytes = 64 * 1024;

// Bytes of non-streamed bodies held by the requests in flight, shared by every slot of an engine
// (one event-loop thread: no locking).
struct DocumentBudget {
  std::size_t limit = k_run_document_budget_bytes;
  std::size_t used = 0;
};

// Settings every request of a run shares, applied to each easy handle once.
struct TransferSettings {
  std::string url;  // full endpoint URL (request_builder.hpp join_url)
  bool stream = true;
  bool http2 = false;     // https: CURL_HTTP_VERSION_2TLS; http: CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE (h2c)
  bool insecure = false;  // CURLOPT_SSL_VERIFYPEER / VERIFYHOST off
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);   // CURLOPT_CONNECTTIMEOUT_MS
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(300);  // CURLOPT_TIMEOUT_MS
  // CURLOPT_BUFFERSIZE, the receive buffer libcurl keeps per transfer; 0 = libcurl's 16 KiB.
  long receive_buffer_bytes = 0;
  DocumentBudget* budget = nullptr;  // shared by the run's slots; nullptr: only the per-body limit
  // Output tokens a stream is expected to carry (requests.max_tokens): each slot's gap buffer starts
  // with room for up to k_reserved_gaps of them, so typical streams never grow it.
  std::size_t expected_tokens = 0;
  // Keep the text each stream carried (choices[0].delta.content / .text, decoded), for multi-turn
  // prompts that send it back as the assistant's message (conversation.hpp). Off: nothing is kept.
  bool capture_text = false;
  // Response headers naming the endpoint that served the request, lowercase, in order of preference
  // (attribution.hpp served_by_header_names); empty: none is read.
  std::vector<std::string> served_by_headers{};
  // The slots carry a libcurl easy handle (~5.5 KiB each, allocated and zeroed by curl_easy_init).
  // Off when the built-in HTTP/1.1 client runs every request of the run (fast_http.hpp): it never
  // touches one, and at 1,000 streams the handles were about half the client's memory per stream.
  bool libcurl_handle = true;
};

// Cap of the gap buffer reserved per slot up front (8 bytes each): longer streams grow it once.
inline constexpr std::size_t k_reserved_gaps = 256;

// Receive buffer for runs of k_many_streams or more concurrent requests. A streamed event is a few
// hundred bytes, so a stream never fills 2 KiB, while the untouched part of 16 KiB buffers still
// cost a page each: at 10,000 streams 2 KiB buffers took the client from 188 MB to 163 MB RSS
// (scripts/bench.sh). A larger body simply takes more reads.
inline constexpr std::size_t k_many_streams = 1000;
inline constexpr long k_many_streams_buffer_bytes = 2048;


class RequestState final : public sse::SseListener {
 public:
  static util::Result<std::unique_ptr<RequestState>> create(const TransferSettings& settings);
  RequestState(const RequestState&) = delete;
  RequestState& operator=(const RequestState&) = delete;
  ~RequestState() override;

  CURL* easy() const { return m_easy; }  // nullptr without TransferSettings::libcurl_handle
  // The request body buffer: fill it (request_builder.hpp build_body) before begin().
  std::string& body() { return m_body; }

  // Arms the slot for a new request: resets parser, decoder, timestamps and the gap buffer, points
  // libcurl at body() and `headers` (which must outlive the request). The client-added delays of
  // stamped events go straight into `sinks` (may be null: nothing is recorded).
  void begin(curl_slist* headers, TimePoint scheduled, TimePoint started, PhaseHistograms* sinks);
  // Each inter-token gap is also recorded, as it is seen, into `watch` (null: not; kept across
  // begin()): the loop's recent gaps, which size engine.coalesce auto's window (curl_multi.hpp).
  void watch_gaps(stats::LogLinearHistogram* watch) { m_gap_watch = watch; }
  // Called once libcurl reported the transfer done: reads status and content type, closes the stream.
  // After the built-in client ran it (fast_*), takes what that client reported instead.
  void end(CURLcode code, TimePoint now);

  // The built-in HTTP/1.1 client (fast_http.hpp) reports the response here, in place of libcurl's
  // header and write callbacks, between begin() and end(). `now`: the read that carried the bytes.
  void fast_begin() { m_fast = true; }
  void fast_status(long status, TimePoint now);
  void fast_field(std::string_view name, std::string_view value);
  bool fast_body(std::string_view bytes, TimePoint now);  // false: rejected (malformed SSE), as CURLE_WRITE_ERROR
  // The transfer ended: libcurl's code and error text for the same failure, whether any request
  // byte went out, whether a new connection was opened for it.
  void fast_end(std::string_view error, bool request_sent, bool new_connection);
  // The header list and body of the current request (begin()).
  const curl_slist* headers() const { return m_headers; }
  const std::string& request_body() const { return m_body; }
  void* transport = nullptr;  // the built-in client's connection carrying the request

  // Valid after end(), until the next begin() or release_body().
  TransferFacts facts() const;
  // After the request was recorded: gives its body's bytes back to the run's budget and a large
  // buffer back to the allocator. facts().body is empty afterwards.
  void release_body();
  const RequestTiming& timing() const { return m_timing; }
  // With TransferSettings::capture_text: the generated text of the stream, as streamed (valid after
  // end(), until the next begin()); "" otherwise.
  const std::string& streamed_text() const { return m_text; }

  // Owner bookkeeping, set by the engine.
  std::size_t phase = 0;    // index of the phase that started the request
  std::size_t vu = 0;       // closed loop: the virtual user; open loop: unused
  std::size_t turn = 0;     // multi-turn prompts: the request's turn number (1-based); 0 otherwise
  std::string group;        // the request's group for routing analysis ("group 3", a session id); "" for none
  // The prompt's length by the generator's count (one whitespace-separated word = one token); nullopt
  // for chat messages and conversations, whose rendering the server decides.
  std::optional<std::uint64_t> generator_tokens;
  LoopKind loop = LoopKind::closed;
  bool in_use = false;      // added to the multi handle and not finished yet

 private:
  enum class Mode { unknown, sse, body };
  explicit RequestState(bool stream) : m_stream(stream) {}
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self);
  void note_header(std::string_view line);
  void note_field(std::string_view name, std::string_view value);
  void note_served_by(std::string_view name, std::string_view value);
  void on_event(const sse::SseEvent& event) override;
  void on_comment(std::string_view text) override;
  void record_client_added(bool first_token);
  void release_budget();  // gives this body's bytes back to the run's DocumentBudget
  void choose_mode();
  std::size_t write(std::string_view bytes);

  CURL* m_easy = nullptr;
  bool m_stream;
  sse::SseParser m_parser{*this};
  sse::OpenAiStreamDecoder m_decoder;
  std::string m_body;       // request body
  std::string m_response;   // non-SSE response body (error or JSON document), capped
  bool m_response_truncated = false;
  bool m_over_budget = false;         // the run's DocumentBudget cut this body
  DocumentBudget* m_budget = nullptr;
  std::size_t m_budgeted = 0;         // bytes of this body counted in *m_budget
  std::string m_problem;    // first reason the stream was rejected (malformed payload, oversized event)
  Mode m_mode = Mode::unknown;
  TimePoint m_now{};        // stamp of the write callback being processed
  RequestTiming m_timing;
  std::vector<std::uint64_t> m_gaps_ns;  // inter-token gaps of the current stream (capacity reused)
  bool m_capture_text = false;
  std::string m_text;  // capture_text: the stream's generated text
  PhaseHistograms* m_sinks = nullptr;
  stats::LogLinearHistogram* m_gap_watch = nullptr;
  std::int64_t m_sent_ns = -1;  // server send stamp of the event being read; -1: none
  CURLcode m_code = CURLE_OK;
  long m_status = 0;
  std::string_view m_content_type;  // owned by libcurl (or m_fast_content_type), valid until the slot is reused
  std::string m_fast_content_type;  // the built-in client's Content-Type value
  bool m_fast = false;              // the built-in client runs the current request
  const curl_slist* m_headers = nullptr;
  std::array<char, 31> m_content_encoding{};  // a Content-Encoding header's value (first 31 bytes)
  std::size_t m_content_encoding_size = 0;
  std::array<char, 47> m_retry_after{};  // a Retry-After header's value (first 47 bytes: an HTTP-date fits)
  std::size_t m_retry_after_size = 0;
  // TransferSettings::served_by_headers, lowercase: a copy,
  // since the settings may be a caller's temporary (the preflight's; ASan caught a pointer to them).
  std::vector<std::string> m_served_by_names;
  std::array<char, 95> m_served_by{};  // the preferred header's endpoint (first 95 bytes: an IPv6 [addr]:port fits)
  std::size_t m_served_by_size = 0;
  std::size_t m_served_by_rank = SIZE_MAX;  // index of the header that named it in m_served_by_names
  bool m_request_sent = false;
  long m_new_connections = 0;
  std::array<char, CURL_ERROR_SIZE> m_error_buffer{};
};

}  // namespace llmd::engine
