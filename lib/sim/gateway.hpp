#pragma once
// The simulated llm-d / Gateway API Inference Extension gateway: one HTTP port in front of the
// pods. It enforces the virtual host like an Istio/Envoy gateway (with a configured host, any
// other Host header gets an empty 404), picks a pod with the Router, and relays the pod's response
// unbuffered, chunk by chunk, so streaming timings survive the hop. Upstream connections to the
// pods are pooled (keep-alive) so high request rates do not exhaust ephemeral ports.
//
// Admin endpoints (not subject to the Host check): GET /admin/pods, POST /admin/pods/{i}/restart.
// POST /tokenize and /detokenize go to the least busy pod (no routing state); POST
// /reset_prefix_cache is not routed (404): resets go to each pod directly.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/http_server.hpp"
#include "sim/pod.hpp"
#include "sim/router.hpp"
#include "sim/sim_config.hpp"

namespace llmd::sim {

// The endpoint-picker protocol's header naming the endpoint that served a request (ip:port).
inline constexpr const char* k_endpoint_served_header = "x-gateway-destination-endpoint-served";

class Gateway {
 public:
  // `pods` must outlive the gateway. `describe` renders the fleet for GET /admin/pods.
  Gateway(net::io_context& io, const SimConfig& config, std::span<const std::unique_ptr<Pod>> pods,
          std::function<nlohmann::json()> describe);
  ~Gateway();

  util::Result<void> listen(const std::string& address, std::uint16_t port);
  void start();
  void stop();
  std::uint16_t port() const { return m_server.port(); }

  // Requests the gateway is relaying to pod i now.
  std::size_t in_flight(std::size_t pod) const { return m_in_flight[pod]; }
  const Router& router() const { return m_router; }

 private:
  struct Upstream;

  net::awaitable<bool> handle(Request& request, Connection& connection);
  net::awaitable<bool> handle_admin(Request& request, Connection& connection, std::string_view path);
  net::awaitable<bool> forward(Request& request, Connection& connection, std::size_t pod);
  net::awaitable<std::unique_ptr<Upstream>> acquire(std::size_t pod);
  std::size_t pick_pod(const Request& request, const Connection& connection);
  bool host_allowed(const Request& request) const;

  net::io_context& m_io;
  const SimConfig& m_config;
  std::span<const std::unique_ptr<Pod>> m_pods;
  std::function<nlohmann::json()> m_describe;
  HttpServer m_server;
  Router m_router;
  std::vector<std::size_t> m_in_flight;
  std::vector<std::vector<std::unique_ptr<Upstream>>> m_idle;  // per pod
};

}  // namespace llmd::sim
