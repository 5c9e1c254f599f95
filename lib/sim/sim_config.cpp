#include "sim/sim_config.hpp"

#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "util/http_token.hpp"
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
  std::string flag;
  std::uint64_t value;
  CountRange range;
};

struct RealSetting {
  std::string flag;
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

util::Result<void> check_ranges(const SimConfig& config, const SettingName& name) {
  const PodSettings& pod = config.pod;
  for (const CountSetting& setting : {
           CountSetting{name(Setting::pods), config.pods, k_pods_range},
           CountSetting{name(Setting::block_size), pod.block_size_tokens, k_block_size_range},
           CountSetting{name(Setting::kv_blocks), pod.kv_blocks, k_kv_blocks_range},
           CountSetting{name(Setting::prefix_index_blocks), config.prefix_index_blocks, k_prefix_index_blocks_range},
           CountSetting{name(Setting::max_num_seqs), pod.max_num_seqs, k_max_num_seqs_range},
           CountSetting{name(Setting::max_model_len), pod.max_model_len, k_max_model_len_range},
           CountSetting{name(Setting::default_max_tokens), pod.default_max_tokens, k_default_max_tokens_range},
           CountSetting{name(Setting::tokenizer_piece_bytes), pod.tokenizer_piece_bytes, k_tokenizer_piece_bytes_range},
       }) {
    LLMD_TRY(check(setting));
  }
  for (const RealSetting& setting : {
           RealSetting{name(Setting::time_scale), pod.timing.time_scale, k_time_scale_range},
           RealSetting{name(Setting::error_rate), pod.error_rate, k_fault_rate_range},
           RealSetting{name(Setting::abort_rate), pod.abort_rate, k_fault_rate_range},
           RealSetting{name(Setting::prefill_base), pod.timing.prefill_base_ms, k_prefill_base_ms_range},
           RealSetting{name(Setting::prefill_per_token), pod.timing.prefill_per_token_us, k_prefill_per_token_us_range},
           RealSetting{name(Setting::inter_token), pod.timing.inter_token_ms, k_inter_token_ms_range},
           RealSetting{name(Setting::restart_downtime), pod.restart_downtime_s, k_restart_downtime_s_range},
           RealSetting{name(Setting::session_timeout), config.session_timeout_s, k_session_timeout_s_range},
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

std::string_view setting_key(Setting setting) {
  switch (setting) {
    case Setting::pods: return "pods";
    case Setting::block_size: return "block_size";
    case Setting::kv_blocks: return "kv_blocks";
    case Setting::prefix_index_blocks: return "prefix_index_blocks";
    case Setting::max_num_seqs: return "max_num_seqs";
    case Setting::max_model_len: return "max_model_len";
    case Setting::default_max_tokens: return "default_max_tokens";
    case Setting::time_scale: return "timing.time_scale";
    case Setting::error_rate: return "error_rate";
    case Setting::abort_rate: return "abort_rate";
    case Setting::prefill_base: return "timing.prefill_base";
    case Setting::prefill_per_token: return "timing.prefill_per_token";
    case Setting::inter_token: return "timing.inter_token";
    case Setting::restart_downtime: return "restart_downtime";
    case Setting::session_timeout: return "session_timeout";
    case Setting::first_pod_port: return "first_pod_port";
    case Setting::no_prefix_caching_pods: return "no_prefix_caching_pods";
    case Setting::model: return "model";
    case Setting::session_header: return "session_header";
    case Setting::tokenizer_piece_bytes: return "tokenizer_piece_bytes";
  }
  return "?";
}

util::Result<void> validate(const SimConfig& config) {
  return validate(config, [](Setting setting) { return std::string(setting_key(setting)); });
}

util::Result<void> validate(const SimConfig& config, const SettingName& name) {
  LLMD_TRY(check_ranges(config, name));
  const std::uint64_t total_blocks = config.pods * config.pod.kv_blocks;
  if (total_blocks > k_max_kv_blocks_total) {
    return util::fail(fmt::format("{} {} x {} {} = {} KV blocks in all; at most {} ({} MiB of simulator "
                                  "memory before any block is cached): lower one of them",
                                  name(Setting::pods), config.pods, name(Setting::kv_blocks), config.pod.kv_blocks, total_blocks, k_max_kv_blocks_total,
                                  k_max_kv_blocks_total * k_block_bookkeeping_bytes >> 20));
  }
  if (config.first_pod_port != 0 && config.first_pod_port + config.pods - 1 > 65535) {
    return util::fail(fmt::format("{} {} + {} {} runs past port 65535", name(Setting::first_pod_port),
                                  config.first_pod_port, name(Setting::pods), config.pods));
  }
  for (std::size_t index : config.pods_without_prefix_caching) {
    if (index >= config.pods) {
      return util::fail(fmt::format("{} {} is not a pod: pods are numbered 0..{}", name(Setting::no_prefix_caching_pods),
                                    index, config.pods - 1));
    }
  }
  if (config.pod.model.empty()) {
    return util::fail(name(Setting::model) + " must not be empty");
  }
  if (!util::is_http_token(config.session_header)) {
    return util::fail(fmt::format("{} \"{}\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)",
                                  name(Setting::session_header), config.session_header));
  }
  return {};
}

}  // namespace llmd::sim
