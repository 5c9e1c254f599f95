#pragma once
// Kernel receive stamps for the built-in HTTP/1.1 client (fast_http.hpp).
//
// Why: the clock read after a recv() says when the client got round to the socket. When many streams'
// tokens arrive together (1,000 streams started in one burst, a gateway flushing a batch), the last
// socket of an epoll wake-up is read after the client parsed every socket ahead of it, and its TTFT and
// ITL carry the client's own queue: ~3-5 ms at p99 in a 1,000-stream burst on 2 cores, where the stamps
// of `llmd-bench sim --stamp-events` put the network's part at well under 0.1 ms. With SO_TIMESTAMPNS
// the kernel stamps every packet as it arrives (CLOCK_REALTIME), and recvmsg() hands back the stamp of
// the last packet the read consumed: a time at which every byte of the read was there for the client,
// never before the real arrival of any of them. It is put on steady_clock by the offset of the two
// clocks read together, and clamped between the request's start and the clock after the read.
//
// libcurl reads its sockets itself, so `--http-engine curl` keeps the clock after each read (the run
// says which: RunResult::http_counts.kernel_stamped_reads).
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <optional>
#include <utility>

namespace llmd::engine {

// Asks the kernel to stamp what `fd` receives (SO_TIMESTAMPNS); false when it will not (the reads of
// that socket then carry no stamp).
bool enable_receive_stamps(int fd);

struct StampedRead {
  ssize_t got = -1;                // recvmsg()'s result; on -1, errno is recvmsg()'s
  std::optional<timespec> stamp;   // CLOCK_REALTIME arrival of the last packet read; none without one
};

// One recvmsg() of up to `size` bytes into `buffer`, with the kernel's receive stamp when there is one.
StampedRead recv_stamped(int fd, char* buffer, std::size_t size);

// A connected loopback TCP pair {client, server} of blocking sockets, or {-1, -1} when one cannot be
// made: ReceiveStampHold's probe (and the tests' sockets).
std::pair<int, int> loopback_tcp_pair();

// Keeps the kernel's packet stamping on while it lives, and at its start waits until it is on.
//
// Why: the first socket on a machine to ask for SO_TIMESTAMPNS turns the kernel's stamping on through
// deferred work (net_enable_timestamp() schedules it where the kernel patches its jump labels), and
// the last one to close turns it off the same way; a packet that arrives before that work ran carries
// no stamp, even on a socket that asked. Measured: with no other stamping socket on the machine, the
// first loopback byte a fresh process sent right after its setsockopt came back unstamped in 3 of 3
// processes started a second apart (2 of 5 in a second set; the project's CI at stop 28 failed on
// it). One unstamped read makes the run's receive times mixed and stops coalesced wake-ups
// (CurlMulti::maybe_pause) for the rest of the run.
//
// How: a loopback TCP pair asks for stamps, and a byte is sent over it until one comes back stamped
// (at most `wait`); its receiving socket stays open, so stamping stays on for every socket of the run.
// Not confirmed (no loopback, a kernel that never stamps TCP): nothing changes, reads are counted as
// they come (RunResult::http_counts).
class ReceiveStampHold {
 public:
  explicit ReceiveStampHold(std::chrono::milliseconds wait = std::chrono::milliseconds(200));
  ReceiveStampHold(const ReceiveStampHold&) = delete;
  ReceiveStampHold& operator=(const ReceiveStampHold&) = delete;
  ~ReceiveStampHold();

  // A probe came back stamped: from now on, packets to every socket that asked carry a stamp.
  bool confirmed() const { return m_confirmed; }

 private:
  int m_fd = -1;
  bool m_confirmed = false;
};

// `stamp` (CLOCK_REALTIME) on steady_clock, by the offset of `realtime_now` and `steady_now` (read
// together), clamped to [not_before, steady_now]: a realtime step between the packet and the read
// cannot put the arrival after the read or before the request.
std::chrono::steady_clock::time_point steady_from_realtime(const timespec& stamp, const timespec& realtime_now,
                                                           std::chrono::steady_clock::time_point steady_now,
                                                           std::chrono::steady_clock::time_point not_before);

}  // namespace llmd::engine
