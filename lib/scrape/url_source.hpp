#pragma once
// Direct HTTP scrape of each pod's /metrics with libcurl's multi interface: every pod in parallel
// (at most max_parallel transfers at once), one timeout per scrape, /metrics -> /metrics/ redirects
// followed, `Accept: text/plain;version=0.0.4` (never OpenMetrics, whose counters lack `_total`).
// A pod's text is accepted only when the answer is HTTP 200 and parses as Prometheus text; every
// error names the pod and URL, says what went wrong and what to try.
//
// Proxies from the environment (http_proxy, ...) are ignored, as Prometheus does by default: pod
// addresses are cluster-internal.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "scrape/metrics_source.hpp"

namespace llmd::scrape {

// One pod to scrape, e.g. {"decode-0", "http://10.0.0.5:8200/metrics"}.
struct PodUrl {
  std::string pod;
  std::string url;
};

struct UrlSourceOptions {
  std::size_t max_parallel = 16;             // transfers in flight at once (>= 1)
  std::chrono::milliseconds timeout{5000};   // whole scrape of one pod: connect, redirects, body
  std::size_t max_body_bytes = 64u << 20u;   // larger answers are refused (not a metrics page)
};

// The advice appended to errors that suggest the wrong port or path.
inline constexpr std::string_view k_metrics_port_hint =
    "is this the metrics port? vLLM serves /metrics on its API port (8000 by default; llm-d decode pods "
    "often 8200 or 8001)";

class UrlSource final : public MetricsSource {
 public:
  explicit UrlSource(std::vector<PodUrl> pods, UrlSourceOptions options = {});

  std::string describe() const override;
  std::vector<PodScrape> scrape_all() override;
  std::map<std::string, std::string> pod_addresses() const override;

 private:
  std::vector<PodUrl> m_pods;
  UrlSourceOptions m_options;
};

}  // namespace llmd::scrape
