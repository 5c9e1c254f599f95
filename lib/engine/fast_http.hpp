#pragma once
// The built-in HTTP/1.1 client: the engine's fast path for plain http:// targets (issue 16 item 6).
//
// Why: libcurl spends ~9 us of CPU per request on work a load generator repeats identically (URL
// parse, request printf, connection-cache search, transfer state machine) and one extra poll() per
// read (cf_socket_data_pending). Here a request is its pre-parsed target plus the header lines and
// body the engine already built, written with one sendmsg() on a kept-alive connection; a readable
// socket costs one recv() and Beast's parser (http1_response.hpp) straight into the request's SSE
// parser (RequestState::fast_body).
//
// What it covers, and what stays with libcurl (`--http-engine auto` chooses; `curl` forces libcurl):
// http:// URLs without user info, HTTP/1.1, no proxy in the environment (http_proxy, all_proxy).
// https, HTTP/2 and proxies keep libcurl's transfer path (TLS, ALPN, proxy tunnels are what it is
// best at). The host is resolved once, when the run starts (getaddrinfo, every address tried in
// order on a refused connect); a name whose addresses change during the run wants `curl`.
//
// Connections are opened here, non-blocking, rather than with libcurl's CURLOPT_CONNECT_ONLY: a
// connect-only handle must stay in the multi handle for its connection to live
// (curl_multi_remove_handle closes it), and libcurl 7.88's connection cache may evict it like any
// idle connection once the cache is full, which a 1,000-connection run reaches.
//
// Semantics kept from libcurl, so results do not depend on the engine: the same request bytes
// (request line, Host from the URL unless a Host line is given, "Name:" lines drop a header,
// "Name;" sends it empty, Accept */* by default, Content-Length), the request timeout counted from
// the start and the connect timeout, one retry on a fresh connection when a reused one turns out
// closed before any response byte (libcurl's "Connection died, retrying a fresh connect"), and the
// same CURLcode and wording for each failure, so outcome.hpp classifies them as before.
//
// One loop thread, no locks. Sockets share the CurlMulti's epoll set (tagged, see SideTransfers).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

#include "engine/curl_multi.hpp"
#include "engine/env_proxy.hpp"
#include "engine/receive_clock.hpp"
#include "engine/request_state.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// What a plain-HTTP URL names, pre-parsed once (libcurl's URL API does the parsing).
struct FastHttpTarget {
  std::string host;         // for getaddrinfo (IPv6 without brackets)
  std::string port;         // decimal; the scheme's default when the URL has none
  std::string host_header;  // "Host" value libcurl would send: host, plus ":port" when the URL names one
  std::string path;         // request target: path and query ("/v1/completions")
};

// Which client runs the requests, and why (reported with the run: RunResult::http_engine).
struct HttpEngineChoice {
  bool fast = false;
  std::string reason;  // "http:// target, HTTP/1.1, no proxy" / "https:// target (TLS)" / "--http-engine curl"
  FastHttpTarget target;
};

// Reads the proxy variables libcurl honours for http:// (http_proxy, all_proxy, ALL_PROXY) and, when one is
// set, no_proxy (or NO_PROXY): a target libcurl would not proxy keeps the built-in client. `getenv` is
// injectable for tests.
HttpEngineChoice choose_http_engine(scenario::HttpClient mode, const TransferSettings& settings,
                                    EnvLookup getenv_fn = nullptr);

// The built-in client's data reads, and how many of them carried the kernel's receive stamp
// (receive_clock.hpp): RunResult::http_counts (reads, kernel_stamped_reads).
struct ReceiveStats {
  std::uint64_t reads = 0;
  std::uint64_t kernel_stamped = 0;
};

class FastHttp final : public SideTransfers {
 public:
  // Resolves the target's host (fails when it cannot: the caller may fall back to libcurl) and
  // joins `loop`'s epoll set. `max_idle`: idle keep-alive connections kept (0 = no limit).
  static util::Result<std::unique_ptr<FastHttp>> create(const FastHttpTarget& target, const TransferSettings& settings,
                                                        CurlMulti& loop, std::size_t max_idle);
  FastHttp(const FastHttp&) = delete;
  FastHttp& operator=(const FastHttp&) = delete;
  ~FastHttp() override;

  // Starts the request of `state` (after state.begin()): on an idle connection, else a new one.
  // Failures (connect, send, response) end the transfer like libcurl's: a completion with a CURLcode.
  void start(RequestState& state);
  // Cancels a request that has not finished; its connection is closed and nothing is reported.
  void cancel(RequestState& state);
  const ReceiveStats& receive_stats() const { return m_receive; }

  // SideTransfers
  void on_ready(std::uint64_t tag, std::uint32_t events) override;
  TimePoint next_deadline() const override;
  void run_due(TimePoint now) override;
  void drain(TransferSink& sink) override;
  std::size_t active() const override { return m_active; }
  bool may_pause() const override { return m_receive.kernel_stamped == m_receive.reads && m_out_watchers == 0; }
  // Connections waiting to connect or to write the rest of their request (EPOLLOUT).
  std::size_t out_watchers() const { return m_out_watchers; }

  struct Connection;  // fast_http.cpp

 private:
  FastHttp(const FastHttpTarget& target, const TransferSettings& settings, CurlMulti& loop, std::size_t max_idle);
  class Lists;
  Connection* take_connection();
  void open_connection(Connection& conn, TimePoint now);
  bool try_connect(Connection& conn, TimePoint now);
  void connected(Connection& conn);
  void begin_request(Connection& conn);
  void send_request(Connection& conn);
  // `events`: what the wake-up reported (EPOLL*), so a peer's close seen there is read to its end.
  void read_response(Connection& conn, std::uint32_t events);
  void response_ended(Connection& conn, bool keep_alive);
  void connection_failed(Connection& conn, CURLcode code, std::string message, bool may_retry);
  void finish(Connection& conn, CURLcode code, std::string_view message);
  void close_connection(Connection& conn);
  void make_idle(Connection& conn);
  void watch(Connection& conn, bool out);
  bool set_interest(Connection& conn, int op, bool out);
  void build_head(Connection& conn);

  FastHttpTarget m_target;
  std::vector<sockaddr_storage> m_addresses;
  std::vector<socklen_t> m_address_sizes;
  std::chrono::nanoseconds m_connect_timeout;
  std::chrono::nanoseconds m_request_timeout;
  std::size_t m_buffer_bytes;
  std::size_t m_max_idle;
  CurlMulti& m_loop;
  int m_epoll;
  std::unique_ptr<Lists> m_lists;
  std::vector<std::unique_ptr<Connection>> m_connections;  // every connection object ever made
  std::vector<Connection*> m_spare;                        // closed, reusable after the current batch
  std::vector<Connection*> m_closed;                       // closed during the current batch
  std::vector<std::pair<RequestState*, CURLcode>> m_done;  // finished, for drain()
  std::size_t m_active = 0;
  ReceiveStats m_receive;
  std::size_t m_out_watchers = 0;
  // Stamping on before the first connection, and kept on for the client's life (receive_clock.hpp).
  ReceiveStampHold m_stamp_hold;
};

}  // namespace llmd::engine
