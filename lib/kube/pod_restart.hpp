#pragma once
// `--restart-pods` / `cache.restart: true`: restart the selected pods before the measured loop, so
// every prefix cache and counter starts from zero, then wait until the same number of replacement
// pods are Ready and answer /metrics through the chosen source (proxy or exec).
//
// Replacements are told apart by UID (a StatefulSet reuses the name); pods being deleted are
// ignored. Deletion uses --wait=false: the wait is ours, bounded, with progress.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kube/kube_sources.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::kube {

enum class RestartMode {
  delete_pods,         // kubectl delete pod NAME... --wait=false (Deployment, StatefulSet, ...)
  rollout_deployment,  // kubectl rollout restart deployment/NAME for each pod's owning Deployment
};

struct RestartOptions {
  RestartMode mode = RestartMode::delete_pods;
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // for the replacements to come back
  std::chrono::milliseconds poll_interval{std::chrono::seconds(2)};
  std::function<void(const std::string&)> progress;  // one line per poll (may be empty)
  // Once set (Ctrl-C), the wait ends and restart_pods fails with "interrupted"; running kubectl
  // calls are killed. nullptr: only `timeout` ends the wait.
  const std::atomic<bool>* stop = nullptr;
};

struct RestartSummary {
  std::vector<std::string> restarted;     // pods deleted, or deployment/NAME rolled out
  std::vector<std::string> replacements;  // Ready pods answering /metrics afterwards
  std::chrono::milliseconds waited{0};    // from the restart command to the last pod answering
};

// Restarts the pods `spec` selects and waits for their replacements. Errors name the namespace,
// selector and pods: none matched, kubectl failed, a pod has no owning Deployment (rollout mode),
// or the replacements were not Ready and answering within options.timeout.
util::Result<RestartSummary> restart_pods(const scenario::KubernetesSpec& spec, const KubeOptions& options,
                                          const RestartOptions& restart);

}  // namespace llmd::kube
