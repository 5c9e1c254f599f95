#include "run/cache_timeline.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "prom/text_parser.hpp"
#include "scrape/cache_report.hpp"

namespace llmd::run {

namespace {

using Clock = std::chrono::steady_clock;

// The gauges read per pod and sample (/work/shared/VLLM-METRICS.md). KV usage: vLLM >= 0.10 exports
// vllm:kv_cache_usage_perc; older V1 (and V0) vllm:gpu_cache_usage_perc, which 0.11 hides.
enum class Gauge { running, waiting, kv_usage };
struct GaugeRow {
  Gauge gauge;
  std::string_view suffix;  // after the namespace ("vllm:" or "ray_vllm:")
  bool mean;                // mean over series (a fraction); else the sum (requests)
};
constexpr std::array<GaugeRow, 4> k_gauges = {{
    {Gauge::running, "num_requests_running", false},
    {Gauge::waiting, "num_requests_waiting", false},
    {Gauge::kv_usage, "kv_cache_usage_perc", true},  // vLLM >= 0.10
    {Gauge::kv_usage, "gpu_cache_usage_perc", true},  // vLLM <= 0.10 (hidden from 0.11)
}};
static_assert(k_gauges.size() == 4, "one row per gauge name");

// The gauge's value over the series that pass the model filter; nullopt when none is exported.
std::optional<double> read_gauge(const prom::Exposition& exposition, const std::string& name, bool mean,
                                 std::string_view model_filter) {
  double sum = 0;
  std::size_t count = 0;
  for (const prom::Sample* sample : exposition.samples(name)) {
    const std::string* model = sample->label("model_name");
    if (!model_filter.empty() && model != nullptr && *model != model_filter) {
      continue;
    }
    if (!std::isfinite(sample->value)) {
      continue;
    }
    sum += sample->value;
    ++count;
  }
  if (count == 0) {
    return std::nullopt;
  }
  return mean ? sum / static_cast<double>(count) : sum;
}

void read_gauges(PodInterval& row, const scrape::PodScrape& scrape, const scrape::PodSnapshot& snapshot,
                 std::string_view model_filter) {
  if (!scrape.text) {
    return;
  }
  auto exposition = prom::parse_text(*scrape.text);
  if (!exposition) {
    return;
  }
  for (const GaugeRow& g : k_gauges) {
    std::optional<double>& out = g.gauge == Gauge::running ? row.running : g.gauge == Gauge::waiting ? row.waiting : row.kv_usage;
    if (!out) {
      out = read_gauge(*exposition, snapshot.metric_namespace + std::string(g.suffix), g.mean, model_filter);
    }
  }
}

bool readable(scrape::PodStatus status) {
  return status != scrape::PodStatus::scrape_failed && status != scrape::PodStatus::invalid &&
         status != scrape::PodStatus::vanished;
}

}  // namespace

TimelineBuilder::TimelineBuilder(std::string model_filter, double interval_seconds)
    : m_model_filter(std::move(model_filter)) {
  m_timeline.interval_seconds = interval_seconds;
}

void TimelineBuilder::baseline(const std::vector<scrape::PodScrape>& scrapes) {
  for (auto& snapshot : scrape::snapshot_pods(scrapes, m_model_filter)) {
    const std::string pod = snapshot.pod;
    m_sources[pod] = snapshot.source;
    if (snapshot.snapshot) {
      m_last_read.insert_or_assign(pod, std::move(snapshot));
    }
  }
}

void TimelineBuilder::add(double t_seconds, const std::vector<scrape::PodScrape>& scrapes, double scrape_seconds) {
  auto current = scrape::snapshot_pods(scrapes, m_model_filter);
  std::vector<scrape::PodSnapshotResult> previous;
  for (const auto& pod : current) {
    if (auto found = m_last_read.find(pod.pod); found != m_last_read.end()) {
      previous.push_back(found->second);
    }
  }
  const scrape::CacheReport report = scrape::compute_cache_report(previous, current);
  TimelineSample sample{t_seconds, scrape_seconds, current.size(), 0};
  std::size_t missing = 0;
  for (const scrape::PodCacheRow& row : report.pods) {
    PodInterval interval;
    interval.t_seconds = t_seconds;
    if (!readable(row.status)) {
      interval.error = row.error.empty() ? std::string(scrape::to_string(row.status)) : row.error;
      // compute_cache_report words it for a before/after pair; here "after" is this sample.
      constexpr std::string_view k_after = "after the run: ";
      if (interval.error.starts_with(k_after)) {
        interval.error.erase(0, k_after.size());
      }
      m_timeline.pods[row.pod].push_back(std::move(interval));
      ++missing;
      continue;
    }
    interval.d_queries = row.queries.delta;
    interval.d_hits = row.hits.delta;
    interval.hit_rate = row.hit_rate;
    interval.d_requests = row.requests_success.delta;
    interval.reset = row.reset;
    m_timeline.pods[row.pod].push_back(std::move(interval));
  }
  for (std::size_t i = 0; i < current.size(); ++i) {
    auto& pod = current[i];
    m_sources[pod.pod] = pod.source;
    if (!pod.snapshot) {
      continue;
    }
    ++sample.pods_read;
    auto& series = m_timeline.pods[pod.pod];
    if (!series.empty() && series.back().t_seconds == t_seconds && series.back().error.empty()) {
      read_gauges(series.back(), scrapes[i], *pod.snapshot, m_model_filter);
      const std::string name = pod.pod;
      m_last_read.insert_or_assign(name, std::move(pod));
    }
  }
  m_timeline.fleet.push_back({t_seconds, report.totals.queries, report.totals.hits, report.totals.hit_rate, missing});
  m_timeline.samples.push_back(sample);
  m_timeline.loop_seconds = t_seconds;
}

CacheTimelineRecorder::CacheTimelineRecorder(scrape::MetricsSource& source, Config config)
    : m_source(source),
      m_config(std::move(config)),
      m_builder(m_config.model_filter, std::chrono::duration<double>(m_config.interval).count()) {
  m_builder.baseline(m_source.scrape_all());
  m_actions.resize(m_config.events.size());
  for (const auto& event : m_config.events) {
    FiredEvent fired;
    fired.event = event;
    fired.planned_seconds = std::chrono::duration<double>(event.at).count();
    m_builder.timeline().events.push_back(std::move(fired));
  }
}

CacheTimelineRecorder::~CacheTimelineRecorder() {
  if (!m_finished) {
    (void)finish();
  }
}

std::vector<std::string> CacheTimelineRecorder::pods() const {
  std::vector<std::string> names;
  for (const auto& [pod, source] : m_builder.pod_sources()) {
    names.push_back(pod);
  }
  return names;
}

void CacheTimelineRecorder::start(Clock::time_point run_start) {
  if (m_started) {
    return;
  }
  m_start = run_start;
  m_started = true;
  m_thread = std::thread([this] { loop(); });
}

double CacheTimelineRecorder::since_start(Clock::time_point at) const {
  return std::chrono::duration<double>(at - m_start).count();
}

void CacheTimelineRecorder::loop() {
  const auto interval = std::max<std::chrono::nanoseconds>(m_config.interval, std::chrono::milliseconds(10));
  std::size_t tick = 1;
  std::size_t next_event = 0;
  std::unique_lock lock(m_mutex);
  while (true) {
    Clock::time_point wake = m_start + interval * static_cast<std::int64_t>(tick);
    if (next_event < m_config.events.size()) {
      wake = std::min(wake, m_start + m_config.events[next_event].at);
    }
    if (m_wake.wait_until(lock, wake, [this] { return m_stop; })) {
      return;
    }
    lock.unlock();
    const Clock::time_point now = Clock::now();
    while (next_event < m_config.events.size() && now >= m_start + m_config.events[next_event].at) {
      fire(next_event++, now);
    }
    if (now >= m_start + interval * static_cast<std::int64_t>(tick)) {
      sample(now);
      // A scrape slower than the interval skips the ticks it overran instead of bunching samples.
      tick = static_cast<std::size_t>((Clock::now() - m_start) / interval) + 1;
    }
    lock.lock();
  }
}

void CacheTimelineRecorder::sample(Clock::time_point now) {
  auto scrapes = m_source.scrape_all();
  const double scrape_seconds = std::chrono::duration<double>(Clock::now() - now).count();
  m_builder.add(since_start(now), scrapes, scrape_seconds);
}

void CacheTimelineRecorder::fire(std::size_t index, Clock::time_point now) {
  FiredEvent& fired = m_builder.timeline().events[index];
  fired.fired_seconds = since_start(now);
  const auto& sources = m_builder.pod_sources();
  const auto found = sources.find(fired.event.pod);
  const std::string source = found != sources.end() ? found->second : std::string();
  m_actions[index] = std::async(std::launch::async, [act = m_config.act, event = fired.event, source] {
    return act ? act(event, source) : util::Result<std::string>(util::fail("no action configured"));
  });
}

CacheTimeline CacheTimelineRecorder::finish() {
  m_finished = true;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
  if (m_started) {
    sample(Clock::now());  // the loop's end: the series covers the whole loop
  }
  CacheTimeline& timeline = m_builder.timeline();
  for (std::size_t i = 0; i < m_actions.size(); ++i) {
    FiredEvent& fired = timeline.events[i];
    if (!m_actions[i].valid()) {
      fired.result = fmt::format("not fired: the loop ended at {:.2f}s, before {:.2f}s", timeline.loop_seconds,
                                 fired.planned_seconds);
      continue;
    }
    auto done = m_actions[i].get();
    fired.ok = done.has_value();
    fired.result = done ? *done : done.error();
  }
  return std::move(timeline);
}

}  // namespace llmd::run
