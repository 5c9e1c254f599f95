#pragma once
// The hit rate over time (cache.interval, run/cache_timeline.hpp) and the churn events
// (run/churn_report.hpp) as text sections of the summary and as the JSON result's `timeseries`
// and `events`.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/run_report.hpp"

namespace llmd::report {

// One character per interval: the hit rate in eight levels ▁▂▃▄▅▆▇█ (level = floor(rate × 8),
// 1.0 is █), and `·` for an interval without a rate (no query, or the pod not read).
std::string sparkline(const std::vector<std::optional<double>>& rates);

// "hit rate over time" section: per pod (and the fleet) a sparkline with its min and max; "" when
// there are no series.
std::string render_timeline(const run::RunReport& report);

// "churn events" section, one block per event; "" without events.
std::string render_events(const run::RunReport& report);

// The JSON result's `timeseries` (null when cache.interval was off) and `events` (an array).
nlohmann::json timeseries_json(const run::RunReport& report);
nlohmann::json events_json(const run::RunReport& report);

}  // namespace llmd::report
