#include "sim/http_server.hpp"

#include <fmt/format.h>

namespace llmd::sim {

namespace {

constexpr std::uint64_t k_body_limit_bytes = 64ull << 20;  // prompts can be large; 64 MiB is still bounded

}  // namespace

HttpServer::HttpServer(net::io_context& io, std::string name, Handler handler)
    : m_io(io), m_name(std::move(name)), m_handler(std::move(handler)), m_acceptor(io) {}

util::Result<void> HttpServer::listen(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto ip = net::ip::make_address(address, ec);
  if (ec) {
    return util::fail(fmt::format("{}: invalid bind address \"{}\": {}", m_name, address, ec.message()));
  }
  const tcp::endpoint endpoint(ip, port);
  m_acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    m_acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    m_acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return util::fail(fmt::format("{}: cannot listen on {}:{}: {}", m_name, address, port, ec.message()));
  }
  m_port = m_acceptor.local_endpoint().port();
  return {};
}

void HttpServer::start() {
  net::co_spawn(m_io, accept_loop(), net::detached);
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  m_acceptor.close(ignored);
  for (auto* stream : m_connections) {
    close_connection(*stream);
  }
}

net::awaitable<void> HttpServer::accept_loop() {
  while (m_acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await m_acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (ec == net::error::operation_aborted || !m_acceptor.is_open()) {
        co_return;
      }
      // e.g. EMFILE: keep serving the connections we have, and retry shortly rather than spin.
      net::steady_timer pause(m_io, std::chrono::milliseconds(10));
      co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    net::co_spawn(m_io, serve(std::move(socket)), net::detached);
  }
}

net::awaitable<void> HttpServer::serve(tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  m_connections.insert(&stream);
  Connection connection{stream, remote};
  beast::flat_buffer buffer;
  try {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(k_body_limit_bytes);
      co_await http::async_read(stream, buffer, parser, net::use_awaitable);
      Request request = parser.release();
      const bool keep_alive = co_await m_handler(request, connection);
      if (!keep_alive || !request.keep_alive()) {
        break;
      }
    }
  } catch (const boost::system::system_error&) {
    // Peer closed, or the connection was closed under us (restart/stop): nothing to answer.
  } catch (const std::exception& e) {
    // A handler bug must not take the whole fleet down: report it and drop this connection.
    fmt::print(stderr, "llmd-bench sim: {}: internal error: {}\n", m_name, e.what());
  }
  m_connections.erase(&stream);
  close_connection(stream);
}

net::awaitable<void> write_response(beast::tcp_stream& stream, const Request& request, http::status status,
                                    std::string_view content_type, std::string body,
                                    std::vector<std::pair<std::string, std::string>> extra_headers) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::server, "llmd-bench-sim");
  if (!content_type.empty()) {
    response.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  }
  for (const auto& [name, value] : extra_headers) {
    response.set(name, value);
  }
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  co_await http::async_write(stream, response, net::use_awaitable);
}

net::awaitable<void> write_chunked_header(beast::tcp_stream& stream, const Request& request, http::status status,
                                          std::string_view content_type,
                                          std::vector<std::pair<std::string, std::string>> extra_headers) {
  http::response<http::empty_body> response{status, request.version()};
  response.set(http::field::server, "llmd-bench-sim");
  response.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
  response.keep_alive(request.keep_alive());
  for (const auto& [name, value] : extra_headers) {
    response.set(name, value);
  }
  response.chunked(true);
  http::response_serializer<http::empty_body> serializer{response};
  co_await http::async_write_header(stream, serializer, net::use_awaitable);
}

net::awaitable<void> write_chunk(beast::tcp_stream& stream, std::string_view data) {
  co_await net::async_write(stream, http::make_chunk(net::buffer(data.data(), data.size())), net::use_awaitable);
}

net::awaitable<void> write_last_chunk(beast::tcp_stream& stream) {
  co_await net::async_write(stream, http::make_chunk_last(), net::use_awaitable);
}

void close_connection(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace llmd::sim
