// Hostile input that must never crash `llmd-bench` (issue 10): bytes that are not UTF-8 from the
// user and from servers, and server JSON of the wrong shape. Each run must end with its exit code
// and every output written (exit 134 from an uncaught nlohmann exception wrote nothing).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/canned_server.hpp"
#include "support/child_process.hpp"
#include "util/json_text.hpp"

using llmd::test::CannedServer;
using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

constexpr const char* k_fffd = "\xEF\xBF\xBD";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file is well-formed UTF-8 XML (boost's parser reads it back).
void expect_wellformed_junit(const fs::path& path) {
  const std::string xml = read_text(path);
  ASSERT_FALSE(xml.empty()) << path;
  EXPECT_EQ(llmd::util::valid_utf8(xml), xml) << "JUnit is not UTF-8";
  std::istringstream in(xml);
  boost::property_tree::ptree tree;
  EXPECT_NO_THROW(boost::property_tree::read_xml(in, tree)) << xml;
}

// A pod exposition whose model_name label value holds the byte 0xFF.
std::string metrics_with_bad_label() {
  return "# TYPE vllm:prefix_cache_queries_total counter\n"
         "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"lla\xFFma\"} 100\n"
         "# TYPE vllm:prefix_cache_hits_total counter\n"
         "vllm:prefix_cache_hits_total{engine=\"0\",model_name=\"lla\xFFma\"} 50\n";
}

}  // namespace

TEST(HostileInput, InvalidUtf8FromTheUserIsReplacedInEveryOutput) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "name: \"cache\xFFhit\"\nrequests: {max_tokens: 2}\n"
                                                   "load:\n  - {name: \"lo\xFFop\", executor: iterations, iterations: 2, vus: 1}\n"
                                                   "sim: {timing: {time_scale: 0.01}}\n");
  // --no-preflight: the model name's 0xFF goes out as U+FFFD (valid JSON), which the simulator
  // does not serve, so the preflight would stop the run (exit 3) before any output has a phase.
  auto out = llmd::test::run_bench({scenario.string(), "-q", "--no-preflight", "--model", "m\xFFm", "--host", "h\xFF", "--out",
                                    "json=" + (dir / "r.json").string(), "--out", "junit=" + (dir / "r.xml").string(),
                                    "--tekton-results", (dir / "tekton").string()});
  EXPECT_NE(out.exit_code, 134) << out.err;
  EXPECT_THAT(out.exit_code, testing::AnyOf(0, 1)) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["scenario"]["name"], std::string("cache") + k_fffd + "hit");
  EXPECT_EQ(result["model"], std::string("m") + k_fffd + "m");
  EXPECT_EQ(result["run"]["phases"][0]["name"], std::string("lo") + k_fffd + "op");
  expect_wellformed_junit(dir / "r.xml");
  EXPECT_FALSE(read_text(dir / "tekton" / "verdict").empty());
}

TEST(HostileInput, InvalidUtf8FromServersIsReplacedInRunDiffAndScrapeJson) {
  const auto dir = scratch_dir();
  // A 200 answer whose Content-Type holds 0xFF (quoted in the failure message), and pods whose
  // metrics label values hold 0xFF (listed in model_names_seen).
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Type: text/pl\xFF" "ain\r\nConnection: close\r\n\r\nnot a stream");
  fs::create_directories(dir / "dumps");
  write_file(dir / "dumps" / "pod-\xFF.prom", metrics_with_bad_label());
  const auto scenario = write_file(dir / "s.yaml", "target: {base_url: \"" + server.url() + "\"}\n"
                                   "model: m\n"
                                   "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 2, vus: 1}\n"
                                   "cache: {files: [\"" + (dir / "dumps" / "pod-\xFF.prom").string() + "\"]}\n");
  auto out = llmd::test::run_bench({scenario.string(), "-q", "--no-preflight", "--out", "json=" + (dir / "r.json").string(),
                                    "--out", "junit=" + (dir / "r.xml").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  EXPECT_THAT(phase_total(result)["failure_examples"]["malformed_event"].get<std::string>(),
              HasSubstr(R"(Content-Type "text/pl\xffain")"));  // quoted server bytes are escaped
  EXPECT_EQ(result["cache"]["pods"][0]["model_names_seen"][0], std::string("lla") + k_fffd + "ma");
  expect_wellformed_junit(dir / "r.xml");

  const auto dumps = (dir / "dumps").string();
  auto diff = llmd::test::run_to_completion({LLMD_BENCH_BINARY, "diff", dumps, dumps, "--json"}, std::chrono::seconds(30));
  EXPECT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_EQ(nlohmann::json::parse(diff.out)["pods"][0]["model_names_seen"][0], std::string("lla") + k_fffd + "ma");
  auto scrape = llmd::test::run_to_completion({LLMD_BENCH_BINARY, "scrape", "--files", dumps, "--json"},
                                              std::chrono::seconds(30));
  EXPECT_EQ(scrape.exit_code, 0) << scrape.err;
  const auto scraped = nlohmann::json::parse(scrape.out, nullptr, false);
  EXPECT_FALSE(scraped.is_discarded()) << scrape.out;
}

TEST(HostileInput, ANonStreamedAnswerWithAStringTokenCountFailsThatRequestNotTheRun) {
  const std::string body = R"({"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"index":0,"text":" hi",)"
                           R"("finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":"5"}})";
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "target: {base_url: \"" + server.url() + "\"}\n"
                                   "model: m\n"
                                   "requests: {max_tokens: 2, stream: false}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 3, vus: 1}\n");
  auto out = llmd::test::run_bench({scenario.string(), "-q", "--no-preflight", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  const auto total = phase_total(read_json(dir / "r.json"));
  EXPECT_EQ(total["failures"]["malformed_event"], 3);
  EXPECT_THAT(total["failure_examples"]["malformed_event"].get<std::string>(),
              HasSubstr("\"usage\" has no non-negative integer \"completion_tokens\""));
}

// An exception that escapes a stage is a defect: the run says so, exits 3 and still writes what it
// gathered (it used to end in std::terminate, exit 134, nothing written). LLMD_BENCH_INJECT_FAULT
// throws as the after-snapshot stage starts, once the measured phases are done.
TEST(HostileInput, AnInternalErrorExits3AndStillWritesTheResults) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 3, vus: 1}\n"
                                   "sim: {timing: {time_scale: 0.01}}\n");
  ::setenv("LLMD_BENCH_INJECT_FAULT", "throw-scrape-after", 1);
  auto out = llmd::test::run_bench({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string(),
                                    "--tekton-results", (dir / "tekton").string()});
  ::unsetenv("LLMD_BENCH_INJECT_FAULT");
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: internal error: injected fault at scrape-after (LLMD_BENCH_INJECT_FAULT)"));
  EXPECT_THAT(out.out, HasSubstr("verdict: ERROR"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_EQ(phase_total(result)["counts"]["ok"], 3);  // what was measured is kept
  EXPECT_EQ(read_text(dir / "tekton" / "verdict"), "error");
}

// The same in every stage of the pipeline (run/pipeline.hpp) that runs against the simulator: exit 3,
// the message naming the stage, a JSON result (schema-valid: the suite writes results) whose stages
// end with the one that failed, marked "internal error".
TEST(HostileInput, AnInternalErrorInAnyStageExits3AndWritesTheResult) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "requests: {max_tokens: 2}\n"
                                   "warmup: {executor: iterations, iterations: 1, vus: 1}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 2, vus: 1}\n"
                                   "sim: {timing: {time_scale: 0.01}}\n");
  const std::pair<const char*, const char*> stages[] = {
      {"simulator", "simulator"},         {"target", "target"}, {"cache-source", "cache source"}, {"calibrate", "calibrate"},
      {"warm-up", "warm-up"},             {"scrape-before", "scrape before"}, {"load", "load"},
      {"diagnostics", "diagnostics"},     {"judge", "judge"}};
  for (const auto& [id, name] : stages) {
    SCOPED_TRACE(id);
    const auto json_path = dir / (std::string(id) + ".json");
    ::setenv("LLMD_BENCH_INJECT_FAULT", ("throw-" + std::string(id)).c_str(), 1);
    auto out = llmd::test::run_bench({scenario.string(), "-q", "--out", "json=" + json_path.string()});
    ::unsetenv("LLMD_BENCH_INJECT_FAULT");
    EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
    EXPECT_THAT(out.err, HasSubstr(std::string("llmd-bench: internal error: injected fault at ") + id));
    const auto result = read_json(json_path);
    EXPECT_EQ(result["verdict"], "error");
    ASSERT_FALSE(result["stages"].empty());
    EXPECT_EQ(result["stages"].back()["name"], name);
    EXPECT_EQ(result["stages"].back()["detail"], "internal error");
    EXPECT_THAT(result["errors"].dump(), HasSubstr(std::string("internal error: injected fault at ") + id));
  }
}

// `llmd-bench run … | true`: the reader is gone before the summary is printed. The run used to die
// of SIGPIPE (exit 141); now the result files are written first, printing stops quietly and the
// exit code is the verdict's.
TEST(HostileInput, AClosedStdoutPipeKeepsTheVerdictsExitCodeAndTheFiles) {
  const auto dir = scratch_dir();
  const auto json_path = (dir / "r.json").string();
  const auto tekton = (dir / "tekton").string();
  const std::string command = std::string("'") + LLMD_BENCH_BINARY + "' run '" + LLMD_SOURCE_DIR +
                              "/scenarios/cache-hit.yaml' --out 'json=" + json_path + "' --tekton-results '" + tekton +
                              "' | true; exit ${PIPESTATUS[0]}";
  auto out = llmd::test::run_to_completion({"/bin/bash", "-c", command}, std::chrono::seconds(60));
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(read_json(json_path)["verdict"], "pass");
  EXPECT_EQ(read_text(dir / "tekton" / "verdict"), "pass");
}

// A pod whose /metrics never answers (a listening socket nobody accepts from): the before-snapshot
// waits up to its 10 s timeout. Ctrl-C twice used to be ignored until the scrape ended, and the
// after-snapshot ran anyway; now the scrape is cut, no request is sent, and the partial report is
// written (exit 130).
TEST(HostileInput, CtrlCTwiceCutsASlowBeforeSnapshot) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string silent = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/metrics";

  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 3, vus: 1}\n"
                                   "sim: {timing: {time_scale: 0.01}}\n");
  llmd::test::ChildProcess child({LLMD_BENCH_BINARY, "run", scenario.string(), "-q", "--cache-url", silent, "--out",
                                  "json=" + (dir / "r.json").string()});
  // Ctrl-C once the scrape has connected (a pending connection makes the listener readable). A fixed
  // 700 ms sleep was too short in a parallel AddressSanitizer run: the signal came before the snapshot.
  pollfd pending{.fd = listener, .events = POLLIN, .revents = 0};
  ASSERT_EQ(::poll(&pending, 1, 60'000), 1) << "the before-snapshot never connected: " << child.stderr_text();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  child.send_signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  child.send_signal(SIGINT);
  const auto code = child.wait(std::chrono::seconds(5));
  ::close(listener);
  ASSERT_TRUE(code.has_value()) << "the scrape was not cut: " << child.stderr_text();
  EXPECT_EQ(*code, 130) << child.stdout_text() << child.stderr_text();
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "interrupted");
  EXPECT_TRUE(result["run"].is_null()) << "no measured request may be sent after Ctrl-C";
  EXPECT_THAT(result["notes"].dump(), HasSubstr("during the before-snapshot"));
}

// Credentials in a URL (`--target http://alice:pw@…`) and a bearer token that the server echoes in
// its 401 body used to be printed in the summary and stored in the JSON and JUnit files.
TEST(HostileInput, UrlCredentialsAndAnEchoedBearerTokenAreNeverPrintedOrStored) {
  const std::string token = "sk-test-0123456789abcdef";
  const std::string body = R"({"error":{"message":"invalid token )" + token + R"(","type":"AuthenticationError","code":401}})";
  CannedServer server("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto dir = scratch_dir();
  const std::string target = "http://alice:s3cr3t-pw@" + server.url().substr(7);
  const auto scenario = write_file(dir / "s.yaml", "target: {api_key_env: LLMD_TEST_TOKEN}\n"
                                   "model: m\n"
                                   "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 2, vus: 1}\n");
  ::setenv("LLMD_TEST_TOKEN", token.c_str(), 1);
  auto out = llmd::test::run_bench({scenario.string(), "--target", target, "--no-preflight", "--out", "json=" + (dir / "r.json").string(),
                                    "--out", "junit=" + (dir / "r.xml").string()});
  ::unsetenv("LLMD_TEST_TOKEN");
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_NE(server.last_request().find("Authorization: Bearer " + token), std::string::npos);  // it was sent
  for (const std::string& text : {out.out, out.err, read_text(dir / "r.json"), read_text(dir / "r.xml")}) {
    EXPECT_EQ(text.find("s3cr3t-pw"), std::string::npos) << text;
    EXPECT_EQ(text.find("alice"), std::string::npos) << text;
    EXPECT_EQ(text.find(token), std::string::npos) << text;
  }
  EXPECT_THAT(out.out, HasSubstr("http://***@127.0.0.1:"));
  EXPECT_THAT(out.out, HasSubstr("HTTP 401: invalid token ***"));

  // With the preflight (the default), the 401 is diagnosed before anything is measured: exit 3,
  // the variable named, the token still nowhere.
  const std::size_t before = server.requests();
  ::setenv("LLMD_TEST_TOKEN", token.c_str(), 1);
  auto diagnosed = llmd::test::run_bench({scenario.string(), "--target", target, "-q", "--out",
                                          "json=" + (dir / "p.json").string()});
  ::unsetenv("LLMD_TEST_TOKEN");
  EXPECT_EQ(diagnosed.exit_code, 3) << diagnosed.out << diagnosed.err;
  EXPECT_EQ(server.requests() - before, 1u) << "the preflight request only";
  EXPECT_THAT(diagnosed.out, HasSubstr("wrong or missing API key (api_key_env LLMD_TEST_TOKEN)"));
  const auto preflighted = read_json(dir / "p.json");
  EXPECT_EQ(preflighted["verdict"], "error");
  EXPECT_TRUE(preflighted["run"].is_null()) << "nothing measured";
  for (const std::string& text : {diagnosed.out, diagnosed.err, read_text(dir / "p.json")}) {
    EXPECT_EQ(text.find(token), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cr3t-pw"), std::string::npos) << text;
  }
}

// A server message with terminal control sequences ("\u001b[2J" clears the screen, "\u001b]0;…\u0007"
// retitles the window) is quoted in the summary with the control characters shown, not sent.
TEST(HostileInput, ControlSequencesFromAServerAreShownNotSentToTheTerminal) {
  const std::string body = R"({"error":{"message":"boom\u001b[2J\u001b]0;pwned\u0007","type":"InternalServerError","code":500}})";
  CannedServer server("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "model: m\n"
                                   "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 1, vus: 1}\n");
  auto out = llmd::test::run_bench({scenario.string(), "--target", server.url(), "-q", "--no-preflight"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_EQ(out.out.find('\x1b'), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find('\x07'), std::string::npos) << out.out;
  EXPECT_THAT(out.out, HasSubstr(R"(HTTP 500: boom\x1b[2J\x1b]0;pwned\x07)"));
}

// A gateway that gzips the stream although no compression was asked for: "stream_cut after 0
// events" named the wrong cause. And a server that answers only "100 Continue": it was
// "HTTP 100: (empty body)".
TEST(HostileInput, CompressedStreamsAndInterimOnlyAnswersNameTheirCause) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "model: m\n"
                                   "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: iterations, iterations: 1, vus: 1}\n");
  CannedServer gzipped("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\n"
                       "Connection: close\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
  auto gz = llmd::test::run_bench({scenario.string(), "--target", gzipped.url(), "-q", "--no-preflight", "--out",
                                   "json=" + (dir / "gz.json").string()});
  EXPECT_EQ(gz.exit_code, 1) << gz.out << gz.err;
  EXPECT_THAT(phase_total(read_json(dir / "gz.json"))["failure_examples"]["malformed_event"].get<std::string>(),
              HasSubstr("unexpected Content-Encoding \"gzip\""));
  CannedServer interim("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
  auto only_100 = llmd::test::run_bench({scenario.string(), "--target", interim.url(), "-q", "--no-preflight", "--out",
                                         "json=" + (dir / "100.json").string()});
  EXPECT_EQ(only_100.exit_code, 1) << only_100.out << only_100.err;
  EXPECT_THAT(phase_total(read_json(dir / "100.json"))["failure_examples"]["stream_cut"].get<std::string>(),
              HasSubstr("no final response: only interim HTTP 100 responses"));
}

// A throttling gateway (429 + Retry-After: 1) and a dead target: closed-loop users retried at once
// (2 users: ~12,000 req/s of 429s, ~8,000 req/s of connect failures). They now wait as asked,
// resp. back off exponentially, and the summary says so.
TEST(HostileInput, ThrottledAndUnreachableTargetsAreNotHammered) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "model: m\n"
                                   "requests: {max_tokens: 2}\n"
                                   "load:\n  - {name: loop, executor: constant-vus, vus: 2, duration: 1500ms}\n");
  const std::string body = R"({"error":{"message":"rate limited","type":"RateLimitError","code":429}})";
  CannedServer throttling("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  auto throttled = llmd::test::run_bench({scenario.string(), "--target", throttling.url(), "-q", "--no-preflight", "--out",
                                          "json=" + (dir / "429.json").string()});
  EXPECT_EQ(throttled.exit_code, 1) << throttled.out << throttled.err;
  const auto t = phase_total(read_json(dir / "429.json"));
  EXPECT_LE(t["counts"]["completed"].get<int>(), 6);  // 2 users x (at 0 s, 1 s) (+ slack), not thousands
  EXPECT_GE(t["backoff"]["retry_after_waits"].get<int>(), 2);
  EXPECT_THAT(throttled.out, HasSubstr("after Retry-After"));

  const auto closed = llmd::test::closed_port();
  auto dead = llmd::test::run_bench({scenario.string(), "--target", "http://127.0.0.1:" + std::to_string(closed), "-q",
                                     "--no-preflight", "--out", "json=" + (dir / "dead.json").string()});
  EXPECT_EQ(dead.exit_code, 3) << dead.out << dead.err;  // nothing reached the target
  const auto d = phase_total(read_json(dir / "dead.json"));
  // Backoff 10, 20, 40, ... 640 ms: about 8 attempts per user in 1.5 s.
  EXPECT_LE(d["counts"]["completed"].get<int>(), 30);
  EXPECT_GE(d["backoff"]["connect_error_waits"].get<int>(), 8);
}
