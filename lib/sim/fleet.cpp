#include "sim/fleet.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace llmd::sim {

Fleet::Fleet(net::io_context& io, SimConfig config) : m_io(io), m_config(std::move(config)), m_vocabulary(m_config.pod.tokenizer_piece_bytes) {}

Fleet::~Fleet() = default;

util::Result<void> Fleet::start() {
  if (auto valid = validate(m_config); !valid) {
    return valid;
  }
  for (std::size_t i = 0; i < m_config.pods; ++i) {
    PodSettings settings = m_config.pod;
    const auto& off = m_config.pods_without_prefix_caching;
    if (std::find(off.begin(), off.end(), i) != off.end()) {
      settings.enable_prefix_caching = false;
    }
    m_pods.push_back(std::make_unique<Pod>(m_io, i, settings, m_config.seed, &m_vocabulary));
    const auto port = m_config.first_pod_port == 0 ? 0 : static_cast<std::uint16_t>(m_config.first_pod_port + i);
    if (auto listening = m_pods.back()->listen(m_config.bind_address, port); !listening) {
      return listening;
    }
  }
  m_gateway = std::make_unique<Gateway>(m_io, m_config, m_pods, [this] { return describe(); });
  if (auto listening = m_gateway->listen(m_config.bind_address, m_config.gateway_port); !listening) {
    return listening;
  }
  for (auto& pod : m_pods) {
    pod->start();
  }
  m_gateway->start();
  return {};
}

void Fleet::stop() {
  if (m_gateway) {
    m_gateway->stop();
  }
  for (auto& pod : m_pods) {
    pod->stop();
  }
}

std::string Fleet::url_for(std::uint16_t port) const {
  const bool v6 = m_config.bind_address.find(':') != std::string::npos;
  return v6 ? fmt::format("http://[{}]:{}", m_config.bind_address, port) : fmt::format("http://{}:{}", m_config.bind_address, port);
}

std::string Fleet::gateway_url() const { return url_for(m_gateway->port()); }

std::string Fleet::pod_url(std::size_t i) const { return url_for(m_pods[i]->port()); }

nlohmann::json Fleet::describe() const {
  nlohmann::json pods = nlohmann::json::array();
  for (std::size_t i = 0; i < m_pods.size(); ++i) {
    pods.push_back({{"name", m_pods[i]->name()},
                    {"url", pod_url(i)},
                    {"metrics_url", pod_url(i) + "/metrics"},
                    {"restarts", m_pods[i]->restarts()}});
  }
  return {{"gateway", gateway_url()},
          {"host", m_config.host},
          {"route", to_string(m_config.route)},
          {"model", m_config.pod.model},
          {"metrics_flavor", to_string(m_config.pod.metrics_flavor)},
          {"block_size", m_config.pod.block_size_tokens},
          {"prefix_caching", m_config.pod.enable_prefix_caching},
          {"dev_mode", m_config.pod.dev_mode},
          {"pods_without_prefix_caching", m_config.pods_without_prefix_caching},
          {"pods", pods}};
}

bool run_until_drained(net::io_context& io, const std::atomic<bool>& stop_requested, std::chrono::milliseconds grace) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  while (!io.stopped()) {
    io.run_one_for(std::chrono::milliseconds(50));
    if (stop_requested && !deadline) {
      deadline = std::chrono::steady_clock::now() + grace;
    }
    if (deadline && std::chrono::steady_clock::now() > *deadline) {
      return io.stopped();
    }
  }
  return true;
}

}  // namespace llmd::sim
