#include "scrape/http_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace llmd::scrape::testing {

namespace {

constexpr int k_poll_ms = 20;

int listen_on_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(address.sin_port);
  return fd;
}

void write_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return;  // the client went away (e.g. after its timeout)
    }
    sent += static_cast<std::size_t>(n);
  }
}

std::string read_head(int fd) {
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    head.append(buffer, static_cast<std::size_t>(n));
  }
  const auto end = head.find("\r\n\r\n");
  return end == std::string::npos ? head : head.substr(0, end);
}

std::string path_of(const std::string& head) {
  const auto first_space = head.find(' ');
  const auto second_space = head.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    return {};
  }
  return head.substr(first_space + 1, second_space - first_space - 1);
}

std::string render(const CannedResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name + ": " + value + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out + response.body;
}

}  // namespace

HttpTestServer::HttpTestServer(std::map<std::string, CannedResponse> routes)
    : HttpTestServer(Handler([routes = std::move(routes)](const std::string& path) {
        const auto it = routes.find(path);
        return it != routes.end() ? it->second
                                  : CannedResponse{404, "Not Found", "text/plain; charset=utf-8",
                                                   "404 page not found\n", {}, {}};
      })) {}

HttpTestServer::HttpTestServer(Handler handler) : m_handler(std::move(handler)) {
  m_listen_fd = listen_on_loopback(m_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_stopped.notify_all();
  m_acceptor.join();
  for (std::thread& worker : m_workers) {  // no new workers once the acceptor has stopped
    worker.join();
  }
  ::close(m_listen_fd);
}

std::string HttpTestServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(m_port) + path;
}

std::vector<std::string> HttpTestServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void HttpTestServer::accept_loop() {
  while (!m_stop) {
    pollfd poll_fd{m_listen_fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, k_poll_ms) <= 0) {
      continue;
    }
    const int fd = ::accept(m_listen_fd, nullptr, nullptr);
    if (fd < 0) {
      continue;
    }
    std::lock_guard lock(m_mutex);
    m_workers.emplace_back([this, fd] { serve(fd); });
  }
}

void HttpTestServer::serve(int fd) {
  const std::string head = read_head(fd);
  const std::string path = path_of(head);
  const CannedResponse response = m_handler(path);
  {
    std::unique_lock lock(m_mutex);
    m_requests.push_back(head);
    if (response.delay.count() > 0) {
      m_stopped.wait_for(lock, response.delay, [this] { return m_stop.load(); });
    }
  }
  write_all(fd, render(response));
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

std::uint16_t closed_port() {
  std::uint16_t port = 0;
  ::close(listen_on_loopback(port));
  return port;
}

}  // namespace llmd::scrape::testing
