// `llmd-bench run` over HTTP/2 and TLS end to end: the real binary against a local nginx serving one
// recorded vLLM completion stream on three loopback ports (h2c prior knowledge, h2 over TLS, HTTPS
// HTTP/1.1) with a self-signed certificate made by the openssl CLI. nginx's access log records the
// protocol of every request, so the tests prove which protocol llmd-bench actually spoke.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/local_services.hpp"

namespace fs = std::filesystem;
using llmd::test::accepts_connections;
using llmd::test::ChildProcess;
using llmd::test::find_tool;
using llmd::test::HeldPorts;
using llmd::test::run_to_completion;
using llmd::test::RunOutput;
using nlohmann::json;
using testing::HasSubstr;

namespace {

constexpr int k_requests = 6;
constexpr const char* k_model = "facebook/opt-125m";

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A streamed /v1/completions answer shaped like vLLM's: five text chunks (the last one with
// finish_reason "length"), the include_usage chunk with empty choices, then [DONE].
std::string recorded_completion_stream() {
  const std::vector<std::string> pieces = {" The", " quick", " brown", " fox", " jumps"};
  std::string body;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const bool last = i + 1 == pieces.size();
    const json chunk = {{"id", "cmpl-3f1c2a9e7b6d4c0a8e5f1b2c3d4e5f60"},
                        {"object", "text_completion"},
                        {"created", 1718000000},
                        {"model", k_model},
                        {"choices",
                         {{{"index", 0},
                           {"text", pieces[i]},
                           {"logprobs", nullptr},
                           {"finish_reason", last ? json("length") : json(nullptr)},
                           {"stop_reason", nullptr}}}}};
    body += "data: " + chunk.dump() + "\n\n";
  }
  const json usage = {{"id", "cmpl-3f1c2a9e7b6d4c0a8e5f1b2c3d4e5f60"},
                      {"object", "text_completion"},
                      {"created", 1718000000},
                      {"model", k_model},
                      {"choices", json::array()},
                      {"usage", {{"prompt_tokens", 12}, {"total_tokens", 17}, {"completion_tokens", 5}}}};
  body += "data: " + usage.dump() + "\n\n";
  body += "data: [DONE]\n\n";
  return body;
}

// One line of nginx's access log (log_format `proto` below).
struct AccessEntry {
  int port = 0;
  std::string protocol;  // $server_protocol: "HTTP/1.1", "HTTP/2.0"
  std::string request;   // $request, the client's request line: "POST /v1/completions HTTP/2.0"
  int status = 0;
};

std::vector<AccessEntry> parse_access_log(const fs::path& path) {
  std::vector<AccessEntry> entries;
  std::stringstream lines(read_text(path));
  for (std::string line; std::getline(lines, line);) {
    std::stringstream fields(line);
    AccessEntry entry;
    fields >> entry.port >> entry.protocol >> entry.status >> std::ws;
    std::getline(fields, entry.request);
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace

// One nginx per suite: starting it (and making the key) per test would only cost time.
class TlsHttp2 : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_error = start();
    if (!s_error.empty() && s_nginx) {
      s_nginx->send_signal(SIGTERM);
      s_nginx->wait(std::chrono::seconds(5));
    }
  }

  static void TearDownTestSuite() {
    if (s_nginx) {
      s_nginx->send_signal(SIGTERM);
      if (!s_nginx->wait(std::chrono::seconds(10))) {
        ADD_FAILURE() << "nginx did not stop on SIGTERM";
      }
      s_nginx.reset();
    }
    const auto* suite = testing::UnitTest::GetInstance()->current_test_suite();
    if (!s_dir.empty() && suite != nullptr && suite->Passed()) {
      std::error_code ignored;
      fs::remove_all(s_dir, ignored);  // kept when a test failed: the logs explain it
    }
  }

  // A missing tool fails every test (never skips): CI installs both, so a skip would hide a gap.
  void SetUp() override {
    if (!s_error.empty()) {
      FAIL() << s_error;
    }
  }

  // Starts nginx; returns why it could not (empty on success).
  static std::string start() {
    const auto nginx = find_tool("nginx", {"/usr/sbin", "/usr/local/sbin", "/sbin"});
    const auto openssl = find_tool("openssl", {"/usr/sbin", "/usr/local/bin"});
    if (nginx.empty() || openssl.empty()) {
      return std::string("the HTTP/2 and TLS tests need ") + (nginx.empty() ? "nginx " : "") +
             (openssl.empty() ? "openssl " : "") + "(not on PATH nor in /usr/sbin): run scripts/setup.sh";
    }
    s_dir = fs::temp_directory_path() / ("llmd-tls-http2-" + std::to_string(::getpid()));
    fs::remove_all(s_dir);
    fs::create_directories(s_dir / "www" / "v1");
    fs::create_directories(s_dir / "tmp");

    auto cert = run_to_completion({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                                   "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                                   (s_dir / "key.pem").string(), "-out", (s_dir / "cert.pem").string()},
                                  std::chrono::seconds(60));
    if (cert.exit_code != 0) {
      return "openssl req failed (exit " + std::to_string(cert.exit_code) + "): " + cert.err;
    }

    write_file(s_dir / "www" / "v1" / "completions", recorded_completion_stream());
    const HeldPorts held(3);  // until nginx listens on them
    const std::vector<int>& ports = held.ports();
    if (ports.size() != 3) {
      return "could not find 3 free ports on 127.0.0.1";
    }
    s_h2c_port = ports[0];
    s_h2_tls_port = ports[1];
    s_https_port = ports[2];
    write_file(s_dir / "nginx.conf", nginx_config());

    // -e: nginx opens its compiled-in error log before it reads the config; keep that in the dir too.
    s_nginx = std::make_unique<ChildProcess>(std::vector<std::string>{
        nginx, "-p", s_dir.string(), "-e", (s_dir / "startup-error.log").string(), "-c", (s_dir / "nginx.conf").string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (const int port : ports) {
      while (!accepts_connections(port)) {
        if (auto code = s_nginx->wait(std::chrono::milliseconds(0))) {
          return "nginx exited with " + std::to_string(*code) + ": " + s_nginx->stderr_text() +
                 read_text(s_dir / "startup-error.log") + read_text(s_dir / "error.log");
        }
        if (std::chrono::steady_clock::now() > deadline) {
          return "nginx did not accept connections on 127.0.0.1:" + std::to_string(port) + ": " +
                 read_text(s_dir / "error.log");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return {};
  }

  static std::string nginx_config() {
    const std::string dir = s_dir.string();
    // POST to a static file gets 405 from the static module; the error_page turns that into an
    // internal GET of the same URI, so the recorded stream is served with 200 (as in scripts/bench).
    // The mirror with mirror_request_body makes nginx read the whole request body before it answers:
    // the static module discards the body instead, and over HTTP/2 it then ends the stream with
    // RST_STREAM while the client may still be sending, which libcurl 7.88 reported as "Stream error
    // in the HTTP/2 framing layer" for about one run in five, though nginx had answered 200.
    const std::string location = "    root \"" + dir + "/www\";\n" +
                                 "    location = /v1/completions {\n"
                                 "      default_type \"text/event-stream; charset=utf-8\";\n"
                                 "      mirror /llmd-read-body;\n"
                                 "      mirror_request_body on;\n"
                                 "      error_page 405 =200 $uri;\n"
                                 "    }\n"
                                 "    location = /llmd-read-body { internal; return 204; }\n";
    std::string conf = "daemon off;\nmaster_process off;\nworker_processes 1;\n";
    conf += "pid \"" + dir + "/nginx.pid\";\n";
    conf += "error_log \"" + dir + "/error.log\" info;\n";
    conf += "events { worker_connections 256; }\n";
    conf += "http {\n";
    // $server_protocol is what the tests check: HTTP/2.0 only when h2 was really negotiated.
    // $request is the original request line ($request_method would show the error_page's GET).
    conf += "  log_format proto '$server_port $server_protocol $status $request';\n";
    conf += "  access_log \"" + dir + "/access.log\" proto;\n";
    // Debian's compiled-in temp paths are under /var/lib/nginx: keep everything in the scratch dir.
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      conf += std::string("  ") + temp + "_temp_path \"" + dir + "/tmp/" + temp + "\";\n";
    }
    conf += "  ssl_certificate \"" + dir + "/cert.pem\";\n";
    conf += "  ssl_certificate_key \"" + dir + "/key.pem\";\n";
    conf += "  server {\n    listen 127.0.0.1:" + std::to_string(s_h2c_port) + " http2;\n" + location + "  }\n";
    conf += "  server {\n    listen 127.0.0.1:" + std::to_string(s_h2_tls_port) + " ssl http2;\n" + location + "  }\n";
    conf += "  server {\n    listen 127.0.0.1:" + std::to_string(s_https_port) + " ssl;\n" + location + "  }\n";
    conf += "}\n";
    return conf;
  }

  struct Run {
    RunOutput out;
    json total;                        // result["run"]["total"]
    json result;                       // the whole JSON result
    std::vector<AccessEntry> entries;  // nginx's access log lines this run added, for its port
  };

  // Writes a scenario with `target_yaml` as its target mapping, runs the real binary on it and
  // collects the JSON result and nginx's access-log lines for `port` that the run added.
  Run run(int port, const std::string& target_yaml, std::vector<std::string> extra_args = {},
          int expected_entries = k_requests + 1) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    const auto dir = s_dir / info->name();
    fs::create_directories(dir);
    write_file(dir / "s.yaml", std::string("model: ") + k_model + "\n" +
                                   // calibrate: off: nginx serves no POST /tokenize, and this test counts
                                   // the access-log lines of the measured requests and the preflight.
                                   "requests: {max_tokens: 5, token_counts: {calibrate: off}}\n"
                                   "load:\n"
                                   "  - {name: loop, executor: iterations, iterations: " +
                                   std::to_string(k_requests) + ", vus: 2}\n" +
                                   "cache: {source: none}\n"
                                   "target: " +
                                   target_yaml + "\n");
    const auto before = entries_for(port).size();
    std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run", (dir / "s.yaml").string(), "-q", "--out",
                                     "json=" + (dir / "r.json").string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    Run result;
    result.out = run_to_completion(argv, std::chrono::seconds(120));
    if (fs::exists(dir / "r.json")) {
      result.result = json::parse(std::ifstream(dir / "r.json"));
      result.total = result.result["run"].is_null() ? json() : result.result["run"]["total"];
    } else {
      ADD_FAILURE() << "no JSON result written";
    }
    // nginx logs a request when it finalizes it, which can trail the client seeing [DONE] a little.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    std::vector<AccessEntry> all = entries_for(port);
    while (all.size() < before + static_cast<std::size_t>(expected_entries) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      all = entries_for(port);
    }
    result.entries.assign(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    return result;
  }

  static std::vector<AccessEntry> entries_for(int port) {
    std::vector<AccessEntry> entries;
    for (const auto& entry : parse_access_log(s_dir / "access.log")) {
      if (entry.port == port) {
        entries.push_back(entry);
      }
    }
    return entries;
  }

  // Every request succeeded with the stream parsed (TTFT needs a text token, tokens come from the
  // usage chunk), and nginx served each one with `protocol`, the preflight request (the first)
  // included: it goes through the run's own transport.
  static void expect_all_ok_over(const Run& run, const std::string& protocol) {
    EXPECT_EQ(run.out.exit_code, 0) << run.out.out << run.out.err;
    EXPECT_EQ(run.total["counts"]["ok"], k_requests) << run.total["failure_examples"].dump();
    EXPECT_EQ(run.total["counts"]["failed"], 0);
    EXPECT_EQ(run.total["metrics"]["ttft_ns"]["summary"]["count"], k_requests);
    EXPECT_EQ(run.total["metrics"]["first_event_ns"]["summary"]["count"], k_requests);
    EXPECT_EQ(run.total["output_tokens_total"], k_requests * 5);
    EXPECT_EQ(run.total["checks"]["sse_content_type"]["passed"], k_requests);
    ASSERT_EQ(run.entries.size(), static_cast<std::size_t>(k_requests + 1)) << read_text(s_dir / "access.log");
    for (const auto& entry : run.entries) {
      EXPECT_EQ(entry.protocol, protocol);
      EXPECT_EQ(entry.request, "POST /v1/completions " + protocol);
      EXPECT_EQ(entry.status, 200);
    }
  }

  static std::string url(const char* scheme, int port) {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
  }

  static inline std::string s_error;
  static inline fs::path s_dir;
  static inline std::unique_ptr<ChildProcess> s_nginx;
  static inline int s_h2c_port = 0;
  static inline int s_h2_tls_port = 0;
  static inline int s_https_port = 0;
};

// h2c (HTTP/2 with prior knowledge over http://): libcurl < 8.0.0 breaks every reused h2c
// connection (curl issue #10634; `curl --http2-prior-knowledge URL URL` fails the second request
// against this nginx too), so llmd-bench refuses it up front there as a usage error naming the
// setting and the alternatives, and nothing reaches the server. With libcurl >= 8.0.0 it must work.
TEST_F(TlsHttp2, H2cWithPriorKnowledgeOverPlainHttp) {
  const std::string target = "{base_url: \"" + url("http", s_h2c_port) + "\", http2: true}";
  if (curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000) {
    expect_all_ok_over(run(s_h2c_port, target), "HTTP/2.0");
    return;
  }
  const auto dir = s_dir / "h2c-refused";
  fs::create_directories(dir);
  write_file(dir / "s.yaml", std::string("load:\n  - {name: loop, executor: iterations, iterations: 2, vus: 1}\n"
                                         "cache: {source: none}\ntarget: ") + target + "\n");
  const auto before = entries_for(s_h2c_port).size();
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{}, std::vector<std::string>{"--target", url("http", s_h2c_port)}}) {
    std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run", (dir / "s.yaml").string(), "-q"};
    argv.insert(argv.end(), how.begin(), how.end());
    const auto out = run_to_completion(argv, std::chrono::seconds(60));
    EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
    EXPECT_THAT(out.err, HasSubstr("target.http2 (--http2) with the http:// target " + url("http", s_h2c_port)));
    EXPECT_THAT(out.err, HasSubstr("curl issue #10634"));
    EXPECT_THAT(out.err, HasSubstr("use an https:// target"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(entries_for(s_h2c_port).size(), before) << "a refused h2c run must not send anything";
}

// --http2 without a target would mean h2c against the embedded simulator, which speaks HTTP/1.1.
TEST_F(TlsHttp2, Http2WithoutATargetIsAUsageError) {
  const auto dir = s_dir / "no-target";
  fs::create_directories(dir);
  write_file(dir / "s.yaml", "load:\n  - {name: loop, executor: iterations, iterations: 1, vus: 1}\n");
  const auto out = run_to_completion({LLMD_BENCH_BINARY, "run", (dir / "s.yaml").string(), "-q", "--http2"},
                                     std::chrono::seconds(60));
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--http2) needs a target"));
}

TEST_F(TlsHttp2, H2OverTlsNegotiatedByAlpn) {
  const auto r = run(s_h2_tls_port, "{base_url: \"" + url("https", s_h2_tls_port) + "\", http2: true, insecure: true}");
  expect_all_ok_over(r, "HTTP/2.0");
}

TEST_F(TlsHttp2, HttpsWithHttp11) {
  const auto r = run(s_https_port, "{base_url: \"" + url("https", s_https_port) + "\", insecure: true}");
  expect_all_ok_over(r, "HTTP/1.1");
}

TEST_F(TlsHttp2, ASelfSignedCertificateFailsVerificationByDefaultAndExits3) {
  const auto stopped = run(s_https_port, "{base_url: \"" + url("https", s_https_port) + "\", connect_timeout: 5s}", {}, 0);
  EXPECT_EQ(stopped.out.exit_code, 3) << stopped.out.out << stopped.out.err;
  EXPECT_THAT(stopped.out.out, HasSubstr("preflight: POST " + url("https", s_https_port) + "/v1/completions failed in TLS"));
  EXPECT_THAT(stopped.out.out, HasSubstr("--insecure / target.insecure: true"));
  EXPECT_EQ(stopped.result["verdict"], "error");
  EXPECT_TRUE(stopped.result["run"].is_null());
  EXPECT_TRUE(stopped.entries.empty());

  const auto r = run(s_https_port, "{base_url: \"" + url("https", s_https_port) + "\", connect_timeout: 5s}",
                     {"--no-preflight"}, 0);
  EXPECT_EQ(r.out.exit_code, 3) << r.out.out << r.out.err;
  EXPECT_THAT(r.out.out, HasSubstr("no request reached the target " + url("https", s_https_port)));
  EXPECT_EQ(r.result["verdict"], "error");
  EXPECT_EQ(r.total["counts"]["ok"], 0);
  EXPECT_EQ(r.total["counts"]["failed"], k_requests);
  EXPECT_EQ(r.total["failures"]["tls"], k_requests) << r.total["failures"].dump();
  EXPECT_THAT(r.total["failure_examples"].value("tls", std::string()), HasSubstr("certificate"));
  EXPECT_TRUE(r.entries.empty()) << "no request may reach nginx when the handshake is refused";
}

// The port speaks both HTTP/1.1 and h2 (ALPN): without the flag the scenario gets HTTP/1.1, with
// --http2 it must get HTTP/2.0.
TEST_F(TlsHttp2, TheHttp2FlagOverridesTheScenario) {
  const std::string target = "{base_url: \"" + url("https", s_h2_tls_port) + "\", insecure: true}";
  expect_all_ok_over(run(s_h2_tls_port, target), "HTTP/1.1");
  expect_all_ok_over(run(s_h2_tls_port, target, {"--http2"}), "HTTP/2.0");
}
