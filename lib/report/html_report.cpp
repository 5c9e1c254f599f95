#include "report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/junit_report.hpp"
#include "stats/histogram.hpp"
#include "util/duration.hpp"
#include "util/json_text.hpp"
#include "util/redact.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

// Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
// deficiency. Statuses are also written out (PASS/FAIL, ✓/✗), never colour alone.
constexpr const char* k_blue = "#0072B2";
constexpr const char* k_orange = "#E69F00";
constexpr const char* k_green = "#009E73";
constexpr const char* k_vermillion = "#D55E00";
constexpr const char* k_sky = "#56B4E9";
constexpr const char* k_purple = "#CC79A7";
constexpr const char* k_grey = "#777777";
constexpr std::string_view k_palette[] = {k_blue, k_orange, k_green, k_vermillion, k_sky, k_purple, "#F0E442", "#000000"};

// HTML text and attribute values: XML's escaping is HTML's (junit_report.hpp: well-formed UTF-8,
// the five markup characters, control characters as references or U+FFFD).
std::string escape(std::string_view text) { return xml_escape(text); }

// Text from the result, redacted (a hand-edited result could hold a secret) and escaped.
std::string text(std::string_view value) { return escape(util::redact(value)); }

const json& at(const json& object, std::string_view key) {
  static const json null_value;
  if (!object.is_object()) {
    return null_value;
  }
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

std::optional<double> number(const json& value) {
  return value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt;
}

std::string str(const json& value, std::string_view fallback = "") {
  return value.is_string() ? value.get<std::string>() : std::string(fallback);
}

std::string percent(std::optional<double> fraction, int decimals = 1) {
  return fraction ? fmt::format("{:.{}f}%", *fraction * 100, decimals) : "n/a";
}

std::string milliseconds(std::optional<double> ns) {
  if (!ns) {
    return "n/a";
  }
  const double ms = *ns / 1e6;
  return ms >= 100 ? fmt::format("{:.0f} ms", ms) : ms >= 1 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.3f} ms", ms);
}

std::string compact(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6) {
    return fmt::format("{:.1f}M", value / 1e6);
  }
  if (magnitude >= 1e4) {
    return fmt::format("{:.0f}k", value / 1e3);
  }
  if (magnitude >= 100 || value == std::floor(value)) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{:.3g}", value);
}

// A counter as the JSON has it: whole numbers in full ("20160", not "20k"), others to 6 digits.
std::string exact(std::optional<double> value) {
  if (!value) {
    return "n/a";
  }
  return *value == std::floor(*value) && std::fabs(*value) < 1e15 ? fmt::format("{:.0f}", *value) : fmt::format("{:.6g}", *value);
}

// ---- SVG charts ---------------------------------------------------------------------------

struct Series {
  std::string name;
  std::string_view color;
  std::vector<std::pair<double, std::optional<double>>> points;  // nullopt: a gap
  bool dashed = false;
};

struct Marker {
  double x = 0;
  std::string label;
  std::string_view color = k_grey;
};

struct Chart {
  std::string id;       // data-chart
  std::string title;
  std::string x_label;  // e.g. "seconds from the run start"
  std::string y_label;
  bool log_x = false;
  std::optional<double> y_max;  // fixed top (1 for fractions), else from the data
  std::function<std::string(double)> y_tick = compact;
  std::function<std::string(double)> x_tick = compact;
};

constexpr double k_width = 640, k_height = 250;
constexpr double k_left = 56, k_right = 12, k_top = 28, k_bottom = 44;

// 1, 2 or 5 times a power of ten, at least range / 5.
double nice_step(double range) {
  if (!(range > 0)) {
    return 1;
  }
  const double raw = range / 5;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) {
      return m * power;
    }
  }
  return 10 * power;
}

std::string line_chart(const Chart& chart, const std::vector<Series>& series, const std::vector<Marker>& markers) {
  double x_min = INFINITY, x_max = -INFINITY, y_top = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!y || (chart.log_x && x <= 0)) {
        continue;
      }
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_top = std::max(y_top, *y);
    }
  }
  std::string out = fmt::format(
      "<figure class=\"chart\"><figcaption>{}</figcaption>"
      "<svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
      escape(chart.title), escape(chart.id), k_width, k_height, escape(chart.title));
  if (!(x_min <= x_max)) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"empty\">no data</text></svg></figure>",
                       k_width / 2, k_height / 2);
    return out;
  }
  if (!chart.log_x) {
    x_min = std::min(x_min, 0.0);
  }
  for (const auto& m : markers) {
    x_max = std::max(x_max, m.x);
  }
  double lx_min = chart.log_x ? std::floor(std::log10(x_min)) : x_min;
  double lx_max = chart.log_x ? std::ceil(std::log10(x_max)) : x_max;
  if (lx_max <= lx_min) {
    lx_max = lx_min + 1;
  }
  const double y_step = nice_step(chart.y_max.value_or(y_top));
  const double y_max = chart.y_max.value_or(std::max(y_step, std::ceil(y_top / y_step) * y_step));
  const double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  const auto sx = [&](double x) {
    const double v = chart.log_x ? std::log10(std::max(x, 1e-300)) : x;
    return k_left + (v - lx_min) / (lx_max - lx_min) * plot_w;
  };
  const auto sy = [&](double y) { return k_top + plot_h - std::clamp(y / y_max, 0.0, 1.05) * plot_h; };
  // Grid and ticks.
  for (double y = 0; y <= y_max * 1.0001; y += y_step) {
    out += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>"
                       "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
                       k_left, k_width - k_right, sy(y), sy(y), k_left - 4, sy(y) + 4, escape(chart.y_tick(y)));
  }
  if (chart.log_x) {
    for (double e = lx_min; e <= lx_max + 1e-9; e += 1) {
      const double x = std::pow(10, e);
      out += fmt::format("<line class=\"grid\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\"/>"
                         "<text class=\"tick\" x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>",
                         sx(x), k_top, k_top + plot_h, k_top + plot_h + 14, escape(chart.x_tick(x)));
    }
  } else {
    const double x_step = nice_step(lx_max - lx_min);
    for (double x = std::ceil(lx_min / x_step) * x_step; x <= lx_max + 1e-9; x += x_step) {
      out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", sx(x),
                         k_top + plot_h + 14, escape(chart.x_tick(x)));
    }
  }
  out += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\"/>", k_left,
                     k_width - k_right, k_top + plot_h);
  out += fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                     k_left + plot_w / 2, k_height - 6, escape(chart.x_label));
  out += fmt::format("<text class=\"label\" x=\"{}\" y=\"14\">{}</text>", 4, escape(chart.y_label));
  // Markers: phase boundaries and events.
  for (const auto& m : markers) {
    out += fmt::format("<line class=\"marker\" stroke=\"{0}\" x1=\"{1:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{3:.1f}\"><title>{4}</title></line>"
                       "<text class=\"marker-label\" x=\"{5:.1f}\" y=\"{6:.1f}\">{4}</text>",
                       m.color, sx(m.x), k_top, k_top + plot_h, escape(m.label), sx(m.x) + 2, k_top + 9);
  }
  // Series, then the legend.
  double legend_x = k_left + 120;
  for (const auto& s : series) {
    std::string d;
    bool pen_down = false;
    for (const auto& [x, y] : s.points) {
      if (!y || (chart.log_x && x <= 0)) {
        pen_down = false;
        continue;
      }
      d += fmt::format("{}{:.1f} {:.1f}", pen_down ? " L" : (d.empty() ? "M" : " M"), sx(x), sy(*y));
      pen_down = true;
    }
    out += fmt::format("<path class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{} d=\"{}\"><title>{}</title></path>",
                       escape(s.name), s.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "", d, escape(s.name));
    out += fmt::format("<rect x=\"{:.1f}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                       "<text class=\"legend\" x=\"{:.1f}\" y=\"15\">{}</text>",
                       legend_x, s.color, legend_x + 13, escape(s.name));
    legend_x += 20 + 6.5 * static_cast<double>(s.name.size());
  }
  out += "</svg></figure>";
  return out;
}

// Horizontal bars, one row per label, one bar per value (fractions of 1).
struct BarRow {
  std::string label;
  std::vector<std::optional<double>> values;
};

std::string bar_chart(const std::string& id, const std::string& title, const std::vector<std::string>& names,
                      const std::vector<BarRow>& rows) {
  const double row_h = 14.0 * static_cast<double>(std::max<std::size_t>(names.size(), 1)) + 10;
  const double height = k_top + row_h * static_cast<double>(rows.size()) + 10;
  const double left = 110, plot_w = k_width - left - 70;
  std::string out = fmt::format(
      "<figure class=\"chart bars\"><figcaption>{}</figcaption><svg class=\"chart\" data-chart=\"{}\" viewBox=\"0 0 {} {:.0f}\" role=\"img\" aria-label=\"{}\">",
      escape(title), escape(id), k_width, height, escape(title));
  double legend_x = left;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("<rect x=\"{:.1f}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{:.1f}\" y=\"15\">{}</text>",
                       legend_x, k_palette[i % std::size(k_palette)], legend_x + 13, escape(names[i]));
    legend_x += 24 + 6.5 * static_cast<double>(names[i].size());
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y0 = k_top + row_h * static_cast<double>(r);
    out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", left - 6,
                       y0 + row_h / 2, text(rows[r].label));
    for (std::size_t i = 0; i < rows[r].values.size(); ++i) {
      const auto& v = rows[r].values[i];
      const double y = y0 + 3 + 14.0 * static_cast<double>(i);
      const double w = v ? std::clamp(*v, 0.0, 1.0) * plot_w : 0;
      out += fmt::format("<rect class=\"series\" x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"11\" fill=\"{}\"><title>{}: {}</title></rect>"
                         "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
                         left, y, std::max(w, 0.5), k_palette[i % std::size(k_palette)], escape(names[i]), percent(v),
                         left + w + 4, y + 9, percent(v));
    }
  }
  out += "</svg></figure>";
  return out;
}

// ---- sections -------------------------------------------------------------------------------

std::string verdict_class(std::string_view verdict) {
  return verdict == "pass" ? "pass" : verdict == "fail" ? "fail" : "other";
}

std::string header_section(const json& result) {
  const std::string verdict = str(at(result, "verdict"), "unknown");
  const json& target = at(result, "target");
  const json& scenario = at(result, "scenario");
  std::string target_text = str(at(target, "url"));
  if (at(target, "embedded_sim").is_boolean() && at(target, "embedded_sim").get<bool>()) {
    const json& sim = at(target, "sim");
    target_text = fmt::format("embedded simulator, {} pods behind {}", at(sim, "pods").size(), str(at(sim, "gateway")));
  }
  const json& run = at(result, "run");
  std::string out = "<header>";
  out += fmt::format("<div id=\"verdict\" class=\"verdict {}\" data-verdict=\"{}\">{}</div>", verdict_class(verdict),
                     escape(verdict), escape(verdict == "pass" ? "PASS" : verdict == "fail" ? "FAIL" : verdict));
  out += fmt::format("<h1>{}</h1><dl class=\"facts\">", text(str(at(scenario, "name"), "run")));
  const auto fact = [&](std::string_view name, const std::string& value) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>", name, value);
  };
  fact("scenario file", text(str(at(scenario, "path"))));
  fact("target", text(target_text));
  fact("model", text(str(at(result, "model"))) + (at(result, "model_source").is_string() ? " <span class=\"muted\">(" + text(str(at(result, "model_source"))) + ")</span>" : ""));
  fact("started", text(str(at(run, "started_at"))));
  fact("ended", text(str(at(run, "ended_at"))));
  fact("exit code", at(result, "exit_code").is_number() ? at(result, "exit_code").dump() : "n/a");
  out += "</dl>";
  for (const char* kind : {"errors", "warnings", "notes"}) {
    for (const auto& item : at(result, kind)) {
      const std::string line = item.is_string() ? item.get<std::string>() : str(at(item, "reason"), util::dump_json(item));
      out += fmt::format("<p class=\"{}\">{}: {}</p>", kind, kind, text(line));
    }
  }
  out += "</header>";
  return out;
}

// A threshold's observed value: the JSON number in data-value, 6 significant digits shown (the
// reason next to it has it in the metric's unit).
std::string observed_cell(const json& observed) {
  return observed.is_number() ? fmt::format("<span data-value=\"{}\">{:.6g}</span>", observed.dump(), observed.get<double>()) : "n/a";
}

std::string thresholds_section(const json& result) {
  std::string out = "<section><h2>Thresholds</h2>";
  const json& thresholds = at(result, "thresholds");
  if (!thresholds.is_array() || thresholds.empty()) {
    out += "<p class=\"muted\">no thresholds in the scenario</p>";
  } else {
    out += "<table><tr><th></th><th>metric</th><th>threshold</th><th>observed</th><th>result</th><th>where</th></tr>";
    for (const auto& t : thresholds) {
      const std::string status = str(at(t, "status"), "unknown");
      const bool passed = status == "pass";
      out += fmt::format("<tr class=\"threshold\" data-status=\"{}\"><td class=\"{}\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
                         escape(status), passed ? "pass" : "fail", passed ? "✓" : "✗", text(str(at(t, "name"))),
                         text(str(at(t, "source"))), observed_cell(at(t, "observed")),
                         text(str(at(t, "reason"))), text(str(at(t, "where"))));
    }
    out += "</table>";
  }
  const json& checks = at(result, "checks");
  if (checks.is_object() && !checks.empty()) {
    out += "<h3>Checks <span class=\"muted\">(counted, not gates)</span></h3><table><tr><th>check</th><th>passed</th><th>failed</th><th>rate</th></tr>";
    for (const auto& [name, c] : checks.items()) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", text(name), at(c, "passed").dump(),
                         at(c, "failed").dump(), percent(number(at(c, "rate")), 2));
    }
    out += "</table>";
  }
  out += "</section>";
  return out;
}

// The run total's headline numbers, as the JSON has them.
std::string summary_section(const json& result) {
  const json& total = at(at(result, "run"), "total");
  if (!total.is_object()) {
    return "<section><h2>Requests</h2><p class=\"muted\">the run did not start: no request figures</p></section>";
  }
  const json& counts = at(total, "counts");
  const json& rates = at(total, "rates");
  const json& metrics = at(total, "metrics");
  const double wall_s = number(at(total, "wall_duration_ns")).value_or(0) / 1e9;
  std::string out = "<section><h2>Requests</h2><dl class=\"facts\">";
  const auto fact = [&](std::string_view name, const std::string& value) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>", name, value);
  };
  fact("requests", fmt::format("{} started, {} ok, {} failed, {} aborted, {} dropped", at(counts, "started").dump(),
                               at(counts, "ok").dump(), at(counts, "failed").dump(), at(counts, "aborted").dump(),
                               at(counts, "dropped").dump()));
  fact("wall time", escape(util::format_seconds(wall_s)));
  fact("http_req_failed", percent(number(at(rates, "http_req_failed")), 2));
  fact("output tokens/s", number(at(at(total, "summary"), "output_tokens_per_second"))
                              ? fmt::format("{:.1f}", *number(at(at(total, "summary"), "output_tokens_per_second")))
                              : "n/a");
  fact("peak in flight", at(total, "peak_in_flight").dump());
  // The client's own CPU over the measured loop (run.client_cpu), as the text summary's cpu: line says it.
  const json& cpu = at(at(result, "run"), "client_cpu");
  if (const auto user = number(at(cpu, "user_ns")), system = number(at(cpu, "system_ns")); user && system) {
    const double seconds = (*user + *system) / 1e9;
    std::string text = fmt::format("{} in the measured loop (user {}, system {})", util::format_seconds(seconds),
                                   util::format_seconds(*user / 1e9), util::format_seconds(*system / 1e9));
    const json& threads = at(at(result, "run"), "threads");
    const std::size_t loops = threads.is_array() ? threads.size() : 0;  // empty for one loop
    if (wall_s > 0) {
      text += loops > 1 ? fmt::format(", {:.2f} cores ({} event loops)", seconds / wall_s, loops)
                        : fmt::format(", {:.2f} of a core", seconds / wall_s);
    }
    const double ended = number(at(counts, "ok")).value_or(0) + number(at(counts, "failed")).value_or(0) +
                         number(at(counts, "aborted")).value_or(0);
    if (ended > 0) {
      text += fmt::format("; {} per request", util::format_seconds(seconds / ended));
    }
    fact("client CPU", escape(text));
  }
  out += "</dl><table><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th><th>mean</th></tr>";
  for (const auto& [key, label] : {std::pair{"ttft_ns", "TTFT"}, std::pair{"inter_token_latency_ns", "inter-token latency"},
                                   std::pair{"tpot_ns", "TPOT"}, std::pair{"http_req_duration_ns", "end-to-end"},
                                   std::pair{"first_byte_ns", "first byte"}}) {
    const json& summary = at(at(metrics, key), "summary");
    if (!summary.is_object()) {
      continue;
    }
    out += fmt::format("<tr><td>{}</td><td>{}</td>", label, at(summary, "count").dump());
    for (const char* p : {"p50", "p90", "p95", "p99", "max", "mean"}) {
      out += fmt::format("<td>{}</td>", milliseconds(number(at(summary, p))));
    }
    out += "</tr>";
  }
  out += "</table></section>";
  return out;
}

std::vector<Marker> time_markers(const json& result) {
  std::vector<Marker> markers;
  const json& phases = at(at(result, "run"), "phases");
  if (phases.is_array() && phases.size() > 1) {
    for (const auto& phase : phases) {
      if (const auto start = number(at(phase, "started_at_ns"))) {
        markers.push_back({*start / 1e9, "▶ " + str(at(phase, "name")), k_grey});
      }
    }
  }
  for (const auto& event : at(result, "events")) {
    const auto fired = number(at(event, "fired_seconds"));
    const auto planned = number(at(event, "at_seconds"));
    if (fired || planned) {
      markers.push_back({fired.value_or(planned.value_or(0)), str(at(event, "action")) + " " + str(at(event, "pod")), k_vermillion});
    }
  }
  return markers;
}

std::vector<std::pair<double, std::optional<double>>> per_second_column(const json& result, std::string_view name,
                                                                        double scale) {
  std::vector<std::pair<double, std::optional<double>>> points;
  const json& values = at(at(at(result, "run"), "per_second"), name);
  for (std::size_t i = 0; values.is_array() && i < values.size(); ++i) {
    const auto v = number(values[i]);
    points.emplace_back(static_cast<double>(i) + 0.5, v ? std::optional<double>(*v * scale) : std::nullopt);
  }
  return points;
}

Chart time_chart(std::string id, std::string title, std::string y_label) {
  Chart c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.y_label = std::move(y_label);
  c.x_label = "seconds from the run start";
  return c;
}

Chart cdf_chart(std::string_view key, std::string_view title) {
  Chart c = time_chart(std::string("cdf-") + std::string(key), std::string(title) + " CDF", "share of requests");
  c.x_label = "ms (log scale)";
  c.log_x = true;
  c.y_max = 1;
  c.y_tick = [](double y) { return fmt::format("{:.0f}%", y * 100); };
  c.x_tick = [](double x) { return x >= 1 ? compact(x) : fmt::format("{:g}", x); };
  return c;
}

std::string over_time_section(const json& result) {
  const json& seconds = at(at(result, "run"), "per_second");
  std::string out = "<section><h2>Over time <span class=\"muted\">(per second from the run start; latencies of the requests that ended in that second; the last second may be partial)</span></h2>";
  if (!seconds.is_object() || !at(seconds, "ok").is_array() || at(seconds, "ok").empty()) {
    return out + "<p class=\"muted\">no per-second data in this result (written by an older llmd-bench, or no request ended)</p></section>";
  }
  const auto column = [&](std::string_view name, double scale) { return per_second_column(result, name, scale); };
  const auto markers = time_markers(result);
  const auto chart = time_chart;
  out += "<div class=\"grid\">";
  out += line_chart(chart("requests", "Requests ended per second", "requests/s"),
                    {{"ok", k_blue, column("ok", 1)}, {"failed", k_vermillion, column("failed", 1)},
                     {"started", k_grey, column("started", 1), true}},
                    markers);
  out += line_chart(chart("in-flight", "Requests in flight (peak per second)", "requests"),
                    {{"in flight", k_green, column("peak_in_flight", 1)}}, markers);
  out += line_chart(chart("ttft", "TTFT p50 / p95", "ms"),
                    {{"p50", k_blue, column("ttft_p50_ns", 1e-6)}, {"p95", k_orange, column("ttft_p95_ns", 1e-6)}}, markers);
  out += line_chart(chart("itl", "Inter-token latency p50 / p95", "ms"),
                    {{"p50", k_blue, column("itl_p50_ns", 1e-6)}, {"p95", k_orange, column("itl_p95_ns", 1e-6)}}, markers);
  out += line_chart(chart("tokens", "Output tokens per second", "tokens/s"),
                    {{"output tokens", k_purple, column("output_tokens", 1)}}, markers);
  out += "</div></section>";
  return out;
}

// The CDF of a run-total histogram: one point per non-empty bucket at its highest value.
std::optional<Series> cdf_series(const json& metric, std::string name, std::string_view color) {
  auto histogram = stats::LogLinearHistogram::from_json(at(metric, "histogram"));
  if (!histogram || histogram->count() == 0) {
    return std::nullopt;
  }
  Series series{std::move(name), color, {}};
  const auto counts = histogram->bucket_counts();
  const auto& layout = histogram->layout();
  const double total = static_cast<double>(histogram->count());
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) {
      continue;
    }
    const double low = static_cast<double>(std::max<std::uint64_t>(layout.bucket_lowest_value(i), 1)) / 1e6;
    if (series.points.empty()) {
      series.points.emplace_back(low, 0.0);
    }
    seen += counts[i];
    series.points.emplace_back(static_cast<double>(layout.bucket_highest_value(i)) / 1e6, static_cast<double>(seen) / total);
  }
  return series;
}

std::string distributions_section(const json& result) {
  const json& metrics = at(at(at(result, "run"), "total"), "metrics");
  std::string out = "<section><h2>Distributions <span class=\"muted\">(cumulative share of ok requests, from the run's histograms, ≤0.39% error)</span></h2><div class=\"grid\">";
  for (const auto& [key, title] : {std::pair{"ttft_ns", "TTFT"}, std::pair{"inter_token_latency_ns", "Inter-token latency"},
                                   std::pair{"http_req_duration_ns", "End-to-end latency"}}) {
    const Chart chart = cdf_chart(key, title);
    std::vector<Series> series;
    if (auto s = cdf_series(at(metrics, key), title, k_blue)) {
      series.push_back(std::move(*s));
    }
    out += line_chart(chart, series, {});
  }
  out += "</div></section>";
  return out;
}

std::string cache_section(const json& result) {
  const json& cache = at(result, "cache");
  std::string out = "<section><h2>Prefix cache</h2>";
  if (!cache.is_object()) {
    return out + "<p class=\"muted\">no cache report: the run had no cache source (cache.source: none, or the run ended before the scrape)</p></section>";
  }
  const json& totals = at(cache, "totals");
  const auto hit_rate = number(at(totals, "hit_rate"));
  out += fmt::format("<p class=\"big\">fleet hit rate <span id=\"hit-rate\" data-value=\"{}\">{}</span> "
                     "<span class=\"muted\">(Δhits / Δqueries over the measured loop, {} pods read; {})</span></p>",
                     at(totals, "hit_rate").dump(), percent(hit_rate, 2), at(totals, "pods_ok").dump(),
                     text(str(at(result, "cache_source"), "unknown")));
  std::vector<BarRow> rows;
  const double queries = number(at(totals, "queries_tokens")).value_or(0);
  const double requests = number(at(totals, "requests_success")).value_or(0);
  out += "<table><tr><th>pod</th><th>Δqueries (tokens)</th><th>Δhits (tokens)</th><th>hit rate</th><th>Δrequests</th><th>share of queries</th><th>share of requests</th></tr>";
  for (const auto& pod : at(cache, "pods")) {
    const auto d_queries = number(at(at(pod, "queries_tokens"), "delta"));
    const auto d_hits = number(at(at(pod, "hits_tokens"), "delta"));
    const auto d_requests = number(at(at(pod, "requests_success"), "delta"));
    const std::optional<double> query_share = d_queries && queries > 0 ? std::optional<double>(*d_queries / queries) : std::nullopt;
    const std::optional<double> request_share = d_requests && requests > 0 ? std::optional<double>(*d_requests / requests) : std::nullopt;
    const auto pod_rate = number(at(pod, "hit_rate"));
    rows.push_back({str(at(pod, "pod")), {query_share, request_share, pod_rate}});
    out += fmt::format("<tr class=\"pod\" data-pod=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td data-value=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                       text(str(at(pod, "pod"))), text(str(at(pod, "pod"))), exact(d_queries), exact(d_hits),
                       at(pod, "hit_rate").dump(), percent(pod_rate, 2), exact(d_requests), percent(query_share),
                       percent(request_share));
  }
  out += "</table>";
  out += bar_chart("cache-pods", "Per pod: share of queries, share of requests, hit rate",
                   {"share of queries", "share of requests", "hit rate"}, rows);
  const json& series = at(result, "timeseries");
  if (series.is_object() && at(series, "pods").is_object()) {
    std::vector<Series> lines;
    std::size_t color = 0;
    for (const auto& [pod, samples] : at(series, "pods").items()) {
      Series line{pod, k_palette[color++ % std::size(k_palette)], {}};
      for (const auto& sample : samples) {
        line.points.emplace_back(number(at(sample, "t_seconds")).value_or(0), number(at(sample, "hit_rate")));
      }
      lines.push_back(std::move(line));
    }
    Series fleet{"fleet", "#000000", {}, true};
    for (const auto& sample : at(series, "fleet")) {
      fleet.points.emplace_back(number(at(sample, "t_seconds")).value_or(0), number(at(sample, "hit_rate")));
    }
    lines.push_back(std::move(fleet));
    Chart chart;
    chart.id = "hit-rate-over-time";
    chart.title = fmt::format("Hit rate per {} s interval", compact(number(at(series, "interval_seconds")).value_or(0)));
    chart.x_label = "seconds from the run start";
    chart.y_label = "hit rate";
    chart.y_max = 1;
    chart.y_tick = [](double y) { return fmt::format("{:.0f}%", y * 100); };
    out += line_chart(chart, lines, time_markers(result));
  }
  out += "</section>";
  return out;
}

std::string routing_section(const json& result) {
  const json& routing = at(result, "routing");
  if (!routing.is_object() || !at(routing, "pods").is_array() || at(routing, "pods").empty()) {
    return "";
  }
  std::string out = fmt::format("<section><h2>Routing <span class=\"muted\">({} requests attributed by a served-by header, {} not)</span></h2>"
                                "<table><tr><th>pod</th><th>requests</th><th>failed</th><th>TTFT p50</th><th>TTFT p99</th></tr>",
                                at(routing, "attributed").dump(), at(routing, "unattributed").dump());
  for (const auto& pod : at(routing, "pods")) {
    const json& ttft = at(pod, "ttft_seconds");
    const auto ns = [](std::optional<double> s) { return s ? std::optional<double>(*s * 1e9) : std::nullopt; };
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", text(str(at(pod, "pod"))),
                       at(pod, "requests").dump(), at(pod, "failed").dump(), milliseconds(ns(number(at(ttft, "p50")))),
                       milliseconds(ns(number(at(ttft, "p99")))));
  }
  out += "</table>";
  for (const auto& line : at(routing, "not_computed")) {
    out += fmt::format("<p class=\"muted\">not computed: {}</p>", text(line.is_string() ? line.get<std::string>() : util::dump_json(line)));
  }
  return out + "</section>";
}

std::string diagnostics_section(const json& result) {
  std::string rows;
  const auto add = [&](const json& d, const std::string& where) {
    rows += fmt::format("<tr class=\"diagnostic\"><td class=\"{0}\">{0}</td><td>{1}</td><td>{2}</td><td>{3}</td></tr>",
                        escape(str(at(d, "severity"), "info")), text(where), text(str(at(d, "message"))), text(str(at(d, "fix"))));
  };
  for (const auto& d : at(result, "diagnostics")) {
    add(d, str(at(d, "code")));
  }
  for (const auto& d : at(at(result, "cache"), "diagnostics")) {
    add(d, str(at(d, "pod")));
  }
  if (rows.empty()) {
    return "<section><h2>Diagnostics</h2><p class=\"muted\">none: nothing found that makes a number above untrustworthy</p></section>";
  }
  return "<section><h2>Diagnostics</h2><table><tr><th>severity</th><th>code / pod</th><th>finding</th><th>fix</th></tr>" + rows +
         "</table></section>";
}

std::string config_section(const json& result) {
  const json& tool = at(result, "tool");
  return fmt::format("<section class=\"config\"><h2>Configuration</h2><p>{} {}; result schema {} v{}</p>"
                     "<details open><summary>scenario (as run; secret headers redacted)</summary><pre>{}</pre></details>"
                     "<details><summary>target</summary><pre>{}</pre></details></section>",
                     text(str(at(tool, "name"), "llmd-bench")), text(str(at(tool, "version"))), text(str(at(result, "schema"))),
                     at(result, "version").dump(), text(util::dump_json(at(result, "scenario"), 2)), text(util::dump_json(at(result, "target"), 2)));
}

constexpr const char* k_style = R"css(
:root { color-scheme: light; }
body { font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1320px; color: #111; background: #fff; }
header { display: grid; grid-template-columns: auto 1fr; gap: 4px 24px; align-items: start; border-bottom: 2px solid #ddd; padding-bottom: 8px; }
header h1 { margin: 0; font-size: 22px; }
header .facts, header p { grid-column: 2; }
.verdict { grid-row: span 3; font-size: 40px; font-weight: 700; padding: 12px 24px; border-radius: 8px; color: #fff; min-width: 120px; text-align: center; }
.verdict.pass { background: #009E73; } .verdict.fail { background: #D55E00; } .verdict.other { background: #777; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
h2 { font-size: 18px; margin: 20px 0 8px; border-bottom: 1px solid #eee; }
h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; font-variant-numeric: tabular-nums; }
td.pass { color: #009E73; font-weight: 700; } td.fail, td.error { color: #D55E00; font-weight: 700; } td.warn, td.warning { color: #9a6700; font-weight: 700; }
.muted { color: #666; font-weight: normal; font-size: 13px; }
.big { font-size: 18px; } #hit-rate { font-weight: 700; }
.errors { color: #D55E00; } .warnings { color: #9a6700; } .notes { color: #555; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
figure.chart { margin: 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
svg.chart { width: 100%; height: auto; background: #fafafa; border: 1px solid #e5e5e5; }
figure.bars svg.chart { max-width: 760px; }
svg .grid { stroke: #e3e3e3; } svg .axis { stroke: #999; } svg .marker { stroke-dasharray: 3 3; }
svg text { font: 11px "DejaVu Sans", sans-serif; fill: #333; } svg .label { fill: #555; } svg .marker-label { fill: #555; font-size: 10px; }
svg .empty { fill: #999; font-size: 14px; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 420px; }
@media print { body { max-width: none; padding: 0; } section, figure { break-inside: avoid; } .grid { grid-template-columns: 1fr 1fr; } pre { max-height: none; } details { display: block; } }
)css";

// Marks what the browser drew: each chart's data-drawn is "yes" when its series have a length
// (paths) or width (bars) in the laid-out page; body[data-charts] counts the charts. The browser
// test reads them (a chart that renders nothing says "no").
constexpr const char* k_script = R"js(
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('svg.chart');
  charts.forEach(function (svg) {
    var drawn = 0;
    svg.querySelectorAll('path.series').forEach(function (p) { drawn += p.getTotalLength(); });
    svg.querySelectorAll('rect.series').forEach(function (r) { drawn += r.getBBox().width; });
    svg.setAttribute('data-drawn', drawn > 0 ? 'yes' : 'no');
  });
  document.body.setAttribute('data-charts', String(charts.length));
});
)js";

std::string page_start(const std::string& title) {
  return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>{}</title><style>{}</style></head><body>",
                     title, k_style);
}

std::string page_end() { return std::string("<script>") + k_script + "</script></body></html>\n"; }

// ---- comparison ---------------------------------------------------------------------------

constexpr std::string_view k_baseline_color = k_blue;
constexpr std::string_view k_current_color = k_orange;


std::string overlay_section(const json& baseline, const json& current) {
  std::string out = "<section><h2>Over time <span class=\"muted\">(per second from each run's start; baseline dashed)</span></h2><div class=\"grid\">";
  const auto chart = time_chart;
  const auto pair = [&](std::string_view column, double scale) {
    return std::vector<Series>{{"baseline", k_baseline_color, per_second_column(baseline, column, scale), true},
                               {"current", k_current_color, per_second_column(current, column, scale)}};
  };
  out += line_chart(chart("requests", "Requests ended ok per second", "requests/s"), pair("ok", 1), {});
  out += line_chart(chart("ttft", "TTFT p95", "ms"), pair("ttft_p95_ns", 1e-6), {});
  out += line_chart(chart("itl", "Inter-token latency p95", "ms"), pair("itl_p95_ns", 1e-6), {});
  out += line_chart(chart("tokens", "Output tokens per second", "tokens/s"), pair("output_tokens", 1), {});
  out += "</div></section><section><h2>Distributions <span class=\"muted\">(cumulative share of ok requests; baseline dashed)</span></h2><div class=\"grid\">";
  for (const auto& [key, title] : {std::pair{"ttft_ns", "TTFT"}, std::pair{"inter_token_latency_ns", "Inter-token latency"},
                                   std::pair{"http_req_duration_ns", "End-to-end latency"}}) {
    const Chart c = cdf_chart(key, title);
    std::vector<Series> series;
    if (auto s = cdf_series(at(at(at(at(baseline, "run"), "total"), "metrics"), key), "baseline", k_baseline_color)) {
      s->dashed = true;
      series.push_back(std::move(*s));
    }
    if (auto s = cdf_series(at(at(at(at(current, "run"), "total"), "metrics"), key), "current", k_current_color)) {
      series.push_back(std::move(*s));
    }
    out += line_chart(c, series, {});
  }
  out += "</div></section>";
  // Per-pod hit rate, both runs (pods matched by name).
  std::vector<std::string> pods;
  std::map<std::string, std::pair<std::optional<double>, std::optional<double>>> rates;
  for (const auto& [which, result] : {std::pair{0, &baseline}, std::pair{1, &current}}) {
    for (const auto& pod : at(at(*result, "cache"), "pods")) {
      const std::string name = str(at(pod, "pod"));
      if (!rates.count(name)) {
        pods.push_back(name);
      }
      (which == 0 ? rates[name].first : rates[name].second) = number(at(pod, "hit_rate"));
    }
  }
  if (!pods.empty()) {
    std::vector<BarRow> rows;
    for (const auto& pod : pods) {
      rows.push_back({pod, {rates[pod].first, rates[pod].second}});
    }
    rows.push_back({"fleet", {number(at(at(at(baseline, "cache"), "totals"), "hit_rate")),
                              number(at(at(at(current, "cache"), "totals"), "hit_rate"))}});
    out += "<section><h2>Prefix cache hit rate</h2>" +
           bar_chart("cache-pods", "Hit rate per pod and fleet: baseline, current", {"baseline", "current"}, rows) +
           "</section>";
  }
  return out;
}

}  // namespace

util::Result<std::string> render_html(const json& result) {
  if (!result.is_object() || at(result, "schema") != "llmd-bench/result") {
    return util::fail(std::string("not an llmd-bench result: expected a JSON object with \"schema\": \"llmd-bench/result\" "
                                  "(write one with `llmd-bench run SCENARIO --out json=FILE`)"));
  }
  std::string page = page_start(fmt::format("llmd-bench: {} — {}", text(str(at(at(result, "scenario"), "name"), "run")),
                                            escape(str(at(result, "verdict"), "unknown"))));
  page += header_section(result);
  page += thresholds_section(result);
  page += summary_section(result);
  page += over_time_section(result);
  page += distributions_section(result);
  page += cache_section(result);
  page += routing_section(result);
  page += diagnostics_section(result);
  page += config_section(result);
  page += page_end();
  return page;
}

std::string render_comparison_html(const json& baseline, const json& current, const Comparison& comparison) {
  const bool regression = comparison.regression();
  std::string page = page_start(fmt::format("llmd-bench compare: {} vs {}", text(comparison.baseline_name), text(comparison.current_name)));
  page += fmt::format("<header><div id=\"verdict\" class=\"verdict {}\" data-verdict=\"{}\">{}</div>"
                      "<h1>{} → {}</h1><dl class=\"facts\"><dt>baseline</dt><dd>{} ({}, verdict {})</dd>"
                      "<dt>current</dt><dd>{} ({}, verdict {})</dd><dt>gates</dt><dd>{} of {} failed</dd></dl></header>",
                      regression ? "fail" : "pass", regression ? "regression" : "ok", regression ? "REGRESSION" : "OK",
                      text(comparison.baseline_name), text(comparison.current_name), text(comparison.baseline_name),
                      text(str(at(at(baseline, "scenario"), "name"))), text(comparison.baseline_verdict),
                      text(comparison.current_name), text(str(at(at(current, "scenario"), "name"))),
                      text(comparison.current_verdict), comparison.gates_failed(), comparison.gates.size());
  if (!comparison.gates.empty()) {
    page += "<section><h2>Gates</h2><table><tr><th></th><th>gate</th><th>result</th></tr>";
    for (const auto& gate : comparison.gates) {
      page += fmt::format("<tr class=\"gate\" data-status=\"{}\"><td class=\"{}\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
                          gate.passed ? "pass" : "fail", gate.passed ? "pass" : "fail", gate.passed ? "✓" : "✗",
                          text(gate.gate.source), text(gate.reason));
    }
    page += "</table></section>";
  }
  page += overlay_section(baseline, current);
  for (const auto& section : comparison.sections) {
    page += fmt::format("<section><h2>{}</h2><table><tr><th>metric</th><th>baseline</th><th>current</th><th>change</th><th>significance</th></tr>",
                        text(section.name));
    for (const auto& row : section.rows) {
      const bool worse = (row.significance == Significance::up && row.direction == Direction::lower_is_better) ||
                         (row.significance == Significance::down && row.direction == Direction::higher_is_better);
      page += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>", text(row.key),
                          text(compare_value_text(row.unit, row.baseline)), text(compare_value_text(row.unit, row.current)),
                          text(compare_change_text(row)), worse ? "fail" : "", text(significance_text(row)));
    }
    page += "</table></section>";
  }
  for (const auto& name : comparison.phases_only_in_baseline) {
    page += fmt::format("<p class=\"muted\">phase {} only in the baseline</p>", text(name));
  }
  for (const auto& name : comparison.phases_only_in_current) {
    page += fmt::format("<p class=\"muted\">phase {} only in the current run</p>", text(name));
  }
  page += page_end();
  return page;
}

namespace {

// One series over the sweep's steps, sorted by `x`: (x, y) per step that has both.
std::vector<std::pair<double, std::optional<double>>> step_points(const json& steps, std::string_view x_key,
                                                                    const std::function<std::optional<double>(const json&)>& y) {
  std::vector<std::pair<double, std::optional<double>>> points;
  for (const auto& step : steps) {
    if (const auto x = number(at(step, x_key))) {
      points.emplace_back(*x, y(step));
    }
  }
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return points;
}

std::function<std::optional<double>(const json&)> latency_ms(std::string_view metric, std::string_view p) {
  return [metric = std::string(metric), p = std::string(p)](const json& step) {
    const auto seconds = number(at(at(step, metric), p));
    return seconds ? std::optional<double>(*seconds * 1e3) : std::nullopt;
  };
}

// A JSON number of seconds as nanoseconds (milliseconds() takes ns).
std::optional<double> ns_of(const json& seconds) {
  const auto value = number(seconds);
  return value ? std::optional<double>(*value * 1e9) : std::nullopt;
}

std::function<std::optional<double>(const json&)> field(std::string_view key) {
  return [key = std::string(key)](const json& step) { return number(at(step, key)); };
}

}  // namespace

util::Result<std::string> render_sweep_html(const json& sweep) {
  if (!sweep.is_object() || at(sweep, "schema") != "llmd-bench/sweep") {
    return util::fail(std::string("not an llmd-bench sweep: expected a JSON object with \"schema\": \"llmd-bench/sweep\""));
  }
  const json& answer = at(sweep, "answer");
  const json& steps = at(sweep, "steps");
  const bool users = str(at(answer, "unit")) == "users";
  const auto capacity = number(at(answer, "capacity"));
  const std::string limit = str(at(answer, "limit"), "unknown");
  const bool met = at(sweep, "exit_code").is_number() && at(sweep, "exit_code").get<int>() == 0;
  std::string page = page_start(fmt::format("llmd-bench sweep: {}", text(str(at(sweep, "scenario"), "sweep"))));
  page += fmt::format("<header><div id=\"verdict\" class=\"verdict {}\" data-verdict=\"{}\">{}</div>", met ? "pass" : "fail",
                      met ? "pass" : "fail", capacity ? escape(fmt::format("{} {}", compact(*capacity), users ? "users" : "req/s"))
                                                      : std::string("no capacity"));
  page += fmt::format("<h1>{}</h1><p id=\"answer\" data-capacity=\"{}\" data-limit=\"{}\">{}</p><dl class=\"facts\">",
                      text(str(at(sweep, "scenario"), "sweep")), capacity ? at(answer, "capacity").dump() : "null",
                      escape(limit), text(str(at(answer, "text"))));
  const json& plan = at(sweep, "plan");
  page += fmt::format("<dt>target</dt><dd>{}</dd><dt>mode</dt><dd>{}</dd><dt>step duration</dt><dd>{}</dd><dt>started</dt><dd>{}</dd>"
                      "<dt>ended</dt><dd>{}</dd><dt>exit code</dt><dd>{}</dd></dl>",
                      text(str(at(sweep, "target"))), text(str(at(plan, "mode"))),
                      escape(util::format_seconds(number(at(plan, "step_duration_seconds")).value_or(0))),
                      text(str(at(sweep, "started_at"))), text(str(at(sweep, "ended_at"))), at(sweep, "exit_code").dump());
  for (const auto& error : at(sweep, "errors")) {
    page += fmt::format("<p class=\"errors\">error: {}</p>", text(error.is_string() ? error.get<std::string>() : ""));
  }
  page += "</header>";
  std::vector<Marker> markers;
  if (capacity) {
    markers.push_back({*capacity, fmt::format("capacity {}", compact(*capacity)), k_green});
  }
  const std::string x_key = users ? "load" : "achieved_rate_per_second";
  const std::string x_label = users ? "users" : "achieved requests per second";
  Chart latency = time_chart("sweep-latency", "Latency against throughput, per step", "ms");
  latency.x_label = x_label;
  Chart rates = time_chart("sweep-goodput", "Achieved rate and goodput against the load offered", "requests/s");
  rates.x_label = users ? "users" : "offered requests per second";
  page += "<section><h2>Throughput and latency <span class=\"muted\">(one point per step)</span></h2><div class=\"grid\">";
  page += line_chart(latency,
                     {{"TTFT p50", k_blue, step_points(steps, x_key, latency_ms("ttft_seconds", "p50"))},
                      {"TTFT p95", k_orange, step_points(steps, x_key, latency_ms("ttft_seconds", "p95"))},
                      {"ITL p95", k_purple, step_points(steps, x_key, latency_ms("itl_seconds", "p95"))},
                      {"E2E p95", k_grey, step_points(steps, x_key, latency_ms("e2e_seconds", "p95")), true}},
                     markers);
  std::vector<Series> throughput = {{"achieved", k_blue, step_points(steps, "load", field("achieved_rate_per_second"))}};
  if (std::any_of(steps.begin(), steps.end(), [](const json& s) { return number(at(s, "goodput_per_second")).has_value(); })) {
    throughput.push_back({"good", k_green, step_points(steps, "load", field("goodput_per_second"))});
  }
  page += line_chart(rates, throughput, markers);
  page += "</div></section><section><h2>Steps</h2><table><tr><th>step</th><th>load</th><th>achieved</th><th>ok</th><th>failed</th>"
          "<th>dropped</th><th>TTFT p95</th><th>ITL p95</th><th>E2E p95</th><th>good</th><th>hit rate</th><th>verdict</th><th>why</th></tr>";
  for (const auto& step : steps) {
    const std::string verdict = str(at(step, "verdict"));
    std::string reasons;
    for (const auto& reason : at(step, "reasons")) {
      reasons += (reasons.empty() ? "" : "<br>") + text(reason.is_string() ? reason.get<std::string>() : "");
    }
    const json& counts = at(step, "counts");
    page += fmt::format("<tr class=\"step\" data-verdict=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                        escape(verdict), at(step, "index").dump(), exact(number(at(step, "load"))),
                        exact(number(at(step, "achieved_rate_per_second"))), at(counts, "ok").dump(), at(counts, "failed").dump(),
                        at(counts, "dropped").dump(), milliseconds(ns_of(at(at(step, "ttft_seconds"), "p95"))),
                        milliseconds(ns_of(at(at(step, "itl_seconds"), "p95"))),
                        milliseconds(ns_of(at(at(step, "e2e_seconds"), "p95"))),
                        percent(number(at(step, "good_fraction"))), percent(number(at(step, "hit_rate"))),
                        verdict_class(verdict), escape(verdict), reasons);
  }
  page += "</table></section>";
  page += page_end();
  return page;
}

}  // namespace llmd::report
