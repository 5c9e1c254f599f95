// The built-in HTTP/1.1 client (engine/fast_http.hpp): when `auto` picks it, and that a run through
// it measures and classifies exactly what the same run through libcurl does: the same request on
// the wire, the same counts and tokens, the same failure class and wording for each broken answer.
#include <dlfcn.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include <cstring>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/engine_test_support.hpp"
#include "engine/fast_http.hpp"
#include "engine/request_state.hpp"
#include "support/local_services.hpp"

namespace llmd::engine::test {
// libcurl easy handles made in this process since it started (curl_easy_init below).
std::atomic<std::size_t> g_easy_handles{0};
}  // namespace llmd::engine::test

// Counts the easy handles made: this test binary's curl_easy_init comes first (the executable's
// definition interposes on libcurl's for every caller linked into it) and forwards to libcurl's.
extern "C" CURL* curl_easy_init() {
  using Init = CURL* (*)();
  static const auto real = reinterpret_cast<Init>(dlsym(RTLD_NEXT, "curl_easy_init"));
  ++llmd::engine::test::g_easy_handles;
  return real();
}

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using test::CannedServer;
using test::SimFleet;
using testing::HasSubstr;

TransferSettings settings_for(const std::string& url) {
  TransferSettings settings;
  settings.url = url;
  return settings;
}

const char* no_env(const char*) { return nullptr; }
const char* proxy_env(const char* name) { return std::strcmp(name, "http_proxy") == 0 ? "http://proxy:3128" : nullptr; }
const char* upper_http_proxy_env(const char* name) { return std::strcmp(name, "HTTP_PROXY") == 0 ? "http://p:1" : nullptr; }

TEST(FastHttpChoice, PlainHttpTakesTheBuiltInClientWithTheUrlParsed) {
  const auto choice =
      choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw.ns.svc:8080/v1/completions?x=1"), no_env);
  ASSERT_TRUE(choice.fast) << choice.reason;
  EXPECT_EQ(choice.target.host, "gw.ns.svc");
  EXPECT_EQ(choice.target.port, "8080");
  EXPECT_EQ(choice.target.host_header, "gw.ns.svc:8080");
  EXPECT_EQ(choice.target.path, "/v1/completions?x=1");
  const auto default_port = choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw/v1/completions"), no_env);
  EXPECT_EQ(default_port.target.port, "80");
  EXPECT_EQ(default_port.target.host_header, "gw");  // libcurl leaves a default port out of Host
  const auto v6 = choose_http_engine(scenario::HttpClient::automatic, settings_for("http://[::1]:9/x"), no_env);
  EXPECT_EQ(v6.target.host, "::1");
  EXPECT_EQ(v6.target.host_header, "[::1]:9");
}

TEST(FastHttpChoice, EverythingElseStaysWithLibcurlAndSaysWhy) {
  const auto https = choose_http_engine(scenario::HttpClient::automatic, settings_for("https://gw/v1/completions"), no_env);
  EXPECT_FALSE(https.fast);
  EXPECT_THAT(https.reason, HasSubstr("https://"));
  auto h2 = settings_for("http://gw/v1/completions");
  h2.http2 = true;
  EXPECT_FALSE(choose_http_engine(scenario::HttpClient::automatic, h2, no_env).fast);
  const auto proxied = choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw/x"), proxy_env);
  EXPECT_FALSE(proxied.fast);
  EXPECT_THAT(proxied.reason, HasSubstr("$http_proxy"));
  // libcurl ignores upper-case HTTP_PROXY for http:// (httpoxy): so does the choice.
  EXPECT_TRUE(choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw/x"), upper_http_proxy_env).fast);
  EXPECT_FALSE(choose_http_engine(scenario::HttpClient::automatic, settings_for("http://u:p@gw/x"), no_env).fast);
  const auto forced = choose_http_engine(scenario::HttpClient::curl, settings_for("http://gw/x"), no_env);
  EXPECT_FALSE(forced.fast);
  EXPECT_EQ(forced.reason, "--http-engine curl");
}

const char* proxy_with_no_proxy_env(const char* name) {
  if (std::strcmp(name, "http_proxy") == 0) {
    return "http://proxy:3128";
  }
  return std::strcmp(name, "NO_PROXY") == 0 ? ".svc.cluster.local,127.0.0.1" : nullptr;
}
const char* lower_no_proxy_wins_env(const char* name) {
  if (std::strcmp(name, "all_proxy") == 0) {
    return "http://proxy:3128";
  }
  if (std::strcmp(name, "no_proxy") == 0) {
    return "other.example";  // set, so NO_PROXY is not read (as libcurl does)
  }
  return std::strcmp(name, "NO_PROXY") == 0 ? "*" : nullptr;
}

TEST(FastHttpChoice, ATargetNoProxyExemptsKeepsTheBuiltInClient) {
  const auto exempt =
      choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw.ns.svc.cluster.local:8080/x"), proxy_with_no_proxy_env);
  ASSERT_TRUE(exempt.fast) << exempt.reason;
  EXPECT_THAT(exempt.reason, HasSubstr("$http_proxy is set but $NO_PROXY exempts gw.ns.svc.cluster.local"));
  EXPECT_EQ(exempt.target.host, "gw.ns.svc.cluster.local");
  EXPECT_TRUE(choose_http_engine(scenario::HttpClient::automatic, settings_for("http://127.0.0.1:9/x"), proxy_with_no_proxy_env).fast);
  const auto proxied =
      choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw.example.com/x"), proxy_with_no_proxy_env);
  EXPECT_FALSE(proxied.fast);
  EXPECT_THAT(proxied.reason, HasSubstr("$http_proxy is set"));
  const auto lower_wins = choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw/x"), lower_no_proxy_wins_env);
  EXPECT_FALSE(lower_wins.fast);
  EXPECT_THAT(lower_wins.reason, HasSubstr("$all_proxy is set"));
  // Without a proxy variable no_proxy changes nothing, and --http-engine curl still wins.
  EXPECT_EQ(choose_http_engine(scenario::HttpClient::automatic, settings_for("http://gw/x"), no_env).reason,
            "http:// target, HTTP/1.1, no proxy");
  EXPECT_FALSE(choose_http_engine(scenario::HttpClient::curl, settings_for("http://127.0.0.1:9/x"), proxy_with_no_proxy_env).fast);
}

RunResult run_with(scenario::HttpClient client, const std::string& url, scenario::Scenario scenario,
                   const scenario::Phase& phase, EngineConfig config = {}) {
  scenario.engine.http = client;
  return test::run_against(url, scenario, {phase}, config);
}

// Request line, header lines (sorted: the two clients order them differently) and body.
struct Wire {
  std::string request_line;
  std::vector<std::string> headers;
  std::string body;
  bool operator==(const Wire&) const = default;
};

Wire wire_of(const std::string& request) {
  Wire wire;
  const std::size_t end = request.find("\r\n\r\n");
  wire.body = end == std::string::npos ? "" : request.substr(end + 4);
  std::size_t at = 0;
  bool first = true;
  while (at < end) {
    const std::size_t eol = request.find("\r\n", at);
    const std::string line = request.substr(at, eol - at);
    if (first) {
      wire.request_line = line;
      first = false;
    } else {
      wire.headers.push_back(line);
    }
    at = eol + 2;
  }
  std::sort(wire.headers.begin(), wire.headers.end());
  return wire;
}

TEST(FastHttp, SendsTheRequestLibcurlSends) {
  CannedServer server(test::sse_response("data: [DONE]\n\n"));
  auto scenario = test::test_scenario();
  scenario.request.prompt = scenario::PromptKind::per_session;
  scenario.request.prefix_tokens = 3;
  scenario.request.suffix_tokens = 1;
  scenario.target.headers = {{"X-Team", "bench"}, {"X-Empty", ""}};
  EngineConfig config;
  config.bearer_token = "tok-123";
  config.model = "m1";
  const auto phase = test::iterations_phase(1, 1);
  const RunResult fast = run_with(scenario::HttpClient::automatic, server.url() + "/v1", scenario, phase, config);
  const Wire fast_wire = wire_of(server.last_request());
  const RunResult curl = run_with(scenario::HttpClient::curl, server.url() + "/v1", scenario, phase, config);
  const Wire curl_wire = wire_of(server.last_request());
  EXPECT_EQ(fast.http_client, "built-in HTTP/1.1");
  EXPECT_EQ(curl.http_client, "libcurl");
  EXPECT_EQ(fast_wire, curl_wire);
  EXPECT_THAT(fast_wire.headers, testing::Contains("X-Empty:"));
  EXPECT_THAT(fast_wire.headers, testing::Contains(testing::StartsWith("Host: 127.0.0.1:")));
  scenario.target.host = "virtual.example";  // the Host line replaces the URL's
  (void)run_with(scenario::HttpClient::automatic, server.url(), scenario, phase, config);
  const Wire hosted = wire_of(server.last_request());
  EXPECT_THAT(hosted.headers, testing::Contains("Host: virtual.example"));
  EXPECT_EQ(std::count_if(hosted.headers.begin(), hosted.headers.end(),
                          [](const std::string& line) { return line.rfind("Host:", 0) == 0; }),
            1);
}

// The figures a run reports, for comparing the two clients.
std::map<std::string, std::uint64_t> figures(const PhaseResult& phase) {
  std::map<std::string, std::uint64_t> out = {{"started", phase.started},       {"completed", phase.completed},
                                              {"ok", phase.ok},                 {"failed", phase.failed},
                                              {"output_tokens", phase.output_tokens_total},
                                              {"ttft", phase.histograms.ttft_ns.count()},
                                              {"itl", phase.histograms.inter_token_latency_ns.count()}};
  for (std::size_t c = 0; c < phase.failures_by_class.size(); ++c) {
    out["class " + std::to_string(c)] = phase.failures_by_class[c];
  }
  return out;
}

TEST(FastHttp, StreamsFromTheSimulatorCountAsWithLibcurl) {
  auto config = test::fast_sim_config(0.01);
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 24;
  const auto phase = test::iterations_phase(60, 6);
  const RunResult fast = run_with(scenario::HttpClient::automatic, fleet.url(), scenario, phase);
  const RunResult curl = run_with(scenario::HttpClient::curl, fleet.url(), scenario, phase);
  EXPECT_EQ(fast.http_client, "built-in HTTP/1.1");
  EXPECT_EQ(figures(fast.phases[0]), figures(curl.phases[0]));
  EXPECT_EQ(fast.phases[0].ok, 60u);
  EXPECT_EQ(fast.phases[0].output_tokens_total, 60u * 24u);
  // Keep-alive: 6 users reuse their connections (the simulator keeps them open).
  EXPECT_LE(fast.phases[0].connections_opened, 6u * 2u) << "libcurl opened " << curl.phases[0].connections_opened;
}

// A broken answer is classified the same, with the same wording, whichever client read it.
struct BrokenAnswer {
  const char* name;
  std::string response;
  FailureClass expected;
};

void PrintTo(const BrokenAnswer& answer, std::ostream* out) { *out << answer.name; }

class FastHttpBroken : public testing::TestWithParam<BrokenAnswer> {};

TEST_P(FastHttpBroken, ClassifiedAsLibcurlDoes) {
  const BrokenAnswer& answer = GetParam();
  CannedServer server(answer.response, 7);
  auto scenario = test::test_scenario();
  scenario.target.request_timeout = 2s;
  const auto phase = test::iterations_phase(2, 1);
  const RunResult fast = run_with(scenario::HttpClient::automatic, server.url(), scenario, phase);
  const RunResult curl = run_with(scenario::HttpClient::curl, server.url(), scenario, phase);
  const PhaseResult& f = fast.phases[0];
  const PhaseResult& c = curl.phases[0];
  EXPECT_EQ(f.failures(answer.expected), 2u) << to_json(f)["failure_examples"].dump();
  EXPECT_EQ(figures(f), figures(c)) << "built-in: " << to_json(f)["failure_examples"].dump()
                                    << "\nlibcurl: " << to_json(c)["failure_examples"].dump();
  const auto index = static_cast<std::size_t>(answer.expected);
  if (answer.expected == FailureClass::http_status || answer.expected == FailureClass::malformed_event ||
      std::string(answer.name) == "no_done_then_close") {
    EXPECT_EQ(f.failure_examples[index], c.failure_examples[index]);  // quoted from the body, not the transport
  }
}

std::string chunked(const std::string& body) {
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n";
}

INSTANTIATE_TEST_SUITE_P(
    Answers, FastHttpBroken,
    testing::Values(
        BrokenAnswer{"status_404_json",
                     "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 62\r\nConnection: close\r\n\r\n"
                     "{\"object\":\"error\",\"message\":\"no such model\",\"type\":\"NotFound\"}",
                     FailureClass::http_status},
        BrokenAnswer{"chunked_cut",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         chunked("data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n") + "40\r\ndata: {",
                     FailureClass::stream_cut},
        BrokenAnswer{"length_cut",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 500\r\n\r\n"
                     "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n",
                     FailureClass::stream_cut},
        BrokenAnswer{"empty_reply", "", FailureClass::stream_cut},
        BrokenAnswer{"interim_only", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
                     FailureClass::stream_cut},
        BrokenAnswer{"no_done_then_close",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                     "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n",
                     FailureClass::stream_cut},
        // A header that never ends: libcurl 7.88 says "Out of memory", the built-in client "header limit
        // exceeded"; both class other.
        BrokenAnswer{"endless_header", "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(200 * 1024, 'a'),
                     FailureClass::other},
        BrokenAnswer{"not_http", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\r\n", FailureClass::other},
        BrokenAnswer{"malformed_event",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                     "data: {not json\n\ndata: [DONE]\n\n",
                     FailureClass::malformed_event}),
    [](const testing::TestParamInfo<BrokenAnswer>& param_info) { return std::string(param_info.param.name); });

// A header block longer than the 16 KiB receive buffer: the buffer grows (twice here) and keeps what it
// had, so the answer reads as libcurl reads it.
TEST(FastHttp, AHeaderLargerThanTheReceiveBufferIsReadWhole) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Pad: " + std::string(40 * 1024, 'p') +
                          "\r\nConnection: close\r\n\r\ndata: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n"
                          "data: {\"choices\":[{\"index\":0,\"text\":\"b\"}]}\n\ndata: [DONE]\n\n",
                      4096);
  const auto phase = test::iterations_phase(2, 1);
  const RunResult fast = run_with(scenario::HttpClient::automatic, server.url(), test::test_scenario(), phase);
  const RunResult curl = run_with(scenario::HttpClient::curl, server.url(), test::test_scenario(), phase);
  EXPECT_EQ(fast.http_client, "built-in HTTP/1.1");
  EXPECT_EQ(fast.phases[0].ok, 2u) << to_json(fast.phases[0])["failure_examples"].dump();
  EXPECT_EQ(fast.phases[0].output_tokens_total, 4u);
  EXPECT_EQ(figures(fast.phases[0]), figures(curl.phases[0]));
}

// A loop and a built-in client of its own, for a test that drives them itself (client null: `error`).
struct OwnClient {
  std::unique_ptr<CurlMulti> loop;
  std::unique_ptr<FastHttp> client;
  std::string error;
};

OwnClient own_client(const TransferSettings& settings) {
  OwnClient own;
  const auto choice = choose_http_engine(scenario::HttpClient::automatic, settings, no_env);
  if (!choice.fast) {
    own.error = choice.reason;
    return own;
  }
  auto loop = CurlMulti::create({});
  if (!loop) {
    own.error = loop.error();
    return own;
  }
  own.loop = std::move(*loop);
  auto client = FastHttp::create(choice.target, settings, *own.loop, 0);
  if (!client) {
    own.error = client.error();
    return own;
  }
  own.client = std::move(*client);
  return own;
}

// The sink of a test that drives the loop itself: which request finished, and how.
class Done final : public TransferSink {
 public:
  void on_transfer_done(RequestState& request, CURLcode code) override {
    finished = &request;
    result = code;
  }
  // Runs the loop until a request finished (at most 5 s).
  void wait(CurlMulti& loop) {
    const TimePoint give_up = Clock::now() + std::chrono::seconds(5);
    while (!result && Clock::now() < give_up) {
      loop.wait_and_process(Clock::now() + std::chrono::milliseconds(50), *this);
    }
  }
  RequestState* finished = nullptr;
  std::optional<CURLcode> result;
};

// SideTransfers::may_pause (engine.coalesce): while a connection is connecting or has request bytes
// left to write, the loop must not pause (its progress carries no stamp: a pause would hold the request
// back); once every request is out and only reads are left, it may.
TEST(FastHttp, TheLoopMayPauseOnlyOnceEveryRequestIsOut) {
  CannedServer server(test::sse_response("data: [DONE]\n\n"));
  const TransferSettings settings = settings_for(server.url() + "/v1/completions");
  OwnClient own = own_client(settings);
  ASSERT_TRUE(own.client) << own.error;
  auto& loop = own.loop;
  auto& fast = own.client;
  auto state = RequestState::create(settings);
  ASSERT_TRUE(state) << state.error();
  Done done;
  EXPECT_TRUE(fast->may_pause());
  for (int request = 0; request < 2; ++request) {  // a new connection, then the kept-alive one
    SCOPED_TRACE(request);
    (*state)->body() = R"({"prompt":"x"})";
    (*state)->begin(nullptr, Clock::now(), Clock::now(), nullptr);
    done.result.reset();
    fast->start(**state);
    // Loopback: the new connection's handshake ran inside connect() and the request went out in
    // start() (a connect still in progress: AConnectInProgressKeepsTheLoopFromPausing).
    EXPECT_EQ(fast->out_watchers(), 0u);
    EXPECT_TRUE(fast->may_pause());
    done.wait(*loop);
    ASSERT_EQ(done.result, CURLE_OK);
    EXPECT_EQ(fast->out_watchers(), 0u);
    EXPECT_TRUE(fast->may_pause());
  }
  loop->detach();
}

// A loopback listener that answers nothing; the test accepts on it itself (first_bytes). With
// `backlog` 0 and one connection queued unaccepted (test::accepts_connections), the kernel drops the
// next SYNs, so a connect to it stays in progress.
class Listener {
 public:
  explicit Listener(int backlog) : m_fd(llmd::test::bind_loopback(m_port)) { ::listen(m_fd, backlog); }
  ~Listener() {
    for (const int fd : m_accepted) {
      ::close(fd);
    }
    ::close(m_fd);
  }
  std::uint16_t port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  // What the next connection sent within `wait` ("" if none came), read without running any loop.
  std::string first_bytes(std::chrono::milliseconds wait) {
    pollfd listening{m_fd, POLLIN, 0};
    if (::poll(&listening, 1, static_cast<int>(wait.count())) != 1) {
      return "";
    }
    const int fd = ::accept(m_fd, nullptr, nullptr);
    m_accepted.push_back(fd);
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(wait.count())) != 1) {
      return "";
    }
    char bytes[4096];
    const ssize_t got = ::recv(fd, bytes, sizeof(bytes), 0);
    return got > 0 ? std::string(bytes, static_cast<std::size_t>(got)) : "";
  }

 private:
  std::uint16_t m_port = 0;  // before m_fd: bind_loopback sets it
  int m_fd = -1;
  std::vector<int> m_accepted;
};

// A request slot ready to start: body {"prompt":"x"}, begun now (null, with a failure, if none).
std::unique_ptr<RequestState> ready_request(const TransferSettings& settings) {
  auto state = RequestState::create(settings);
  if (!state) {
    ADD_FAILURE() << state.error();
    return nullptr;
  }
  (*state)->body() = R"({"prompt":"x"})";
  (*state)->begin(nullptr, Clock::now(), Clock::now(), nullptr);
  return std::move(*state);
}

// On loopback a non-blocking connect() has finished the handshake when it returns: the request goes
// out from start() itself, before the loop ever waits (no EPOLLOUT round, no wake-up).
TEST(FastHttp, ALoopbackHandshakeDoneAtConnectSendsTheRequestAtOnce) {
  Listener server(16);
  const TransferSettings settings = settings_for(server.url() + "/v1/completions");
  OwnClient own = own_client(settings);
  ASSERT_TRUE(own.client) << own.error;
  const auto state = ready_request(settings);
  ASSERT_NE(state, nullptr);
  own.client->start(*state);
  EXPECT_EQ(own.client->out_watchers(), 0u);
  const std::string request = server.first_bytes(2s);  // the loop has not run
  EXPECT_THAT(request, testing::StartsWith("POST /v1/completions HTTP/1.1\r\n"));
  EXPECT_THAT(request, testing::EndsWith("\r\n\r\n{\"prompt\":\"x\"}"));
  own.client->cancel(*state);
  own.loop->detach();
}

// SideTransfers::may_pause: a connect still in progress (the listener's queue is full, so its SYN is
// dropped) keeps the loop from pausing, and EPOLLOUT is watched for it; once it is gone, the loop may.
TEST(FastHttp, AConnectInProgressKeepsTheLoopFromPausing) {
  Listener server(0);
  ASSERT_TRUE(llmd::test::accepts_connections(server.port()));  // queued, never accepted: the queue is full
  const TransferSettings settings = settings_for(server.url() + "/v1/completions");
  OwnClient own = own_client(settings);
  ASSERT_TRUE(own.client) << own.error;
  const auto state = ready_request(settings);
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(own.client->may_pause());
  own.client->start(*state);
  EXPECT_EQ(own.client->out_watchers(), 1u);  // connecting: EPOLLOUT says when
  EXPECT_FALSE(own.client->may_pause());
  own.client->cancel(*state);
  EXPECT_EQ(own.client->out_watchers(), 0u);
  EXPECT_TRUE(own.client->may_pause());
  own.loop->detach();
}

// A slot of the built-in client carries no libcurl easy handle (~5.5 KiB zeroed by curl_easy_init,
// about half the client's memory per stream at 1,000 streams): the handles a run makes (libcurl's
// multi handle keeps one of its own; one slot checks the URL with libcurl before the first request)
// do not grow with its concurrency, where libcurl's transfer path makes one per slot.
TEST(FastHttp, ItsSlotsCarryNoLibcurlHandle) {
  auto config = test::fast_sim_config(0.002);
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 4;
  const auto handles_for = [&](scenario::HttpClient client, std::size_t vus) {
    const std::size_t before = test::g_easy_handles;
    const RunResult result = run_with(client, fleet.url(), scenario, test::iterations_phase(60, vus));
    EXPECT_EQ(result.phases[0].ok, 60u);
    EXPECT_EQ(result.http_client, client == scenario::HttpClient::curl ? "libcurl" : "built-in HTTP/1.1");
    return test::g_easy_handles - before;
  };
  const std::size_t fast_one = handles_for(scenario::HttpClient::automatic, 1);
  const std::size_t fast_twenty = handles_for(scenario::HttpClient::automatic, 20);
  const std::size_t curl_one = handles_for(scenario::HttpClient::curl, 1);
  const std::size_t curl_twenty = handles_for(scenario::HttpClient::curl, 20);
  EXPECT_EQ(fast_twenty, fast_one);
  EXPECT_LE(fast_one, 2u);
  EXPECT_GE(curl_twenty, curl_one + 19) << "libcurl's path: one handle per slot";

  // The slot itself: no handle, and a request runs through it as through any other.
  CannedServer server(test::sse_response("data: {\"choices\":[{\"text\":\"hi\"}]}\n\ndata: [DONE]\n\n"));
  TransferSettings settings = settings_for(server.url() + "/v1/completions");
  settings.libcurl_handle = false;
  OwnClient own = own_client(settings);
  ASSERT_TRUE(own.client) << own.error;
  const std::size_t before = test::g_easy_handles;
  auto state = RequestState::create(settings);
  ASSERT_TRUE(state) << state.error();
  EXPECT_EQ((*state)->easy(), nullptr);
  EXPECT_EQ(test::g_easy_handles - before, 0u);
  Done done;
  (*state)->body() = R"({"prompt":"x"})";
  (*state)->begin(nullptr, Clock::now(), Clock::now(), nullptr);
  own.client->start(**state);
  done.wait(*own.loop);
  ASSERT_EQ(done.result, CURLE_OK);
  EXPECT_EQ(done.finished, state->get());
  (*state)->end(*done.result, Clock::now());
  const TransferFacts facts = (*state)->facts();
  EXPECT_EQ(facts.http_status, 200);
  const Outcome outcome = classify(facts);
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(outcome.output_tokens, 1);
  own.loop->detach();
}

TEST(FastHttp, RefusedConnectionsAreConnectFailures) {
  const std::string url = "http://127.0.0.1:" + std::to_string(test::closed_port());
  const RunResult result = run_with(scenario::HttpClient::automatic, url, test::test_scenario(), test::iterations_phase(3, 1));
  EXPECT_EQ(result.http_client, "built-in HTTP/1.1");
  EXPECT_EQ(result.phases[0].failures(FailureClass::connect), 3u);
  EXPECT_THAT(result.phases[0].failure_examples[static_cast<std::size_t>(FailureClass::connect)].value_or(""),
              HasSubstr("Failed to connect to 127.0.0.1 port"));
}

// A server that keeps a connection after its answer only to close it right away: the next request
// finds it closed, before any byte of a response, and goes again on a fresh connection.
TEST(FastHttp, AKeptAliveConnectionClosedByTheServerIsRetriedOnAFreshOne) {
  const std::string events = "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\ndata: [DONE]\n\n";
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " +
                      std::to_string(events.size()) + "\r\n\r\n" + events);
  const RunResult result =
      run_with(scenario::HttpClient::automatic, server.url(), test::test_scenario(), test::iterations_phase(20, 1));
  EXPECT_EQ(result.phases[0].ok, 20u) << to_json(result.phases[0])["failure_examples"].dump();
  EXPECT_EQ(server.requests(), 20u);
  EXPECT_EQ(result.phases[0].connections_opened, 20u);
}

// A server that accepts and never answers: the request timeout ends the request, as libcurl's does.
TEST(FastHttp, SilentServerTimesOut) {
  Listener server(16);
  auto scenario = test::test_scenario();
  scenario.target.request_timeout = 200ms;
  const RunResult result =
      run_with(scenario::HttpClient::automatic, server.url(), scenario, test::iterations_phase(2, 2));
  EXPECT_EQ(result.phases[0].failures(FailureClass::timeout), 2u) << to_json(result.phases[0])["failure_examples"].dump();
  EXPECT_THAT(result.phases[0].failure_examples[static_cast<std::size_t>(FailureClass::timeout)].value_or(""),
              HasSubstr("Operation timed out after"));
}

}  // namespace
}  // namespace llmd::engine
