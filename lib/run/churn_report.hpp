#pragma once
// What each churn event (scenario `events:`) did to the run, computed from the cache time series
// (cache_timeline.hpp) and the engine's completions per 100 ms (PhaseResult::completions_per_100ms).
// Pure; the time resolution of everything cache-related is the sampling interval.
//
//  - pre-event hit rate: ΣΔhits / ΣΔqueries of the fleet over the intervals that ended at or before
//    the event;
//  - cache recovery time: from the event to the end of the first interval that STARTED at or after
//    the event, read every pod (a restarting pod answering 503 is not "recovered"), and whose fleet
//    hit rate is within k_recovery_points of the pre-event rate; nullopt when no such interval came
//    before the loop ended (or there is no pre-event rate);
//  - failed requests during the disruption: requests that ended not ok (failed or aborted) from the
//    event to the end of the recovery (the loop's end when it never recovered), per 100 ms slice;
//  - the cold pod (restart_pod: the restarted pod): requests it finished after the event (ΣΔrequests
//    of its intervals ending after it: its counters restarted, so the interval holding the restart
//    counts only what came after) and its hit rate over the same intervals.
#include <optional>
#include <string>
#include <vector>

#include "engine/run_result.hpp"
#include "run/cache_timeline.hpp"

namespace llmd::run {

inline constexpr double k_recovery_points = 0.05;  // "within 5 points" of the pre-event hit rate

struct EventReport {
  FiredEvent fired;
  std::optional<double> pre_event_hit_rate;
  std::optional<double> recovery_seconds;      // from the event; nullopt: not recovered (see recovery_note)
  std::optional<double> recovered_at_seconds;  // from the loop start
  std::string recovery_note;                   // why there is no recovery time ("" when there is one)
  std::uint64_t failed_requests = 0;           // ended not ok within [event, disruption_end)
  double disruption_end_seconds = 0;           // the recovery's end, else the loop's end
  std::string cold_pod;                        // "" when the event has none (delete_pod: a new pod name)
  std::optional<double> cold_pod_requests;     // finished after the event; nullopt when unknown
  std::optional<double> cold_pod_queries;
  std::optional<double> cold_pod_hits;
  std::optional<double> cold_pod_hit_rate;     // cold_pod_hits / cold_pod_queries; nullopt when no query
};

// One report per event of `timeline.events`, in order. `completions`: RunResult::total's slices.
std::vector<EventReport> compute_event_reports(const CacheTimeline& timeline,
                                               const std::vector<engine::CompletionBucket>& completions);

// The threshold metric cache_recovery_time: the largest recovery time over the events that fired;
// an event that never recovered counts with the time from it to the loop's end (a lower bound) and
// `unrecovered` says which. nullopt when no event fired.
struct RecoveryFigure {
  std::optional<double> seconds;
  std::vector<std::string> unrecovered;  // "restart_pod sim-pod-1 at 3s (not recovered within the loop, >= 5.2s)"
};
RecoveryFigure largest_recovery(const std::vector<EventReport>& events);

}  // namespace llmd::run
