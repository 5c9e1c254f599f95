#pragma once
// The Kubernetes flags of `run` and `scrape` (--namespace, --selector, ...), applied to a scenario's
// `cache:` section; run/cache_source.hpp turns that section into a metrics source.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::cli {

// Kubernetes flags shared by `run` and `scrape`. Any of them selects `cache.source: kubernetes`
// and overrides the scenario's `cache.kubernetes` keys of the same name.
struct KubeFlags {
  std::optional<std::string> namespace_name;  // --namespace
  std::optional<std::string> selector;        // --selector (kubectl -l)
  std::optional<std::string> container;       // --container
  std::optional<std::string> via;             // --via proxy|exec
  std::vector<std::uint16_t> ports;           // --port (repeatable, tried in order)
  std::optional<std::string> kubeconfig;      // --kubeconfig
  std::optional<std::string> context;         // --context
  bool restart_pods = false;                  // --restart-pods (run only)
};

// Adds the flags; `with_restart` adds --restart-pods too.
void add_kube_options(CLI::App& command, KubeFlags& flags, bool with_restart);
// Applies the flags to `cache`; the error names the flag (--via: expected proxy or exec).
util::Result<void> apply_kube_flags(scenario::CacheSpec& cache, const KubeFlags& flags);

}  // namespace llmd::cli
