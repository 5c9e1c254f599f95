#include "run/sweep.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/executors.hpp"
#include "engine/run_result.hpp"
#include "run/gates.hpp"
#include "util/duration.hpp"

namespace llmd::run {

std::string load_text(double load) { return fmt::format("{:g}", std::round(load * 1000) / 1000); }

std::string load_with_unit(double load, SweepMode mode) {
  return mode == SweepMode::concurrency ? fmt::format("{} users", load_text(load)) : fmt::format("{} req/s", load_text(load));
}

namespace {

using stats::percentile_seconds;

}  // namespace

std::string_view to_string(SweepMode mode) {
  switch (mode) {
    case SweepMode::rates: return "rates";
    case SweepMode::concurrency: return "concurrency";
    case SweepMode::search_rate: return "search-rate";
  }
  return "?";
}

std::string_view to_string(StepVerdict verdict) {
  switch (verdict) {
    case StepVerdict::pass: return "pass";
    case StepVerdict::fail: return "fail";
    case StepVerdict::client_limited: return "client-limited";
    case StepVerdict::error: return "error";
    case StepVerdict::interrupted: return "interrupted";
  }
  return "?";
}

RateSearch::RateSearch(double min, double max, double resolution) : m_min(min), m_max(max), m_resolution(resolution) {}

std::optional<double> RateSearch::next() const {
  if (!m_pass && !m_fail) {
    return m_min;
  }
  if (!m_fail) {  // going up: double, capped at max; done once max passed
    return m_max_passed ? std::nullopt : std::optional<double>(std::min(*m_pass * 2, m_max));
  }
  if (!m_pass) {  // the lowest rate failed: nothing lower is tried
    return std::nullopt;
  }
  if (*m_fail - *m_pass <= m_resolution) {
    return std::nullopt;
  }
  return (*m_pass + *m_fail) / 2;
}

void RateSearch::record(double rate, bool passed) {
  if (passed) {
    m_pass = std::max(m_pass.value_or(rate), rate);
    m_max_passed = m_max_passed || rate >= m_max;
  } else {
    m_fail = std::min(m_fail.value_or(rate), rate);
  }
}

util::Result<const scenario::Phase*> sweep_phase(const scenario::Scenario& scenario, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& phase : scenario.phases) {
    names.push_back(fmt::format("\"{}\"", phase.name));
    if (!name.empty() && phase.name == name) {
      return &phase;
    }
  }
  if (!name.empty()) {
    return util::fail(fmt::format("--phase: no measured phase \"{}\" in {}; its phases: {}", name, scenario.path,
                                  fmt::join(names, ", ")));
  }
  if (scenario.phases.size() != 1) {
    return util::fail(fmt::format("{} has {} measured phases ({}); a sweep runs one: name it with --phase NAME",
                                  scenario.path, scenario.phases.size(), fmt::join(names, ", ")));
  }
  return &scenario.phases.front();
}

scenario::Scenario step_scenario(const scenario::Scenario& base, const scenario::Phase& measured, const SweepPlan& plan,
                                 double load, bool first) {
  scenario::Scenario s = base;
  scenario::Phase phase;
  phase.where = measured.where;
  // The step runs in real time: the file's time_scale applies to what the step keeps from it, as the
  // engine applies it (engine::scale_phase), and the step's scenario then has a time_scale of 1.
  phase.graceful_stop = engine::scale_phase(measured, base.time_scale).graceful_stop;
  phase.duration = std::chrono::duration_cast<scenario::Duration>(plan.step_duration);
  if (plan.mode == SweepMode::concurrency) {
    phase.name = fmt::format("users-{}", load_text(load));
    phase.executor = scenario::ExecutorKind::constant_vus;
    phase.vus = static_cast<std::size_t>(std::llround(load));
  } else {
    phase.name = fmt::format("rate-{}", load_text(load));
    phase.executor = scenario::ExecutorKind::constant_arrival_rate;
    phase.rate_per_s = load;
    const bool open_loop = measured.executor == scenario::ExecutorKind::constant_arrival_rate ||
                           measured.executor == scenario::ExecutorKind::poisson ||
                           measured.executor == scenario::ExecutorKind::gamma;
    phase.max_in_flight = open_loop && measured.max_in_flight > 0 ? measured.max_in_flight : 1000;
  }
  s.phases = {phase};
  if (!first) {
    s.warmup.reset();
  } else if (s.warmup) {
    s.warmup->start_time = {};
    s.warmup = engine::scale_phase(*s.warmup, base.time_scale);
  }
  s.time_scale = 1.0;
  s.events.clear();
  return s;
}

SweepStep summarize_step(const RunReport& report, const SweepPlan& plan, double load, std::size_t index) {
  SweepStep step;
  step.index = index;
  step.load = load;
  for (const auto& stage : report.stages) {
    step.wall += stage.elapsed;
  }
  if (plan.mode != SweepMode::concurrency) {
    step.offered_rate = load;
  }
  if (report.run) {
    const engine::PhaseResult& t = report.run->total;
    const auto& h = t.histograms;
    step.ok = t.ok;
    step.failed = t.failed;
    step.dropped = t.dropped;
    step.aborted = t.aborted;
    if (plan.mode == SweepMode::concurrency) {
      const double seconds = std::chrono::duration<double>(t.wall_duration).count();
      step.achieved_rate = seconds > 0 ? std::optional<double>(static_cast<double>(t.completed) / seconds) : std::nullopt;
    } else {
      step.achieved_rate = report.run->phases.empty() ? std::nullopt : engine::achieved_rate_per_s(report.run->phases.front());
    }
    step.ttft_p50 = percentile_seconds(h.ttft_ns, 50);
    step.ttft_p95 = percentile_seconds(h.ttft_ns, 95);
    step.ttft_p99 = percentile_seconds(h.ttft_ns, 99);
    step.itl_p50 = percentile_seconds(h.inter_token_latency_ns, 50);
    step.itl_p95 = percentile_seconds(h.inter_token_latency_ns, 95);
    step.itl_p99 = percentile_seconds(h.inter_token_latency_ns, 99);
    step.e2e_p50 = percentile_seconds(h.http_req_duration_ns, 50);
    step.e2e_p95 = percentile_seconds(h.http_req_duration_ns, 95);
    step.e2e_p99 = percentile_seconds(h.http_req_duration_ns, 99);
    step.schedule_lag_p99 = percentile_seconds(h.schedule_lag_ns, 99);
    step.event_loop_lag_p99 = percentile_seconds(h.event_loop_lag_ns, 99);
    step.goodput_per_second = engine::goodput_per_second(t);
    step.good_fraction = engine::good_fraction(t);
  }
  if (report.cache) {
    step.hit_rate = report.cache->totals.hit_rate;
    step.max_pod_share = report.cache->totals.max_pod_share;
    for (const auto& pod : report.cache->pods) {
      step.pods.push_back({pod.pod, pod.share_of_requests, pod.hit_rate});
    }
  }
  if (report.verdict == Verdict::error || !report.run) {
    step.verdict = StepVerdict::error;
    step.reasons = report.errors.empty() ? std::vector<std::string>{"the step did not run"} : report.errors;
    return step;
  }
  if (report.verdict == Verdict::interrupted) {
    step.verdict = StepVerdict::interrupted;
    step.reasons = {"interrupted"};
    return step;
  }
  // The client first: a late loop or schedule makes every latency of the step the client's.
  const double lag_limit = std::chrono::duration<double>(plan.max_client_lag).count();
  std::vector<std::string> client;
  if (step.event_loop_lag_p99 && *step.event_loop_lag_p99 > lag_limit) {
    client.push_back(fmt::format("the client's event loop ran late: lag p99 {} > {} (--max-client-lag); use --threads "
                                 "or shards",
                                 util::format_seconds(*step.event_loop_lag_p99), util::format_seconds(lag_limit)));
  }
  if (step.schedule_lag_p99 && *step.schedule_lag_p99 > lag_limit) {
    client.push_back(fmt::format("requests started late: schedule lag p99 {} > {} (--max-client-lag)",
                                 util::format_seconds(*step.schedule_lag_p99), util::format_seconds(lag_limit)));
  }
  if (step.offered_rate && step.achieved_rate && *step.achieved_rate < 0.95 * *step.offered_rate && step.dropped == 0) {
    client.push_back(fmt::format("started {}/s of the {}/s asked for", load_text(*step.achieved_rate),
                                 load_text(*step.offered_rate)));
  }
  if (!client.empty()) {
    step.verdict = StepVerdict::client_limited;
    step.reasons = std::move(client);
    return step;
  }
  // Arrivals dropped at max_in_flight are the client's cap: the step is judged on the requests that
  // went (gates that count the drops themselves are left out), and client-limited if those held.
  const bool drops = step.dropped > 0;
  const auto counts_drops = [](const std::string& metric) {
    return metric == "dropped_requests" || metric == "good_fraction" || metric == "goodput";
  };
  for (const auto& outcome : report.thresholds) {
    if (outcome.gate_failed() && !(drops && counts_drops(outcome.threshold.metric))) {
      step.reasons.push_back(fmt::format("{} {}: {}", scenario::display_name(outcome.threshold), outcome.threshold.source,
                                         outcome.result.reason));
    }
  }
  if (report.scenario != nullptr && report.scenario->slo) {
    const engine::PhaseResult& t = report.run->total;
    const std::uint64_t sent = t.ok + t.failed + t.aborted;
    const std::optional<double> fraction =
        !drops ? step.good_fraction
               : sent > 0 ? std::optional<double>(static_cast<double>(t.goodput.good) / static_cast<double>(sent)) : std::nullopt;
    if (!fraction || *fraction < plan.good_fraction) {
      step.reasons.push_back(fraction ? fmt::format("good fraction {:.1f}% < {:.1f}% (--good-fraction){}", *fraction * 100,
                                                    plan.good_fraction * 100, drops ? " of the requests sent" : "")
                                      : std::string("good fraction: no data"));
    }
  }
  if (!step.reasons.empty() || (report.verdict == Verdict::fail && !drops)) {
    if (step.reasons.empty()) {
      step.reasons.push_back("the run's verdict is fail");
    }
    step.verdict = StepVerdict::fail;
    return step;
  }
  if (step.dropped > 0) {
    const auto& phase = report.scenario != nullptr && !report.scenario->phases.empty() ? report.scenario->phases.front()
                                                                                         : scenario::Phase{};
    step.verdict = StepVerdict::client_limited;
    step.reasons.push_back(fmt::format("{} arrivals dropped at max_in_flight {}: the client capped the load it offered; "
                                       "raise max_in_flight in the scenario's phase",
                                       step.dropped, phase.max_in_flight));
    return step;
  }
  step.verdict = StepVerdict::pass;
  return step;
}

SweepAnswer sweep_answer(const std::vector<SweepStep>& steps, const SweepPlan& plan) {
  SweepAnswer answer;
  // The lowest load that did not pass, then the highest pass below it.
  const SweepStep* lowest_bad = nullptr;
  for (const auto& step : steps) {
    if (step.verdict != StepVerdict::pass && (lowest_bad == nullptr || step.load < lowest_bad->load)) {
      lowest_bad = &step;
    }
  }
  const SweepStep* best = nullptr;
  for (const auto& step : steps) {
    if (step.verdict == StepVerdict::pass && (lowest_bad == nullptr || step.load < lowest_bad->load) &&
        (best == nullptr || step.load > best->load)) {
      best = &step;
    }
  }
  if (best != nullptr) {
    answer.capacity = best->load;
  }
  const std::string held = best != nullptr ? fmt::format("capacity {}", load_with_unit(best->load, plan.mode)) : "";
  if (lowest_bad == nullptr) {
    if (steps.empty()) {
      answer.limit = "error";
      answer.text = "no step ran";
      return answer;
    }
    answer.limit = "max";
    answer.text = fmt::format("{} or more: every step passed, up to the largest load tried", held);
    return answer;
  }
  answer.failing_step = lowest_bad->index;
  const std::string why = lowest_bad->reasons.empty() ? std::string() : lowest_bad->reasons.front();
  const std::string at = load_with_unit(lowest_bad->load, plan.mode);
  switch (lowest_bad->verdict) {
    case StepVerdict::fail:
      answer.limit = best != nullptr ? "server" : "below-min";
      answer.text = best != nullptr ? fmt::format("{} (the highest load that passed); at {}: {}", held, at, why)
                                    : fmt::format("no load passed: the lowest, {}, failed: {}", at, why);
      break;
    case StepVerdict::client_limited:
      answer.limit = "client";
      answer.text = fmt::format("client-limited at {}: {}{}", at, why,
                                best != nullptr ? fmt::format("; the server held {} (a lower bound)", load_with_unit(best->load, plan.mode))
                                                : std::string());
      break;
    case StepVerdict::interrupted:
      answer.limit = "interrupted";
      answer.text = fmt::format("interrupted at {}{}", at, best != nullptr ? fmt::format("; {} so far", held) : "");
      break;
    default:
      answer.limit = "error";
      answer.text = fmt::format("the step at {} could not be carried out: {}", at, why);
      break;
  }
  return answer;
}

bool meets_require_rate(const SweepResult& result) {
  return result.plan.require_rate && result.answer.capacity && *result.answer.capacity >= *result.plan.require_rate;
}

int sweep_exit_code(const SweepResult& result) {
  if (result.answer.limit == "interrupted") {
    return 130;
  }
  if (!result.errors.empty() || result.answer.limit == "error") {
    return 3;
  }
  return !result.plan.require_rate || meets_require_rate(result) ? 0 : 1;
}

void run_sweep(const SweepRequest& request, SweepResult& result) {
  const scenario::Scenario& base = *request.scenario;
  const SweepPlan& plan = request.plan;
  result.plan = plan;
  result.scenario = base.name;
  result.started_at = std::chrono::system_clock::now();
  auto measured = sweep_phase(base, plan.phase);
  if (!measured) {
    result.errors.push_back(measured.error());
    result.ended_at = std::chrono::system_clock::now();
    return;
  }
  std::optional<RateSearch> search;
  if (plan.mode == SweepMode::search_rate) {
    search.emplace(plan.min, plan.max, plan.resolution);
  }
  std::size_t listed = 0;
  for (std::size_t index = 0;; ++index) {
    std::optional<double> load;
    if (search) {
      load = search->next();
    } else if (listed < plan.loads.size()) {
      load = plan.loads[listed++];
    }
    if (!load || (request.stop != nullptr && request.stop->load())) {
      break;
    }
    scenario::Scenario step = step_scenario(base, **measured, plan, *load, index == 0);
    RunRequest run = request.run;
    run.scenario = &step;
    RunReport report;
    run_pipeline(run, report);
    if (result.target.empty()) {
      result.target = report.embedded_sim ? "simulator" : report.target_url;
    }
    result.steps.push_back(summarize_step(report, plan, *load, index));
    const SweepStep& done = result.steps.back();
    if (request.on_step) {
      request.on_step(done);
    }
    if (done.verdict != StepVerdict::pass && done.verdict != StepVerdict::fail) {
      break;  // client-limited, error, interrupted: a higher load says nothing more
    }
    if (search) {
      search->record(*load, done.verdict == StepVerdict::pass);
    }
  }
  result.answer = sweep_answer(result.steps, plan);
  result.ended_at = std::chrono::system_clock::now();
}

}  // namespace llmd::run
