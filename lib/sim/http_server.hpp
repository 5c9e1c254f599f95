#pragma once
// A small HTTP/1.1 server on Boost.Beast with C++20 coroutines: one coroutine per connection,
// keep-alive, no thread per request. The simulator's pods and gateway are handlers plugged into it.
// Single-threaded by design: every handler and all simulator state run on one io_context thread,
// so no locks are needed anywhere in the simulator.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "util/result.hpp"

namespace llmd::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

using Request = http::request<http::string_body>;

// What a handler sees of the connection it serves.
struct Connection {
  beast::tcp_stream& stream;
  tcp::endpoint remote;
};

// A handler writes its whole response (possibly streamed) to the connection and returns whether
// the connection may be kept alive for another request.
using Handler = std::function<net::awaitable<bool>(Request& request, Connection& connection)>;

class HttpServer {
 public:
  HttpServer(net::io_context& io, std::string name, Handler handler);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; port 0 picks an ephemeral port. The error names `name`, address and port.
  util::Result<void> listen(const std::string& address, std::uint16_t port);
  std::uint16_t port() const { return m_port; }
  const std::string& name() const { return m_name; }
  // Starts accepting (listen() first).
  void start();
  // Stops accepting and closes every open connection.
  void stop();
  std::size_t open_connections() const { return m_connections.size(); }

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(tcp::socket socket);

  net::io_context& m_io;
  std::string m_name;
  Handler m_handler;
  tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  std::unordered_set<beast::tcp_stream*> m_connections;
};

// Writes a complete response with a body. Parameters are taken by value on purpose: coroutine
// parameters live in the frame, while temporaries bound to const& in a co_await expression have
// been miscompiled by GCC 12 (double destruction).
net::awaitable<void> write_response(beast::tcp_stream& stream, const Request& request, http::status status,
                                    std::string_view content_type, std::string body,
                                    std::vector<std::pair<std::string, std::string>> extra_headers = {});

// Begins a chunked response (headers only); send pieces with write_chunk, finish with write_last_chunk.
net::awaitable<void> write_chunked_header(beast::tcp_stream& stream, const Request& request, http::status status,
                                          std::string_view content_type,
                                          std::vector<std::pair<std::string, std::string>> extra_headers);
net::awaitable<void> write_chunk(beast::tcp_stream& stream, std::string_view data);
net::awaitable<void> write_last_chunk(beast::tcp_stream& stream);

// Closes a connection at once (both directions), ignoring errors.
void close_connection(beast::tcp_stream& stream);

}  // namespace llmd::sim
