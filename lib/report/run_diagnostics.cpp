#include "report/run_diagnostics.hpp"

#include <fmt/format.h>

#include "engine/stream_delivery.hpp"
#include "report/text_report.hpp"

namespace llmd::report {

namespace {

std::string ns_text(std::optional<double> ns) { return ns ? format_seconds(*ns * 1e-9) : std::string("-"); }

void add_stream_buffered(RunReport& report, const engine::PhaseResult& total) {
  const std::uint64_t buffered = total.streams_in_bursts + total.streams_at_end;
  if (total.streams_judged == 0 || buffered * 2 <= total.streams_judged) {
    return;
  }
  const auto& h = total.histograms;
  report.diagnostics.push_back(
      {"stream_buffered", scrape::Severity::warning,
       fmt::format("{} of {} streamed responses with >= {} tokens arrived buffered ({} in bursts, {} all at the end): "
                   "inter-token latency p50 {} against a mean of {} per token, TTFT p50 {} of end-to-end p50 {}. "
                   "Something between llmd-bench and the server held the events back and released them together, so "
                   "TTFT and inter-token latency measure that proxy, not the server",
                   buffered, total.streams_judged, engine::k_min_judged_content_events, total.streams_in_bursts,
                   total.streams_at_end, ns_text(h.inter_token_latency_ns.percentile(50)),
                   ns_text(h.inter_token_latency_ns.mean()), ns_text(h.ttft_ns.percentile(50)),
                   ns_text(h.http_req_duration_ns.percentile(50))),
       "turn response buffering off on the path: HAProxy `option http-no-delay` and no `http-response wait-for-body`; "
       "nginx `proxy_buffering off` (or the upstream sending `X-Accel-Buffering: no`); Envoy/Istio: no buffer filter "
       "(envoy.filters.http.buffer) or body-reading ext_proc/Lua on the route. Compare with --target pointing at a "
       "pod directly; gate on it with thresholds: {stream_buffered: [\"rate<0.1\"]}"});
}

}  // namespace

void add_run_diagnostics(RunReport& report) {
  if (!report.run) {
    return;
  }
  add_stream_buffered(report, report.run->total);
}

}  // namespace llmd::report
