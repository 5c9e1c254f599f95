#include "scrape/prometheus_source.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scrape/http_get.hpp"
#include "scrape/prometheus_api.hpp"
#include "scrape/prometheus_help.hpp"
#include "scrape/prometheus_samples.hpp"
#include "util/curl_global.hpp"
#include "util/duration.hpp"

namespace llmd::scrape {

namespace {

using prometheus::PodFreshness;
using prometheus::ResultType;
using prometheus::Sample;
using Clock = std::chrono::steady_clock;

std::string seconds_text(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

std::string ms_text(std::int64_t ms) { return util::format_seconds(static_cast<double>(ms) / 1000.0); }

bool is_label_name(std::string_view name) {
  auto word = [](char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0; };
  return !name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) == 0 &&
         std::all_of(name.begin(), name.end(), word);
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

bool aborted(const std::atomic<bool>* abort) { return abort != nullptr && abort->load(); }

// Sleeps `duration`, waking early when `abort` becomes true.
void sleep_unless_aborted(std::chrono::milliseconds duration, const std::atomic<bool>* abort) {
  const auto until = Clock::now() + duration;
  while (Clock::now() < until && !aborted(abort)) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
  }
}

// When the snapshot was requested, in Prometheus' clock (the clock of its sample timestamps).
struct Marker {
  std::int64_t unix_ms = 0;
  std::string clock_error;  // "": Prometheus' clock; else why time() failed and this machine's clock was used
};

Marker take_marker(prometheus::Api& api) {
  auto now = api.query("time()", ResultType::scalar);
  if (now && now->size() == 1 && now->front().points.size() == 1) {
    return {now->front().points.front().unix_ms, ""};
  }
  const auto local = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return {local.count(), now ? "unexpected answer to time()" : now.error()};
}

}  // namespace

std::string cache_counters_promql(std::string_view matcher) {
  std::vector<std::string> names;
  for (const MetricNameRow& row : metric_name_rows()) {
    names.emplace_back(row.name);
    if (constexpr std::string_view total = "_total"; row.role == MetricRole::queries && row.name.ends_with(total)) {
      names.push_back(std::string(row.name.substr(0, row.name.size() - total.size())) + "_created");
    }
  }
  const std::string selector = fmt::format("__name__=~\"({})({})\"", fmt::join(k_metric_namespaces, "|"),
                                           fmt::join(names, "|"));
  return matcher.empty() ? "{" + selector + "}" : fmt::format("{{{},{}}}", selector, matcher);
}

util::Result<PrometheusSource> PrometheusSource::create(PrometheusSourceOptions options) {
  const std::string given_url = options.base_url;
  options.base_url = trim(options.base_url);
  while (options.base_url.ends_with('/')) {
    options.base_url.pop_back();
  }
  if (!options.base_url.starts_with("http://") && !options.base_url.starts_with("https://")) {
    return util::fail(fmt::format("Prometheus URL \"{}\" must start with http:// or https://, e.g. "
                                  "http://prometheus:9090",
                                  given_url));
  }
  options.bearer_token = trim(options.bearer_token);  // token files usually end in a newline
  if (options.bearer_token.find_first_of("\r\n") != std::string::npos) {
    return util::fail("Prometheus bearer token contains a line break: pass the token alone (not printed here)");
  }
  options.matcher = trim(options.matcher);
  if (options.matcher.starts_with('{') && options.matcher.ends_with('}')) {
    options.matcher = trim(std::string_view(options.matcher).substr(1, options.matcher.size() - 2));
  }
  if (options.matcher.find("__name__") != std::string::npos) {
    return util::fail(fmt::format("Prometheus matcher \"{}\" must not select __name__: the vLLM metric names are "
                                  "chosen by llmd-bench; select the pods only, e.g. "
                                  "namespace=\"llm-d\",pod=~\"decode-.*\"",
                                  options.matcher));
  }
  if (!is_label_name(options.pod_label)) {
    return util::fail(fmt::format("Prometheus pod label \"{}\" is not a label name (letters, digits, '_'; "
                                  "e.g. pod)",
                                  options.pod_label));
  }
  if (options.timeout.count() <= 0) {
    return util::fail(fmt::format("Prometheus query timeout must be positive, got {} ms", options.timeout.count()));
  }
  if (options.scrape_interval.count() < 0 || options.wait_margin.count() < 0) {
    return util::fail(fmt::format("Prometheus scrape interval and wait margin must not be negative, got {} and {} ms",
                                  options.scrape_interval.count(), options.wait_margin.count()));
  }
  return PrometheusSource(std::move(options));
}

PrometheusSource::PrometheusSource(PrometheusSourceOptions options)
    : m_options(std::move(options)), m_promql(cache_counters_promql(m_options.matcher)) {
  util::init_curl_once();
}

std::string PrometheusSource::query_url() const {
  return prometheus::Api(m_options).url(prometheus::k_query_path, "query", m_promql);
}

std::string PrometheusSource::describe() const {
  return fmt::format("Prometheus {} query of {{{}}} by label \"{}\" (timeout {}{}; each pod's first scrape after "
                     "the snapshot is requested, waiting at most {})",
                     m_options.base_url, m_options.matcher, m_options.pod_label, seconds_text(m_options.timeout),
                     m_options.bearer_token.empty() ? "" : ", bearer token", seconds_text(max_wait()));
}

std::string PrometheusSource::caveats() const {
  return fmt::format(
      "counters read through Prometheus ({}): each snapshot holds, per pod, the first scrape Prometheus took after "
      "the snapshot was requested (told by the samples' timestamps in Prometheus' clock), so it counts every request "
      "finished before and none started after; a pod not scraped within {} (2 x scrape_interval {} + {}) fails "
      "instead of giving old numbers; HELP texts come from Prometheus' metadata API, so the BLOCK counters of vLLM "
      "V1 <= 0.8.5 are told from tokens as on a direct scrape, and a pod whose HELP Prometheus cannot give is "
      "flagged \"unit unverified\"",
      m_options.base_url, seconds_text(max_wait()), seconds_text(m_options.scrape_interval),
      seconds_text(m_options.wait_margin));
}

std::vector<std::string> PrometheusSource::notes() const {
  std::vector<std::string> notes = {caveats()};
  for (std::size_t i = 0; i < m_snapshots.size(); ++i) {
    const PrometheusSnapshotInfo& info = m_snapshots[i];
    const std::string clock = info.marker_clock_error.empty()
                                  ? "Prometheus' clock"
                                  : fmt::format("this machine's clock, as Prometheus' time() failed ({}): a skew "
                                                "between the two clocks shifts what is counted",
                                                info.marker_clock_error);
    std::string line = fmt::format("Prometheus snapshot {}/{}: requested at {} ({})", i + 1, m_snapshots.size(),
                                   prometheus::format_utc(info.marker_unix_ms), clock);
    if (info.first_sample_unix_ms && info.last_sample_unix_ms) {
      line += fmt::format("; {} pod{} read from their first scrape after it, taken {} to {} later",
                          info.pods_fresh, info.pods_fresh == 1 ? "" : "s",
                          ms_text(*info.first_sample_unix_ms - info.marker_unix_ms),
                          ms_text(*info.last_sample_unix_ms - info.marker_unix_ms));
    }
    if (info.pods_stale > 0) {
      line += fmt::format("; {} pod{} not scraped since (failed)", info.pods_stale, info.pods_stale == 1 ? "" : "s");
    }
    notes.push_back(line + fmt::format("; waited {}", ms_text(info.waited.count())));
    notes.insert(notes.end(), info.help_problems.begin(), info.help_problems.end());
  }
  return notes;
}

namespace {

// The error of a pod Prometheus has not scraped since the marker (within `info.waited`).
std::string stale_error(const std::string& pod, const PodFreshness& state, const PrometheusSnapshotInfo& info,
                        std::chrono::milliseconds window, const PrometheusSourceOptions& options, bool stopped) {
  std::string newest;
  if (!state.newest_ms) {
    newest = fmt::format("it has no sample in the last {}", seconds_text(window));
  } else if (*state.newest_ms > info.marker_unix_ms) {
    newest = "only some of the scrape targets holding its series scraped it since: add a target label such as "
             "job=\"...\" to the matcher";
  } else {
    newest = fmt::format("its newest sample is from {}, {} before", prometheus::format_utc(*state.newest_ms),
                         ms_text(info.marker_unix_ms - *state.newest_ms));
  }
  return fmt::format("pod {} (Prometheus {}): not scraped after the snapshot was requested at {} ({}), {} {}; {}: "
                     "Prometheus scrapes it less often than every {} (set cache.scrape_interval to its job's "
                     "scrape_interval), its scrapes fail (see up{{{}=\"{}\"}} and Prometheus' /targets page), the pod "
                     "is gone, or Prometheus is behind",
                     pod, options.base_url, prometheus::format_utc(info.marker_unix_ms),
                     info.marker_clock_error.empty() ? "Prometheus' clock" : "this machine's clock",
                     stopped ? "interrupted after waiting" : "waited", ms_text(info.waited.count()), newest,
                     seconds_text(options.scrape_interval), options.pod_label, pod);
}

std::size_t stale_count(const std::map<std::string, PodFreshness>& pods) {
  return static_cast<std::size_t>(
      std::count_if(pods.begin(), pods.end(), [](const auto& pod) { return !pod.second.fresh; }));
}

// The pods Prometheus knows now (an instant query: its default 5-minute lookback), fresh or not.
util::Result<std::set<std::string>> known_pods(prometheus::Api& api, const std::string& promql,
                                               const PrometheusSourceOptions& options) {
  auto live = api.query(promql, ResultType::vector);
  if (!live) {
    return util::fail(live.error());
  }
  if (live->empty()) {
    return util::fail(fmt::format("no series matched {}: check the matcher {{{}}} in the Prometheus UI (e.g. "
                                  "vllm:prefix_cache_queries_total{{{}}}); are the pods scraped, and under these "
                                  "label names?",
                                  promql, options.matcher, options.matcher));
  }
  std::set<std::string> pods = prometheus::pods_of(*live, options.pod_label);
  if (pods.empty()) {
    return util::fail(fmt::format("{} series matched but none has the pod label \"{}\" (labels seen: {}): set the "
                                  "pod label to the one naming the pod",
                                  live->size(), options.pod_label, prometheus::labels_seen(*live)));
  }
  return pods;
}

struct Polled {
  std::map<std::string, PodFreshness> pods;
  std::chrono::milliseconds window{0};  // the range of the last poll
};

// Polls the raw samples, from one interval (and the margin) before the marker on, until every pod
// has one after the marker, `max_wait` has passed since `started`, or the abort flag is set.
util::Result<Polled> poll_until_fresh(prometheus::Api& api, const std::string& promql,
                                      const PrometheusSourceOptions& options, const std::set<std::string>& expected,
                                      std::int64_t marker_ms, Clock::time_point started,
                                      std::chrono::milliseconds max_wait) {
  const auto period = std::clamp(options.scrape_interval / 4, std::chrono::milliseconds(50),
                                 std::chrono::milliseconds(1000));
  Polled polled;
  for (bool told = false;; told = true) {
    polled.window = since(started) + options.scrape_interval + options.wait_margin;
    auto samples = api.query(fmt::format("{}[{}ms]", promql, polled.window.count()), ResultType::matrix);
    if (!samples) {
      return util::fail(samples.error());
    }
    polled.pods = prometheus::pod_freshness(*samples, expected, options.pod_label, marker_ms);
    const auto left = max_wait - since(started);
    if (stale_count(polled.pods) == 0 || left.count() <= 0 || aborted(options.abort)) {
      return polled;
    }
    if (!told && options.on_wait) {
      options.on_wait(fmt::format("waiting for Prometheus to scrape {} of {} pods after {} (at most {})",
                                  stale_count(polled.pods), polled.pods.size(), prometheus::format_utc(marker_ms),
                                  seconds_text(max_wait)));
    }
    sleep_unless_aborted(std::min(period, left), options.abort);
  }
}

// The exposition of a fresh pod's samples, HELP texts included; its scrape time goes to `info`.
util::Result<std::string> fresh_text(const std::string& pod, const PodFreshness& state, prometheus::HelpTexts& helps,
                                     PrometheusSnapshotInfo& info, std::int64_t& scraped_ms) {
  std::vector<const Sample*> samples;
  scraped_ms = state.samples.front().unix_ms;
  for (const Sample& sample : state.samples) {
    samples.push_back(&sample);
    scraped_ms = std::min(scraped_ms, sample.unix_ms);
    info.last_sample_unix_ms = std::max(info.last_sample_unix_ms.value_or(sample.unix_ms), sample.unix_ms);
  }
  info.first_sample_unix_ms = std::min(info.first_sample_unix_ms.value_or(scraped_ms), scraped_ms);
  return prometheus::synthesize(std::move(samples), helps.for_pod(pod, state.samples));
}

}  // namespace

std::vector<PodScrape> PrometheusSource::scrape_all() {
  const auto started = Clock::now();
  prometheus::Api api(m_options);
  PrometheusSnapshotInfo info;
  const Marker marker = take_marker(api);
  info.marker_unix_ms = marker.unix_ms;
  info.marker_clock_error = marker.clock_error;
  const std::string source = m_options.base_url + std::string(prometheus::k_query_path);
  auto polled = known_pods(api, m_promql, m_options).and_then([&](const std::set<std::string>& expected) {
    return poll_until_fresh(api, m_promql, m_options, expected, marker.unix_ms, started, max_wait());
  });
  info.waited = since(started);
  if (!polled) {
    m_snapshots.push_back(info);
    return {PodScrape{"{" + m_options.matcher + "}", source,
                      util::fail(fmt::format("Prometheus {}: {}", m_options.base_url, polled.error())),
                      api.transfer_time(), std::chrono::system_clock::now()}};
  }
  prometheus::HelpTexts helps(api);
  std::vector<PodScrape> scrapes;
  for (const auto& [pod, state] : polled->pods) {
    PodScrape scrape{pod, source, util::fail(""), {}, std::chrono::system_clock::now()};
    if (!state.fresh) {
      ++info.pods_stale;
      scrape.text = util::fail(stale_error(pod, state, info, polled->window, m_options, llmd::scrape::aborted(m_options.abort)));
    } else {
      ++info.pods_fresh;
      std::int64_t scraped_ms = 0;
      scrape.text = fresh_text(pod, state, helps, info, scraped_ms);
      if (!scrape.text) {
        scrape.text = util::fail(fmt::format("pod {} (Prometheus {}): {}", pod, m_options.base_url, scrape.text.error()));
      }
      scrape.scraped_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(scraped_ms));
    }
    scrape.duration = api.transfer_time();
    scrapes.push_back(std::move(scrape));
  }
  info.help_problems = std::move(helps).problems();
  m_snapshots.push_back(std::move(info));
  return scrapes;
}

}  // namespace llmd::scrape
