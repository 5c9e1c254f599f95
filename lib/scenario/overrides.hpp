#pragma once
// CLI flags that override a loaded scenario (`llmd-bench run SCENARIO --target URL ...`). Applied
// after load_scenario; each flag is checked like the file key it replaces, and errors name the
// flag ("--target: expected an http:// or https:// URL with a host, got \"ftp://x\"").
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::scenario {

struct Overrides {
  std::optional<std::string> target;       // --target: target.base_url (the embedded simulator is then not started)
  std::optional<std::string> host;         // --host: target.host (Host header)
  std::optional<std::string> model;        // --model: request model; also the embedded simulator's served model
  std::optional<std::string> api;          // --api: completions | chat
  std::optional<std::string> api_key_env;  // --api-key-env: NAME of the env var holding the bearer token
  std::optional<bool> insecure;            // --insecure: skip TLS certificate verification
  std::optional<double> time_scale;        // --time-scale: replaces Scenario::time_scale (limits.hpp bounds)
  std::optional<std::size_t> threads;      // --threads: engine.threads (1..limits::k_max_threads)
  std::optional<std::string> coalesce;     // --coalesce: engine.coalesce (auto, off or a duration)
  std::optional<std::size_t> max_tokens;   // --max-tokens (1..limits::k_max_tokens)
  std::vector<std::string> cache_urls;     // --cache-url (repeatable): cache.source becomes urls with these
  std::optional<std::size_t> allow_missing_pods;  // --allow-missing-pods: cache.allow_missing_pods
  std::optional<std::string> cache_interval;      // --cache-interval: cache.interval (a duration, >= 100ms)
  // --prometheus-token-env: cache.bearer_token_env (the cache source must be prometheus)
  std::optional<std::string> prometheus_token_env;
  // Ad-hoc load: each replaces that value of the FIRST measured phase (load[0]); a flag its
  // executor has no use for is an error naming the flag, the phase and the flags that fit.
  std::optional<std::size_t> vus;         // --vus: constant-vus, iterations (1..k_max_concurrency)
  std::optional<std::string> duration;    // --duration: constant-vus, constant-arrival-rate, poisson
  std::optional<double> rate;             // --rate: constant-arrival-rate, poisson (requests/s)
  std::optional<std::uint64_t> iterations;  // --iterations: iterations
};

// Applies every set field; on error `scenario` may be partly updated (callers stop anyway).
// SourceLocations of overridden values become the flag name (Target::where = {"--target"}).
// Cross-section rules (loader.hpp) are re-checked afterwards.
util::Result<void> apply_overrides(Scenario& scenario, const Overrides& overrides);

}  // namespace llmd::scenario
