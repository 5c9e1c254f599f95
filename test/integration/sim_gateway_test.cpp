// `llmd-bench sim` end to end through its gateway: Host enforcement, prefix-aware vs round-robin
// routing measured on the pods' own /metrics, streaming pass-through, session stickiness.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/sim_process.hpp"

using llmd::test::http_get;
using llmd::test::http_post;
using llmd::test::SimProcess;
using llmd::test::words;
using nlohmann::json;

namespace {

const std::string k_model = "meta-llama/Llama-3.2-3B-Instruct";

std::string completion(const std::string& prompt, int max_tokens, bool stream = false) {
  return json{{"model", k_model}, {"prompt", prompt}, {"max_tokens", max_tokens}, {"stream", stream}}.dump();
}

// Sends `n` requests, one after another, sharing a 1,000-token prefix with a unique suffix each.
void send_shared_prefix_loop(const SimProcess& sim, int n) {
  const std::string prefix = words(1000);
  for (int i = 0; i < n; ++i) {
    auto result = http_post(sim.gateway() + "/v1/completions", completion(prefix + " unique" + std::to_string(i) + " tail", 2));
    ASSERT_EQ(result.status, 200) << result.body;
  }
}

}  // namespace

TEST(SimGateway, EnforcesTheVirtualHostLikeEnvoy) {
  SimProcess sim({"--pods", "2", "--host", "llm-d.demo.local", "--time-scale", "0.01"});
  const auto body = completion("hello world", 2);
  auto right = http_post(sim.gateway() + "/v1/completions", body, {"Host: llm-d.demo.local"});
  EXPECT_EQ(right.status, 200) << right.body;
  auto with_port = http_post(sim.gateway() + "/v1/completions", body, {"Host: LLM-D.demo.local:80"});
  EXPECT_EQ(with_port.status, 200) << with_port.body;
  auto wrong = http_post(sim.gateway() + "/v1/completions", body);  // Host: 127.0.0.1:PORT
  EXPECT_EQ(wrong.status, 404);
  EXPECT_EQ(wrong.body, "");
  EXPECT_EQ(sim.counters(0).requests + sim.counters(1).requests, 2) << "the 404 must not reach a pod";
}

// The llm-d / Gateway API Inference Extension endpoint picker answers a completion or chat POST
// without "model" with 400 "model not found in request body" (llm-d-router: the OpenAI error
// envelope); GET /v1/models passes through to a pod. --gateway-allow-no-model passes such a POST on
// to a pod, which serves its own model (plain vLLM behind a Service).
TEST(SimGateway, RejectsAGenerationWithoutModelLikeTheEndpointPicker) {
  SimProcess sim({"--pods", "2", "--time-scale", "0.01"});
  for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
    const std::string body = std::string(path) == "/v1/completions"
                                 ? R"({"prompt":"hello world","max_tokens":2})"
                                 : R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2})";
    auto rejected = http_post(sim.gateway() + path, body);
    EXPECT_EQ(rejected.status, 400) << path;
    EXPECT_EQ(rejected.headers["content-type"], "application/json");
    EXPECT_EQ(json::parse(rejected.body),
              json::parse(R"({"error":{"message":"model not found in request body","type":"invalid_request_error","code":400}})"));
  }
  EXPECT_EQ(sim.counters(0).requests + sim.counters(1).requests, 0) << "the 400 must not reach a pod";
  auto models = http_get(sim.gateway() + "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], k_model);
  EXPECT_EQ(http_post(sim.gateway() + "/v1/completions", completion("hello world", 2)).status, 200);

  SimProcess lenient({"--pods", "1", "--time-scale", "0.01", "--gateway-allow-no-model"});
  auto served = http_post(lenient.gateway() + "/v1/completions", R"({"prompt":"hello world","max_tokens":2})");
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(json::parse(served.body)["model"], k_model);
}

TEST(SimGateway, PrefixRoutingKeepsASharedPrefixOnOnePodWithHighHitRate) {
  SimProcess sim({"--pods", "4", "--route", "prefix", "--time-scale", "0.01"});
  send_shared_prefix_loop(sim, 20);
  int serving = -1;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    const auto counters = sim.counters(i);
    if (counters.queries_tokens > 0) {
      ASSERT_EQ(serving, -1) << "more than one pod got queries";
      serving = static_cast<int>(i);
      EXPECT_EQ(counters.requests, 20);
      // 20 prompts of 1,002 tokens; the 19 after the first hit 62 full blocks (992 tokens).
      EXPECT_EQ(counters.queries_tokens, 20 * 1002);
      EXPECT_EQ(counters.hits_tokens, 19 * 992);
      EXPECT_GE(counters.hits_tokens / counters.queries_tokens, 0.90);
    } else {
      EXPECT_EQ(counters.requests, 0) << "pod " << i;
    }
  }
  EXPECT_NE(serving, -1);
}

TEST(SimGateway, RoundRobinSpreadsTrafficAndLowersTheHitRate) {
  SimProcess sim({"--pods", "4", "--route", "round-robin", "--time-scale", "0.01"});
  send_shared_prefix_loop(sim, 20);
  double queries = 0;
  double hits = 0;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    const auto counters = sim.counters(i);
    EXPECT_EQ(counters.requests, 5) << "pod " << i;
    queries += counters.queries_tokens;
    hits += counters.hits_tokens;
  }
  // Each pod misses once (4 misses of 20) instead of once in all: 16 x 992 / 20,060.
  EXPECT_EQ(hits, 16 * 992);
  EXPECT_EQ(queries, 20 * 1002);
  EXPECT_LT(hits / queries, 0.90);
}

namespace {

// What arrives on `fd` until nothing more comes for `quiet_ms`.
std::string read_until_quiet(int fd, int quiet_ms) {
  std::string got;
  char buffer[4096];
  pollfd ready{fd, POLLIN, 0};
  while (::poll(&ready, 1, quiet_ms) > 0) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      break;
    }
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

// A relayed stream ends with one chunked terminator and nothing after it, so a kept-alive connection
// carries the next request (it once ended with two: 5 stray bytes in front of the next response).
TEST(SimGateway, ARelayedStreamEndsWithOneTerminatorAndTheConnectionServesTheNextRequest) {
  SimProcess sim({"--pods", "1", "--inter-token-ms", "1", "--prefill-base-ms", "1", "--prefill-per-token-us", "0"});
  const std::string gateway = sim.gateway();
  const auto port = static_cast<std::uint16_t>(std::stoi(gateway.substr(gateway.rfind(':') + 1)));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string body = completion("stream me please", 3, true);
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    const std::string response = read_until_quiet(fd, 300);
    EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << "round " << round << ": " << response.substr(0, 40);
    EXPECT_NE(response.find("Transfer-Encoding: chunked"), std::string::npos);
    EXPECT_EQ(count_of(response, "\r\n0\r\n\r\n"), 1u) << "round " << round;
    EXPECT_EQ(response.substr(response.size() - 5), "0\r\n\r\n") << "bytes after the last chunk, round " << round;
  }
  ::close(fd);
}

TEST(SimGateway, StreamsEventsAsTheyAreGeneratedNotAsOneBlob) {
  // 6 tokens 30 ms apart (time scale 1): the client must see them arrive over >= 100 ms in pieces.
  SimProcess sim({"--pods", "1", "--inter-token-ms", "30", "--prefill-base-ms", "1", "--prefill-per-token-us", "0"});
  auto result = http_post(sim.gateway() + "/v1/completions", completion("stream me please", 6, true));
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_THAT(result.headers["content-type"], testing::StartsWith("text/event-stream"));
  ASSERT_GE(result.pieces.size(), 6u) << "the gateway buffered the stream";
  const double span = result.pieces.back().first - result.pieces.front().first;
  EXPECT_GE(span, 0.100) << "events arrived within " << span << " s";
  EXPECT_NE(result.body.find("data: [DONE]"), std::string::npos);
  std::size_t events = 0;
  for (std::size_t at = result.body.find("data: "); at != std::string::npos; at = result.body.find("data: ", at + 1)) {
    ++events;
  }
  EXPECT_EQ(events, 7u);  // 6 tokens + [DONE]
}

TEST(SimGateway, SessionRoutingIsStickyPerSessionHeader) {
  SimProcess sim({"--pods", "4", "--route", "session", "--time-scale", "0.01"});
  for (int round = 0; round < 3; ++round) {
    for (int session = 0; session < 4; ++session) {
      auto result = http_post(sim.gateway() + "/v1/completions", completion("hi there " + std::to_string(round), 1),
                              {"x-session-id: user-" + std::to_string(session)});
      ASSERT_EQ(result.status, 200);
    }
  }
  // 4 sessions, least-loaded placement: each session keeps one pod, so each pod served 3 requests
  // or a multiple of 3 (two sessions may share a pod when placement ties break the same way).
  double total = 0;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    const double requests = sim.counters(i).requests;
    EXPECT_EQ(static_cast<int>(requests) % 3, 0) << "pod " << i << " served a session only partly";
    total += requests;
  }
  EXPECT_EQ(total, 12);
}

// --session-header: route session keys on that header; the default x-session-id is then ignored
// (those requests are placed per request, least-loaded: they spread over the pods).
TEST(SimGateway, SessionRoutingKeysOnTheConfiguredHeader) {
  SimProcess sim({"--pods", "4", "--route", "session", "--session-header", "x-user", "--time-scale", "0.01"});
  for (int round = 0; round < 4; ++round) {
    auto result = http_post(sim.gateway() + "/v1/completions", completion("hi there " + std::to_string(round), 1),
                            {"X-User: alice", "x-session-id: bob-" + std::to_string(round)});
    ASSERT_EQ(result.status, 200);
  }
  std::size_t pods_used = 0;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    const double requests = sim.counters(i).requests;
    EXPECT_TRUE(requests == 0 || requests == 4) << "pod " << i << " served alice's session only partly";
    pods_used += requests > 0 ? 1 : 0;
  }
  EXPECT_EQ(pods_used, 1u);
}

TEST(SimGateway, AdminEndpointRestartsAPodAndItsCountersStartOver) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  send_shared_prefix_loop(sim, 2);
  EXPECT_GT(sim.counters(0).queries_tokens, 0);
  auto restart = llmd::test::http_request("POST", sim.gateway() + "/admin/pods/0/restart");
  ASSERT_EQ(restart.status, 200) << restart.body;
  EXPECT_EQ(json::parse(restart.body)["restarts"], 1);
  const auto after = sim.counters(0);
  EXPECT_EQ(after.queries_tokens, 0);
  EXPECT_EQ(after.requests, 0);
  auto missing = llmd::test::http_request("POST", sim.gateway() + "/admin/pods/7/restart");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, testing::HasSubstr("no pod \\\"7\\\""));
}
