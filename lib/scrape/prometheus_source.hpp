#pragma once
// Prefix-cache counters read from a Prometheus server's HTTP API instead of the pods themselves
// (useful when the pods are not reachable at all). One instant query at "now",
//   GET <base_url>/api/v1/query?query={__name__=~"(vllm:|ray_vllm:)(<every name of the vLLM table>)",<matcher>}
// returns the samples of every selected pod; they are grouped by the pod label and turned back
// into one Prometheus text exposition per pod (TYPE line + samples with all their labels, the
// Prometheus target labels job/instance/pod included), so snapshot_pod()/extract_counters() read
// them exactly as a direct scrape.
//
// What Prometheus cannot give (see caveats()):
//   - freshness: a counter seen through Prometheus is the value of the last scrape, up to one scrape
//     interval old. The caller (llmd-bench run) waits `scrape_interval` after the load before taking
//     the after-snapshot, so the load's last requests are counted.
//   - HELP texts: the query API carries none, so vLLM V1 <= 0.8.5 (whose gpu_prefix_cache_* counted
//     BLOCKS, told only by HELP) reads as 0.9.0-0.9.1 (tokens).
//   - process_start_time_seconds is not queried (other containers of the pod export it too);
//     restarts show as `_created` changes (V1) or counters going down.
//
// Errors (connection, HTTP status, `"status":"error"` bodies quoting errorType/error, no series
// matched) name the Prometheus URL and what to try. A failure of the whole query comes back as ONE
// PodScrape whose pod is the selector "{<matcher>}": the pods are unknown then.
// Series without the pod label are skipped. A pod whose series are duplicated by several scrape
// targets (two ServiceMonitors, Thanos replicas) fails rather than being counted twice.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "scrape/metrics_source.hpp"
#include "util/result.hpp"

namespace llmd::scrape {

struct PrometheusSourceOptions {
  // Prometheus (or Thanos Query) root URL, e.g. "http://prometheus:9090" or "https://host/prometheus";
  // "/api/v1/query" is appended (a trailing '/' is dropped).
  std::string base_url;
  // PromQL label matchers selecting the pods' series, with or without braces, e.g.
  // `namespace="llm-d",pod=~"decode-.*"`. Empty: every vLLM series Prometheus has. Must not
  // mention __name__ (the source chooses the metric names).
  std::string matcher;
  std::string pod_label = "pod";              // the label naming the pod (kube-prometheus: "pod")
  std::chrono::milliseconds timeout{10000};   // the whole HTTP query: connect, answer, body
  // Sent as "Authorization: Bearer ..." when not empty (surrounding whitespace, e.g. a token file's
  // final newline, dropped); never printed. Redirects are not followed, so it goes nowhere else.
  std::string bearer_token;
  // How often Prometheus scrapes the pods: counters lag the pods by up to this much. The run command
  // waits this long after the load before the after-snapshot (0: no wait).
  std::chrono::seconds scrape_interval{30};
  std::size_t max_body_bytes = 64u << 20u;    // larger answers are refused
};

class PrometheusSource final : public MetricsSource {
 public:
  // Checks the options: base_url is http(s)://, pod_label is a label name, the matcher does not
  // select __name__, the timeout is positive, the token is one line. Errors quote the offending
  // value (never the token).
  static util::Result<PrometheusSource> create(PrometheusSourceOptions options);

  // e.g. "Prometheus http://prometheus:9090 instant query of {namespace="llm-d"} by label "pod"
  // (timeout 10 s; counters lag the pods by up to one scrape interval, 30 s)".
  std::string describe() const override;

  // One PodScrape per pod found (sorted by pod name), each a synthesized text exposition; or a
  // single failed PodScrape (pod "{<matcher>}") when the query failed or matched nothing.
  std::vector<PodScrape> scrape_all() override;

  // For the report's caveats: the scrape-interval lag and the wait, and the HELP-less blocks/tokens
  // ambiguity of vllm:gpu_prefix_cache_*.
  std::string caveats() const;

  std::chrono::seconds scrape_interval() const { return m_options.scrape_interval; }
  const PrometheusSourceOptions& options() const { return m_options; }  // normalized (braces, '/' dropped)

  // The PromQL selector sent, e.g. {__name__=~"(vllm:|ray_vllm:)(prefix_cache_queries_total|...)",namespace="x"}.
  const std::string& promql() const { return m_promql; }
  // The full GET URL: base_url + "/api/v1/query?query=" + percent-encoded promql().
  std::string query_url() const;

 private:
  explicit PrometheusSource(PrometheusSourceOptions options);

  PrometheusSourceOptions m_options;
  std::string m_promql;
};

// The selector of every metric of the vLLM table (both namespaces, plus the `_created` gauges of
// the queries counters) restricted by `matcher` (braces already removed; may be empty).
std::string cache_counters_promql(std::string_view matcher);

}  // namespace llmd::scrape
