// The summary's "routing" section (routing_report.hpp).
#include "report/routing_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "util/duration.hpp"

namespace llmd::report {

namespace {

std::string seconds(const std::optional<double>& value) { return value ? util::format_seconds(*value) : "-"; }

}  // namespace

std::string render_routing(const run::RoutingReport& routing, std::size_t worst_groups) {
  std::string out = "\nrouting (which pod served each request";
  if (!routing.headers_seen.empty()) {
    std::string headers;
    for (const auto& [header, count] : routing.headers_seen) {
      headers += (headers.empty() ? "" : ", ") + header;
    }
    out += fmt::format(": {}, {} of {} responses", headers, routing.attributed, routing.attributed + routing.unattributed);
  }
  out += ")\n";
  if (routing.attributed > 0) {
    std::size_t width = 3;
    for (const auto& pod : routing.pods) {
      width = std::max(width, pod.pod.size());
    }
    out += fmt::format("  {:<{}}  {:>8} {:>6}  {:>9} {:>9}  {:>9} {:>9}  {:>9}  {:>9}\n", "pod", width, "requests", "errors",
                       "ttft p50", "ttft p99", "itl p50", "itl p99", "e2e p99", "tokens/s");
    for (const auto& pod : routing.pods) {
      out += fmt::format("  {:<{}}  {:>8} {:>6}  {:>9} {:>9}  {:>9} {:>9}  {:>9}  {:>9}{}\n", pod.pod, width, pod.requests,
                         pod.failed, seconds(pod.ttft_p50_s), seconds(pod.ttft_p99_s), seconds(pod.itl_p50_s),
                         seconds(pod.itl_p99_s), seconds(pod.e2e_p99_s),
                         pod.output_tokens_per_s ? fmt::format("{:.1f}", *pod.output_tokens_per_s) : "-",
                         pod.mapped ? "" : "  (no scraped pod has this address)");
    }
  }
  if (routing.affinity_p10) {
    out += fmt::format("  affinity: p10 {:.2f}, mean {:.2f}, min {:.2f} over {} group{} (share of a group's requests on "
                       "its most-used pod; 1 = every request of the group on one pod)\n",
                       *routing.affinity_p10, *routing.affinity_mean, *routing.affinity_min, routing.groups.size(),
                       routing.groups.size() == 1 ? "" : "s");
    out += fmt::format("  stickiness: {} pod switch{} ({:.2f} per group); {} request{} sent away from the pod that "
                       "served its group first\n",
                       routing.switches_total, routing.switches_total == 1 ? "" : "es", *routing.switches_mean,
                       *routing.sent_away, *routing.sent_away == 1 ? "" : "s");
    const std::size_t shown = std::min(worst_groups, routing.groups.size());
    std::string worst;
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& group = routing.groups[i];
      worst += fmt::format("{}{} {:.2f} ({} requests on {} pod{}, {} switch{})", i == 0 ? "" : "; ", group.group,
                           group.affinity, group.requests, group.pods, group.pods == 1 ? "" : "s", group.switches,
                           group.switches == 1 ? "" : "es");
    }
    if (shown > 0 && *routing.affinity_min < 1.0) {
      out += fmt::format("  worst affinity: {}\n", worst);
    }
  }
  if (routing.load_cv) {
    out += fmt::format("  load imbalance: cv {:.3f}, max/mean {:.2f} (requests per pod, from the {})\n", *routing.load_cv,
                       *routing.load_max_over_mean, routing.load_source);
  }
  if (routing.efficiency) {
    out += fmt::format("  routing efficiency: {:.3f} (measured hit rate {:.1f}% / ideal {:.1f}% of this workload){}\n",
                       *routing.efficiency, *routing.measured_hit_rate * 100, *routing.ideal_hit_rate * 100,
                       *routing.efficiency > 1.0 ? "; above 1: the caches held prefixes before the loop (warm-up, "
                                                   "earlier runs) that the ideal does not count"
                                                 : "");
  }
  for (const auto& line : routing.not_computed) {
    out += fmt::format("  not computed: {}\n", line);
  }
  return out;
}

}  // namespace llmd::report
