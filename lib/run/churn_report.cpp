#include "run/churn_report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "util/duration.hpp"

namespace llmd::run {

namespace {

// The fleet's hit rate over the intervals that ended at or before `t`; nullopt without queries.
std::optional<double> rate_before(const std::vector<FleetInterval>& fleet, double t) {
  double queries = 0;
  double hits = 0;
  for (const auto& interval : fleet) {
    if (interval.t_seconds <= t) {
      queries += interval.d_queries;
      hits += interval.d_hits;
    }
  }
  return queries > 0 ? std::optional<double>(hits / queries) : std::nullopt;
}

// The end of the first interval that started at or after `t`, read every pod, and whose hit rate
// is within k_recovery_points of `pre`; nullopt when none.
std::optional<double> recovered_at(const std::vector<FleetInterval>& fleet, double t, double pre) {
  double start = 0;
  for (const auto& interval : fleet) {
    const double begin = start;
    start = interval.t_seconds;
    if (begin < t || !interval.hit_rate || interval.pods_missing > 0) {
      continue;
    }
    if (*interval.hit_rate >= pre - k_recovery_points - 1e-12) {
      return interval.t_seconds;
    }
  }
  return std::nullopt;
}

// Failures in the 100 ms slices that overlap [from, to): the resolution is the slice.
std::uint64_t failures_between(const std::vector<engine::CompletionBucket>& completions, double from, double to) {
  const double slice_s = std::chrono::duration<double>(engine::k_completion_bucket).count();
  const auto first = static_cast<std::size_t>(std::max(0.0, std::floor(from / slice_s + 1e-6)));
  const auto end = static_cast<std::size_t>(std::max(0.0, std::ceil(to / slice_s - 1e-6)));
  std::uint64_t failed = 0;
  for (std::size_t i = first; i < end && i < completions.size(); ++i) {
    failed += completions[i].failed;
  }
  return failed;
}

void add_cold_pod(EventReport& report, const CacheTimeline& timeline, double t) {
  if (report.fired.event.action != scenario::ChurnEvent::Action::restart_pod) {
    return;
  }
  report.cold_pod = report.fired.event.pod;
  const auto found = timeline.pods.find(report.cold_pod);
  if (found == timeline.pods.end()) {
    return;
  }
  double requests = 0;
  double queries = 0;
  double hits = 0;
  bool any = false;
  for (const auto& interval : found->second) {
    if (interval.t_seconds <= t || !interval.error.empty()) {
      continue;
    }
    any = true;
    requests += interval.d_requests.value_or(0);
    queries += interval.d_queries.value_or(0);
    hits += interval.d_hits.value_or(0);
  }
  if (!any) {
    return;
  }
  report.cold_pod_requests = requests;
  report.cold_pod_queries = queries;
  report.cold_pod_hits = hits;
  report.cold_pod_hit_rate = queries > 0 ? std::optional<double>(hits / queries) : std::nullopt;
}

EventReport event_report(const FiredEvent& fired, const CacheTimeline& timeline,
                         const std::vector<engine::CompletionBucket>& completions) {
  EventReport report;
  report.fired = fired;
  report.disruption_end_seconds = timeline.loop_seconds;
  if (!fired.fired_seconds) {
    report.recovery_note = "the event did not fire";
    return report;
  }
  const double t = *fired.fired_seconds;
  report.pre_event_hit_rate = rate_before(timeline.fleet, t);
  if (!report.pre_event_hit_rate) {
    report.recovery_note = "no pre-event hit rate: no prefix-cache query in the intervals before the event";
  } else if (auto at = recovered_at(timeline.fleet, t, *report.pre_event_hit_rate)) {
    report.recovered_at_seconds = *at;
    report.recovery_seconds = *at - t;
    report.disruption_end_seconds = *at;
  } else {
    report.recovery_note = "not recovered within the loop";
  }
  report.failed_requests = failures_between(completions, t, report.disruption_end_seconds);
  add_cold_pod(report, timeline, t);
  return report;
}

}  // namespace

std::vector<EventReport> compute_event_reports(const CacheTimeline& timeline,
                                               const std::vector<engine::CompletionBucket>& completions) {
  std::vector<EventReport> reports;
  for (const auto& fired : timeline.events) {
    reports.push_back(event_report(fired, timeline, completions));
  }
  return reports;
}

RecoveryFigure largest_recovery(const std::vector<EventReport>& events) {
  RecoveryFigure figure;
  for (const auto& event : events) {
    if (!event.fired.fired_seconds) {
      continue;
    }
    double seconds = 0;
    if (event.recovery_seconds) {
      seconds = *event.recovery_seconds;
    } else {
      seconds = std::max(0.0, event.disruption_end_seconds - *event.fired.fired_seconds);
      figure.unrecovered.push_back(fmt::format("{} {} at {} ({}, >= {})", to_string(event.fired.event.action),
                                               event.fired.event.pod, util::format_seconds(*event.fired.fired_seconds),
                                               event.recovery_note, util::format_seconds(seconds)));
    }
    figure.seconds = std::max(figure.seconds.value_or(0.0), seconds);
  }
  return figure;
}

}  // namespace llmd::run
