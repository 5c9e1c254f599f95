#include "sim/sim_config.hpp"

#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "util/number_text.hpp"

namespace llmd::sim {

namespace {

constexpr std::array<std::pair<std::string_view, RoutePolicy>, 5> k_policies = {{
    {"prefix", RoutePolicy::prefix},
    {"session", RoutePolicy::session},
    {"round-robin", RoutePolicy::round_robin},
    {"random", RoutePolicy::random},
    {"least-loaded", RoutePolicy::least_loaded},
}};

// A pod's preallocated bookkeeping per KV block (PrefixCache's Block: hash, ref count, LRU links).
constexpr std::uint64_t k_block_bookkeeping_bytes = 40;

struct CountSetting {
  std::string_view flag;
  std::uint64_t value;
  CountRange range;
};

struct RealSetting {
  std::string_view flag;
  double value;
  RealRange range;
};

util::Result<void> check(const CountSetting& setting) {
  if (setting.value < setting.range.min) {
    return util::fail(fmt::format("{}: must be >= {}, got {}", setting.flag, setting.range.min, setting.value));
  }
  if (setting.value > setting.range.max) {
    return util::fail(fmt::format("{}: must be <= {}, got {}", setting.flag, setting.range.max, setting.value));
  }
  return {};
}

util::Result<void> check(const RealSetting& setting) {
  if (!std::isfinite(setting.value)) {
    return util::fail(fmt::format("{}: must be a finite number, got {}", setting.flag, setting.value));
  }
  if (setting.value < setting.range.min) {
    return util::fail(fmt::format("{}: must be >= {}, got {}", setting.flag, util::format_number(setting.range.min),
                                  util::format_number(setting.value)));
  }
  if (setting.value > setting.range.max) {
    return util::fail(fmt::format("{}: must be <= {}, got {}", setting.flag, util::format_number(setting.range.max),
                                  util::format_number(setting.value)));
  }
  return {};
}

util::Result<void> check_ranges(const SimConfig& config) {
  const PodSettings& pod = config.pod;
  for (const CountSetting& setting : {
           CountSetting{"--pods", config.pods, k_pods_range},
           CountSetting{"--block-size", pod.block_size_tokens, k_block_size_range},
           CountSetting{"--kv-blocks", pod.kv_blocks, k_kv_blocks_range},
           CountSetting{"--prefix-index-blocks", config.prefix_index_blocks, k_prefix_index_blocks_range},
           CountSetting{"--max-num-seqs", pod.max_num_seqs, k_max_num_seqs_range},
           CountSetting{"--max-model-len", pod.max_model_len, k_max_model_len_range},
           CountSetting{"--default-max-tokens", pod.default_max_tokens, k_default_max_tokens_range},
       }) {
    LLMD_TRY(check(setting));
  }
  for (const RealSetting& setting : {
           RealSetting{"--time-scale", pod.timing.time_scale, k_time_scale_range},
           RealSetting{"--error-rate", pod.error_rate, k_fault_rate_range},
           RealSetting{"--abort-rate", pod.abort_rate, k_fault_rate_range},
           RealSetting{"--prefill-base-ms", pod.timing.prefill_base_ms, k_prefill_base_ms_range},
           RealSetting{"--prefill-per-token-us", pod.timing.prefill_per_token_us, k_prefill_per_token_us_range},
           RealSetting{"--inter-token-ms", pod.timing.inter_token_ms, k_inter_token_ms_range},
           RealSetting{"--restart-downtime", pod.restart_downtime_s, k_restart_downtime_s_range},
           RealSetting{"--session-timeout", config.session_timeout_s, k_session_timeout_s_range},
       }) {
    LLMD_TRY(check(setting));
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
  LLMD_TRY(check_ranges(config));
  const std::uint64_t total_blocks = config.pods * config.pod.kv_blocks;
  if (total_blocks > k_max_kv_blocks_total) {
    return util::fail(fmt::format("--pods {} x --kv-blocks {} = {} KV blocks in all; at most {} ({} MiB of simulator "
                                  "memory before any block is cached): lower one of them",
                                  config.pods, config.pod.kv_blocks, total_blocks, k_max_kv_blocks_total,
                                  k_max_kv_blocks_total * k_block_bookkeeping_bytes >> 20));
  }
  if (config.first_pod_port != 0 && config.first_pod_port + config.pods - 1 > 65535) {
    return util::fail(fmt::format("--first-pod-port {} + --pods {} runs past port 65535", config.first_pod_port, config.pods));
  }
  for (std::size_t index : config.pods_without_prefix_caching) {
    if (index >= config.pods) {
      return util::fail(fmt::format("--no-prefix-caching-pod {} is not a pod: pods are numbered 0..{}", index, config.pods - 1));
    }
  }
  if (config.pod.model.empty()) {
    return util::fail("--model must not be empty");
  }
  return {};
}

}  // namespace llmd::sim
