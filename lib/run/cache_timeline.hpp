#pragma once
// Hit rate over time (cache.interval) and churn events (scenario `events:`): during the measured
// loop a background thread scrapes every pod through the run's MetricsSource every interval and
// keeps per-pod series of the counters' increases (scrape::compute_cache_report between
// consecutive snapshots: counter resets, new and vanished pods are handled there) and a few
// gauges; it fires each churn event at its offset on a short-lived thread of its own, so sampling
// keeps its schedule. It never touches the engine: the engine only tells it when its clock starts
// (EngineConfig::on_start). Rendered by report/timeline_report.hpp; judged per event by
// churn_report.hpp.
//
// Offsets are seconds from the engine's run start (the origin of RunResult offsets). The baseline
// snapshot is taken before the engine starts (no request in flight) and counts as t = 0.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "scenario/scenario.hpp"
#include "scrape/metrics_source.hpp"
#include "scrape/snapshot.hpp"
#include "util/result.hpp"

namespace llmd::run {

// One pod over one interval (previous sample, this sample]. Counts are in the pod's counter unit
// (tokens for vLLM >= 0.9). A pod that could not be read at a sample has no figures there (error
// says why); its increase then lands in the next interval in which it is read.
struct PodInterval {
  double t_seconds = 0;                // end of the interval
  std::optional<double> d_queries;     // Δ prefix-cache queries
  std::optional<double> d_hits;        // Δ prefix-cache hits
  std::optional<double> hit_rate;      // d_hits / d_queries; nullopt when d_queries is 0 or unknown
  std::optional<double> d_requests;    // Δ vllm:request_success_total (finished requests)
  std::optional<double> running;       // vllm:num_requests_running at the sample (summed over series)
  std::optional<double> waiting;       // vllm:num_requests_waiting
  std::optional<double> kv_usage;      // vllm:kv_cache_usage_perc (older: gpu_cache_usage_perc), 0..1, mean over series
  bool reset = false;                  // a counter restarted in this interval (counted from zero)
  std::string error;                   // why the pod was not read ("" when read)
};

// The fleet over one interval: the pods read at both ends, summed.
struct FleetInterval {
  double t_seconds = 0;
  double d_queries = 0;
  double d_hits = 0;
  std::optional<double> hit_rate;  // d_hits / d_queries; nullopt when d_queries is 0
  // Pods the source listed but that could not be read at this sample (e.g. a restarting pod
  // answering 503): the rate covers the others only, so the recovery never ends in such an interval.
  std::size_t pods_missing = 0;
};

// One scrape of every pod at an interval's end.
struct TimelineSample {
  double t_seconds = 0;
  double scrape_seconds = 0;  // how long scraping every pod took
  std::size_t pods = 0;       // pods the source listed
  std::size_t pods_read = 0;  // of them, read
};

// A churn event as it happened.
struct FiredEvent {
  scenario::ChurnEvent event;
  double planned_seconds = 0;           // `at` times time_scale
  std::optional<double> fired_seconds;  // when the action was started; nullopt: never (the loop ended first)
  bool ok = false;                      // the action succeeded
  std::string result;                   // what it answered ("POST http://...: HTTP 200") or why it failed
};

struct CacheTimeline {
  double interval_seconds = 0;
  std::vector<TimelineSample> samples;                     // in time order; the baseline (t = 0) is not listed
  std::map<std::string, std::vector<PodInterval>> pods;    // by pod name, in time order
  std::vector<FleetInterval> fleet;                        // one per sample
  std::vector<FiredEvent> events;                          // scenario order
  double loop_seconds = 0;                                 // the last sample: when the loop ended
};

// The pure part: turns consecutive scrapes into intervals (tested without threads or a network).
class TimelineBuilder {
 public:
  TimelineBuilder(std::string model_filter, double interval_seconds);
  // The snapshot every later interval starts from (t = 0).
  void baseline(const std::vector<scrape::PodScrape>& scrapes);
  // One interval ending at `t_seconds` with these scrapes.
  void add(double t_seconds, const std::vector<scrape::PodScrape>& scrapes, double scrape_seconds);
  // Pod name -> where its metrics came from (a URL for direct scrapes), from the latest scrape.
  const std::map<std::string, std::string>& pod_sources() const { return m_sources; }
  CacheTimeline& timeline() { return m_timeline; }

 private:
  std::string m_model_filter;
  std::map<std::string, scrape::PodSnapshotResult> m_last_read;  // each pod's latest good snapshot
  std::map<std::string, std::string> m_sources;
  CacheTimeline m_timeline;
};

// What an event does: given the event and its pod's metrics source (URL), ok with what the pod or
// kubectl answered, or the error. Runs on a thread of its own.
using EventAction = std::function<util::Result<std::string>(const scenario::ChurnEvent& event, const std::string& pod_source)>;

class CacheTimelineRecorder {
 public:
  struct Config {
    std::chrono::nanoseconds interval{std::chrono::seconds(1)};  // after time_scale
    std::vector<scenario::ChurnEvent> events;  // `at` after time_scale, in scenario order
    std::string model_filter;
    EventAction act;
  };

  // Takes the baseline snapshot now, on the caller's thread (before the engine starts).
  CacheTimelineRecorder(scrape::MetricsSource& source, Config config);
  ~CacheTimelineRecorder();  // stops the thread if finish() was not called
  CacheTimelineRecorder(const CacheTimelineRecorder&) = delete;
  CacheTimelineRecorder& operator=(const CacheTimelineRecorder&) = delete;

  // Pods of the baseline snapshot (to check the events' pod names before the loop starts).
  std::vector<std::string> pods() const;
  // The engine's clock started: sampling and events run from `run_start` on (called once).
  void start(std::chrono::steady_clock::time_point run_start);
  // Stops the thread right away (no waiting for the next tick), takes the final sample, waits for
  // the events' actions and returns the series.
  CacheTimeline finish();

 private:
  void loop();
  void sample(std::chrono::steady_clock::time_point now);
  void fire(std::size_t index, std::chrono::steady_clock::time_point now);
  double since_start(std::chrono::steady_clock::time_point at) const;

  scrape::MetricsSource& m_source;
  Config m_config;
  TimelineBuilder m_builder;
  std::vector<std::future<util::Result<std::string>>> m_actions;  // per event; invalid until fired
  std::chrono::steady_clock::time_point m_start{};
  bool m_started = false;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;  // guarded by m_mutex
  std::thread m_thread;
  bool m_finished = false;
};

}  // namespace llmd::run
