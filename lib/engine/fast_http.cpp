#include "engine/fast_http.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>

#include <boost/intrusive/list.hpp>
#include <fmt/format.h>

#include "engine/http1_response.hpp"
#include "engine/receive_clock.hpp"
#include "util/ascii_case.hpp"

namespace llmd::engine {

namespace bi = boost::intrusive;

namespace {

using Hook = bi::list_member_hook<bi::link_mode<bi::safe_link>>;

long elapsed_ms(TimePoint from, TimePoint to) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

// The name of header line `line` ("Name: v", "Name:", "Name;"), and what libcurl does with it.
struct HeaderLine {
  std::string_view name;
  enum class Kind { send, drop, empty } kind = Kind::send;
};

HeaderLine parse_header_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  const std::size_t semicolon = line.find(';');
  HeaderLine parsed;
  if (colon != std::string_view::npos && (semicolon == std::string_view::npos || colon < semicolon)) {
    parsed.name = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    const bool blank = value.find_first_not_of(" \t") == std::string_view::npos;
    parsed.kind = blank ? HeaderLine::Kind::drop : HeaderLine::Kind::send;
  } else if (semicolon != std::string_view::npos && line.find_first_not_of(" \t", semicolon + 1) == std::string_view::npos) {
    parsed.name = line.substr(0, semicolon);
    parsed.kind = HeaderLine::Kind::empty;
  } else {
    parsed.name = line;  // no separator: libcurl sends such a line as it is
  }
  return parsed;
}

// The fixed-size strings of libcurl's messages, for the same failure (outcome.cpp quotes them).
std::string connect_failure(const FastHttpTarget& target, TimePoint started, TimePoint now, int error) {
  return fmt::format("Failed to connect to {} port {} after {} ms: {}", target.host, target.port,
                     elapsed_ms(started, now), std::strerror(error));
}

// Whether a non-blocking connect() already completed its handshake. On loopback it has, nearly always:
// the SYN, the listener's SYN-ACK and the ACK all run inside the connect() call (the socket is locked
// meanwhile and processes the SYN-ACK on release). The request then goes out at once, without a wait
// for EPOLLOUT, an epoll_ctl to stop watching it, or a wake-up of the loop; and since the connection is
// never left "connecting", the loop may still pause (SideTransfers::may_pause). Anything else (a
// remote handshake, an error) is left to EPOLLOUT and SO_ERROR as before.
bool handshake_done(int fd) {
  tcp_info info{};
  socklen_t size = sizeof(info);
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) == 0 && info.tcpi_state == TCP_ESTABLISHED;
}

// A connection's receive buffer, allocated without zero-filling: only the pages its reads reach get
// touched, so a connection whose reads are SSE events of a few hundred bytes keeps one page of its
// 16 KiB resident, not four (std::vector<char> value-initialises: every page at once). From 1,000
// streams on the buffers are 2 KiB anyway (engine_requests.cpp, k_many_streams_buffer_bytes).
class ReceiveBuffer {
 public:
  char* data() { return m_bytes.get(); }
  std::size_t size() const { return m_size; }
  // `size` bytes; the first `keep` of the old ones are kept.
  void resize(std::size_t size, std::size_t keep) {
    auto bytes = std::make_unique_for_overwrite<char[]>(size);
    if (keep > 0) {
      std::memcpy(bytes.get(), m_bytes.get(), std::min(keep, size));
    }
    m_bytes = std::move(bytes);
    m_size = size;
  }

 private:
  std::unique_ptr<char[]> m_bytes;
  std::size_t m_size = 0;
};

}  // namespace

struct FastHttp::Connection final : public Http1Listener {
  enum class Step { closed, connecting, sending, receiving, idle };

  Connection() : response(*this) {}

  void on_status(unsigned status) override { request->fast_status(static_cast<long>(status), now); }
  void on_field(std::string_view name, std::string_view value) override { request->fast_field(name, value); }
  bool on_body(std::string_view bytes) override { return request->fast_body(bytes, now); }

  int fd = -1;
  Step step = Step::closed;
  RequestState* request = nullptr;
  bool watching_out = false;
  bool fresh = false;     // opened for the current request
  bool retried = false;   // the current request already moved to a fresh connection once
  std::size_t address = 0;
  std::size_t sent = 0;      // bytes of head + body written
  std::size_t received = 0;  // response bytes of the current request
  std::string head;
  ReceiveBuffer in;
  std::size_t have = 0;  // bytes in `in` not consumed by the parser yet
  Http1Response response;
  TimePoint now{};  // stamp of the read being parsed
  TimePoint connect_started{};
  TimePoint connect_deadline{};
  TimePoint request_started{};
  TimePoint request_deadline{};
  Hook connect_hook;
  Hook request_hook;
  Hook idle_hook;
};

class FastHttp::Lists {
 public:
  // Takes `conn` off every list it is on.
  void unlink(Connection& conn) {
    if (conn.connect_hook.is_linked()) {
      connecting.erase(connecting.iterator_to(conn));
    }
    if (conn.request_hook.is_linked()) {
      requests.erase(requests.iterator_to(conn));
    }
    if (conn.idle_hook.is_linked()) {
      idle.erase(idle.iterator_to(conn));
    }
  }

  template <Hook Connection::*member>
  using List = bi::list<Connection, bi::member_hook<Connection, Hook, member>, bi::constant_time_size<true>>;
  List<&Connection::connect_hook> connecting;  // by connect_deadline (connects start in time order)
  List<&Connection::request_hook> requests;    // by request_deadline
  List<&Connection::idle_hook> idle;           // most recently used at the back
};

// --- choosing the engine --------------------------------------------------------------------------

HttpEngineChoice choose_http_engine(scenario::HttpClient mode, const TransferSettings& settings, EnvLookup getenv_fn) {
  HttpEngineChoice choice;
  if (mode == scenario::HttpClient::curl) {
    choice.reason = "--http-engine curl";
    return choice;
  }
  if (settings.http2) {
    choice.reason = "HTTP/2 (target.http2)";
    return choice;
  }
  CURLU* url = curl_url();
  if (url == nullptr || curl_url_set(url, CURLUPART_URL, settings.url.c_str(), 0) != CURLUE_OK) {
    curl_url_cleanup(url);
    choice.reason = "URL not parsed";
    return choice;
  }
  const auto part = [url](CURLUPart which, unsigned flags = 0) {
    char* text = nullptr;
    std::string value;
    if (curl_url_get(url, which, &text, flags) == CURLUE_OK && text != nullptr) {
      value = text;
    }
    curl_free(text);
    return value;
  };
  const std::string scheme = part(CURLUPART_SCHEME);
  const bool has_user = !part(CURLUPART_USER).empty() || !part(CURLUPART_PASSWORD).empty();
  FastHttpTarget target;
  target.host = part(CURLUPART_HOST);
  const std::string port = part(CURLUPART_PORT);
  target.port = port.empty() ? part(CURLUPART_PORT, CURLU_DEFAULT_PORT) : port;
  target.host_header = port.empty() ? target.host : target.host + ":" + port;
  target.path = part(CURLUPART_PATH);
  if (const std::string query = part(CURLUPART_QUERY); !query.empty()) {
    target.path += "?" + query;
  }
  curl_url_cleanup(url);
  if (target.host.size() > 2 && target.host.front() == '[' && target.host.back() == ']') {
    target.host = target.host.substr(1, target.host.size() - 2);  // IPv6 literal, for getaddrinfo
  }
  if (scheme != "http") {
    choice.reason = fmt::format("{}:// target (libcurl's TLS)", scheme);
    return choice;
  }
  if (has_user) {
    choice.reason = "user info in the URL (libcurl's authentication)";
    return choice;
  }
  choice.reason = "http:// target, HTTP/1.1, no proxy";
  if (const EnvProxy proxy = env_proxy("http", target.host, getenv_fn); proxy.proxied()) {
    choice.reason = fmt::format("${} is set (libcurl's proxy support)", proxy.variable);
    return choice;
  } else if (!proxy.variable.empty()) {
    choice.reason = fmt::format("http:// target, HTTP/1.1, ${} is set but ${} exempts {} (libcurl would not proxy it)",
                                proxy.variable, proxy.exempted_by, target.host);
  }
  choice.fast = true;
  choice.target = std::move(target);
  return choice;
}

// --- set-up ---------------------------------------------------------------------------------------

FastHttp::FastHttp(const FastHttpTarget& target, const TransferSettings& settings, CurlMulti& loop, std::size_t max_idle)
    : m_target(target),
      m_connect_timeout(settings.connect_timeout),
      m_request_timeout(settings.request_timeout),
      m_buffer_bytes(settings.receive_buffer_bytes > 0 ? static_cast<std::size_t>(settings.receive_buffer_bytes)
                                                       : std::size_t{16 * 1024}),
      m_max_idle(max_idle),
      m_loop(loop),
      m_epoll(loop.epoll_fd()),
      m_lists(std::make_unique<Lists>()) {}

util::Result<std::unique_ptr<FastHttp>> FastHttp::create(const FastHttpTarget& target,
                                                         const TransferSettings& settings, CurlMulti& loop,
                                                         std::size_t max_idle) {
  std::unique_ptr<FastHttp> client(new FastHttp(target, settings, loop, max_idle));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: on a host whose only interface is loopback it would drop 127.0.0.1 itself.
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found); error != 0) {
    return util::fail(fmt::format("cannot resolve {}: {}", target.host, gai_strerror(error)));
  }
  for (const addrinfo* at = found; at != nullptr; at = at->ai_next) {
    if (at->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    sockaddr_storage address{};
    std::memcpy(&address, at->ai_addr, at->ai_addrlen);
    client->m_addresses.push_back(address);
    client->m_address_sizes.push_back(at->ai_addrlen);
  }
  freeaddrinfo(found);
  if (client->m_addresses.empty()) {
    return util::fail(fmt::format("cannot resolve {}: no address", target.host));
  }
  loop.attach(*client);
  return client;
}

FastHttp::~FastHttp() {
  m_loop.detach();
  for (auto& conn : m_connections) {
    if (conn->fd >= 0) {
      ::close(conn->fd);
    }
    m_lists->unlink(*conn);  // safe-mode hooks must be unlinked before their connection goes
  }
}

// --- requests -------------------------------------------------------------------------------------

void FastHttp::start(RequestState& state) {
  const TimePoint now = Clock::now();
  state.fast_begin();
  ++m_active;
  Connection* conn = nullptr;
  if (!m_lists->idle.empty()) {
    conn = &m_lists->idle.back();
    m_lists->idle.pop_back();
    conn->fresh = false;
  } else {
    conn = take_connection();
    conn->fresh = true;
  }
  conn->request = &state;
  conn->retried = false;
  conn->request_started = now;
  conn->request_deadline = now + m_request_timeout;
  m_lists->requests.push_back(*conn);  // deadlines grow with start times
  state.transport = conn;
  if (conn->fresh) {
    open_connection(*conn, now);
  } else {
    begin_request(*conn);
  }
}

void FastHttp::cancel(RequestState& state) {
  auto* conn = static_cast<Connection*>(state.transport);
  if (conn == nullptr || conn->request != &state) {
    return;
  }
  conn->request = nullptr;
  state.transport = nullptr;
  --m_active;
  close_connection(*conn);
}

FastHttp::Connection* FastHttp::take_connection() {
  if (!m_spare.empty()) {
    Connection* conn = m_spare.back();
    m_spare.pop_back();
    return conn;
  }
  m_connections.push_back(std::make_unique<Connection>());
  Connection* conn = m_connections.back().get();
  conn->in.resize(m_buffer_bytes, 0);
  return conn;
}

void FastHttp::open_connection(Connection& conn, TimePoint now) {
  conn.address = 0;
  conn.connect_started = now;
  conn.connect_deadline = now + m_connect_timeout;
  conn.step = Connection::Step::connecting;
  m_lists->connecting.push_back(conn);
  try_connect(conn, now);
}

// Connects to m_addresses[conn.address] (and on to the next ones when refused at once). False when
// the request failed.
bool FastHttp::try_connect(Connection& conn, TimePoint now) {
  int error = 0;
  while (conn.address < m_addresses.size()) {
    if (conn.fd >= 0) {
      ::close(conn.fd);
      conn.fd = -1;
    }
    const auto& address = m_addresses[conn.address];
    conn.fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn.fd < 0) {
      error = errno;
      break;
    }
    const int one = 1;
    setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    enable_receive_stamps(conn.fd);  // without, the reads carry no stamp and take the clock (counted)
    if (::connect(conn.fd, reinterpret_cast<const sockaddr*>(&address), m_address_sizes[conn.address]) == 0 ||
        errno == EINPROGRESS) {
      const bool established = handshake_done(conn.fd);
      if (!set_interest(conn, EPOLL_CTL_ADD, !established)) {
        error = errno;
        break;
      }
      if (established) {
        connected(conn);  // the request goes out now (it may fail the request: still "not a connect failure")
      }
      return true;  // connected, or connecting: EPOLLOUT says when
    }
    error = errno;
    ++conn.address;
  }
  connection_failed(conn, CURLE_COULDNT_CONNECT, connect_failure(m_target, conn.connect_started, now, error), false);
  return false;
}

void FastHttp::connected(Connection& conn) {
  m_lists->connecting.erase(m_lists->connecting.iterator_to(conn));
  begin_request(conn);
}

void FastHttp::begin_request(Connection& conn) {
  conn.step = Connection::Step::sending;
  conn.sent = 0;
  conn.received = 0;
  conn.have = 0;
  conn.response.reset();
  build_head(conn);
  send_request(conn);
}

// The request head libcurl would write for a POST of this body with these header lines.
void FastHttp::build_head(Connection& conn) {
  const std::string& body = conn.request->request_body();
  std::string& head = conn.head;
  head.clear();
  head += "POST ";
  head += m_target.path;
  head += " HTTP/1.1\r\n";
  bool host = false;
  bool accept = false;
  bool content_type = false;
  bool content_length = false;
  for (const curl_slist* item = conn.request->headers(); item != nullptr; item = item->next) {
    const HeaderLine line = parse_header_line(item->data);
    host = host || util::equals_ignoring_case(line.name, "host");
    accept = accept || util::equals_ignoring_case(line.name, "accept");
    content_type = content_type || util::equals_ignoring_case(line.name, "content-type");
    content_length = content_length || util::equals_ignoring_case(line.name, "content-length");
  }
  if (!host) {
    head += "Host: ";
    head += m_target.host_header;
    head += "\r\n";
  }
  if (!accept) {
    head += "Accept: */*\r\n";
  }
  for (const curl_slist* item = conn.request->headers(); item != nullptr; item = item->next) {
    const std::string_view text = item->data;
    const HeaderLine line = parse_header_line(text);
    if (line.kind == HeaderLine::Kind::drop) {
      continue;
    }
    if (line.kind == HeaderLine::Kind::empty) {
      head += line.name;
      head += ":\r\n";
      continue;
    }
    head += text;
    head += "\r\n";
  }
  if (!content_type) {
    head += "Content-Type: application/x-www-form-urlencoded\r\n";
  }
  if (!content_length) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), body.size()).ptr;
    head += "Content-Length: ";
    head.append(digits, end);
    head += "\r\n";
  }
  head += "\r\n";
}

void FastHttp::send_request(Connection& conn) {
  const std::string& body = conn.request->request_body();
  const std::size_t total = conn.head.size() + body.size();
  while (conn.sent < total) {
    iovec parts[2];
    int count = 0;
    if (conn.sent < conn.head.size()) {
      parts[count++] = {conn.head.data() + conn.sent, conn.head.size() - conn.sent};
      parts[count++] = {const_cast<char*>(body.data()), body.size()};
    } else {
      const std::size_t offset = conn.sent - conn.head.size();
      parts[count++] = {const_cast<char*>(body.data()) + offset, body.size() - offset};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t written = ::sendmsg(conn.fd, &message, MSG_NOSIGNAL);
    if (written > 0) {
      conn.sent += static_cast<std::size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      watch(conn, true);
      return;
    }
    const int error = written < 0 ? errno : EPIPE;
    connection_failed(conn, CURLE_SEND_ERROR, fmt::format("Send failure: {}", std::strerror(error)), true);
    return;
  }
  conn.step = Connection::Step::receiving;
  watch(conn, false);
}

void FastHttp::watch(Connection& conn, bool out) {
  if (conn.watching_out != out) {
    set_interest(conn, EPOLL_CTL_MOD, out);
  }
}

// Readable (and a peer's close) always; writable when `out`. The event data names the connection,
// tagged as a side socket (curl_multi.hpp). Edge-triggered: every read goes on until the socket is
// drained (a short read: TCP hands over all it holds) and every write until it is done or EAGAIN, so
// a level-triggered set would only report the same sockets again: epoll then re-polls each ready
// socket once more on the next wait, ~9% of the client's CPU at 1,000 streams (perf, 2026-12-04).
bool FastHttp::set_interest(Connection& conn, int op, bool out) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (out ? EPOLLOUT : 0u);
  event.data.u64 = reinterpret_cast<std::uintptr_t>(&conn) | k_side_socket_tag;
  if (epoll_ctl(m_epoll, op, conn.fd, &event) != 0) {
    return false;
  }
  if (conn.watching_out != out) {
    out ? ++m_out_watchers : --m_out_watchers;
  }
  conn.watching_out = out;
  return true;
}

// --- the loop -------------------------------------------------------------------------------------

void FastHttp::on_ready(std::uint64_t tag, std::uint32_t events) {
  auto* conn = reinterpret_cast<Connection*>(static_cast<std::uintptr_t>(tag));
  switch (conn->step) {
    case Connection::Step::closed:
      return;  // closed earlier in this batch
    case Connection::Step::idle:
      // A kept-alive connection turned readable: the server closed it (or sent what no request
      // asked for). Either way it cannot carry a request.
      m_lists->idle.erase(m_lists->idle.iterator_to(*conn));
      close_connection(*conn);
      return;
    case Connection::Step::connecting: {
      const TimePoint now = Clock::now();  // only here: a read takes its own time (read_response)
      int error = 0;
      socklen_t size = sizeof(error);
      if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
        error = errno;
      }
      if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) {
        error = ECONNREFUSED;
      }
      if (error != 0) {
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, conn->fd, nullptr);
        ++conn->address;
        if (conn->address < m_addresses.size()) {
          try_connect(*conn, now);
        } else {
          connection_failed(*conn, CURLE_COULDNT_CONNECT, connect_failure(m_target, conn->connect_started, now, error),
                            false);
        }
        return;
      }
      if ((events & EPOLLOUT) == 0) {
        return;
      }
      connected(*conn);
      return;
    }
    case Connection::Step::sending:
      if ((events & EPOLLOUT) != 0) {
        send_request(*conn);
      }
      if (conn->step == Connection::Step::closed || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) {
        return;
      }
      read_response(*conn, events);  // an early answer (or a reset) before the body went out
      return;
    case Connection::Step::receiving:
      read_response(*conn, events);
      return;
  }
}

void FastHttp::read_response(Connection& conn, std::uint32_t events) {
  // Edge-triggered (set_interest): a short read drained the socket, and bytes that come later wake the
  // loop again; a close the kernel already reported does not, so after one the reads go on to the end.
  const bool peer_closed = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  while (true) {
    if (conn.have == conn.in.size()) {
      // Only a header block (or a chunk-size line) longer than the buffer gets here.
      if (conn.in.size() >= Http1Response::k_header_limit + 1024) {
        connection_failed(conn, CURLE_WEIRD_SERVER_REPLY, "response header too large", false);
        return;
      }
      conn.in.resize(conn.in.size() * 2, conn.have);
    }
    const std::size_t room = conn.in.size() - conn.have;
    const StampedRead read = recv_stamped(conn.fd, conn.in.data() + conn.have, room);
    const ssize_t got = read.got;
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      const int error = errno;
      connection_failed(conn, CURLE_RECV_ERROR, fmt::format("Recv failure: {}", std::strerror(error)), true);
      return;
    }
    conn.now = Clock::now();
    if (got > 0) {
      ++m_receive.reads;
      if (read.stamp) {
        // When the bytes were there for the client, not when it got round to them (receive_clock.hpp).
        timespec realtime_now{};
        clock_gettime(CLOCK_REALTIME, &realtime_now);
        conn.now = steady_from_realtime(*read.stamp, realtime_now, conn.now, conn.request_started);
        ++m_receive.kernel_stamped;
      }
    }
    if (got == 0) {
      if (conn.received == 0) {
        connection_failed(conn, CURLE_GOT_NOTHING, "Empty reply from server", true);
        return;
      }
      const Http1Response::State state = conn.response.finish();
      if (state == Http1Response::State::done) {
        response_ended(conn, false);
      } else if (state == Http1Response::State::rejected) {
        connection_failed(conn, CURLE_WRITE_ERROR, "Failure writing output to destination", false);
      } else {
        connection_failed(conn, CURLE_PARTIAL_FILE,
                          fmt::format("transfer closed with outstanding read data remaining ({})",
                                      conn.response.error()),
                          false);
      }
      return;
    }
    conn.received += static_cast<std::size_t>(got);
    conn.have += static_cast<std::size_t>(got);
    const Http1Response::Fed fed = conn.response.feed(std::string_view(conn.in.data(), conn.have));
    if (fed.consumed > 0) {
      std::memmove(conn.in.data(), conn.in.data() + fed.consumed, conn.have - fed.consumed);
      conn.have -= fed.consumed;
    }
    switch (fed.state) {
      case Http1Response::State::more:
        break;
      case Http1Response::State::done:
        // Not reused: a connection with bytes after the response nobody asked for (read, or maybe
        // still in the socket after a full buffer: no edge would report them), one the peer closed,
        // or one whose answer came before the whole request went out.
        response_ended(conn, conn.response.keep_alive() && conn.have == 0 && static_cast<std::size_t>(got) < room &&
                                 !peer_closed && conn.step == Connection::Step::receiving);
        return;
      case Http1Response::State::rejected:
        connection_failed(conn, CURLE_WRITE_ERROR, "Failure writing output to destination", false);
        return;
      case Http1Response::State::error:
        // A header that is not HTTP (or never ends) is a weird reply, as libcurl has it; a broken body
        // framing after a good header cuts the response.
        connection_failed(conn, conn.response.status() == 0 ? CURLE_WEIRD_SERVER_REPLY : CURLE_RECV_ERROR,
                          fmt::format("invalid HTTP response: {}{}", conn.response.error(),
                                      conn.response.status() == 0 ? " (in the status line or header)" : ""),
                          false);
        return;
    }
    if (static_cast<std::size_t>(got) < room && !peer_closed) {
      return;  // the socket is drained (a full buffer reads again)
    }
  }
}

void FastHttp::response_ended(Connection& conn, bool keep_alive) {
  finish(conn, CURLE_OK, {});
  if (keep_alive && (m_max_idle == 0 || m_lists->idle.size() < m_max_idle)) {
    make_idle(conn);
  } else {
    close_connection(conn);
  }
}

// A transport failure of the current request. A reused connection that died before any response
// byte gets the request again on a fresh connection, once (libcurl does the same).
void FastHttp::connection_failed(Connection& conn, CURLcode code, std::string message, bool may_retry) {
  if (may_retry && !conn.fresh && !conn.retried && conn.received == 0 && conn.request != nullptr) {
    RequestState* request = conn.request;
    const TimePoint started = conn.request_started;
    const TimePoint deadline = conn.request_deadline;
    m_lists->requests.erase(m_lists->requests.iterator_to(conn));
    conn.request = nullptr;
    close_connection(conn);
    Connection* fresh = take_connection();
    fresh->request = request;
    fresh->fresh = true;
    fresh->retried = true;
    fresh->request_started = started;
    fresh->request_deadline = deadline;
    auto at = m_lists->requests.end();  // in deadline order: walk back past the later ones
    while (at != m_lists->requests.begin() && std::prev(at)->request_deadline > deadline) {
      --at;
    }
    m_lists->requests.insert(at, *fresh);
    request->transport = fresh;
    open_connection(*fresh, Clock::now());
    return;
  }
  finish(conn, code, message);
  close_connection(conn);
}

void FastHttp::finish(Connection& conn, CURLcode code, std::string_view message) {
  RequestState* request = conn.request;
  if (request == nullptr) {
    return;
  }
  if (conn.request_hook.is_linked()) {
    m_lists->requests.erase(m_lists->requests.iterator_to(conn));
  }
  if (conn.response.status() == 0 && conn.response.interim_status() != 0) {
    request->fast_status(conn.response.interim_status(), conn.now);  // only 1xx came: libcurl reports that
  }
  request->fast_end(message, conn.sent > 0, conn.fresh);
  request->transport = nullptr;
  conn.request = nullptr;
  m_done.emplace_back(request, code);
  --m_active;
}

void FastHttp::make_idle(Connection& conn) {
  conn.step = Connection::Step::idle;
  conn.have = 0;
  m_lists->idle.push_back(conn);
}

void FastHttp::close_connection(Connection& conn) {
  m_lists->unlink(conn);
  if (conn.fd >= 0) {
    ::close(conn.fd);  // leaves the epoll set with it
    conn.fd = -1;
  }
  conn.step = Connection::Step::closed;
  conn.request = nullptr;
  conn.have = 0;
  if (conn.watching_out) {  // the fd left the epoll set with its interest
    conn.watching_out = false;
    --m_out_watchers;
  }
  if (conn.in.size() > m_buffer_bytes) {
    conn.in.resize(m_buffer_bytes, 0);
  }
  m_closed.push_back(&conn);  // reusable once no event of this batch can name it
}

TimePoint FastHttp::next_deadline() const {
  TimePoint next = TimePoint::max();
  if (!m_lists->connecting.empty()) {
    next = std::min(next, m_lists->connecting.front().connect_deadline);
  }
  if (!m_lists->requests.empty()) {
    next = std::min(next, m_lists->requests.front().request_deadline);
  }
  return next;
}

void FastHttp::run_due(TimePoint now) {
  while (!m_lists->connecting.empty() && m_lists->connecting.front().connect_deadline <= now) {
    Connection& conn = m_lists->connecting.front();
    connection_failed(conn, CURLE_OPERATION_TIMEDOUT,
                      fmt::format("Connection timed out after {} milliseconds", elapsed_ms(conn.connect_started, now)),
                      false);
  }
  while (!m_lists->requests.empty() && m_lists->requests.front().request_deadline <= now) {
    Connection& conn = m_lists->requests.front();
    connection_failed(conn, CURLE_OPERATION_TIMEDOUT,
                      fmt::format("Operation timed out after {} milliseconds with {} bytes received",
                                  elapsed_ms(conn.request_started, now), conn.received),
                      false);
  }
}

void FastHttp::drain(TransferSink& sink) {
  m_spare.insert(m_spare.end(), m_closed.begin(), m_closed.end());
  m_closed.clear();
  // The sink may start requests (and finish some at once): take the batch first.
  while (!m_done.empty()) {
    std::vector<std::pair<RequestState*, CURLcode>> batch;
    batch.swap(m_done);
    for (const auto& [request, code] : batch) {
      sink.on_transfer_done(*request, code);
    }
    batch.clear();
    if (m_done.empty()) {
      m_done.swap(batch);  // keep the capacity
    }
  }
}

}  // namespace llmd::engine
