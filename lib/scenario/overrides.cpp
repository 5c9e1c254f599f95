#include "scenario/overrides.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include <fmt/format.h>

#include "scenario/limits.hpp"
#include "scenario/loader.hpp"
#include "scenario/load_sections.hpp"
#include "util/duration.hpp"
#include "util/number_text.hpp"

namespace llmd::scenario {

namespace {

using util::fail;

// Runs `check` on a flag's value; the error is prefixed with the flag name.
util::Result<void> check_flag(std::string_view flag, std::string_view value, util::Result<void> (*check)(std::string_view)) {
  if (auto valid = check(value); !valid) {
    return fail(fmt::format("{}: {}", flag, valid.error()));
  }
  return {};
}

// A flag's number within [min, max] (limits.hpp), as the file key it replaces; NaN is out of range.
util::Result<void> check_flag_range(std::string_view flag, double value, double min, double max) {
  if (!(value >= min)) {
    return fail(fmt::format("{}: must be >= {}, got {}", flag, util::format_number(min), util::format_number(value)));
  }
  if (!(value <= max)) {
    return fail(fmt::format("{}: must be <= {}, got {}", flag, util::format_number(max), util::format_number(value)));
  }
  return {};
}

util::Result<void> apply_target(Scenario& scenario, const Overrides& overrides) {
  Target& target = scenario.target;
  if (overrides.target) {
    LLMD_TRY(check_flag("--target", *overrides.target, detail::check_base_url));
    target.base_url = detail::normalize_base_url(*overrides.target);
    target.where = SourceLocation{"--target", 0, 0};
  }
  if (overrides.host) {
    LLMD_TRY(check_flag("--host", *overrides.host, detail::check_host));
    target.host = *overrides.host;
  }
  if (overrides.api_key_env) {
    LLMD_TRY(check_flag("--api-key-env", *overrides.api_key_env, detail::check_env_name));
    target.api_key_env = *overrides.api_key_env;
  }
  if (overrides.insecure) {
    target.insecure = *overrides.insecure;
  }
  return {};
}

util::Result<void> apply_request(Scenario& scenario, const Overrides& overrides) {
  if (overrides.model) {
    if (overrides.model->empty()) {
      return fail("--model: must not be empty");
    }
    scenario.request.model = *overrides.model;
    if (scenario.target.base_url.empty()) {
      scenario.sim.pod.model = *overrides.model;  // the embedded simulator serves what is asked for
    }
  }
  if (overrides.api) {
    auto api = detail::parse_api(*overrides.api);
    if (!api) {
      return fail("--api: " + api.error());
    }
    scenario.request.api = *api;
  }
  if (overrides.allow_missing_pods) {
    LLMD_TRY(check_flag_range("--allow-missing-pods", static_cast<double>(*overrides.allow_missing_pods), 0,
                              static_cast<double>(limits::k_max_allow_missing_pods)));
    scenario.cache.allow_missing_pods = *overrides.allow_missing_pods;
  }
  if (overrides.cache_interval) {
    auto interval = util::parse_duration(*overrides.cache_interval);
    if (!interval) {
      return fail("--cache-interval: " + interval.error());
    }
    if (*interval < limits::k_min_cache_interval || *interval > std::chrono::hours(1)) {
      return fail(fmt::format("--cache-interval: must be between {} and 1h, got {}",
                              util::format_duration(limits::k_min_cache_interval), *overrides.cache_interval));
    }
    scenario.cache.interval = *interval;
  }
  if (overrides.max_tokens) {
    LLMD_TRY(check_flag_range("--max-tokens", static_cast<double>(*overrides.max_tokens), 1, static_cast<double>(limits::k_max_tokens)));
    scenario.request.max_tokens = *overrides.max_tokens;
  }
  return {};
}

// The flags each executor takes, for the error of a flag that does not fit.
std::string_view fitting_flags(ExecutorKind executor) {
  switch (executor) {
    case ExecutorKind::constant_vus: return "--vus and --duration";
    case ExecutorKind::iterations: return "--vus and --iterations";
    case ExecutorKind::constant_arrival_rate:
    case ExecutorKind::poisson:
    case ExecutorKind::gamma: return "--rate and --duration";
    case ExecutorKind::ramping_vus: return "none of --vus, --duration, --rate, --iterations (its users follow `stages`)";
    case ExecutorKind::trace: return "none of --vus, --duration, --rate, --iterations (it follows the trace's clock)";
  }
  return "";
}

// --vus / --duration / --rate / --iterations on load[0].
util::Result<void> apply_load(Scenario& scenario, const Overrides& overrides) {
  if (!overrides.vus && !overrides.duration && !overrides.rate && !overrides.iterations) {
    return {};
  }
  if (scenario.phases.empty()) {
    return fail("--vus, --duration, --rate and --iterations change the first phase of `load`, and the scenario has none");
  }
  Phase& phase = scenario.phases.front();
  const auto fits = [&phase](std::string_view flag, std::initializer_list<ExecutorKind> executors) -> util::Result<void> {
    if (std::find(executors.begin(), executors.end(), phase.executor) != executors.end()) {
      return {};
    }
    return fail(fmt::format("{}: does not fit phase \"{}\" ({}), the first measured phase: its executor {} takes {}", flag,
                            phase.name, to_string(phase.where), detail::to_string(phase.executor),
                            fitting_flags(phase.executor)));
  };
  if (overrides.vus) {
    LLMD_TRY(fits("--vus", {ExecutorKind::constant_vus, ExecutorKind::iterations}));
    LLMD_TRY(check_flag_range("--vus", static_cast<double>(*overrides.vus), 1, static_cast<double>(limits::k_max_concurrency)));
    phase.vus = *overrides.vus;
  }
  if (overrides.duration) {
    LLMD_TRY(fits("--duration", {ExecutorKind::constant_vus, ExecutorKind::constant_arrival_rate, ExecutorKind::poisson,
                                 ExecutorKind::gamma}));
    auto duration = util::parse_duration(*overrides.duration);
    if (!duration) {
      return fail("--duration: " + duration.error());
    }
    if (*duration <= Duration::zero() || *duration > limits::k_max_duration) {
      return fail(fmt::format("--duration: must be > 0s and <= {}, got {}", util::format_duration(limits::k_max_duration),
                              *overrides.duration));
    }
    phase.duration = *duration;
  }
  if (overrides.rate) {
    LLMD_TRY(fits("--rate", {ExecutorKind::constant_arrival_rate, ExecutorKind::poisson, ExecutorKind::gamma}));
    if (!(*overrides.rate > 0)) {
      return fail(fmt::format("--rate: must be > 0 requests/s, got {}", util::format_number(*overrides.rate)));
    }
    LLMD_TRY(check_flag_range("--rate", *overrides.rate, 0, limits::k_max_rate_per_s));
    phase.rate_per_s = *overrides.rate;
  }
  if (overrides.iterations) {
    LLMD_TRY(fits("--iterations", {ExecutorKind::iterations}));
    LLMD_TRY(check_flag_range("--iterations", static_cast<double>(*overrides.iterations), 1,
                              static_cast<double>(limits::k_max_iterations)));
    phase.iterations = *overrides.iterations;
  }
  return {};
}

}  // namespace

util::Result<void> apply_overrides(Scenario& scenario, const Overrides& overrides) {
  LLMD_TRY(apply_target(scenario, overrides));
  LLMD_TRY(apply_request(scenario, overrides));
  LLMD_TRY(apply_load(scenario, overrides));
  if (overrides.time_scale) {
    LLMD_TRY(check_flag_range("--time-scale", *overrides.time_scale, limits::k_min_time_scale, limits::k_max_time_scale));
    scenario.time_scale = *overrides.time_scale;
    scenario.time_scale_where = SourceLocation{"--time-scale", 0, 0};
  }
  if (overrides.threads) {
    LLMD_TRY(check_flag_range("--threads", static_cast<double>(*overrides.threads), 1,
                              static_cast<double>(limits::k_max_threads)));
    scenario.engine.threads = *overrides.threads;
    scenario.engine.where = SourceLocation{"--threads", 0, 0};
  }
  if (overrides.coalesce) {
    auto coalesce = parse_coalesce(*overrides.coalesce);
    if (!coalesce) {
      return fail("--coalesce: " + coalesce.error());
    }
    scenario.engine.coalesce = *coalesce;
  }
  if (!overrides.cache_urls.empty()) {
    for (const std::string& url : overrides.cache_urls) {
      LLMD_TRY(check_flag("--cache-url", url, detail::check_http_url));
    }
    scenario.cache.source = CacheSpec::Source::urls;
    scenario.cache.urls = overrides.cache_urls;
    scenario.cache.files.clear();
    scenario.cache.where = SourceLocation{"--cache-url", 0, 0};
  }
  if (overrides.prometheus_token_env) {
    LLMD_TRY(check_flag("--prometheus-token-env", *overrides.prometheus_token_env, detail::check_env_name));
    if (scenario.cache.source != CacheSpec::Source::prometheus) {
      return fail("--prometheus-token-env: the scenario's cache source is not prometheus (set cache.source: prometheus "
                  "with prometheus_url and matcher)");
    }
    scenario.cache.prometheus.bearer_token_env = *overrides.prometheus_token_env;
  }
  return detail::check_consistency(scenario);
}

}  // namespace llmd::scenario
