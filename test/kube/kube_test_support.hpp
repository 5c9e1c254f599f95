#pragma once
// Shared by the kube tests: an in-process simulator fleet (the pattern of
// test/engine/engine_test_support.hpp: drained before the fleet is destroyed), a temporary
// directory, scoped environment variables, and a fake API server wired to the fleet's pods.
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include "kube/fake_kube_api.hpp"
#include "kube/kube_sources.hpp"
#include "sim/fleet.hpp"
#include "support/local_services.hpp"
#include "support/scoped_env.hpp"

namespace llmd::kube::test {

// The real kubectl, found on PATH as the program starts (before any test puts a stand-in first on
// PATH): wherever Debian or the machine installed it. Empty when there is none; the tests then fail
// with kubectl's "not found" error, naming it.
inline const std::string g_kubectl = llmd::test::find_tool("kubectl", {});

// A sim Fleet on 127.0.0.1 ephemeral ports, served by its own io_context thread.
class SimFleet {
 public:
  explicit SimFleet(std::size_t pods) : m_io(1), m_fleet(m_io, config(pods)) {
    std::promise<void> drained;
    m_drained = drained.get_future();
    if (auto started = m_fleet.start(); !started) {
      throw std::runtime_error("sim did not start: " + started.error());
    }
    m_thread = std::thread([this, drained = std::move(drained)]() mutable {
      m_io.run();
      drained.set_value();
    });
  }
  SimFleet(const SimFleet&) = delete;
  SimFleet& operator=(const SimFleet&) = delete;
  ~SimFleet() {
    boost::asio::post(m_io, [this] { m_fleet.stop(); });
    if (m_drained.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      m_io.stop();
    }
    m_thread.join();
  }

  std::string pod_url(std::size_t i) const { return m_fleet.pod_url(i); }

 private:
  static sim::SimConfig config(std::size_t pods) {
    sim::SimConfig config;
    config.pods = pods;
    config.route = sim::RoutePolicy::round_robin;
    config.pod.timing.time_scale = 0.01;
    return config;
  }

  sim::net::io_context m_io;
  sim::Fleet m_fleet;
  std::future<void> m_drained;
  std::thread m_thread;
};

// A fresh directory under the system temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "llmd-kube-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

using llmd::test::ScopedEnv;

// FakePods decode-0.. backed by the fleet's pods, in namespace llm-d.
inline std::vector<FakePod> fake_pods_for(const SimFleet& fleet, std::size_t count) {
  std::vector<FakePod> pods;
  for (std::size_t i = 0; i < count; ++i) {
    FakePod pod;
    pod.name = "decode-" + std::to_string(i);
    pod.backend_url = fleet.pod_url(i);
    pods.push_back(std::move(pod));
  }
  return pods;
}

// A KubernetesSpec for the fake API (real kubectl, kubeconfig in `dir`, namespace llm-d).
inline scenario::KubernetesSpec fake_spec(const FakeKubeApi& api, const TempDir& dir) {
  scenario::KubernetesSpec spec;
  spec.namespace_name = "llm-d";
  spec.kubeconfig = api.write_kubeconfig(dir.path());
  return spec;
}

inline KubeOptions fake_options() {
  KubeOptions options;
  options.kubectl = g_kubectl.empty() ? "kubectl" : g_kubectl;
  options.scrape_timeout = std::chrono::seconds(20);
  options.kubectl_timeout = std::chrono::seconds(20);
  options.max_parallel = 4;
  return options;
}

// One completion of `words` prompt words sent straight to a sim pod (so its counters move).
inline void send_completion(const std::string& pod_url, int words) {
  std::string prompt;
  for (int w = 0; w < words; ++w) {
    prompt += "w" + std::to_string(w) + " ";
  }
  const std::string body =
      R"({"model":"meta-llama/Llama-3.2-3B-Instruct","prompt":")" + prompt + R"(","max_tokens":2})";
  const PlainAnswer answer = plain_http("POST", pod_url + "/v1/completions", body);
  if (answer.status != 200) {
    throw std::runtime_error("completion failed: " + std::to_string(answer.status) + " " + answer.body);
  }
}

}  // namespace llmd::kube::test
