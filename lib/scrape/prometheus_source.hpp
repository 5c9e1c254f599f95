#pragma once
// Prefix-cache counters read from a Prometheus server's HTTP API instead of the pods themselves
// (useful when the pods are not reachable at all), "as of now" like a direct scrape. scrape_all():
//
//   1. marker: Prometheus' own clock, an instant query of time() (this machine's clock when that
//      fails, said in the notes: a clock skew between here and Prometheus then shifts what counts);
//   2. the pods Prometheus knows: an instant query of
//        {__name__=~"(vllm:|ray_vllm:)(<every name of the vLLM table>)",<matcher>}
//      grouped by the pod label;
//   3. polls the raw samples of the same selector over a range reaching back before the marker,
//        {...}[Nms]
//      until every pod (every scrape target of it) has a sample taken STRICTLY after the marker: a
//      scrape that began after the call, so it holds every request finished before the call and,
//      as the caller waits for it, none started after. Each series' FIRST such sample is used, and
//      its timestamp becomes the pod's scraped_at. The wait is bounded by
//      2 x scrape_interval + wait_margin from the marker (and the abort flag); a pod without a
//      fresh sample by then fails, naming the marker, its newest sample and the lag, and what to fix;
//   4. HELP texts from the metadata API (/api/v1/targets/metadata?metric=NAME, matched to each
//      series' scrape target; /api/v1/metadata?metric=NAME when that gives nothing and Prometheus
//      has one HELP for the name), so extract_counters() tells the BLOCKS of vLLM V1 <= 0.8.5 from
//      tokens exactly as on a direct scrape. A missing or ambiguous HELP leaves it out: the snapshot
//      then says the unit is unverified, and notes() says why.
// Each pod's samples become one Prometheus text exposition (HELP, TYPE, samples with all their
// labels, the target labels job/instance/pod included), read by snapshot_pod() as a direct scrape.
//
// Clocks: behind Thanos Query (or federation) time() is the querier's clock while the samples carry
// the scraping Prometheus' clock; a skew between the two shifts the marker by as much.
//
// Not queried: process_start_time_seconds (other containers of the pod export it too); restarts
// show as `_created` changes (V1) or counters going down.
//
// Errors (connection, HTTP status, `"status":"error"` bodies quoting errorType/error, no series
// matched) name the Prometheus URL and what to try. A failure of the whole query comes back as ONE
// PodScrape whose pod is the selector "{<matcher>}": the pods are unknown then.
// Series without the pod label are skipped. A pod whose series are duplicated by several scrape
// targets (two ServiceMonitors, Thanos replicas) fails rather than being counted twice.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
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
  bool insecure = false;  // TLS: do not verify the server's certificate or host name
  std::string ca_file;    // TLS: verify with this PEM bundle (CURLOPT_CAINFO) instead of the system's CAs
  // How often Prometheus scrapes the pods (the scrape_interval of their job). A snapshot waits for
  // each pod's first scrape after it was requested, at most 2 x scrape_interval + wait_margin.
  std::chrono::milliseconds scrape_interval{30000};
  // Beyond two intervals: the scrape's own duration and Prometheus' ingestion.
  std::chrono::milliseconds wait_margin{5000};
  std::size_t max_body_bytes = 64u << 20u;    // larger answers are refused
  // When set and true (e.g. a second Ctrl-C), a snapshot stops waiting: pods not yet fresh fail.
  const std::atomic<bool>* abort = nullptr;
  // Told once per snapshot when it has to wait for Prometheus, e.g. to print on stderr.
  std::function<void(const std::string&)> on_wait;
};

// How one scrape_all() went, for the notes of a report.
struct PrometheusSnapshotInfo {
  std::int64_t marker_unix_ms = 0;     // when the snapshot was requested (Prometheus' clock, else ours)
  std::string marker_clock_error;      // "": Prometheus' clock; else why time() failed (this machine's clock used)
  std::chrono::milliseconds waited{0};  // from the call until every pod was fresh (or the wait ended)
  std::optional<std::int64_t> first_sample_unix_ms;  // the earliest and latest scrape time used (fresh pods)
  std::optional<std::int64_t> last_sample_unix_ms;
  std::size_t pods_fresh = 0;          // pods read from a scrape after the marker
  std::size_t pods_stale = 0;          // pods failed for want of one
  // For the HELP texts the unit rests on (unit_told_by_help) not had per target: where they came
  // from instead, or why there are none (the unit is unverified then).
  std::vector<std::string> help_problems;
};

class PrometheusSource final : public MetricsSource {
 public:
  // Checks the options: base_url is http(s)://, pod_label is a label name, the matcher does not
  // select __name__, the timeout is positive, the token is one line. Errors quote the offending
  // value (never the token).
  static util::Result<PrometheusSource> create(PrometheusSourceOptions options);

  // e.g. "Prometheus http://prometheus:9090 query of {namespace="llm-d"} by label "pod" (timeout
  // 10 s; each pod's first scrape after the snapshot is requested, waiting at most 65 s)".
  std::string describe() const override;

  // One PodScrape per pod found (sorted by pod name), each a synthesized text exposition of its first
  // scrape after this call (see the top of this file), or an error for a pod Prometheus has not
  // scraped since; or a single failed PodScrape (pod "{<matcher>}") when a query failed or matched
  // nothing.
  std::vector<PodScrape> scrape_all() override;

  // caveats(), then one line per scrape_all() so far and what HELP could not be had.
  std::vector<std::string> notes() const override;
  // The wait for fresh samples ends early on `abort` (PrometheusSourceOptions::abort).
  void set_abort_flag(const std::atomic<bool>* abort) override {
    MetricsSource::set_abort_flag(abort);
    m_options.abort = abort;
  }

  // What the numbers read through Prometheus are and where they can mislead: snapshots taken from
  // the first scrape after each request (clock, bound of the wait), HELP from the metadata API.
  std::string caveats() const;

  // Every scrape_all() so far, in order.
  const std::vector<PrometheusSnapshotInfo>& snapshots() const { return m_snapshots; }

  std::chrono::milliseconds scrape_interval() const { return m_options.scrape_interval; }
  // 2 x scrape_interval + wait_margin: the longest a snapshot waits for a pod.
  std::chrono::milliseconds max_wait() const { return 2 * m_options.scrape_interval + m_options.wait_margin; }
  const PrometheusSourceOptions& options() const { return m_options; }  // normalized (braces, '/' dropped)

  // The PromQL selector sent, e.g. {__name__=~"(vllm:|ray_vllm:)(prefix_cache_queries_total|...)",namespace="x"}.
  const std::string& promql() const { return m_promql; }
  // The full GET URL of the instant query: base_url + "/api/v1/query?query=" + percent-encoded promql().
  std::string query_url() const;

 private:
  explicit PrometheusSource(PrometheusSourceOptions options);

  PrometheusSourceOptions m_options;
  std::string m_promql;
  std::vector<PrometheusSnapshotInfo> m_snapshots;
};

// The selector of every metric of the vLLM table (both namespaces, plus the `_created` gauges of
// the queries counters) restricted by `matcher` (braces already removed; may be empty).
std::string cache_counters_promql(std::string_view matcher);

}  // namespace llmd::scrape
