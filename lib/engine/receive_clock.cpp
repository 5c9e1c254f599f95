#include "engine/receive_clock.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

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
