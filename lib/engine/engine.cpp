// Engine (engine_loop.hpp): phase lifecycle, the stop/abort flags, progress, and the loop itself.
#include "engine/engine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/engine_loop.hpp"
#include "engine/engine_threads.hpp"
#include "engine/prompt_words.hpp"

namespace llmd::engine {

namespace {

// Longest wait between two looks at the stop/abort flags.
constexpr auto k_flag_poll = std::chrono::milliseconds(20);

// The phase stopped starting requests by schedule (not through begin_stop): the open-loop arrival
// window is the whole duration (the last arrival may come before its end); an iterations phase
// that issued fewer than its iterations ran out of max_duration.
void note_schedule_end(PhaseRun& phase, TimePoint now) {
  if (phase.result.target_rate_per_s) {
    phase.result.arrival_window = phase.executor->end_time() - phase.start;
  }
  if (phase.result.iterations_target && phase.result.started < *phase.result.iterations_target &&
      now >= phase.executor->end_time()) {
    phase.result.max_duration_reached = true;
  }
}

}  // namespace

void Engine::process_deferred(TimePoint now) {
  auto deferred = std::move(m_deferred);
  m_deferred.clear();
  for (const auto& [phase_index, vu] : deferred) {
    PhaseLauncher launcher(*this, phase_index);
    m_phases[phase_index].executor->on_done(vu, now, launcher);
  }
}

void Engine::begin_stop(TimePoint now) {
  m_stopping = true;
  for (auto& phase : m_phases) {
    if (phase.executor) {
      phase.executor->stop();
    }
    if (phase.state == PhaseState::running && phase.result.target_rate_per_s) {
      phase.result.arrival_window = std::clamp(now, phase.start, phase.executor->end_time()) - phase.start;
    }
    if (phase.state == PhaseState::running || phase.state == PhaseState::draining) {
      phase.state = PhaseState::draining;
      phase.graceful_deadline = std::min(phase.graceful_deadline, now + phase.phase.graceful_stop);
    }
  }
}

TimePoint Engine::advance_phase(std::size_t index, TimePoint now) {
  PhaseRun& phase = m_phases[index];
  if (phase.state == PhaseState::pending) {
    if (m_stopping) {
      phase.finish(now, m_run_start);  // never started
      return TimePoint::max();
    }
    if (now < phase.start) {
      return phase.start;
    }
    phase.state = PhaseState::running;
    phase.in_flight.reset(phase.start);
  }
  TimePoint wake = TimePoint::max();
  if (phase.state == PhaseState::running) {
    PhaseLauncher launcher(*this, index);
    wake = phase.executor->tick(now, launcher);
    if (!phase.executor->done_starting(now)) {
      return wake;
    }
    phase.state = PhaseState::draining;
    phase.graceful_deadline = std::max(now, phase.executor->end_time()) + phase.phase.graceful_stop;
    note_schedule_end(phase, now);
  }
  if (phase.state == PhaseState::draining) {
    if (phase.in_flight.current() > 0 && now >= phase.graceful_deadline) {
      abort_in_flight(index, now);
    }
    if (phase.in_flight.current() == 0 && m_deferred.empty()) {
      phase.finish(now, m_run_start);
      return TimePoint::max();
    }
    return phase.graceful_deadline;
  }
  return wake;
}

TimePoint Engine::advance(TimePoint now) {
  TimePoint wake = TimePoint::max();
  for (std::size_t i = 0; i < m_phases.size(); ++i) {
    wake = std::min(wake, advance_phase(i, now));
  }
  return wake;
}

// The probe is a deadline in the loop's wake-up computation like any other timer: when the loop
// looks at it later than due (busy with a batch of socket events, a slow callback, a starved CPU),
// the difference is the lag every other event saw too.
void Engine::probe_loop_lag(TimePoint now) {
  if (now < m_loop_probe_due) {
    return;
  }
  const std::uint64_t lag = elapsed_ns(m_loop_probe_due, now);
  m_loop_lag.record(lag);
  for (auto& phase : m_phases) {
    if (phase.state == PhaseState::running || phase.state == PhaseState::draining) {
      phase.result.histograms.event_loop_lag_ns.record(lag);
    }
  }
  m_loop_probe_due = now + k_loop_probe_interval;
}

void Engine::report_progress(TimePoint now) {
  m_progress->add(snapshot());
  m_config.on_progress(m_progress->finish(now));
  m_last_progress = now;
}

std::vector<TimePoint> Engine::phase_starts(TimePoint run_start) const {
  std::vector<TimePoint> starts;
  for (const auto& phase : m_phases) {
    starts.push_back(run_start + phase.phase.start_time);
  }
  return starts;
}

RunResult Engine::run(std::optional<TimePoint> run_start) {
  const CpuTime cpu_at_start = thread_cpu_now();
  const auto started_at = std::chrono::system_clock::now();
  m_started_at = started_at;
  m_run_start = run_start.value_or(Clock::now());
  const std::vector<TimePoint> starts = phase_starts(m_run_start);
  if (m_hub != nullptr) {
    m_ledger = &m_hub->ledger();
  } else {
    m_own_ledger.emplace(m_run_start, starts);
    m_ledger = &*m_own_ledger;
    if (m_config.on_start) {
      m_config.on_start(m_run_start);
    }
  }
  if (m_config.on_progress) {
    std::vector<std::string> names;
    for (const auto& phase : m_phases) {
      names.push_back(phase.phase.name);
    }
    m_progress.emplace(std::move(names), m_run_start);
  }
  m_next_stop_check = m_run_start + m_config.stop_check_interval;
  m_last_progress = m_run_start;
  m_next_publish = m_run_start;
  for (std::size_t i = 0; i < m_phases.size(); ++i) {
    auto& phase = m_phases[i];
    phase.start = starts[i];
    phase.executor = make_executor(phase.phase, phase.start, mix64(m_spec.seed, stream_tag::arrivals, i), m_prompts.trace(),
                                    m_config.slice);
  }
  TimePoint now = m_run_start;
  m_loop_probe_due = m_run_start + k_loop_probe_interval;
  const bool publishes = m_hub != nullptr && m_hub->publish_interval() > std::chrono::nanoseconds::zero();
  while (true) {
    now = Clock::now();
    probe_loop_lag(now);
    update_coalesce(now);
    process_deferred(now);
    check_flags(now);
    check_stop(now);
    TimePoint wake = advance(now);
    if (std::all_of(m_phases.begin(), m_phases.end(), [](const PhaseRun& p) { return p.state == PhaseState::finished; })) {
      break;
    }
    if (m_config.on_progress) {
      if (now >= m_last_progress + m_config.progress_interval) {
        report_progress(now);
      }
      wake = std::min(wake, m_last_progress + m_config.progress_interval);
    }
    if (publishes) {
      if (now >= m_next_publish) {
        publish(now);
      }
      wake = std::min(wake, m_next_publish);
    }
    if (m_config.stop_check && !m_stopping) {
      wake = std::min(wake, m_next_stop_check);
    }
    if (m_config.stop != nullptr || m_config.abort != nullptr || m_hub != nullptr) {
      wake = std::min(wake, now + k_flag_poll);
    }
    wake = std::min(wake, m_loop_probe_due);
    m_multi->wait_and_process(m_deferred.empty() ? wake : now, *this);
  }
  RunResult result = collect(now);
  result.started_at = started_at;
  result.client_cpu = thread_cpu_now() - cpu_at_start;
  return result;
}

void Engine::check_flags(TimePoint now) {
  const bool abort = (m_config.abort != nullptr && m_config.abort->load(std::memory_order_relaxed)) ||
                     (m_hub != nullptr && m_hub->aborting());
  if (abort) {
    if (!m_aborted) {
      m_aborted = true;
      begin_stop(now);
    }
    for (std::size_t i = 0; i < m_phases.size(); ++i) {
      abort_in_flight(i, now);
    }
    return;
  }
  if (m_stopping) {
    return;
  }
  if (m_config.stop != nullptr && m_config.stop->load(std::memory_order_relaxed)) {
    begin_stop(now);
  } else if (m_hub != nullptr && m_hub->halted()) {
    m_stop_reason = m_hub->reason();
    m_stopped_at = m_hub->stopped_at();
    begin_stop(now);
  }
}

LoopSnapshot Engine::snapshot() const {
  LoopSnapshot snapshot;
  snapshot.phase_active.resize(m_phases.size());
  for (std::size_t i = 0; i < m_phases.size(); ++i) {
    const auto& phase = m_phases[i];
    if (phase.state == PhaseState::running || phase.state == PhaseState::draining) {
      snapshot.phase_active[i] = true;
      snapshot.active_vus += phase.executor->active();
    }
    snapshot.dropped += phase.result.dropped;
  }
  snapshot.in_flight = m_multi->active();
  snapshot.completed = m_completed;
  snapshot.errors = m_errors;
  (void)snapshot.live_ttft.merge(m_live_ttft);  // same layout: cannot fail
  return snapshot;
}

void Engine::publish(TimePoint now) {
  LoopSnapshot own = snapshot();
  if (m_hub->wants_live_total()) {
    own.live_total = merged_total(now);
  }
  m_hub->publish(m_thread, std::move(own));
  m_next_publish = now + m_hub->publish_interval();
}

void Engine::check_stop(TimePoint now) {
  if (!m_config.stop_check || m_stopping || now < m_next_stop_check) {
    return;
  }
  m_next_stop_check = now + m_config.stop_check_interval;
  RunResult live;
  live.total = merged_total(now);
  live.started_at = m_started_at;
  live.ended_at = std::chrono::system_clock::now();
  if (auto reason = m_config.stop_check(std::move(live))) {
    m_stop_reason = std::move(*reason);
    m_stopped_at = now - m_run_start;
    begin_stop(now);
  }
}

PhaseResult Engine::merged_total(TimePoint now) const {
  PhaseResult total;
  total.name = "total";
  total.checks = m_config.scenario->checks;
  total.slo = m_config.scenario->slo;
  for (const auto& phase : m_phases) {
    (void)merge_into(total, phase.result);  // same layouts: cannot fail
  }
  total.wall_duration = now - m_run_start;
  total.started_at = std::chrono::nanoseconds::zero();
  total.histograms.event_loop_lag_ns = m_loop_lag;  // each probe once, not once per overlapping phase
  const auto in_flight = m_ledger->total(now);
  total.peak_in_flight = in_flight.peak;
  total.mean_in_flight = in_flight.mean;
  return total;
}

RunResult Engine::collect(TimePoint now) {
  RunResult result;
  result.interrupted = m_stopping && !m_stop_reason;
  result.aborted = m_aborted;
  result.stop_reason = m_stop_reason;
  result.stopped_at = m_stopped_at;
  result.http_client = m_http_client;
  result.http_client_reason = m_http_client_reason;
  if (m_fast) {
    result.http_counts.reads = m_fast->receive_stats().reads;
    result.http_counts.kernel_stamped_reads = m_fast->receive_stats().kernel_stamped;
  }
  const CurlMulti::WaitCounts& waits = m_multi->wait_counts();
  result.http_counts.waits = waits.waits;
  result.http_counts.coalesced_waits = waits.paused;
  result.http_counts.longest_pause_ns = static_cast<std::uint64_t>(waits.longest_pause.count());
  result.total = merged_total(now);
  if (m_own_ledger) {
    result.per_second = m_own_ledger->finish_seconds();  // threaded: the coordinator's, once
  }
  for (auto& phase : m_phases) {
    result.phases.push_back(std::move(phase.result));
  }
  result.ended_at = std::chrono::system_clock::now();
  return result;
}


util::Result<RunResult> run_phases(const EngineConfig& config, std::span<const scenario::Phase> phases) {
  if (config.scenario == nullptr) {
    return util::fail("run_phases: no scenario given");
  }
  if (config.threads < 1 || config.threads > k_max_threads) {
    return util::fail(fmt::format("threads must be 1..{}, got {}", k_max_threads, config.threads));
  }
  if (config.threads > 1) {
    return run_threads(config, phases);
  }
  auto prompts = PromptSource::create(config.scenario->request);
  if (!prompts) {
    return util::fail(prompts.error());
  }
  Engine engine(config, std::move(*prompts));
  if (auto ready = engine.setup(phases); !ready) {
    return util::fail(ready.error());
  }
  return engine.run();
}


}  // namespace llmd::engine
