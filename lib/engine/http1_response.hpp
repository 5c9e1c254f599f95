#pragma once
// Response framing of the built-in HTTP/1.1 client (fast_http.hpp): status line, header fields and
// the body (Content-Length, chunked, or until the connection closes), from bytes in any split.
//
// The parsing itself is Boost.Beast's http::basic_parser (a well-kept, fuzzed parser already in
// this project for the simulator's server); this wrapper only routes its callbacks to a listener,
// skips interim 1xx responses, and reports what the caller must do next. The input is untrusted:
// test/fuzz/http1_response_fuzz.cpp checks that every split gives the same callbacks.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace llmd::engine {

class Http1Listener {
 public:
  virtual ~Http1Listener() = default;
  // The final response's header is complete (interim 1xx responses are skipped); after its fields.
  virtual void on_status(unsigned status) = 0;
  // One header field of the final response (name as sent; value trimmed by the parser).
  virtual void on_field(std::string_view name, std::string_view value) = 0;
  // Body bytes, de-chunked, in order. False rejects the response: feed() answers `rejected`.
  virtual bool on_body(std::string_view bytes) = 0;

 protected:
  Http1Listener() = default;
  Http1Listener(const Http1Listener&) = default;
  Http1Listener& operator=(const Http1Listener&) = default;
};

class Http1Response {
 public:
  enum class State {
    more,      // needs more bytes (present again the ones not consumed, followed by new ones)
    done,      // the response is complete; bytes after it were not consumed
    rejected,  // the listener's on_body answered false
    error,     // the bytes are not an HTTP/1.x response (error() says why)
  };
  struct Fed {
    std::size_t consumed = 0;
    State state = State::more;
  };

  explicit Http1Response(Http1Listener& listener);
  Http1Response(const Http1Response&) = delete;
  Http1Response& operator=(const Http1Response&) = delete;
  ~Http1Response();

  // Ready for the next response on the connection.
  void reset();
  // Parses what it can of `bytes`. Bytes not consumed (part of a header or of a chunk-size line)
  // must be presented again at the front of the next call.
  Fed feed(std::string_view bytes);
  // The peer closed the connection: `done` when that ends a body delimited by the close, `error`
  // when the response was incomplete (error() says how).
  State finish();

  // After `done`: whether the connection may carry another request (HTTP/1.1 without
  // "Connection: close", or HTTP/1.0 with keep-alive).
  bool keep_alive() const;
  // Any byte of the current response (interim ones included) was parsed.
  bool got_some() const;
  // Status of the final response, 0 until its header is complete.
  unsigned status() const { return m_status; }
  // Status of the last interim (1xx) response, 0 when none came: a transfer that ends with no final
  // response reports it, as libcurl does (CURLINFO_RESPONSE_CODE).
  unsigned interim_status() const { return m_interim_status; }
  // Why the state is `error` ("" otherwise).
  const std::string& error() const { return m_error; }
  // Largest header block accepted (status line and fields): 64 KiB.
  static constexpr std::size_t k_header_limit = 64 * 1024;

 private:
  class Parser;
  void start_parser();

  Http1Listener& m_listener;
  std::unique_ptr<Parser> m_parser;
  unsigned m_status = 0;
  unsigned m_interim_status = 0;
  bool m_rejected = false;
  bool m_interim = false;  // the response being parsed is a 1xx to skip
  bool m_any = false;
  std::string m_error;
};

}  // namespace llmd::engine
