#pragma once
// The `trace` executor (open loop, executors.hpp): record i of the trace is due at
//   phase start + (timestamp[i] - timestamp[0]) / speedup
// where `speedup` is the phase's, already divided by Scenario::time_scale (scale_phase), so
// `speedup: 2` replays twice as fast and `time_scale: 0.01` a hundred times faster again. Each due
// record starts at once when fewer than max_in_flight requests are in flight, else it is DROPPED
// (counted, never delayed), like the other open-loop executors; its latency counts from the due
// time. Launcher::launch gets the RECORD INDEX as its `vu`, so the prompt is the record's even
// when records before it were dropped. The phase ends after the last record, or at max_duration
// (records due later are never started: neither sent nor dropped).
#include <memory>

#include "engine/executors.hpp"
#include "engine/trace.hpp"

namespace llmd::engine {

// `trace` must outlive the executor.
std::unique_ptr<Executor> make_trace_executor(const scenario::Phase& phase, TimePoint phase_start, const Trace& trace,
                                              Slice slice = {});

// When record `index` is due, from the phase start (the arithmetic the executor uses).
scenario::Duration trace_due_offset(const Trace& trace, std::size_t index, double speedup);

}  // namespace llmd::engine
