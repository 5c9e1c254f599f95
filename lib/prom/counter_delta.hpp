#pragma once
// Prometheus counter arithmetic between two scrapes ("before" and "after" a measured run).
//
// A counter only goes up while its process lives. Prometheus' own rule (rate(), increase()):
// a value lower than the previous one means the process restarted and the counter began again
// from zero, so the increase since the restart is the new value itself. That undercounts
// whatever happened between the first scrape and the restart; callers flag it, never hide it.
// Pure: no I/O, no clocks.
#include <optional>
#include <string_view>

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

}  // namespace llmd::prom
