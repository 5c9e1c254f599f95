#pragma once
// Test support: an HTTP server on 127.0.0.1 (ephemeral port) that answers every connection with the
// same recorded bytes, for replaying real server responses (vLLM streams, error bodies, in-band
// error events) to the engine or to the real binary.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace llmd::test {

// Accepts connections on 127.0.0.1, reads one request (headers + Content-Length body) per
// connection and answers with `response` verbatim (written in `piece_bytes` pieces), then closes.
class CannedServer {
 public:
  explicit CannedServer(std::string response, std::size_t piece_bytes = 64);
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;
  ~CannedServer();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::size_t requests() const { return m_requests.load(); }
  // The last request's raw bytes (headers and body).
  std::string last_request() const;

 private:
  void serve();

  std::string m_response;
  std::size_t m_piece_bytes;
  int m_listener = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::size_t> m_requests{0};
  mutable std::mutex m_mutex;
  std::string m_last_request;
  std::thread m_thread;
};

// "HTTP/1.1 200 OK" + SSE headers + `events`.
inline std::string sse_response(const std::string& events) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: close\r\n\r\n" + events;
}

// A TCP socket bound to 127.0.0.1 on a port the kernel picks (SO_REUSEADDR), not listening yet;
// `port` gets the port. Throws std::runtime_error when the bind fails.
int bind_loopback(std::uint16_t& port);

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
std::uint16_t closed_port();

}  // namespace llmd::test
