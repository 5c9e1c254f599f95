#pragma once
// The engine's event loop: one libcurl multi handle driven by epoll through the socket-action API
// (CURLMOPT_SOCKETFUNCTION registers each socket with epoll, CURLMOPT_TIMERFUNCTION tells us when
// libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT)). One thread, no locks: every write
// callback, completion and scheduling decision runs on the thread calling wait_and_process().
// The cost of a wake-up is O(ready sockets), not O(open sockets), which is what 10,000
// concurrent streams need (curl_multi_poll would rebuild a poll set of every socket each time).
//
// Timing: the wait uses epoll_pwait2 (nanosecond timeout, Linux >= 5.11) so open-loop requests
// start on time; on older kernels it falls back to epoll_wait with the timeout rounded UP to whole
// milliseconds (starts may then be up to 1 ms late, which shows up as schedule lag).
//
// Wake-ups (engine.coalesce, README "Wake-ups"): when each wake-up brings one event, sleeping and
// waking is most of the client's CPU (48% in `finish_task_switch` on a VM, issue 16). With a
// coalescing window set, the loop pauses before its wait (never past its next deadline: arrivals,
// timeouts, the 5 ms lag probe) so that one wake-up reads the events that arrived meanwhile. It
// pauses only while no libcurl transfer runs and the side transfers allow it (SideTransfers::may_pause:
// every read carried the kernel's arrival stamp, so a read's time is when its bytes arrived whenever
// the loop reads, and no request is still on its way out).
// It stops pausing while a wait brings many events (the loop is busy and reads them anyway).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <curl/curl.h>

#include "util/result.hpp"

namespace llmd::engine {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

class RequestState;  // request_state.hpp: every transfer's slot (libcurl's CURLOPT_PRIVATE)

// Receives finished requests, libcurl's and the built-in client's alike. A libcurl transfer's easy
// handle has already been removed from the multi handle, so the sink may reuse the slot (start it
// again) right away.
class TransferSink {
 public:
  virtual ~TransferSink() = default;
  virtual void on_transfer_done(RequestState& request, CURLcode result) = 0;

 protected:
  TransferSink() = default;
  TransferSink(const TransferSink&) = default;
  TransferSink& operator=(const TransferSink&) = default;
};

// Transfers run outside libcurl on the same loop (fast_http.hpp): their sockets are in the loop's
// epoll set with k_side_socket_tag in the event data (libcurl's sockets carry their fd, below 2^31),
// their deadlines bound the wait, and their completions reach the same TransferSink.
class SideTransfers {
 public:
  virtual ~SideTransfers() = default;
  // A socket registered with data.u64 = tag | k_side_socket_tag is ready (`events`: EPOLL*).
  virtual void on_ready(std::uint64_t tag, std::uint32_t events) = 0;
  // The earliest timeout to act on (TimePoint::max() for none).
  virtual TimePoint next_deadline() const = 0;
  virtual void run_due(TimePoint now) = 0;
  // Reports the transfers that finished since the last call.
  virtual void drain(TransferSink& sink) = 0;
  virtual std::size_t active() const = 0;
  // When the loop gets round to these sockets changes no time they report, so it may pause to
  // coalesce wake-ups: every read so far carried the kernel's arrival stamp (receive_clock.hpp), and no
  // connection is connecting or waiting to write its request (a pause would hold the request back).
  virtual bool may_pause() const = 0;

 protected:
  SideTransfers() = default;
  SideTransfers(const SideTransfers&) = default;
  SideTransfers& operator=(const SideTransfers&) = default;
};

inline constexpr std::uint64_t k_side_socket_tag = std::uint64_t{1} << 63;

struct CurlMultiOptions {
  // CURLMOPT_MAX_HOST_CONNECTIONS and CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = unlimited. Sized to the
  // run's peak concurrency so transfers never queue inside libcurl.
  long max_connections = 0;
  // CURLMOPT_MAXCONNECTS: idle connections kept for reuse; 0 = libcurl's default (4 x handles).
  long max_cached_connections = 0;
  // HTTP/2: a busy connection can take another stream, so a new transfer always looks for one.
  bool multiplex = false;
};

class CurlMulti {
 public:
  // Fails when epoll or the multi handle cannot be created.
  static util::Result<std::unique_ptr<CurlMulti>> create(const CurlMultiOptions& options);
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  ~CurlMulti();

  // Starts a transfer (curl_multi_add_handle). The error names libcurl's reason.
  //
  // Connection reuse without the O(connections) search: libcurl 7.88 looks for a reusable
  // connection by walking every connection to the host (ConnectionExists), busy ones included, so
  // at 10,000 open streams each new request cost ~90k instructions before it even connected (the
  // profile of scripts/bench.sh's 10,000-stream run: 29% of the client's instructions). add()
  // counts the sockets libcurl opens and closes (CURLOPT_OPENSOCKETFUNCTION/CLOSESOCKETFUNCTION);
  // when there are no more of them than transfers in flight, no idle connection exists, nothing
  // can be reused, and the transfer gets CURLOPT_FRESH_CONNECT, which skips the search. With an
  // idle connection (keep-alive closed loops) or HTTP/2 multiplexing the search runs as before.
  util::Result<void> add(CURL* easy);
  // Cancels a transfer that has not finished (its connection is closed, not reused); no completion
  // is reported for it.
  void remove(CURL* easy);
  // Transfers added and not yet finished or removed (the side transfers' included).
  std::size_t active() const { return m_active + (m_side != nullptr ? m_side->active() : 0); }
  // The epoll set, for side transfers to register their sockets in (see SideTransfers).
  int epoll_fd() const { return m_epoll; }
  // Runs `side`'s sockets, timeouts and completions with this loop's (it must outlive the loop's use).
  void attach(SideTransfers& side) { m_side = &side; }
  void detach() { m_side = nullptr; }
  // Sockets libcurl has open for this loop's transfers (busy and idle connections).
  std::size_t open_sockets() const { return m_open_sockets; }

  // The longest pause before a wait (see the top; zero: never pause). Set by the engine, which
  // knows the inter-token gaps (engine.coalesce auto) and whether the built-in client runs.
  void set_coalesce_window(std::chrono::nanoseconds window) { m_coalesce_window = window; }
  struct WaitCounts {
    std::uint64_t waits = 0;   // waits for sockets and timers
    std::uint64_t paused = 0;  // of which paused first to coalesce wake-ups
    std::chrono::nanoseconds longest_pause{};
  };
  const WaitCounts& wait_counts() const { return m_wait_counts; }

  // Waits until a socket is ready, libcurl's timer expires or `wake_at` passes (whichever comes
  // first; a past `wake_at` does not wait), lets libcurl do the ready work (write callbacks run
  // here), then reports every finished transfer to `sink`, removing it from the multi handle first.
  void wait_and_process(TimePoint wake_at, TransferSink& sink);

 private:
  CurlMulti() = default;
  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int on_close_socket(void* self, curl_socket_t socket);
  int update_socket(curl_socket_t socket, int what, void* socket_data);
  void wait_for_events(TimePoint until);
  // Sleeps until min(now + window, deadline) when a pause may coalesce wake-ups (see the top).
  void maybe_pause(TimePoint now, TimePoint deadline);
  void run_expired_timer();
  void drain_finished(TransferSink& sink);

  CURLM* m_multi = nullptr;
  int m_epoll = -1;
  bool m_precise_wait = true;  // epoll_pwait2 available
  TimePoint m_curl_deadline = TimePoint::max();
  std::size_t m_active = 0;
  std::size_t m_open_sockets = 0;
  bool m_multiplex = false;
  SideTransfers* m_side = nullptr;
  std::chrono::nanoseconds m_coalesce_window{};
  int m_last_ready = 0;        // events the last wait returned
  bool m_last_paused = false;  // the last wait paused first
  WaitCounts m_wait_counts;
};

}  // namespace llmd::engine
