#pragma once
// The embedded simulator of a run without a target (`llmd-bench run` with no --target and no
// target.base_url): the same fleet `llmd-bench sim` serves (pods + gateway), on loopback, on a
// thread of its own with its own io_context, for the life of the run.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario/scenario.hpp"
#include "scrape/url_source.hpp"
#include "sim/fleet.hpp"
#include "sim/sim_config.hpp"
#include "util/result.hpp"

namespace llmd::run {

class EmbeddedSim {
 public:
  explicit EmbeddedSim(const sim::SimConfig& config);
  // Stops the fleet, lets in-flight work drain (bounded, 5 s) and joins; if work would not drain,
  // the fleet is leaked on purpose rather than destroyed under its handlers (the process is about
  // to exit).
  ~EmbeddedSim();
  EmbeddedSim(const EmbeddedSim&) = delete;
  EmbeddedSim& operator=(const EmbeddedSim&) = delete;

  // Binds every pod and the gateway on 127.0.0.1 (ephemeral ports) and starts serving. The error
  // says what could not be bound.
  util::Result<void> start();

  // Ports and names only (set before the thread starts): safe to read from any thread.
  const sim::Fleet& fleet() const { return *m_fleet; }
  const nlohmann::json& description() const { return m_description; }  // Fleet::describe()
  std::string gateway_url() const { return m_fleet->gateway_url(); }
  // Every pod as {name, metrics URL}, in pod order: the cache source of a run on the simulator.
  std::vector<scrape::PodUrl> pods() const;

 private:
  std::unique_ptr<sim::net::io_context> m_io;
  std::unique_ptr<sim::Fleet> m_fleet;
  nlohmann::json m_description;
  std::atomic<bool> m_stopping{false};
  bool m_drained = false;
  std::thread m_thread;
};

// The scenario's simulator (its `sim:` section, routing session keys on the header its requests
// carry), started; the error says what could not be bound.
util::Result<std::shared_ptr<EmbeddedSim>> start_embedded_sim(const scenario::Scenario& scenario);

}  // namespace llmd::run
