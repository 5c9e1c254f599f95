#include "engine/receive_clock.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>

namespace llmd::engine {

bool enable_receive_stamps(int fd) {
  const int one = 1;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0;
}

StampedRead recv_stamped(int fd, char* buffer, std::size_t size) {
  iovec iov{buffer, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  StampedRead read;
  read.got = ::recvmsg(fd, &message, 0);
  if (read.got <= 0 || (message.msg_flags & MSG_CTRUNC) != 0) {
    return read;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec stamp{};
      std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
      read.stamp = stamp;
    }
  }
  return read;
}

std::pair<int, int> loopback_tcp_pair() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    return {-1, -1};
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int client = -1;
  int server = -1;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), size) == 0 && ::listen(listener, 1) == 0 &&
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Blocking: loopback completes the handshake inside connect(), and accept() then finds it queued.
    if (client >= 0 && ::connect(client, reinterpret_cast<sockaddr*>(&address), size) == 0) {
      server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    }
  }
  ::close(listener);
  if (server < 0) {
    if (client >= 0) {
      ::close(client);
    }
    return {-1, -1};
  }
  return {client, server};
}

ReceiveStampHold::ReceiveStampHold(std::chrono::milliseconds wait) {
  const auto [client, server] = loopback_tcp_pair();
  if (client < 0) {
    return;
  }
  m_fd = client;
  const timeval read_timeout{0, 100'000};  // a lost probe cannot hang the run's start
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof(read_timeout));
  if (enable_receive_stamps(client)) {
    const auto give_up = std::chrono::steady_clock::now() + wait;
    char byte = 0;
    while (!m_confirmed && ::send(server, "s", 1, MSG_NOSIGNAL) == 1) {
      const StampedRead read = recv_stamped(client, &byte, 1);
      m_confirmed = read.got == 1 && read.stamp.has_value();
      if (m_confirmed || read.got != 1 || std::chrono::steady_clock::now() >= give_up) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // the kernel's deferred work runs meanwhile
    }
  }
  ::close(server);
}

ReceiveStampHold::~ReceiveStampHold() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

std::chrono::steady_clock::time_point steady_from_realtime(const timespec& stamp, const timespec& realtime_now,
                                                           std::chrono::steady_clock::time_point steady_now,
                                                           std::chrono::steady_clock::time_point not_before) {
  const auto ns = [](const timespec& t) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec);
  };
  const auto age = ns(realtime_now) - ns(stamp);  // how long before the read the packet arrived
  const auto arrived = steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
  return std::clamp(arrived, std::min(not_before, steady_now), steady_now);
}

}  // namespace llmd::engine
