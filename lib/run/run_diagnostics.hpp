#pragma once
// Findings about a run's numbers that no single histogram shows, each with the numbers it rests on
// and what to do (STYLE.md habit 6). Computed from the measured totals and the cache report, added
// to RunReport::diagnostics by the run command before the gates are judged; rendered by every
// exporter (summary "diagnostics" section, JSON "diagnostics", JUnit for errors).
//
//   no_successful_request (error): requests ended and none succeeded; an error finding fails the
//       run (exit 1) even when every threshold passed or there is none.
//   no_request (error): not one request ended in the measured phases (none started: a phase
//       shorter than its first arrival, scaled down by time_scale, or every arrival dropped).
//       Nothing was measured, so the run fails; gates.cpp judge() fails such a run on its own too
//       (no_request_ended), the finding says why and what to check.
//   stream_buffered (warning): more than half of the judged streams (ok, >= 4 content events)
//       arrived held back by something on the path, in bursts or all at the end
//       (engine/stream_delivery.hpp): TTFT and inter-token latency then measure that proxy, not
//       the server. The `stream_buffered` threshold metric gates on the same fraction.
//   cached_tokens (info): the ok responses carried usage.prompt_tokens_details.cached_tokens (vLLM
//       --enable-prompt-tokens-details): their sum, next to the pods' ΣΔhits when every ok response
//       carried it and every scraped pod was read twice, without restart, counting tokens (else why
//       not compared).
//   pod_requests_mismatch (warning): the pods finished fewer or more requests than the client
//       explains (report/pod_requests.hpp).
//   cached_tokens_mismatch (warning): those two differ by more than 1%, with the likely causes
//       (other traffic on the pods, failed/aborted requests the pods counted, pods outside the
//       scraped set, a server counting cached_tokens differently).
//   client_busy (warning): an event loop's thread used >= 90% of a core over a measured loop of at
//       least 1 s (RunResult::client_cpu, engine/thread_cpu.hpp): the client's own work delayed reads
//       and starts, so the latencies include client time. Names each busy loop; not judged for a
//       merged run (its shards ran on their own machines and wall times).
//   warmup_failed (warning): the unmeasured warm-up ended requests and not one succeeded (its top
//       failure class and example message); the warm-up is otherwise easy to overlook.
#include "run/run_report.hpp"

namespace llmd::run {

// Appends the findings above to report.diagnostics; only warmup_failed without a measured run.
void add_run_diagnostics(RunReport& report);

// True when not one request ended (ok, failed or aborted) in `total`: the no_request finding.
bool no_request_ended(const engine::PhaseResult& total);

}  // namespace llmd::run
