#pragma once
// What a churn event does (scenario `events:`, cache_timeline.hpp EventAction):
//   restart_pod  POST {origin of the pod's metrics URL}/admin/restart (the simulator's admin endpoint)
//   delete_pod   kubectl delete pod NAME --wait=false, with cache.kubernetes' kubeconfig, context and
//                namespace (argv, never a shell line)
#include <atomic>

#include "run/cache_timeline.hpp"
#include "scenario/scenario.hpp"

namespace llmd::run {

// The action for `scenario`'s events; `cancel` (Ctrl-C twice) gives up a request in progress.
EventAction make_event_action(const scenario::Scenario& scenario, const std::atomic<bool>* cancel);

// "http://127.0.0.1:8001" from "http://127.0.0.1:8001/metrics"; "" when `url` is not http(s).
std::string url_origin(std::string_view url);

}  // namespace llmd::run
