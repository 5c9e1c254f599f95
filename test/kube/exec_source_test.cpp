// ExecSource with a `kubectl` stand-in on PATH (a shell script written by the test): `exec` calls
// have their argv checked word for word and run curl/wget locally against the sim pod; every other
// call (the pod list) goes to the real kubectl (found on PATH) and FakeKubeApi. kubectl's exec protocol
// (SPDY/WebSocket streams) is not faked.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/kube_sources.hpp"
#include "kube/kube_test_support.hpp"
#include "scrape/snapshot.hpp"

namespace llmd::kube::test {
namespace {

using ::testing::HasSubstr;

std::string port_of(const std::string& url) { return url.substr(url.rfind(':') + 1); }

class KubeExec : public ::testing::Test {
 protected:
  void SetUp() override {
    m_spec = fake_spec(m_api, m_dir);
    m_spec.via = scenario::KubernetesSpec::Via::exec;
    write_stand_in();
  }

  void write_stand_in() {
    const std::string expected_flags = "--kubeconfig=" + m_spec.kubeconfig + " --namespace=llm-d";
    std::ofstream script(m_dir.path() + "/kubectl");
    script << "#!/bin/sh\n"
           << "dir='" << m_dir.path() << "'\n"
           << "echo \"$*\" >> \"$dir/argv.log\"\n"
           << "case \" $* \" in *' exec '*) ;; *) exec '" << g_kubectl << "' \"$@\" ;; esac\n"
           << "[ \"$1 $2 $3\" = \"" << expected_flags << " exec\" ] && [ \"$5 $6 $7\" = '-c vllm --' ] || "
           << "{ echo \"stand-in: unexpected argv: $*\" >&2; exit 99; }\n"
           << "pod=$4; shift 7\n"
           << "case \"$pod\" in decode-0) port=" << port_of(m_fleet.pod_url(0))
           << " ;; decode-1) port=" << port_of(m_fleet.pod_url(1))
           << " ;; *) echo \"Error from server (NotFound): pods \\\"$pod\\\" not found\" >&2; exit 1 ;; esac\n"
           << "if [ \"$1\" = curl ] && [ -f \"$dir/no-curl\" ]; then\n"
           << "  echo 'error: Internal error occurred: error executing command in container: failed to exec in "
              "container: starting container process caused: exec: \"curl\": executable file not found in $PATH: "
              "unknown' >&2; exit 126\nfi\n"
           << "case \"$*\" in\n"
           << "  'curl -sS --fail --max-time 20 http://127.0.0.1:8200/metrics') exec curl -sS --fail --max-time 20 "
              "\"http://127.0.0.1:$port/metrics\" ;;\n"
           << "  'wget -q -O - -T 20 http://127.0.0.1:8200/metrics') exec wget -q -O - -T 20 "
              "\"http://127.0.0.1:$port/metrics\" ;;\n"
           << "  curl*) echo 'curl: (7) Failed to connect to 127.0.0.1 port: Connection refused' >&2; exit 7 ;;\n"
           << "  *) echo \"stand-in: unexpected command: $*\" >&2; exit 99 ;;\n"
           << "esac\n";
    script.close();
    ::chmod((m_dir.path() + "/kubectl").c_str(), 0755);
  }

  // Exec calls logged by the stand-in, without the flags before `exec`.
  std::vector<std::string> exec_calls() const {
    std::ifstream log(m_dir.path() + "/argv.log");
    std::vector<std::string> calls;
    for (std::string line; std::getline(log, line);) {
      if (const auto at = line.find(" exec "); at != std::string::npos) {
        calls.push_back(line.substr(at + 1));
      }
    }
    return calls;
  }

  std::unique_ptr<scrape::MetricsSource> make_source() {
    KubeOptions options = fake_options();
    options.kubectl = "kubectl";  // found on PATH: the stand-in
    auto source = make_kubernetes_source(m_spec, options);
    EXPECT_TRUE(source.has_value()) << (source ? "" : source.error());
    return source ? std::move(*source) : nullptr;
  }

  TempDir m_dir;
  ScopedEnv m_cache_dir{"KUBECACHEDIR", m_dir.path() + "/cache"};
  ScopedEnv m_path{"PATH", m_dir.path() + ":" + std::string(::getenv("PATH") ? ::getenv("PATH") : "/usr/bin:/bin")};
  SimFleet m_fleet{2};
  FakeKubeApi m_api{fake_pods_for(m_fleet, 2)};
  scenario::KubernetesSpec m_spec;
};

TEST_F(KubeExec, RunsCurlInTheContainerWithAnArgvVector) {
  send_completion(m_fleet.pod_url(1), 24);
  auto source = make_source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(source->describe(),
              ::testing::StartsWith("kubectl exec (curl, else wget, in container \"vllm\") scrape of 2 pods"));
  const auto snapshots = scrape::snapshot_pods(source->scrape_all(), "");
  ASSERT_EQ(snapshots.size(), 2u);
  ASSERT_TRUE(snapshots[0].snapshot.has_value()) << snapshots[0].snapshot.error();
  ASSERT_TRUE(snapshots[1].snapshot.has_value()) << snapshots[1].snapshot.error();
  EXPECT_EQ(snapshots[0].snapshot->queries, 0);
  EXPECT_EQ(snapshots[1].snapshot->queries, 24);
  EXPECT_THAT(exec_calls(),
              ::testing::UnorderedElementsAre(
                  "exec decode-0 -c vllm -- curl -sS --fail --max-time 20 http://127.0.0.1:8200/metrics",
                  "exec decode-1 -c vllm -- curl -sS --fail --max-time 20 http://127.0.0.1:8200/metrics"));
}

TEST_F(KubeExec, FallsBackToWgetWhenTheContainerHasNoCurlAndRemembersIt) {
  std::ofstream(m_dir.path() + "/no-curl") << "";
  auto source = make_source();
  ASSERT_NE(source, nullptr);
  for (int round = 0; round < 2; ++round) {
    for (const auto& scraped : source->scrape_all()) {
      EXPECT_TRUE(scraped.text.has_value()) << scraped.text.error();
    }
  }
  const auto calls = exec_calls();
  const auto count = [&](const std::string& call) { return std::count(calls.begin(), calls.end(), call); };
  EXPECT_EQ(count("exec decode-0 -c vllm -- curl -sS --fail --max-time 20 http://127.0.0.1:8200/metrics"), 1);
  EXPECT_EQ(count("exec decode-0 -c vllm -- wget -q -O - -T 20 http://127.0.0.1:8200/metrics"), 2);
}

TEST_F(KubeExec, TriesTheNextPortWhenCurlCannotConnect) {
  m_spec.ports = {8000, 8200};
  auto source = make_source();
  ASSERT_NE(source, nullptr);
  const auto scrapes = source->scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_TRUE(scrapes[0].text.has_value()) << scrapes[0].text.error();
  EXPECT_THAT(scrapes[0].source,
              HasSubstr("exec decode-0 -c vllm -- curl -sS --fail --max-time 20 http://127.0.0.1:8200/metrics"));
}

TEST_F(KubeExec, NeitherCurlNorWgetAnsweringNamesBothPortsAndTheCause) {
  m_spec.ports = {8000};
  auto source = make_source();
  ASSERT_NE(source, nullptr);
  const auto scrapes = source->scrape_all();
  ASSERT_FALSE(scrapes[0].text.has_value());
  EXPECT_THAT(scrapes[0].text.error(), HasSubstr("no metrics on port 8000: port 8000: `kubectl --kubeconfig="));
  EXPECT_THAT(
      scrapes[0].text.error(),
      HasSubstr(
          "exec decode-0 -c vllm -- curl -sS --fail --max-time 20 http://127.0.0.1:8000/metrics` exited "
          "with 7: curl: (7) Failed to connect to 127.0.0.1 port: Connection refused; is this the metrics port?"));
}

}  // namespace
}  // namespace llmd::kube::test
