#pragma once
// The whole simulated stack in one io_context: N pods and one gateway, all on loopback (or the
// configured bind address). `llmd-bench sim` runs it in the foreground; `llmd-bench run` embeds it.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/gateway.hpp"
#include "sim/pod.hpp"
#include "sim/sim_config.hpp"

namespace llmd::sim {

class Fleet {
 public:
  Fleet(net::io_context& io, SimConfig config);
  ~Fleet();

  // Validates the config, binds every port and starts serving. The error names the failing flag
  // or the port that could not be bound.
  util::Result<void> start();
  void stop();

  const SimConfig& config() const { return m_config; }
  std::size_t pod_count() const { return m_pods.size(); }
  Pod& pod(std::size_t i) { return *m_pods[i]; }
  const Pod& pod(std::size_t i) const { return *m_pods[i]; }
  Gateway& gateway() { return *m_gateway; }

  std::string gateway_url() const;
  std::string pod_url(std::size_t i) const;
  // {"gateway":URL,"host":...,"route":...,"model":...,"metrics_flavor":...,"pods":[{"name","url","metrics_url"}]}
  // printed as one line on start-up.
  nlohmann::json describe() const;

 private:
  std::string url_for(std::uint16_t port) const;

  net::io_context& m_io;
  SimConfig m_config;
  Vocabulary m_vocabulary;  // shared by the pods: /detokenize on any pod knows what any pod tokenized
  std::vector<std::unique_ptr<Pod>> m_pods;
  std::unique_ptr<Gateway> m_gateway;
};

// Runs `io` until it has no work left. Once `stop_requested` is set (call Fleet::stop() from a
// handler first), in-flight work gets `grace` to end. Returns false when it had to give up with
// handlers still pending: the caller must then not destroy the fleet (those handlers use it).
bool run_until_drained(net::io_context& io, const std::atomic<bool>& stop_requested, std::chrono::milliseconds grace);

}  // namespace llmd::sim
