#pragma once
// A tiny blocking HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) serving canned answers
// by path (or from a handler given the request target), one thread per connection, for testing
// UrlSource and PrometheusSource against real sockets. Test-only.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace llmd::scrape::testing {

struct CannedResponse {
  int status = 200;
  std::string reason = "OK";
  std::string content_type = "text/plain; version=0.0.4; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. {"Location", "/metrics/"}
  std::chrono::milliseconds delay{0};  // wait before answering (cut short when the server stops)
};

class HttpTestServer {
 public:
  // Unknown paths get 404.
  explicit HttpTestServer(std::map<std::string, CannedResponse> routes);
  // Every request is answered by `handler(request target)` (path and query string, as sent),
  // called on the connection's thread (concurrently when requests overlap).
  using Handler = std::function<CannedResponse(const std::string& target)>;
  explicit HttpTestServer(Handler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string url(const std::string& path) const;

  // The request heads received so far (request line and headers, without the final blank line).
  std::vector<std::string> requests() const;

 private:
  void accept_loop();
  void serve(int fd);

  Handler m_handler;
  int m_listen_fd = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  std::condition_variable m_stopped;  // wakes delayed answers on shutdown
  std::vector<std::string> m_requests;
  std::vector<std::thread> m_workers;  // guarded by m_mutex
  std::thread m_acceptor;
};

// A 127.0.0.1 port with nothing listening (bound, then closed): connecting is refused.
std::uint16_t closed_port();

}  // namespace llmd::scrape::testing
