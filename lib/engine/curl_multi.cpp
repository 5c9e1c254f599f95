#include "engine/curl_multi.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace llmd::engine {

namespace {

constexpr int k_max_events = 256;
// Longest single wait (the engine always passes a nearer wake_at; this only bounds a bad clock).
constexpr auto k_max_wait = std::chrono::hours(1);
// Wake-up coalescing (see the header): an unpaused wait that brought this many events means the loop
// is busy; a pause shorter than k_min_pause would cost a sleep without gathering anything.
constexpr int k_busy_wait_events = 8;
constexpr auto k_min_pause = std::chrono::microseconds(100);
// Non-null marker stored with curl_multi_assign: the socket is in the epoll set.
char g_registered_marker = 0;

std::uint32_t epoll_events_for(int what) {
  std::uint32_t events = 0;
  if ((what & CURL_POLL_IN) != 0) {
    events |= EPOLLIN;
  }
  if ((what & CURL_POLL_OUT) != 0) {
    events |= EPOLLOUT;
  }
  return events;
}

int curl_flags_for(std::uint32_t events) {
  int flags = 0;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0) {
    flags |= CURL_CSELECT_IN;
  }
  if ((events & EPOLLOUT) != 0) {
    flags |= CURL_CSELECT_OUT;
  }
  if ((events & EPOLLERR) != 0) {
    flags |= CURL_CSELECT_ERR;
  }
  return flags;
}

}  // namespace

util::Result<std::unique_ptr<CurlMulti>> CurlMulti::create(const CurlMultiOptions& options) {
  std::unique_ptr<CurlMulti> loop(new CurlMulti());
  loop->m_epoll = epoll_create1(EPOLL_CLOEXEC);
  if (loop->m_epoll < 0) {
    return util::fail(fmt::format("cannot create the event loop: epoll_create1: {}", std::strerror(errno)));
  }
  loop->m_multi = curl_multi_init();
  if (loop->m_multi == nullptr) {
    return util::fail("cannot create the event loop: curl_multi_init failed");
  }
  loop->m_multiplex = options.multiplex;
  CURLM* multi = loop->m_multi;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, loop.get());
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, loop.get());
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_connections);
  if (options.max_cached_connections > 0) {
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
  }
  return loop;
}

CurlMulti::~CurlMulti() {
  if (m_multi != nullptr) {
    curl_multi_cleanup(m_multi);
  }
  if (m_epoll >= 0) {
    close(m_epoll);
  }
}

util::Result<void> CurlMulti::add(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMulti::on_open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::on_close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  const bool idle_connection_possible = m_multiplex || m_open_sockets > m_active;
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, idle_connection_possible ? 0L : 1L);
  const CURLMcode code = curl_multi_add_handle(m_multi, easy);
  if (code != CURLM_OK) {
    return util::fail(fmt::format("cannot start a request: curl_multi_add_handle: {}", curl_multi_strerror(code)));
  }
  ++m_active;
  return {};
}

void CurlMulti::remove(CURL* easy) {
  if (curl_multi_remove_handle(m_multi, easy) == CURLM_OK && m_active > 0) {
    --m_active;
  }
}

int CurlMulti::on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* self, void* socket_data) {
  return static_cast<CurlMulti*>(self)->update_socket(socket, what, socket_data);
}

curl_socket_t CurlMulti::on_open_socket(void* self, curlsocktype /*purpose*/, curl_sockaddr* address) {
  const curl_socket_t socket = ::socket(address->family, address->socktype, address->protocol);
  if (socket != CURL_SOCKET_BAD) {
    ++static_cast<CurlMulti*>(self)->m_open_sockets;
  }
  return socket;  // CURL_SOCKET_BAD: libcurl reports the connect failure (errno is kept)
}

int CurlMulti::on_close_socket(void* self, curl_socket_t socket) {
  auto* loop = static_cast<CurlMulti*>(self);
  if (loop->m_open_sockets > 0) {
    --loop->m_open_sockets;
  }
  return ::close(socket);
}

int CurlMulti::on_timer(CURLM* /*multi*/, long timeout_ms, void* self) {
  auto* loop = static_cast<CurlMulti*>(self);
  loop->m_curl_deadline = timeout_ms < 0 ? TimePoint::max() : Clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

int CurlMulti::update_socket(curl_socket_t socket, int what, void* socket_data) {
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, socket, nullptr);  // may already be gone with the fd: fine
    return 0;
  }
  epoll_event event{};
  event.events = epoll_events_for(what);
  event.data.u64 = static_cast<std::uint64_t>(socket);  // the whole word: no stray k_side_socket_tag
  const bool known = socket_data != nullptr;
  if (epoll_ctl(m_epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event) != 0) {
    // A recycled fd number (EEXIST) or one dropped from the set by close() (ENOENT): flip the op.
    if (epoll_ctl(m_epoll, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event) != 0) {
      return -1;  // libcurl fails the transfers on this socket
    }
  }
  if (!known) {
    curl_multi_assign(m_multi, socket, &g_registered_marker);
  }
  return 0;
}

void CurlMulti::maybe_pause(TimePoint now, TimePoint deadline) {
  // Busy: a wait that was not paused already brought several events (back to back, the loop reads
  // them without help); a paused one filled the whole event buffer (a pause only adds delay).
  const bool busy = m_last_paused ? m_last_ready >= k_max_events : m_last_ready >= k_busy_wait_events;
  if (m_coalesce_window <= Clock::duration::zero() || busy || m_active > 0 || m_side == nullptr ||
      m_side->active() == 0 || !m_side->may_pause()) {
    m_last_paused = false;
    return;
  }
  const TimePoint until = std::min(deadline, now + m_coalesce_window);
  if (until - now < k_min_pause) {
    m_last_paused = false;
    return;
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count();
  const timespec at{static_cast<std::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  // steady_clock is CLOCK_MONOTONIC on Linux (libstdc++), so the absolute time is the same instant.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
  ++m_wait_counts.paused;
  m_wait_counts.longest_pause = std::max(m_wait_counts.longest_pause, std::chrono::nanoseconds(until - now));
  m_last_paused = true;
}

void CurlMulti::wait_for_events(TimePoint until) {
  TimePoint now = Clock::now();
  const TimePoint side_deadline = m_side != nullptr ? m_side->next_deadline() : TimePoint::max();
  const TimePoint deadline = std::min({until, m_curl_deadline, side_deadline, now + k_max_wait});
  ++m_wait_counts.waits;
  maybe_pause(now, deadline);
  if (m_last_paused) {
    now = Clock::now();
  }
  const auto remaining = std::max(Clock::duration::zero(), deadline - now);
  epoll_event events[k_max_events];
  int ready = -1;
  if (m_precise_wait) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining).count();
    const timespec timeout{static_cast<std::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    ready = epoll_pwait2(m_epoll, events, k_max_events, &timeout, nullptr);
    if (ready < 0 && errno == ENOSYS) {
      m_precise_wait = false;
    }
  }
  if (!m_precise_wait) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    ready = epoll_wait(m_epoll, events, k_max_events, static_cast<int>(std::min<long long>(ms, INT_MAX)));
  }
  m_last_ready = std::max(ready, 0);
  int running = 0;
  for (int i = 0; i < ready; ++i) {
    if ((events[i].data.u64 & k_side_socket_tag) != 0) {
      m_side->on_ready(events[i].data.u64 & ~k_side_socket_tag, events[i].events);
      continue;
    }
    curl_multi_socket_action(m_multi, events[i].data.fd, curl_flags_for(events[i].events), &running);
  }
}

void CurlMulti::run_expired_timer() {
  const TimePoint now = Clock::now();
  if (m_side != nullptr && m_side->next_deadline() <= now) {
    m_side->run_due(now);
  }
  if (now < m_curl_deadline) {
    return;
  }
  m_curl_deadline = TimePoint::max();  // on_timer sets the next one from inside socket_action
  int running = 0;
  curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

void CurlMulti::drain_finished(TransferSink& sink) {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(m_multi, &left)) {
    if (message->msg != CURLMSG_DONE) {
      continue;
    }
    // Copy out before removing: the message does not survive curl_multi_remove_handle.
    CURL* easy = message->easy_handle;
    const CURLcode result = message->data.result;
    RequestState* request = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &request);
    remove(easy);
    sink.on_transfer_done(*request, result);
  }
  if (m_side != nullptr) {
    m_side->drain(sink);
  }
}

void CurlMulti::wait_and_process(TimePoint wake_at, TransferSink& sink) {
  wait_for_events(wake_at);
  run_expired_timer();
  drain_finished(sink);
}

}  // namespace llmd::engine
