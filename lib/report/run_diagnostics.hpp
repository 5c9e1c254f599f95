#pragma once
// Findings about a run's numbers that no single histogram shows, each with the numbers it rests on
// and what to do (STYLE.md habit 6). Computed from the measured totals and the cache report, added
// to RunReport::diagnostics by the run command before the gates are judged; rendered by every
// exporter (summary "diagnostics" section, JSON "diagnostics", JUnit for errors).
//
//   stream_buffered (warning): more than half of the judged streams (ok, >= 4 content events)
//       arrived held back by something on the path, in bursts or all at the end
//       (engine/stream_delivery.hpp): TTFT and inter-token latency then measure that proxy, not
//       the server. The `stream_buffered` threshold metric gates on the same fraction.
#include "report/run_report.hpp"

namespace llmd::report {

// Appends the findings above to report.diagnostics; nothing without a measured run.
void add_run_diagnostics(RunReport& report);

}  // namespace llmd::report
