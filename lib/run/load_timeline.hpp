#pragma once
// The "load" stage's part in cache.interval and churn events (cache_timeline.hpp): the recorder
// that samples the pods and fires the events during the measured loop, and what it leaves in the
// report afterwards.
#include <memory>
#include <optional>

#include "run/cache_timeline.hpp"
#include "run/stages.hpp"
#include "util/result.hpp"

namespace llmd::run {

// The recorder (its baseline snapshot taken now), or nullptr when cache.interval is off and there
// are no events; an event naming a pod the cache source does not list is an error (the run stops
// before the loop). Without cache.interval, events sample every 1 s and a note says so.
util::Result<std::unique_ptr<CacheTimelineRecorder>> make_timeline(RunState& state);

// report.timeseries, and report.events computed from it and the run's completions per 100 ms.
void record_timeline(RunReport& report, std::optional<CacheTimeline> series);

}  // namespace llmd::run
