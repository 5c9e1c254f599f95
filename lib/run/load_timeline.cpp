#include "run/load_timeline.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "run/churn_actions.hpp"

namespace llmd::run {

namespace {

// cache.interval, else 1 s when there are churn events (with a note); times time_scale.
std::optional<std::chrono::nanoseconds> timeline_interval(RunState& state) {
  const scenario::Scenario& s = state.scenario();
  if (state.source == nullptr || (!s.cache.interval && s.events.empty())) {
    return std::nullopt;
  }
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  if (s.cache.interval) {
    interval = *s.cache.interval;
  } else {
    state.report->notes.push_back("events: cache.interval is not set, so every pod is scraped every 1s during the loop");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(interval.count()) * s.time_scale));
}

}  // namespace

// The series recorder for the measured loop (nullptr when off); an event naming a pod the source
// does not list stops the run before it starts.
util::Result<std::unique_ptr<CacheTimelineRecorder>> make_timeline(RunState& state) {
  const auto interval = timeline_interval(state);
  if (!interval) {
    return std::unique_ptr<CacheTimelineRecorder>();
  }
  const scenario::Scenario& s = state.scenario();
  CacheTimelineRecorder::Config config;
  config.interval = *interval;
  config.model_filter = s.cache.model_filter;
  config.act = make_event_action(s, state.request->abort);
  for (scenario::ChurnEvent event : s.events) {
    event.at = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(event.at.count()) * s.time_scale));
    config.events.push_back(std::move(event));
  }
  auto recorder = std::make_unique<CacheTimelineRecorder>(*state.source, std::move(config));
  const auto pods = recorder->pods();
  for (const auto& event : s.events) {
    if (std::find(pods.begin(), pods.end(), event.pod) == pods.end()) {
      return util::fail(fmt::format("{}: {} {}: no such pod among the cache source's pods ({})",
                                    scenario::to_string(event.where), scenario::to_string(event.action), event.pod,
                                    fmt::join(pods, ", ")));
    }
  }
  return recorder;
}

void record_timeline(RunReport& report, std::optional<CacheTimeline> series) {
  if (!series) {
    return;
  }
  report.timeseries = std::move(*series);
  if (report.run && !report.timeseries->events.empty()) {
    report.events = compute_event_reports(*report.timeseries, report.run->total.completions_per_100ms);
  }
}

}  // namespace llmd::run
