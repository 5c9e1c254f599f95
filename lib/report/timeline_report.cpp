#include "report/timeline_report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "util/duration.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 8> k_levels = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr std::string_view k_no_rate = "·";

std::string percent(std::optional<double> value) { return value ? fmt::format("{:.1f}%", *value * 100) : "-"; }

json optional_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

// "min 62.0% max 97.5%" over the intervals with a rate; "no query" without any.
std::string min_max(const std::vector<std::optional<double>>& rates) {
  std::optional<double> low;
  std::optional<double> high;
  for (const auto& rate : rates) {
    if (rate) {
      low = std::min(low.value_or(*rate), *rate);
      high = std::max(high.value_or(*rate), *rate);
    }
  }
  return low ? fmt::format("min {:>6}  max {:>6}", percent(low), percent(high)) : "no query";
}

std::vector<std::optional<double>> pod_rates(const std::vector<run::PodInterval>& series) {
  std::vector<std::optional<double>> rates;
  for (const auto& interval : series) {
    rates.push_back(interval.error.empty() ? interval.hit_rate : std::nullopt);
  }
  return rates;
}

std::string seconds(double value) { return util::format_seconds(value); }

void render_event(std::string& out, const run::EventReport& e) {
  const auto& fired = e.fired;
  out += fmt::format("  {} {} at {}: ", to_string(fired.event.action), fired.event.pod, seconds(fired.planned_seconds));
  if (!fired.fired_seconds) {
    out += fired.result + "\n";
    return;
  }
  out += fmt::format("fired at {}, {}: {}\n", seconds(*fired.fired_seconds), fired.ok ? "ok" : "FAILED", fired.result);
  out += fmt::format("    failed requests during the disruption: {} (ended not ok from {} to {}{})\n", e.failed_requests,
                     seconds(*fired.fired_seconds), seconds(e.disruption_end_seconds),
                     e.recovery_seconds ? ", the recovery" : ", the loop's end");
  if (e.recovery_seconds) {
    out += fmt::format("    cache recovery time: {} (fleet hit rate {} before the event; within 5 points again in the "
                       "interval ending at {})\n",
                       seconds(*e.recovery_seconds), percent(e.pre_event_hit_rate), seconds(*e.recovered_at_seconds));
  } else {
    out += fmt::format("    cache recovery time: - ({}{})\n", e.recovery_note,
                       e.pre_event_hit_rate ? "; fleet hit rate before the event " + percent(e.pre_event_hit_rate) : "");
  }
  if (e.cold_pod.empty()) {
    out += "    cold pod: not identified (delete_pod: its replacement has a new name; see the per-pod series)\n";
  } else if (!e.cold_pod_requests) {
    out += fmt::format("    cold pod {}: not read after the event\n", e.cold_pod);
  } else {
    out += fmt::format("    cold pod {}: {:.0f} requests finished after the event, hit rate {} ({:.0f} of {:.0f} "
                       "queried tokens hit)\n",
                       e.cold_pod, *e.cold_pod_requests, percent(e.cold_pod_hit_rate), e.cold_pod_hits.value_or(0),
                       e.cold_pod_queries.value_or(0));
  }
}

}  // namespace

std::string sparkline(const std::vector<std::optional<double>>& rates) {
  std::string out;
  for (const auto& rate : rates) {
    if (!rate || !std::isfinite(*rate)) {
      out += k_no_rate;
      continue;
    }
    const double clamped = std::clamp(*rate, 0.0, 1.0);
    const auto level = std::min<std::size_t>(k_levels.size() - 1, static_cast<std::size_t>(clamped * 8));
    out += k_levels[level];
  }
  return out;
}

std::string render_timeline(const run::RunReport& report) {
  if (!report.timeseries || report.timeseries->samples.empty()) {
    return {};
  }
  const run::CacheTimeline& t = *report.timeseries;
  std::size_t width = 5;  // "fleet"
  for (const auto& [pod, series] : t.pods) {
    width = std::max(width, pod.size());
  }
  std::string out = fmt::format("\nhit rate over time (one character per {} interval, {} samples; · = no query or not "
                                "read; ▁ 0-12% … █ 88-100%)\n",
                                seconds(t.interval_seconds), t.samples.size());
  for (const auto& [pod, series] : t.pods) {
    const auto rates = pod_rates(series);
    out += fmt::format("  {:<{}}  {}  {}\n", pod, width, sparkline(rates), min_max(rates));
  }
  std::vector<std::optional<double>> fleet;
  for (const auto& interval : t.fleet) {
    fleet.push_back(interval.hit_rate);
  }
  out += fmt::format("  {:<{}}  {}  {}\n", "fleet", width, sparkline(fleet), min_max(fleet));
  return out;
}

std::string render_events(const run::RunReport& report) {
  if (report.events.empty()) {
    return {};
  }
  std::string out = fmt::format("\nchurn events (time resolution: the {} sampling interval; failures: 100 ms)\n",
                                report.timeseries ? seconds(report.timeseries->interval_seconds) : std::string("?"));
  for (const auto& event : report.events) {
    render_event(out, event);
  }
  return out;
}

json timeseries_json(const run::RunReport& report) {
  if (!report.timeseries) {
    return nullptr;
  }
  const run::CacheTimeline& t = *report.timeseries;
  json samples = json::array();
  for (const auto& s : t.samples) {
    samples.push_back(
        {{"t_seconds", s.t_seconds}, {"scrape_seconds", s.scrape_seconds}, {"pods", s.pods}, {"pods_read", s.pods_read}});
  }
  json pods = json::object();
  for (const auto& [pod, series] : t.pods) {
    json rows = json::array();
    for (const auto& i : series) {
      rows.push_back({{"t_seconds", i.t_seconds},
                      {"d_queries", optional_json(i.d_queries)},
                      {"d_hits", optional_json(i.d_hits)},
                      {"hit_rate", optional_json(i.hit_rate)},
                      {"d_requests", optional_json(i.d_requests)},
                      {"running", optional_json(i.running)},
                      {"waiting", optional_json(i.waiting)},
                      {"kv_usage", optional_json(i.kv_usage)},
                      {"reset", i.reset},
                      {"error", i.error.empty() ? json(nullptr) : json(i.error)}});
    }
    pods[pod] = std::move(rows);
  }
  json fleet = json::array();
  for (const auto& f : t.fleet) {
    fleet.push_back({{"t_seconds", f.t_seconds},
                     {"d_queries", f.d_queries},
                     {"d_hits", f.d_hits},
                     {"hit_rate", optional_json(f.hit_rate)},
                     {"pods_missing", f.pods_missing}});
  }
  return {{"interval_seconds", t.interval_seconds},
          {"loop_seconds", t.loop_seconds},
          {"samples", std::move(samples)},
          {"pods", std::move(pods)},
          {"fleet", std::move(fleet)}};
}

json events_json(const run::RunReport& report) {
  json events = json::array();
  for (const auto& e : report.events) {
    const auto& fired = e.fired;
    events.push_back({{"action", to_string(fired.event.action)},
                      {"pod", fired.event.pod},
                      {"at_seconds", fired.planned_seconds},
                      {"fired_seconds", optional_json(fired.fired_seconds)},
                      {"ok", fired.ok},
                      {"result", fired.result},
                      {"time_resolution_seconds", report.timeseries ? json(report.timeseries->interval_seconds) : json(nullptr)},
                      {"pre_event_hit_rate", optional_json(e.pre_event_hit_rate)},
                      {"recovery_seconds", optional_json(e.recovery_seconds)},
                      {"recovered_at_seconds", optional_json(e.recovered_at_seconds)},
                      {"recovery_note", e.recovery_note.empty() ? json(nullptr) : json(e.recovery_note)},
                      {"failed_requests", e.failed_requests},
                      {"disruption_end_seconds", e.disruption_end_seconds},
                      {"cold_pod", e.cold_pod.empty() ? json(nullptr) : json(e.cold_pod)},
                      {"cold_pod_requests", optional_json(e.cold_pod_requests)},
                      {"cold_pod_queries", optional_json(e.cold_pod_queries)},
                      {"cold_pod_hits", optional_json(e.cold_pod_hits)},
                      {"cold_pod_hit_rate", optional_json(e.cold_pod_hit_rate)}});
  }
  return events;
}

}  // namespace llmd::report
