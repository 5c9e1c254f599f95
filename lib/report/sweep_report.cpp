#include "report/sweep_report.hpp"

#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "report/junit_report.hpp"
#include "util/instant.hpp"

namespace llmd::report {

using nlohmann::json;

namespace {

json optional_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

}  // namespace

json to_json(const run::SweepResult& result) {
  const run::SweepPlan& plan = result.plan;
  json steps = json::array();
  for (const auto& s : result.steps) {
    json pods = json::array();
    for (const auto& pod : s.pods) {
      pods.push_back({{"pod", pod.pod}, {"share_of_requests", optional_json(pod.share_of_requests)},
                      {"hit_rate", optional_json(pod.hit_rate)}});
    }
    const auto latency = [](const std::optional<double>& p50, const std::optional<double>& p95, const std::optional<double>& p99) {
      return json{{"p50", optional_json(p50)}, {"p95", optional_json(p95)}, {"p99", optional_json(p99)}};
    };
    steps.push_back({{"index", s.index},
                     {"load", s.load},
                     {"offered_rate_per_second", optional_json(s.offered_rate)},
                     {"achieved_rate_per_second", optional_json(s.achieved_rate)},
                     {"counts", {{"ok", s.ok}, {"failed", s.failed}, {"dropped", s.dropped}, {"aborted", s.aborted}}},
                     {"ttft_seconds", latency(s.ttft_p50, s.ttft_p95, s.ttft_p99)},
                     {"itl_seconds", latency(s.itl_p50, s.itl_p95, s.itl_p99)},
                     {"e2e_seconds", latency(s.e2e_p50, s.e2e_p95, s.e2e_p99)},
                     {"schedule_lag_p99_seconds", optional_json(s.schedule_lag_p99)},
                     {"event_loop_lag_p99_seconds", optional_json(s.event_loop_lag_p99)},
                     {"goodput_per_second", optional_json(s.goodput_per_second)},
                     {"good_fraction", optional_json(s.good_fraction)},
                     {"hit_rate", optional_json(s.hit_rate)},
                     {"max_pod_share", optional_json(s.max_pod_share)},
                     {"pods", std::move(pods)},
                     {"verdict", std::string(run::to_string(s.verdict))},
                     {"reasons", s.reasons},
                     {"wall_seconds", std::chrono::duration<double>(s.wall).count()}});
  }
  const auto& a = result.answer;
  return {{"schema", "llmd-bench/sweep"},
          {"version", 1},
          {"tool", {{"name", "llmd-bench"}, {"version", LLMD_VERSION}}},
          {"scenario", result.scenario},
          {"target", result.target},
          {"started_at", util::format_rfc3339(result.started_at)},
          {"ended_at", util::format_rfc3339(result.ended_at)},
          {"plan",
           {{"mode", std::string(run::to_string(plan.mode))},
            {"loads", plan.mode == run::SweepMode::search_rate ? json(nullptr) : json(plan.loads)},
            {"min", plan.mode == run::SweepMode::search_rate ? json(plan.min) : json(nullptr)},
            {"max", plan.mode == run::SweepMode::search_rate ? json(plan.max) : json(nullptr)},
            {"resolution", plan.mode == run::SweepMode::search_rate ? json(plan.resolution) : json(nullptr)},
            {"step_duration_seconds", std::chrono::duration<double>(plan.step_duration).count()},
            {"good_fraction", plan.good_fraction},
            {"max_client_lag_seconds", std::chrono::duration<double>(plan.max_client_lag).count()},
            {"require_rate", optional_json(plan.require_rate)}}},
          {"steps", std::move(steps)},
          {"answer",
           {{"capacity", optional_json(a.capacity)},
            {"unit", plan.mode == run::SweepMode::concurrency ? "users" : "requests_per_second"},
            {"limit", a.limit},
            {"text", a.text},
            {"failing_step", a.failing_step ? json(*a.failing_step) : json(nullptr)},
            {"meets_require_rate", plan.require_rate ? json(run::meets_require_rate(result)) : json(nullptr)}}},
          {"errors", result.errors},
          {"exit_code", run::sweep_exit_code(result)}};
}

namespace {

std::string ms_or_dash(const std::optional<double>& seconds) {
  return seconds ? fmt::format("{:.1f}", *seconds * 1e3) : "-";
}

std::string percent_or_dash(const std::optional<double>& fraction) {
  return fraction ? fmt::format("{:.1f}%", *fraction * 100) : "-";
}

}  // namespace

std::string render_sweep_text(const run::SweepResult& result) {
  const bool users = result.plan.mode == run::SweepMode::concurrency;
  std::string out = fmt::format("sweep: {} ({}), target {}\n\n", result.scenario, run::to_string(result.plan.mode), result.target);
  out += fmt::format("  {:>4} {:>9} {:>9} {:>6} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}  {}\n", "step",
                     users ? "users" : "offered", "achieved", "ok", "fail", "drop", "ttft p50", "ttft p95", "itl p95",
                     "e2e p95", "good/s", "good", "hit", "maxpod", "verdict");
  out += fmt::format("  {:>4} {:>9} {:>9} {:>6} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}\n", "",
                     users ? "" : "req/s", "req/s", "", "", "", "ms", "ms", "ms", "ms", "", "", "", "");
  for (const auto& s : result.steps) {
    out += fmt::format("  {:>4} {:>9} {:>9} {:>6} {:>5} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}  {}\n", s.index,
                       run::load_text(s.load), s.achieved_rate ? fmt::format("{:.1f}", *s.achieved_rate) : "-", s.ok, s.failed,
                       s.dropped, ms_or_dash(s.ttft_p50), ms_or_dash(s.ttft_p95), ms_or_dash(s.itl_p95),
                       ms_or_dash(s.e2e_p95), s.goodput_per_second ? fmt::format("{:.1f}", *s.goodput_per_second) : "-",
                       percent_or_dash(s.good_fraction), percent_or_dash(s.hit_rate), percent_or_dash(s.max_pod_share),
                       run::to_string(s.verdict));
    for (const auto& reason : s.reasons) {
      out += fmt::format("  {:>4} {}\n", "", reason);
    }
  }
  out += fmt::format("\nanswer: {}\n", result.answer.text);
  for (const auto& error : result.errors) {
    out += fmt::format("error: {}\n", error);
  }
  if (result.plan.require_rate) {
    out += fmt::format("require: capacity >= {}: {}\n", run::load_with_unit(*result.plan.require_rate, result.plan.mode),
                       run::meets_require_rate(result) ? "met" : result.answer.capacity ? "NOT met" : "NOT met (no load passed)");
  }
  return out;
}

std::string render_sweep_junit(const run::SweepResult& result) {
  const auto escape = [](std::string_view text) { return xml_escape(text); };
  std::size_t failures = 0;
  std::string cases;
  for (const auto& s : result.steps) {
    const std::string name = escape(fmt::format("step {}: {}", s.index, run::load_with_unit(s.load, result.plan.mode)));
    if (s.verdict == run::StepVerdict::pass) {
      cases += fmt::format("    <testcase classname=\"sweep\" name=\"{}\"/>\n", name);
      continue;
    }
    ++failures;
    cases += fmt::format("    <testcase classname=\"sweep\" name=\"{}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         name, escape(std::string(run::to_string(s.verdict))), escape(fmt::format("{}", fmt::join(s.reasons, "\n"))));
  }
  std::size_t tests = result.steps.size();
  if (result.plan.require_rate) {
    ++tests;
    const std::string name = escape(fmt::format("capacity >= {}", run::load_with_unit(*result.plan.require_rate, result.plan.mode)));
    if (run::sweep_exit_code(result) == 0) {
      cases += fmt::format("    <testcase classname=\"sweep\" name=\"{}\"/>\n", name);
    } else {
      ++failures;
      cases += fmt::format("    <testcase classname=\"sweep\" name=\"{}\">\n      <failure message=\"not met\">{}</failure>\n    </testcase>\n",
                           name, escape(result.answer.text));
    }
  }
  return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n{}  </testsuite>\n</testsuites>\n",
                     escape("llmd-bench sweep " + result.scenario), tests, failures, cases);
}

}  // namespace llmd::report
