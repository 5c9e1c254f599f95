#include "cli/sim_command.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "sim/fleet.hpp"
#include "util/process.hpp"
#include "util/json_text.hpp"
#include "util/console.hpp"
#include "util/number_text.hpp"

namespace llmd::cli {

namespace {

// "Help text (1..1024)": the flag's accepted range, from the constants validate() checks, and a
// rule that spans flags ("Help (1..1048576; --pods x --kv-blocks <= 16777216)").
std::string with_range(std::string_view help, sim::CountRange range, std::string_view rule = {}) {
  return fmt::format("{} ({}..{}{}{})", help, range.min, range.max, rule.empty() ? "" : "; ", rule);
}

std::string with_range(std::string_view help, sim::RealRange range) {
  return fmt::format("{} ({}..{})", help, util::format_number(range.min), util::format_number(range.max));
}

// The flag of `llmd-bench sim` that sets `setting` (add_sim_options), for sim::validate's errors.
std::string sim_flag(sim::Setting setting) {
  switch (setting) {
    case sim::Setting::prefill_base: return "--prefill-base-ms";
    case sim::Setting::prefill_per_token: return "--prefill-per-token-us";
    case sim::Setting::inter_token: return "--inter-token-ms";
    case sim::Setting::time_scale: return "--time-scale";
    case sim::Setting::no_prefix_caching_pods: return "--no-prefix-caching-pod";
    default: break;
  }
  std::string flag = "--" + std::string(sim::setting_key(setting));  // "kv_blocks" -> "--kv-blocks"
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

}  // namespace

void add_sim_options(CLI::App& command, SimOptions& options) {
  auto& config = options.config;
  auto& pod = config.pod;
  command.add_option("--pods", config.pods, with_range("Number of simulated vLLM pods", sim::k_pods_range))->capture_default_str();
  command.add_option("--bind", config.bind_address, "Address every port binds to")->capture_default_str();
  command.add_option("--gateway-port", config.gateway_port, "Gateway port (0 = ephemeral)")->capture_default_str();
  command.add_option("--first-pod-port", config.first_pod_port, "Port of pod 0; pod i uses it + i (0 = all ephemeral)")
      ->capture_default_str();
  command.add_option("--host", config.host, "Virtual host the gateway requires in the Host header (empty = any)");
  command.add_flag("--gateway-allow-no-model", options.gateway_allow_no_model,
                   "Gateway: pass completion/chat POSTs without \"model\" to a pod (default: 400 \"model not found in "
                   "request body\", as the llm-d / Inference Extension endpoint picker answers)");
  command.add_flag("--no-endpoint-header", options.no_endpoint_header,
                   "Gateway: do not add x-gateway-destination-endpoint-served (the serving pod's address:port) to "
                   "responses, like a gateway that does not tell clients which pod served them");
  command.add_option("--route", options.route, "Gateway routing: prefix, session, round-robin, random, least-loaded")
      ->capture_default_str();
  command.add_option("--session-header", config.session_header,
                     "Header whose value keys --route session (a run's embedded simulator takes the scenario's session_header)")
      ->capture_default_str();
  command.add_option("--session-timeout", config.session_timeout_s, with_range("Session affinity idle timeout, seconds", sim::k_session_timeout_s_range))->capture_default_str();
  command.add_option("--prefix-index-blocks", config.prefix_index_blocks,
                     with_range("Gateway prefix index capacity, in blocks", sim::k_prefix_index_blocks_range))
      ->capture_default_str();
  command.add_option("--seed", config.seed, "Seed of random routing and fault injection")->capture_default_str();
  command.add_option("--model", pod.model, "Served model name")->capture_default_str();
  command.add_option("--block-size", pod.block_size_tokens, with_range("KV cache block size, tokens", sim::k_block_size_range))->capture_default_str();
  command.add_option("--kv-blocks", pod.kv_blocks,
                     with_range("KV cache blocks per pod", sim::k_kv_blocks_range,
                                fmt::format("--pods x --kv-blocks <= {}", sim::k_max_kv_blocks_total)))->capture_default_str();
  command.add_flag("--no-prefix-caching", options.no_prefix_caching, "Disable prefix caching (counters stay 0)");
  command.add_flag("--no-dev-mode", options.no_dev_mode,
                   "Pods answer 404 to POST /reset_prefix_cache, as vLLM without VLLM_SERVER_DEV_MODE=1 (default: served)");
  command.add_option("--no-prefix-caching-pod", config.pods_without_prefix_caching,
                     "Disable prefix caching on this pod only (index; repeatable)")
      ->allow_extra_args(false);
  command.add_option("--metrics-flavor", options.metrics_flavor, "Metric names of vLLM: v0, v0.10, v0.11")->capture_default_str();
  command.add_option("--tokenizer-piece-bytes", pod.tokenizer_piece_bytes,
                     with_range("Longest token piece, bytes: 8 counts each generated prompt word as one token; less "
                                "splits longer words (a tokenizer unlike the prompt generator's, for token calibration)",
                                sim::k_tokenizer_piece_bytes_range))
      ->capture_default_str();
  command.add_option("--max-num-seqs", pod.max_num_seqs,
                     with_range("Requests a pod runs at once; the rest wait", sim::k_max_num_seqs_range))->capture_default_str();
  command.add_option("--max-model-len", pod.max_model_len, with_range("Prompt + max_tokens limit, tokens", sim::k_max_model_len_range))->capture_default_str();
  command.add_option("--default-max-tokens", pod.default_max_tokens,
                     with_range("Output tokens of a completion that sets no max_tokens (vLLM: 16; a chat request without "
                                "one generates up to --max-model-len minus its prompt, as vLLM)",
                                sim::k_default_max_tokens_range))
      ->capture_default_str();
  command.add_option("--prefill-base-ms", pod.timing.prefill_base_ms,
                     with_range("Fixed part of prefill, ms", sim::k_prefill_base_ms_range))->capture_default_str();
  command.add_option("--prefill-per-token-us", pod.timing.prefill_per_token_us,
                     with_range("Prefill time per UNCACHED prompt token, us", sim::k_prefill_per_token_us_range))
      ->capture_default_str();
  command.add_option("--inter-token-ms", pod.timing.inter_token_ms,
                     with_range("Interval between output tokens, ms", sim::k_inter_token_ms_range))->capture_default_str();
  command.add_option("--time-scale", pod.timing.time_scale,
                     with_range("Multiplies every simulated delay (0.01 = 100x faster)", sim::k_time_scale_range))
      ->capture_default_str();
  command.add_option("--error-rate", pod.error_rate, with_range("Fraction of requests answered with HTTP 500", sim::k_fault_rate_range))->capture_default_str();
  command.add_option("--abort-rate", pod.abort_rate, with_range("Fraction of streams cut mid-way", sim::k_fault_rate_range))->capture_default_str();
  command.add_flag("--stamp-events", pod.stamp_events,
                   "Prefix each streamed event with ': llmd-sent-ns=<CLOCK_MONOTONIC ns>' (client timing error)");
  command.add_flag("--prompt-tokens-details", pod.prompt_tokens_details,
                   "Report usage.prompt_tokens_details.cached_tokens like vLLM --enable-prompt-tokens-details");
  command.add_option("--restart-downtime", pod.restart_downtime_s,
                     with_range("Seconds a restarted pod answers 503 (scaled)", sim::k_restart_downtime_s_range))
      ->capture_default_str();
}

util::Result<sim::SimConfig> finish_sim_options(const SimOptions& options) {
  sim::SimConfig config = options.config;
  auto route = sim::parse_route_policy(options.route);
  if (!route) {
    return util::fail("--route: " + route.error());
  }
  config.route = *route;
  auto flavor = sim::parse_metrics_flavor(options.metrics_flavor);
  if (!flavor) {
    return util::fail("--metrics-flavor: " + flavor.error());
  }
  config.pod.metrics_flavor = *flavor;
  if (options.no_prefix_caching) {
    config.pod.enable_prefix_caching = false;
  }
  if (options.no_dev_mode) {
    config.pod.dev_mode = false;
  }
  if (options.gateway_allow_no_model) {
    config.gateway_requires_model = false;
  }
  if (options.no_endpoint_header) {
    config.endpoint_header = false;
  }
  if (auto valid = sim::validate(config, sim_flag); !valid) {
    return util::fail(valid.error());
  }
  return config;
}

CommandResult run_sim_command(const SimOptions& options) {
  CommandResult result;
  auto config = finish_sim_options(options);
  if (!config) {
    return result.fail(k_exit_usage, config.error());
  }
  util::raise_open_file_limit();
  sim::net::io_context io(1);
  sim::Fleet fleet(io, *config);
  // Handle signals before the JSON line announces readiness, so a script may stop us at once.
  sim::net::signal_set signals(io, SIGINT, SIGTERM);
  std::atomic<bool> stopping{false};
  signals.async_wait([&](const boost::system::error_code&, int) {
    fleet.stop();
    stopping = true;
  });
  if (auto started = fleet.start(); !started) {
    return result.fail(k_exit_run_failed, started.error());
  }
  // One JSON line on stdout so scripts and tests can find the ports; the human summary on stderr.
  util::print_stdout(util::dump_json(fleet.describe()) + "\n");
  util::print_stderr(fmt::format("llmd-bench sim: {} pods behind gateway {} (route {}, host {}, metrics {}); Ctrl-C stops\n",
             fleet.pod_count(), fleet.gateway_url(), sim::to_string(config->route),
             config->host.empty() ? "any" : config->host, sim::to_string(config->pod.metrics_flavor)));
  const bool drained = sim::run_until_drained(io, stopping, std::chrono::seconds(5));
  util::print_stderr(fmt::format("llmd-bench sim: stopped\n"));
  if (!drained) {
    // Handlers still hold pods and the gateway: leave without destroying them.
    std::fflush(nullptr);
    std::_Exit(k_exit_ok);
  }
  return result;
}

}  // namespace llmd::cli
