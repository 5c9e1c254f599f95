#include "run/pod_requests.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace llmd::run {

namespace {

using engine::FailureClass;
using scrape::PodStatus;

// Failed requests that may have been finished by a pod (vLLM counts a request it ran even when
// the client saw it fail: finished_reason "abort" when the client went away, an error event after
// the stream began). Not: connection/TLS failures and HTTP error statuses (answered before any
// engine ran the request).
std::uint64_t failures_reaching_a_pod(const engine::PhaseResult& total) {
  std::uint64_t count = 0;
  for (const FailureClass failure : {FailureClass::timeout, FailureClass::stream_cut, FailureClass::malformed_event,
                                     FailureClass::server_error_event, FailureClass::other}) {
    count += total.failures(failure);
  }
  return count;
}

// The pods whose counts of the run are incomplete, as "pod (why)".
std::vector<std::string> incomplete_pods(const scrape::CacheReport& cache) {
  std::vector<std::string> pods = cache.totals.missing_pods;
  for (const scrape::PodCacheRow& row : cache.pods) {
    if (row.reset) {
      pods.push_back(fmt::format("{} (restarted during the run: its requests before the restart are not counted)", row.pod));
    }
  }
  return pods;
}

bool has_request_counters(const scrape::CacheReport& cache) {
  return std::any_of(cache.pods.begin(), cache.pods.end(),
                     [](const scrape::PodCacheRow& row) { return row.requests_success.delta.has_value(); });
}

}  // namespace

std::optional<RunDiagnostic> reconcile_pod_requests(const scrape::CacheReport& cache, const engine::RunResult& run) {
  if (cache.pods.empty() || !has_request_counters(cache)) {
    return std::nullopt;
  }
  const auto& total = run.total;
  const double pods = cache.totals.requests_success;
  const auto ok = static_cast<double>(total.ok);
  const auto most = static_cast<double>(total.ok + failures_reaching_a_pod(total) + total.aborted);
  if (pods < ok) {
    const std::vector<std::string> incomplete = incomplete_pods(cache);
    if (!incomplete.empty()) {
      return RunDiagnostic{
          "pod_requests_mismatch", scrape::Severity::warning,
          fmt::format("the scraped pods finished {:.0f} requests, {:.0f} fewer than the {} the client saw succeed: "
                      "the counts of {} are incomplete, so the cache figures cover part of the run",
                      pods, ok - pods, total.ok, fmt::join(incomplete, ", ")),
          "for exact figures rerun without restarts (kubectl describe pod: OOMKilled? liveness probe?) and with "
          "every pod answering its /metrics"};
    }
    return RunDiagnostic{
        "pod_requests_mismatch", scrape::Severity::warning,
        fmt::format("{} requests succeeded but the scraped pods finished only {:.0f}: {:.0f} went to pods outside "
                    "the scraped set",
                    total.ok, pods, ok - pods),
        "check the selector/namespace (or the --cache-url list): every pod behind the gateway should be scraped"};
  }
  if (pods > most) {
    return RunDiagnostic{
        "pod_requests_mismatch", scrape::Severity::warning,
        fmt::format("the scraped pods finished {:.0f} requests, the client at most {:.0f} ({} succeeded, {:.0f} "
                    "failed or were cut after reaching a server): {:.0f} more came from elsewhere, so the cache "
                    "figures include traffic that was not measured",
                    pods, most, total.ok, most - ok, pods - most),
        "other clients' traffic (run on an idle fleet), warm-up traffic counted in the measured window (a metrics "
        "source that lags: check its scrape interval), or retries by a gateway or proxy"};
  }
  return std::nullopt;
}

}  // namespace llmd::run
