#pragma once
// Reconciles the requests the pods say they finished (ΣΔ vllm:request_success_total over the
// scraped pods) with what the client saw, in both directions:
//   FEWER than the client's successes: requests went to pods outside the scraped set, or a pod
//     restarted / vanished / could not be read (its counts before the event are lost);
//   MORE than the client could have caused (successes + failures that reached a server + requests
//     the client cut): other clients' traffic, warm-up traffic that a lagging metrics source counted
//     in the measured window, or retries by a proxy.
// Either way the cache figures describe other traffic than the measured loop: a diagnostic with
// the numbers and what to do, never a silent number.
#include <optional>

#include "engine/run_result.hpp"
#include "run/run_report.hpp"
#include "scrape/cache_report.hpp"

namespace llmd::run {

// The `pod_requests_mismatch` diagnostic, or nullopt when the pods' count is within what the client
// explains (or when no pod exports a request counter: nothing to compare).
std::optional<RunDiagnostic> reconcile_pod_requests(const scrape::CacheReport& cache, const engine::RunResult& run);

}  // namespace llmd::run
