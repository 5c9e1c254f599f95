#include "run/embedded_sim.hpp"

#include <chrono>

namespace llmd::run {

EmbeddedSim::EmbeddedSim(const sim::SimConfig& config)
    : m_io(std::make_unique<sim::net::io_context>(1)), m_fleet(std::make_unique<sim::Fleet>(*m_io, config)) {}

EmbeddedSim::~EmbeddedSim() {
  if (!m_thread.joinable()) {
    return;
  }
  sim::net::post(*m_io, [this] {
    m_fleet->stop();
    m_stopping = true;
  });
  m_thread.join();
  if (!m_drained) {
    (void)m_fleet.release();
    (void)m_io.release();
  }
}

util::Result<void> EmbeddedSim::start() {
  if (auto started = m_fleet->start(); !started) {
    return started;
  }
  m_description = m_fleet->describe();
  m_thread = std::thread([this] { m_drained = sim::run_until_drained(*m_io, m_stopping, std::chrono::seconds(5)); });
  return {};
}

std::vector<scrape::PodUrl> EmbeddedSim::pods() const {
  std::vector<scrape::PodUrl> pods;
  for (std::size_t i = 0; i < m_fleet->pod_count(); ++i) {
    pods.push_back({m_fleet->pod(i).name(), m_fleet->pod_url(i) + "/metrics"});
  }
  return pods;
}

util::Result<std::shared_ptr<EmbeddedSim>> start_embedded_sim(const scenario::Scenario& scenario) {
  sim::SimConfig config = scenario.sim;
  config.session_header = scenario.request.session_header;  // route session keys on the header the requests carry
  auto sim = std::make_shared<EmbeddedSim>(std::move(config));
  if (auto started = sim->start(); !started) {
    return util::fail(started.error());
  }
  return sim;
}

}  // namespace llmd::run
