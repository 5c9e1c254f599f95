#include "support/canned_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace llmd::test {

int bind_loopback(std::uint16_t& port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  }
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

namespace {


// Reads until the end of the headers plus Content-Length body bytes; returns what was read.
std::string read_request(int fd) {
  std::string request;
  char buffer[4096];
  std::size_t body_needed = std::string::npos;
  std::size_t header_end = std::string::npos;
  while (true) {
    if (header_end != std::string::npos && request.size() >= header_end + body_needed) {
      return request;
    }
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) {
      return request;
    }
    request.append(buffer, static_cast<std::size_t>(got));
    if (header_end == std::string::npos && (header_end = request.find("\r\n\r\n")) != std::string::npos) {
      header_end += 4;
      body_needed = 0;
      const auto at = request.find("Content-Length: ");
      if (at != std::string::npos && at < header_end) {
        body_needed = std::stoul(request.substr(at + 16));
      }
    }
  }
}

}  // namespace

CannedServer::CannedServer(std::string response, std::size_t piece_bytes)
    : m_response(std::move(response)), m_piece_bytes(piece_bytes) {
  m_listener = bind_loopback(m_port);
  listen(m_listener, 64);
  m_thread = std::thread([this] { serve(); });
}

CannedServer::~CannedServer() {
  m_stopping = true;
  m_thread.join();
  close(m_listener);
}

std::string CannedServer::last_request() const {
  std::lock_guard lock(m_mutex);
  return m_last_request;
}

void CannedServer::serve() {
  while (!m_stopping) {
    pollfd ready{m_listener, POLLIN, 0};
    if (poll(&ready, 1, 20) <= 0) {
      continue;
    }
    const int client = accept(m_listener, nullptr, nullptr);
    if (client < 0) {
      continue;
    }
    std::string request = read_request(client);
    {
      std::lock_guard lock(m_mutex);
      m_last_request = std::move(request);
    }
    ++m_requests;
    for (std::size_t at = 0; at < m_response.size(); at += m_piece_bytes) {
      const std::size_t size = std::min(m_piece_bytes, m_response.size() - at);
      if (send(client, m_response.data() + at, size, MSG_NOSIGNAL) < 0) {
        break;
      }
    }
    shutdown(client, SHUT_RDWR);
    close(client);
  }
}

std::uint16_t closed_port() {
  std::uint16_t port = 0;
  const int fd = bind_loopback(port);
  close(fd);
  return port;
}

}  // namespace llmd::test
