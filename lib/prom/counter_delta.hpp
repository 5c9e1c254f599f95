#pragma once
// Prometheus counter arithmetic between two scrapes ("before" and "after" a measured run).
//
// A counter only goes up while its process lives. Prometheus' own rule (rate(), increase()):
// a value lower than the previous one means the process restarted and the counter began again
// from zero, so the increase since the restart is the new value itself. That undercounts
// whatever happened between the first scrape and the restart; callers flag it, never hide it.
// Pure: no I/O, no clocks.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmd::prom {

enum class DeltaStatus {
  ok,        // both values present and after >= before: delta = after - before
  reset,     // after < before, or the caller knows the process restarted: delta = after (from zero)
  appeared,  // no value before, one after (a new pod or a series created during the run): delta = after
  vanished,  // a value before, none after (the pod went away): no delta, leave it out of totals
  absent,    // no value on either side: no delta
  invalid,   // a value is NaN, infinite or negative (not a counter value): no delta
};

// "ok" | "reset" | "new" | "vanished" | "absent" | "invalid" (JSON and report spelling).
std::string_view to_string(DeltaStatus status);

// Whether the caller learned from elsewhere that the process restarted between the scrapes
// (e.g. the counter's `_created` timestamp or process_start_time_seconds changed). A restart
// counted from zero is still reported as `reset` when the new value happens to exceed the old one.
enum class KnownRestart { no, yes };

struct CounterDelta {
  std::optional<double> delta;  // increase over the interval; nullopt when it cannot be computed
  DeltaStatus status = DeltaStatus::absent;

  // True when `delta` holds a number that may be added to totals (ok, reset, appeared).
  bool counts() const { return delta.has_value(); }
};

// The increase of one counter between two scrapes; see DeltaStatus for each case.
CounterDelta counter_delta(std::optional<double> before, std::optional<double> after,
                           KnownRestart restart = KnownRestart::no);

// ---- Per series ----
//
// A counter of one pod is often several series (one per `engine` under data parallelism, one per
// `finished_reason`, ...). Prometheus applies the reset rule to each SERIES, then sums: summing
// first hides the reset of one engine (the sum need not drop) or, when a reset is known from that
// engine's `_created`, counts the other engines' lifetime totals as if they were new.

// One series of a counter in one scrape.
struct SeriesPoint {
  double value = 0;
  // The series' own creation time (prometheus_client's `<name>_created` with the same labels),
  // seconds since the epoch; a change between two scrapes means this series restarted.
  std::optional<double> created_unix_seconds;
};

// Series of one counter keyed by their label set, rendered canonically (see series_key()).
using SeriesMap = std::map<std::string, SeriesPoint>;

// What happened to one series between the scrapes, when it was not a plain increase.
struct SeriesEvent {
  std::string series;  // the label set (series key)
  DeltaStatus status = DeltaStatus::ok;  // reset, appeared, vanished or invalid
  std::string evidence;  // e.g. "went down from 900 to 120", "_created changed 1.7e9 -> 1.8e9"
};

struct SeriesDelta {
  std::optional<double> delta;  // sum of the series' increases; nullopt when none can be computed
  // ok: every series increased (or stayed); reset: some series restarted (each counted from zero);
  // appeared: no series before (a new pod); vanished: no series after; absent: none either side;
  // invalid: a value is not a counter value (then no delta at all).
  DeltaStatus status = DeltaStatus::absent;
  std::vector<SeriesEvent> events;  // per-series resets, appearances, disappearances, invalid values

  bool counts() const { return delta.has_value(); }
};

// The increase of a counter over its series: counter_delta() per series matched by key (a series
// whose `_created` changed is a reset even when its value grew; `restart` = yes resets every
// series), then summed. A series only after the first scrape is counted from zero ("appeared");
// one only before contributes nothing ("vanished": its increase is unknown).
SeriesDelta series_delta(const SeriesMap& before, const SeriesMap& after, KnownRestart restart = KnownRestart::no);

}  // namespace llmd::prom
