// `run --out FORMAT=FILE` and `--tekton-results DIR` destinations (issue 10, items 3 and 14): the
// real binary writing into devices, FIFOs and standard output without replacing them, every
// destination checked before the first request (exit 2, nothing sent), and the temporaries a
// killed run left removed on start.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace fs = std::filesystem;
using llmd::test::bench;
using llmd::test::scratch_dir;
using testing::HasSubstr;
using testing::Not;

namespace {

const std::string k_cache_hit = std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml";

// A TCP listener on 127.0.0.1 that never accepts: a connection attempt stays in its backlog, so
// after a run, pending() says whether the run tried to send anything.
class SilentListener {
 public:
  SilentListener() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(m_fd, 16) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    m_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }
  ~SilentListener() { ::close(m_fd); }
  const std::string& url() const { return m_url; }
  bool pending() const {
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

 private:
  int m_fd = -1;
  std::string m_url;
};

// Drains a FIFO on its own thread from before the run to after it: opened first (so the run finds
// a reader) without blocking, read until the run is over and the FIFO is empty.
class FifoReader {
 public:
  explicit FifoReader(const fs::path& fifo) : m_fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (m_fd < 0) {
      throw std::runtime_error("cannot open " + fifo.string());
    }
    m_thread = std::thread([this] { drain(); });
  }
  ~FifoReader() {
    finish();
    ::close(m_fd);
  }
  // Everything the FIFO carried; call once the writer is done.
  const std::string& finish() {
    m_finished = true;
    if (m_thread.joinable()) {
      m_thread.join();
    }
    return m_received;
  }

 private:
  void drain() {
    char buffer[4096];
    for (;;) {
      const bool last = m_finished.load();
      const auto n = ::read(m_fd, buffer, sizeof buffer);
      if (n > 0) {
        m_received.append(buffer, static_cast<std::size_t>(n));
      } else if (last) {
        return;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  int m_fd;
  std::atomic<bool> m_finished{false};
  std::string m_received;
  std::thread m_thread;
};

// One request, failing within a second if nobody answers.
fs::path one_request_scenario(const fs::path& dir) {
  return llmd::test::write_text(dir / "one.yaml", R"(name: one
target:
  request_timeout: 1s
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 10, suffix_tokens: 2}
  max_tokens: 2
load:
  - name: one
    executor: iterations
    iterations: 1
    vus: 1
)");
}

}  // namespace

// Issue 10.14: a missing --out folder was found only after the run, and the JSON was lost.
TEST(RunOutputs, AMissingOutFolderIsExit2BeforeTheSimulatorStarts) {
  const auto start = std::chrono::steady_clock::now();
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=/nonexistent/r.json"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: --out json=/nonexistent/r.json: cannot write /nonexistent/r.json: the "
                                 "folder /nonexistent does not exist; create it first (mkdir -p /nonexistent)"));
  EXPECT_EQ(out.out, "");  // no summary: nothing ran
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(RunOutputs, AnUnwritableDestinationSendsNoRequest) {
  const auto dir = scratch_dir();
  SilentListener target;
  auto out = bench({"run", one_request_scenario(dir).string(), "-q", "--target", target.url(), "--out",
                    "json=" + (dir / "r.json").string(), "--out", "junit=" + (dir / "missing" / "junit.xml").string()});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out junit=" + (dir / "missing" / "junit.xml").string() + ": cannot write"));
  EXPECT_FALSE(target.pending()) << "a connection reached the target";
  EXPECT_FALSE(fs::exists(dir / "r.json"));
}

TEST(RunOutputs, AFolderAsOutIsExit2NamingIt) {
  const auto dir = scratch_dir();
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=" + dir.string()});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out json=" + dir.string() + ": cannot write " + dir.string() +
                                 ": it is a folder; name a file inside it"));
}

TEST(RunOutputs, ATektonFolderThatCannotBeCreatedIsExit2BeforeTheRun) {
  const auto dir = scratch_dir();
  llmd::test::write_text(dir / "file", "x");
  const auto results = (dir / "file" / "results").string();
  auto out = bench({"run", k_cache_hit, "-q", "--tekton-results", results});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--tekton-results " + results + ": cannot create Tekton results folder \"" + results + "\""));
  EXPECT_EQ(out.out, "");
}

TEST(RunOutputs, TwoOutputsToOneFileIsAUsageError) {
  const auto dir = scratch_dir();
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=" + (dir / "r").string(), "--out",
                    "junit=" + (dir / "." / "r").string()});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("is already the destination of another --out"));
  auto twice = bench({"run", k_cache_hit, "-q", "--out", "json=-", "--out", "junit=-"});
  EXPECT_EQ(twice.exit_code, 2) << twice.out << twice.err;
  EXPECT_THAT(twice.err, HasSubstr("--out \"junit=-\": standard output (-) is already the destination of another --out"));
}

// Issue 10.3: as root, `--out json=/dev/null` replaced the system's /dev/null with a regular file.
TEST(RunOutputs, DevNullStaysACharacterDevice) {
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=/dev/null"});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_THAT(out.out, HasSubstr("verdict: PASS"));
}

// `--out json=-`: standard output carries the JSON and nothing else; the summary goes to stderr.
TEST(RunOutputs, JsonToStandardOutputIsAloneThere) {
  auto out = bench({"run", k_cache_hit, "--out", "json=-"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = nlohmann::json::parse(out.out);  // throws on anything but one JSON document
  EXPECT_EQ(result["verdict"], "pass");
  EXPECT_THAT(out.err, HasSubstr("verdict: PASS"));
}

// Issue 10.3: a FIFO became a regular file. The reader drains the FIFO while the run writes.
TEST(RunOutputs, AFifoWithAReaderReceivesTheJson) {
  const auto dir = scratch_dir();
  const auto fifo = dir / "result.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  FifoReader reader(fifo);
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=" + fifo.string()});
  const auto& received = reader.finish();
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(fs::status(fifo).type(), fs::file_type::fifo);
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(nlohmann::json::parse(received)["verdict"], "pass");
}

// A FIFO, device or socket cannot be rewritten: it is written once, after the files, and after an
// earlier output failed it carries the final verdict ("error"), in one document.
TEST(RunOutputs, AFifoGetsOneDocumentWithTheFinalVerdict) {
  const auto dir = scratch_dir();
  const auto fifo = dir / "result.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  FifoReader reader(fifo);
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=/dev/full", "--out", "json=" + fifo.string(), "--out",
                    "json=" + (dir / "r.json").string()});
  const auto& received = reader.finish();
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_EQ(nlohmann::json::parse(received)["verdict"], "error");  // throws on two documents
  EXPECT_EQ(nlohmann::json::parse(llmd::test::read_text(dir / "r.json"))["verdict"], "error");
}

// Issue 10.14: SIGKILL left temporaries behind; the next run removes those of our pattern that
// are old enough, and only those.
TEST(RunOutputs, StaleTemporariesNextToAnOutputAreRemovedOnStart) {
  const auto dir = scratch_dir();
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(5);
  const auto stale = llmd::test::write_text(dir / ".r.json.llmd-tmp.4242.AbC123", "{\"half");
  const auto fresh = llmd::test::write_text(dir / ".r.json.llmd-tmp.4243.XyZ789", "{\"half");
  const auto foreign = llmd::test::write_text(dir / "r.json.tmp.4242", "not ours");
  fs::last_write_time(stale, old);
  fs::last_write_time(foreign, old);
  auto out = bench({"run", k_cache_hit, "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: note: removed " + stale.string() +
                                 ", a temporary file left by an interrupted run"));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_TRUE(fs::exists(foreign));
  EXPECT_TRUE(fs::exists(dir / "r.json"));
}

// Issue 11.6, reproduced on the previous version: `--out json=D/res --tekton-results D/res` passed
// both checks (the JSON name was still free when checked, then the Tekton folder was created
// there), the whole run happened and the JSON failed after it (exit 3, "it is a folder"). Now the
// Tekton folder is prepared first and every --out is checked against it: exit 2, nothing sent, and
// the Tekton results say error with the reason.
TEST(RunOutputs, AnOutThatIsTheTektonFolderIsExit2BeforeTheRun) {
  const auto dir = scratch_dir();
  SilentListener target;
  const auto shared = (dir / "res").string();
  auto out = bench({"run", one_request_scenario(dir).string(), "-q", "--target", target.url(), "--out",
                    "json=" + shared, "--tekton-results", shared});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--out json=" + shared + ": " + shared + " is the --tekton-results folder"));
  EXPECT_FALSE(target.pending()) << "a connection reached the target";
  EXPECT_EQ(llmd::test::read_text(dir / "res" / "verdict"), "error");
  EXPECT_THAT(llmd::test::read_text(dir / "res" / "reason"), HasSubstr("is the --tekton-results folder"));
}

TEST(RunOutputs, AnOutThatIsATektonResultFileIsExit2) {
  const auto dir = scratch_dir();
  SilentListener target;
  auto out = bench({"run", one_request_scenario(dir).string(), "-q", "--target", target.url(), "--out",
                    "json=" + (dir / "t" / "." / "verdict").string(), "--tekton-results", (dir / "t").string()});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("is the Tekton result \"verdict\" that --tekton-results writes"));
  EXPECT_FALSE(target.pending()) << "a connection reached the target";
}

// The Tekton folder is created before the --out files are checked: a result inside it finds its folder.
TEST(RunOutputs, AnOutInsideANewTektonFolderIsWritten) {
  const auto dir = scratch_dir();
  auto out = bench({"run", one_request_scenario(dir).string(), "-q", "--sim-time-scale", "0.01", "--out",
                    "json=" + (dir / "t" / "result.json").string(), "--tekton-results", (dir / "t").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(nlohmann::json::parse(llmd::test::read_text(dir / "t" / "result.json"))["verdict"], "pass");
  EXPECT_EQ(llmd::test::read_text(dir / "t" / "verdict"), "pass");
}

// Inside a pod (KUBERNETES_SERVICE_HOST set) a run with no target is refused before anything
// starts; --allow-simulator runs it, and the results say "simulator".
TEST(RunOutputs, InAClusterWithoutATargetTheSimulatorNeedsAllowSimulator) {
  const auto dir = scratch_dir();
  const auto scenario = one_request_scenario(dir).string();
  auto refused = llmd::test::run_to_completion({"/usr/bin/env", "KUBERNETES_SERVICE_HOST=10.96.0.1", LLMD_BENCH_BINARY,
                                                "run", scenario, "-q", "--out", "json=" + (dir / "r.json").string()},
                                               std::chrono::seconds(60));
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("llmd-bench: error: no target given (--target or target.base_url) and this runs inside "
                                     "a Kubernetes pod (KUBERNETES_SERVICE_HOST is set)"));
  EXPECT_EQ(refused.out, "");
  EXPECT_FALSE(fs::exists(dir / "r.json"));
  auto allowed = llmd::test::run_to_completion({"/usr/bin/env", "KUBERNETES_SERVICE_HOST=10.96.0.1", LLMD_BENCH_BINARY,
                                                "run", scenario, "-q", "--allow-simulator", "--sim-time-scale", "0.01",
                                                "--out", "json=" + (dir / "r.json").string()},
                                               std::chrono::seconds(60));
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  const auto result = nlohmann::json::parse(llmd::test::read_text(dir / "r.json"));
  EXPECT_EQ(result["target"]["name"], "simulator");
  EXPECT_TRUE(result["target"]["embedded_sim"].get<bool>());
  // With a target, the variable changes nothing: the refusal is about the simulator only.
  SilentListener target;
  auto with_target = llmd::test::run_to_completion({"/usr/bin/env", "KUBERNETES_SERVICE_HOST=10.96.0.1", LLMD_BENCH_BINARY,
                                                    "run", scenario, "-q", "--target", target.url()},
                                                   std::chrono::seconds(60));
  EXPECT_NE(with_target.exit_code, 2) << with_target.out << with_target.err;
  EXPECT_THAT(with_target.err, Not(HasSubstr("KUBERNETES_SERVICE_HOST")));
}
