#pragma once
// Test servers for the engine: an in-process simulator fleet on its own thread, the canned-response
// HTTP server of test/support (replays recorded bytes), a closed port, and scenario/phase builders.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/engine.hpp"
#include "scenario/scenario.hpp"
#include "sim/fleet.hpp"
#include "support/canned_server.hpp"

namespace llmd::engine::test {

using namespace std::chrono_literals;

inline std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error("cannot read " + path);
  }
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// A fast simulator: 2 pods, delays scaled by `time_scale`.
inline sim::SimConfig fast_sim_config(double time_scale = 0.01) {
  sim::SimConfig config;
  config.pods = 2;
  config.route = sim::RoutePolicy::round_robin;
  config.pod.timing.time_scale = time_scale;
  return config;
}

// A sim Fleet on 127.0.0.1 ephemeral ports, served by its own io_context thread.
class SimFleet {
 public:
  explicit SimFleet(sim::SimConfig config) : m_io(1), m_fleet(m_io, std::move(config)) {
    std::promise<void> drained;
    m_drained = drained.get_future();
    if (auto started = m_fleet.start(); !started) {
      throw std::runtime_error("sim did not start: " + started.error());
    }
    m_url = m_fleet.gateway_url();
    m_thread = std::thread([this, drained = std::move(drained)]() mutable {
      m_io.run();
      drained.set_value();
    });
  }
  SimFleet(const SimFleet&) = delete;
  SimFleet& operator=(const SimFleet&) = delete;
  ~SimFleet() { stop(); }

  const std::string& url() const { return m_url; }
  // Pod i's own URL (no gateway relay in between).
  std::string pod_url(std::size_t i) const { return m_fleet.pod_url(i); }
  // Read only after stop() (the fleet's thread owns it while serving).
  const sim::Pod& pod(std::size_t i) const { return m_fleet.pod(i); }

  // Stops serving and joins the thread; after this the pods' metrics can be read safely.
  // The io_context is left to run out of work (every connection coroutine unwinds while the fleet
  // still exists): stopping it with coroutines suspended would destroy their frames in
  // ~io_context, after ~Fleet, touching the destroyed gateway.
  void stop() {
    if (!m_thread.joinable()) {
      return;
    }
    boost::asio::post(m_io, [this] { m_fleet.stop(); });
    if (m_drained.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      m_io.stop();  // something kept work alive: better a leak report than a hang
    }
    m_thread.join();
  }

  // Once `ready(fleet)` holds (checked on the fleet's thread every 2 ms), blocks that thread for `stall`, as a
  // busy host would: every timer of every pod fires late.
  void stall_when(std::function<bool(const sim::Fleet&)> ready, std::chrono::milliseconds stall) {
    auto timer = std::make_shared<boost::asio::steady_timer>(m_io);
    boost::asio::post(m_io, [this, timer, ready = std::move(ready), stall] { poll_stall(timer, ready, stall); });
  }

  // vllm:request_success_total summed over pods and finish reasons (call after stop()).
  std::uint64_t request_successes() const {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < m_fleet.pod_count(); ++i) {
      for (const auto& [reason, count] : m_fleet.pod(i).metrics().request_success_by_reason) {
        total += count;
      }
    }
    return total;
  }
  std::uint64_t generation_tokens() const {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < m_fleet.pod_count(); ++i) {
      total += m_fleet.pod(i).metrics().generation_tokens;
    }
    return total;
  }

 private:
  void poll_stall(const std::shared_ptr<boost::asio::steady_timer>& timer, const std::function<bool(const sim::Fleet&)>& ready,
                  std::chrono::milliseconds stall) {
    if (ready(m_fleet)) {
      std::this_thread::sleep_for(stall);
      return;
    }
    timer->expires_after(2ms);
    timer->async_wait([this, timer, ready, stall](const boost::system::error_code& ec) {
      if (!ec) {
        poll_stall(timer, ready, stall);
      }
    });
  }

  sim::net::io_context m_io;
  sim::Fleet m_fleet;
  std::string m_url;
  std::future<void> m_drained;
  std::thread m_thread;
};

using llmd::test::CannedServer;
using llmd::test::closed_port;
using llmd::test::sse_response;

// A scenario with defaults for tests: completions, shared prefix of 32 tokens, 8 output tokens.
inline scenario::Scenario test_scenario() {
  scenario::Scenario scenario;
  scenario.name = "test";
  scenario.request.prefix_tokens = 32;
  scenario.request.suffix_tokens = 8;
  scenario.request.max_tokens = 8;
  scenario.request.model = sim::PodSettings{}.model;  // the gateway, like the GIE endpoint picker, needs one
  scenario.target.connect_timeout = 2s;
  scenario.target.request_timeout = 20s;
  scenario.checks = {scenario::CheckKind::status_200, scenario::CheckKind::non_empty_content,
                     scenario::CheckKind::sse_content_type};
  return scenario;
}

inline scenario::Phase iterations_phase(std::size_t iterations, std::size_t vus) {
  scenario::Phase phase;
  phase.name = "iterations";
  phase.executor = scenario::ExecutorKind::iterations;
  phase.iterations = iterations;
  phase.vus = vus;
  phase.max_duration = 30s;
  phase.graceful_stop = 5s;
  return phase;
}

inline scenario::Phase constant_vus_phase(std::size_t vus, scenario::Duration duration) {
  scenario::Phase phase;
  phase.name = "constant";
  phase.executor = scenario::ExecutorKind::constant_vus;
  phase.vus = vus;
  phase.duration = duration;
  phase.graceful_stop = 5s;
  return phase;
}

inline scenario::Phase arrival_phase(scenario::ExecutorKind kind, double rate, scenario::Duration duration,
                                     std::size_t max_in_flight) {
  scenario::Phase phase;
  phase.name = kind == scenario::ExecutorKind::poisson ? "poisson" : "arrival";
  phase.executor = kind;
  phase.rate_per_s = rate;
  phase.duration = duration;
  phase.max_in_flight = max_in_flight;
  phase.graceful_stop = 5s;
  return phase;
}

// Runs `phases` against `url`; fails the test (throws) when the engine returns an error.
inline RunResult run_against(const std::string& url, const scenario::Scenario& scenario,
                             std::vector<scenario::Phase> phases, EngineConfig config = {}) {
  config.scenario = &scenario;
  config.base_url = url;
  auto result = run_phases(config, phases);
  if (!result) {
    throw std::runtime_error("run_phases failed: " + result.error());
  }
  return std::move(*result);
}

}  // namespace llmd::engine::test
