// `sim:` of a scenario file: the embedded simulator (sim::SimConfig), keys named after the
// `llmd-bench sim` flags (--block-size -> block_size), delays as durations.
#include <array>
#include <chrono>
#include <limits>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "sim/metrics_exporter.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Range;
using yaml::Section;
using yaml::ZeroDuration;

constexpr std::array<std::string_view, 26> k_sim_keys = {
    "pods", "bind", "gateway_port", "first_pod_port", "host", "route", "session_timeout",
    "prefix_index_blocks", "seed", "model", "block_size", "kv_blocks", "prefix_caching", "metrics_flavor",
    "max_num_seqs", "max_model_len", "default_max_tokens", "error_rate", "abort_rate", "restart_downtime", "timing",
    "prompt_tokens_details", "gateway_allow_no_model", "dev_mode", "tokenizer_piece_bytes",
    "endpoint_header",
};
constexpr std::array<std::string_view, 4> k_timing_keys = {"prefill_base", "prefill_per_token", "inter_token",
                                                           "time_scale"};

// A duration key stored as a double in `unit` (std::milli -> milliseconds), at most range.max
// of that unit (the flag's bound).
template <class Unit>
util::Result<void> read_duration_as(const Section& section, std::string_view key, double& out, sim::RealRange range) {
  if (!section.has(key)) {
    return {};
  }
  const auto max = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double, Unit>(range.max));
  std::chrono::nanoseconds duration{};
  LLMD_TRY(section.read(key, duration, ZeroDuration::allowed, yaml::Need::optional, max));
  out = std::chrono::duration<double, Unit>(duration).count();
  return {};
}

template <class Unsigned>
util::Result<void> read_count(const Section& section, std::string_view key, Unsigned& out, sim::CountRange range) {
  return section.read_unsigned(key, out, range.min, range.max);
}

Range range_of(sim::RealRange range) { return Range::between(range.min, range.max); }

util::Result<void> load_timing(const Field& field, sim::PodTiming& timing) {
  auto section = Section::open(field, k_timing_keys);
  if (!section) {
    return fail(section.error());
  }
  LLMD_TRY(read_duration_as<std::milli>(*section, "prefill_base", timing.prefill_base_ms, sim::k_prefill_base_ms_range));
  LLMD_TRY(read_duration_as<std::micro>(*section, "prefill_per_token", timing.prefill_per_token_us,
                                        sim::k_prefill_per_token_us_range));
  LLMD_TRY(read_duration_as<std::milli>(*section, "inter_token", timing.inter_token_ms, sim::k_inter_token_ms_range));
  return section->read("time_scale", timing.time_scale, range_of(sim::k_time_scale_range));
}

util::Result<void> load_model(const Section& section, std::string_view scenario_model, sim::PodSettings& pod) {
  if (!scenario_model.empty()) {
    pod.model = std::string(scenario_model);
  }
  auto field = section.get("model");
  if (!field) {
    return {};
  }
  auto model = field->as_string();
  if (!model) {
    return fail(model.error());
  }
  if (!scenario_model.empty() && *model != scenario_model) {
    return fail(field->error(fmt::format("the simulator would serve \"{}\" but requests ask for model \"{}\"; "
                                         "drop one of the two",
                                         *model, scenario_model)));
  }
  pod.model = std::move(*model);
  return {};
}

util::Result<void> load_pod(const Section& section, std::string_view scenario_model, sim::PodSettings& pod) {
  LLMD_TRY(load_model(section, scenario_model, pod));
  LLMD_TRY(read_count(section, "block_size", pod.block_size_tokens, sim::k_block_size_range));
  LLMD_TRY(read_count(section, "kv_blocks", pod.kv_blocks, sim::k_kv_blocks_range));
  LLMD_TRY(section.read("prefix_caching", pod.enable_prefix_caching));
  LLMD_TRY(section.read_parsed("metrics_flavor", pod.metrics_flavor, sim::parse_metrics_flavor));
  LLMD_TRY(read_count(section, "max_num_seqs", pod.max_num_seqs, sim::k_max_num_seqs_range));
  LLMD_TRY(read_count(section, "max_model_len", pod.max_model_len, sim::k_max_model_len_range));
  LLMD_TRY(read_count(section, "default_max_tokens", pod.default_max_tokens, sim::k_default_max_tokens_range));
  LLMD_TRY(section.read("error_rate", pod.error_rate, range_of(sim::k_fault_rate_range)));
  LLMD_TRY(section.read("abort_rate", pod.abort_rate, range_of(sim::k_fault_rate_range)));
  LLMD_TRY(section.read("prompt_tokens_details", pod.prompt_tokens_details));
  LLMD_TRY(section.read("dev_mode", pod.dev_mode));
  LLMD_TRY(read_count(section, "tokenizer_piece_bytes", pod.tokenizer_piece_bytes, sim::k_tokenizer_piece_bytes_range));
  LLMD_TRY(read_duration_as<std::ratio<1>>(section, "restart_downtime", pod.restart_downtime_s,
                                           sim::k_restart_downtime_s_range));
  if (auto timing = section.get("timing")) {
    LLMD_TRY(load_timing(*timing, pod.timing));
  }
  return {};
}

}  // namespace

util::Result<void> load_sim(const Field& field, std::string_view scenario_model, sim::SimConfig& config) {
  auto section = Section::open(field, k_sim_keys);
  if (!section) {
    return fail(section.error());
  }
  LLMD_TRY(read_count(*section, "pods", config.pods, sim::k_pods_range));
  LLMD_TRY(section->read("bind", config.bind_address));
  LLMD_TRY(section->read_unsigned("gateway_port", config.gateway_port, 0, 65535));
  LLMD_TRY(section->read_unsigned("first_pod_port", config.first_pod_port, 0, 65535));
  LLMD_TRY(section->read("host", config.host));
  bool allow_no_model = !config.gateway_requires_model;
  LLMD_TRY(section->read("gateway_allow_no_model", allow_no_model));
  config.gateway_requires_model = !allow_no_model;
  LLMD_TRY(section->read("endpoint_header", config.endpoint_header));
  LLMD_TRY(section->read_parsed("route", config.route, sim::parse_route_policy));
  LLMD_TRY(read_duration_as<std::ratio<1>>(*section, "session_timeout", config.session_timeout_s,
                                           sim::k_session_timeout_s_range));
  LLMD_TRY(read_count(*section, "prefix_index_blocks", config.prefix_index_blocks, sim::k_prefix_index_blocks_range));
  LLMD_TRY(section->read_unsigned("seed", config.seed, 0, std::numeric_limits<std::uint64_t>::max()));
  LLMD_TRY(load_pod(*section, scenario_model, config.pod));
  if (auto valid = sim::validate(config); !valid) {
    return fail(field.error(valid.error()));
  }
  return {};
}

}  // namespace llmd::scenario::detail
