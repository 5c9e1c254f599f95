#include "sim/sim_config.hpp"

#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace llmd::sim {

namespace {

constexpr std::array<std::pair<std::string_view, RoutePolicy>, 5> k_policies = {{
    {"prefix", RoutePolicy::prefix},
    {"session", RoutePolicy::session},
    {"round-robin", RoutePolicy::round_robin},
    {"random", RoutePolicy::random},
    {"least-loaded", RoutePolicy::least_loaded},
}};

util::Result<void> check_rate(double value, std::string_view flag) {
  if (!(value >= 0.0 && value <= 1.0)) {
    return util::fail(fmt::format("{} must be a fraction between 0 and 1, got {}", flag, value));
  }
  return {};
}

util::Result<void> check_non_negative(double value, std::string_view flag) {
  if (!(value >= 0.0) || !std::isfinite(value)) {
    return util::fail(fmt::format("{} must be a finite number >= 0, got {}", flag, value));
  }
  return {};
}

}  // namespace

util::Result<RoutePolicy> parse_route_policy(std::string_view text) {
  for (const auto& [name, policy] : k_policies) {
    if (text == name) {
      return policy;
    }
  }
  return util::fail(fmt::format("unknown route \"{}\": choose prefix, session, round-robin, random or least-loaded", text));
}

std::string_view to_string(RoutePolicy policy) {
  for (const auto& [name, value] : k_policies) {
    if (value == policy) {
      return name;
    }
  }
  return "?";
}

util::Result<void> validate(const SimConfig& config) {
  const PodSettings& pod = config.pod;
  if (config.pods < 1 || config.pods > 1024) {
    return util::fail(fmt::format("--pods must be between 1 and 1024, got {}", config.pods));
  }
  if (config.first_pod_port != 0 && config.first_pod_port + config.pods - 1 > 65535) {
    return util::fail(fmt::format("--first-pod-port {} + --pods {} runs past port 65535", config.first_pod_port, config.pods));
  }
  if (pod.block_size_tokens < 1 || pod.kv_blocks < 1 || pod.max_num_seqs < 1 || pod.max_model_len < 1) {
    return util::fail("--block-size, --kv-blocks, --max-num-seqs and --max-model-len must all be at least 1");
  }
  if (pod.default_max_tokens < 1) {
    return util::fail("--default-max-tokens must be at least 1");
  }
  if (!(pod.timing.time_scale > 0.0) || !std::isfinite(pod.timing.time_scale)) {
    return util::fail(fmt::format("--time-scale must be > 0, got {}", pod.timing.time_scale));
  }
  for (auto check : {check_rate(pod.error_rate, "--error-rate"), check_rate(pod.abort_rate, "--abort-rate"),
                     check_non_negative(pod.timing.prefill_base_ms, "--prefill-base-ms"),
                     check_non_negative(pod.timing.prefill_per_token_us, "--prefill-per-token-us"),
                     check_non_negative(pod.timing.inter_token_ms, "--inter-token-ms"),
                     check_non_negative(pod.restart_downtime_s, "--restart-downtime"),
                     check_non_negative(config.session_timeout_s, "--session-timeout")}) {
    if (!check) {
      return check;
    }
  }
  for (std::size_t index : config.pods_without_prefix_caching) {
    if (index >= config.pods) {
      return util::fail(fmt::format("--no-prefix-caching-pod {} is not a pod: pods are numbered 0..{}", index, config.pods - 1));
    }
  }
  if (pod.model.empty()) {
    return util::fail("--model must not be empty");
  }
  return {};
}

}  // namespace llmd::sim
