#include "engine/executors.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "engine/prompt_words.hpp"
#include "engine/run_result.hpp"
#include "engine/trace_executor.hpp"
#include "scenario/phase_load.hpp"

namespace llmd::engine {

using scenario::Duration;
using scenario::ExecutorKind;
using scenario::Phase;

namespace {

std::string phase_label(const Phase& phase) {
  if (phase.where.file.empty()) {
    return fmt::format("phase \"{}\"", phase.name);
  }
  if (phase.where.line == 0) {
    return fmt::format("phase \"{}\" ({})", phase.name, phase.where.file);
  }
  return fmt::format("phase \"{}\" ({}:{})", phase.name, phase.where.file, phase.where.line);
}

Duration scaled(Duration duration, double time_scale) {
  return Duration(static_cast<Duration::rep>(std::llround(static_cast<double>(duration.count()) * time_scale)));
}

Duration from_seconds(double seconds) {
  return Duration(static_cast<Duration::rep>(std::llround(seconds * 1e9)));
}

// constant_vus, ramping_vus, iterations.
class ClosedLoop final : public Executor {
 public:
  ClosedLoop(const Phase& phase, TimePoint start, Slice slice)
      : m_phase(phase),
        m_slice(slice),
        m_start(start),
        m_end(start + scheduled_duration(phase)),
        m_limit(phase.executor == ExecutorKind::iterations ? slice.share_of(phase.iterations) : UINT64_MAX),
        m_in_flight(peak_concurrency(phase), false),
        m_resume_at(peak_concurrency(phase), TimePoint{}) {}

  // Starts every owned user below the target that is neither in flight nor backing off (at most
  // k_max_starts_per_tick per call). A user whose request ends is restarted by on_done(), so in
  // steady state there is nothing to start: the scan over the users (O(users), 3% of the client's
  // CPU at 1,000 streams when it ran on every loop wake) runs only when something can have changed:
  // the first call, a new target (ramps), a batch cut short, or a pause (backoff, think time) that
  // has run out.
  TimePoint tick(TimePoint now, Launcher& launcher) override {
    if (now < m_start) {
      return m_start;
    }
    if (done_starting(now)) {
      return TimePoint::max();
    }
    const RampPoint point = target_at(now);
    const TimePoint ramp_next = point.next_change ? m_start + *point.next_change : TimePoint::max();
    if (now < m_next_scan && point.target_vus == m_scanned_target) {
      return std::min({m_end, m_next_scan, ramp_next});
    }
    TimePoint resume = TimePoint::max();
    std::size_t starts = 0;
    for (std::size_t vu = m_slice.index; vu < point.target_vus && may_issue(); vu += m_slice.count) {
      if (m_in_flight[vu]) {
        continue;
      }
      if (m_resume_at[vu] > now) {
        resume = std::min(resume, m_resume_at[vu]);  // backing off
        continue;
      }
      if (starts++ == k_max_starts_per_tick) {
        m_next_scan = now;  // the rest once the loop has sent this batch
        return now;
      }
      start(vu, now, launcher);
    }
    m_next_scan = resume;
    m_scanned_target = point.target_vus;
    return std::min({m_end, resume, ramp_next});
  }

  void pause(std::size_t vu, TimePoint until) override {
    if (vu < m_resume_at.size()) {
      m_resume_at[vu] = until;
      m_next_scan = std::min(m_next_scan, until);
    }
  }

  void on_done(std::size_t vu, TimePoint now, Launcher& launcher) override {
    if (vu >= m_in_flight.size() || !m_in_flight[vu]) {
      return;
    }
    m_in_flight[vu] = false;
    --m_active;
    if (m_resume_at[vu] > now) {
      return;  // tick() starts it when its backoff ends
    }
    if (!done_starting(now) && now >= m_start && vu < target_at(now).target_vus && may_issue()) {
      start(vu, now, launcher);
    }
  }

  void stop() override { m_stopped = true; }
  bool done_starting(TimePoint now) const override { return m_stopped || now >= m_end || !may_issue(); }
  TimePoint end_time() const override { return m_end; }
  std::size_t active() const override { return m_active; }
  LoopKind loop() const override { return LoopKind::closed; }

 private:
  bool may_issue() const { return m_issued < m_limit; }

  RampPoint target_at(TimePoint now) const {
    switch (m_phase.executor) {
      case ExecutorKind::ramping_vus:
        return ramp_at(m_phase.start_vus, m_phase.stages, now - m_start);
      case ExecutorKind::iterations:
        return RampPoint{std::min<std::size_t>(m_phase.vus, m_phase.iterations), std::nullopt};
      default:
        return RampPoint{m_phase.vus, std::nullopt};
    }
  }

  void start(std::size_t vu, TimePoint now, Launcher& launcher) {
    m_in_flight[vu] = true;
    ++m_active;
    ++m_issued;
    launcher.launch(vu, now);
  }

  Phase m_phase;
  Slice m_slice;  // the users it runs: vu mod count == index
  TimePoint m_start;
  TimePoint m_end;
  std::uint64_t m_limit;
  std::uint64_t m_issued = 0;
  std::vector<bool> m_in_flight;  // per VU
  std::vector<TimePoint> m_resume_at;  // per VU: no request before this (backoff); TimePoint{}: none
  std::size_t m_active = 0;
  bool m_stopped = false;
  TimePoint m_next_scan = TimePoint::min();  // tick() scans the users again at this instant
  std::size_t m_scanned_target = SIZE_MAX;   // the target of the last scan
};

// constant_arrival_rate, poisson, gamma.
class OpenLoop final : public Executor {
 public:
  OpenLoop(const Phase& phase, TimePoint start, std::uint64_t seed, Slice slice)
      : m_poisson(phase.executor == ExecutorKind::poisson),
        m_gamma(phase.executor == ExecutorKind::gamma),
        m_burstiness(phase.burstiness),
        m_rate_per_s(phase.rate_per_s),
        m_slice(slice),
        m_max_in_flight(slice.share_of(phase.max_in_flight)),
        m_sessions(std::max<std::size_t>(1, phase.max_in_flight)),
        m_start(start),
        m_end(start + phase.duration),
        m_rng(seed) {
    m_next_due = random_gaps() ? start + gap() : start;
  }

  // Starts (or, with max_in_flight in flight, drops) every arrival due by `now`, each with its own
  // due time. At most k_max_starts_per_tick starts per call: a loop far behind schedule returns
  // `now` and serves its sockets before the next batch. When nothing can start, everything due is
  // dropped at once (O(1)), so arrivals due faster than requests can start never spin the loop.
  TimePoint tick(TimePoint now, Launcher& launcher) override {
    std::size_t starts = 0;
    while (!m_stopped && m_next_due <= now && m_next_due < m_end) {
      if (!m_slice.owns(m_index)) {
        advance();  // another slice's arrival: its due time still moves the schedule on
        continue;
      }
      if (m_max_in_flight != 0 && m_in_flight >= m_max_in_flight) {
        drop_due_until(now, launcher);
        continue;
      }
      if (starts++ == k_max_starts_per_tick) {
        return now;
      }
      ++m_in_flight;
      launcher.launch(static_cast<std::size_t>(m_index % m_sessions), m_next_due);
      advance();
    }
    if (m_stopped || m_next_due >= m_end) {
      return TimePoint::max();
    }
    return m_next_due;
  }

  void on_done(std::size_t /*vu*/, TimePoint /*now*/, Launcher& /*launcher*/) override {
    if (m_in_flight > 0) {
      --m_in_flight;
    }
  }

  void stop() override { m_stopped = true; }
  // Arrivals due before the end still start when the loop runs late (their lag is recorded): they
  // must never vanish, neither started nor dropped.
  bool done_starting(TimePoint /*now*/) const override { return m_stopped || m_next_due >= m_end; }
  TimePoint end_time() const override { return m_end; }
  std::size_t active() const override { return m_in_flight; }
  LoopKind loop() const override { return LoopKind::open; }

 private:
  bool random_gaps() const { return m_poisson || m_gamma; }

  // Poisson: exponential gaps of mean 1/rate. Gamma (vLLM's --burstiness): shape k = burstiness and
  // scale 1/(rate k), so the mean stays 1/rate and the coefficient of variation is 1/sqrt(k).
  Duration gap() {
    if (m_gamma) {
      return from_seconds(std::gamma_distribution<double>(m_burstiness, 1.0 / (m_rate_per_s * m_burstiness))(m_rng));
    }
    return from_seconds(std::exponential_distribution<double>(m_rate_per_s)(m_rng));
  }

  TimePoint due_of(std::uint64_t index) const {
    return m_start + from_seconds(static_cast<double>(index) / m_rate_per_s);
  }

  // The next arrival after the one at m_next_due. A due time that would not move (a gap below 1 ns
  // at absurd rates) moves by 1 ns, so the arrivals due by a tick are finite.
  void advance() {
    ++m_index;
    const TimePoint next = random_gaps() ? m_next_due + gap() : due_of(m_index);
    m_next_due = next > m_next_due ? next : m_next_due + Duration(1);
  }

  // Drops, in one step, the arrival at m_next_due and every later one due by min(now, end): for a
  // constant rate their count follows from the indexes, for Poisson arrivals it is drawn from the
  // Poisson distribution of the interval (the next arrival is then one exponential gap later); gamma
  // arrivals have no such closed form, so their gaps are drawn one by one up to the limit (a draw
  // costs ~50 ns: a loop 1 s behind at the largest rate draws 100,000). Sliced, Poisson gaps are
  // drawn one by one too: every slice must draw the same gaps to keep one schedule between them,
  // and the Poisson shortcut would draw differently in a slice that drops at other times. Only the
  // arrivals this slice owns are counted as its drops.
  void drop_due_until(TimePoint now, Launcher& launcher) {
    const TimePoint limit = std::min(now, m_end - Duration(1));
    std::uint64_t count = 1;
    const TimePoint first = m_next_due;
    const std::uint64_t first_index = m_index;
    if (m_gamma || (m_poisson && !m_slice.whole())) {
      const auto step = [this] {  // at least 1 ns, so the loop ends
        const Duration drawn = gap();
        return drawn > Duration::zero() ? drawn : Duration(1);
      };
      TimePoint next = m_next_due + step();
      while (next <= limit) {
        ++count;
        next += step();
      }
      m_index += count;
      m_next_due = next > limit ? next : limit + Duration(1);
    } else if (m_poisson) {
      const double seconds = std::chrono::duration<double>(limit - m_next_due).count();
      if (seconds > 0) {
        count += static_cast<std::uint64_t>(std::poisson_distribution<std::int64_t>(m_rate_per_s * seconds)(m_rng));
      }
      m_index += count;
      const TimePoint next = limit + gap();
      m_next_due = next > limit ? next : limit + Duration(1);
    } else {
      const double elapsed = std::chrono::duration<double>(limit - m_start).count();
      const auto last = static_cast<std::uint64_t>(std::floor(elapsed * m_rate_per_s));
      count = last >= m_index ? last - m_index + 1 : 1;
      m_index += count;
      const TimePoint next = due_of(m_index);
      m_next_due = next > limit ? next : limit + Duration(1);
    }
    if (!m_slice.whole()) {
      count = m_slice.share_of(first_index + count) - m_slice.share_of(first_index);
    }
    launcher.drop_many(count, first);
  }

  bool m_poisson;
  bool m_gamma;
  double m_burstiness;
  double m_rate_per_s;
  Slice m_slice;  // the arrivals it starts: index mod count == index
  std::size_t m_max_in_flight;  // this slice's share (0: no limit)
  std::size_t m_sessions;       // of the whole phase: an arrival's session is the same in every slice
  TimePoint m_start;
  TimePoint m_end;
  SplitMix64 m_rng;
  TimePoint m_next_due;
  std::uint64_t m_index = 0;
  std::size_t m_in_flight = 0;
  bool m_stopped = false;
};

}  // namespace

util::Result<void> validate_phase(const Phase& phase, Slice slice) {
  auto problem = [&phase](std::string_view what) {
    return util::fail(fmt::format("{}: {} {}", phase_label(phase), to_string(phase.executor), what));
  };
  if (phase.start_time < Duration::zero() || phase.graceful_stop < Duration::zero()) {
    return problem("needs start_time and graceful_stop >= 0");
  }
  switch (phase.executor) {
    case ExecutorKind::constant_vus:
      if (phase.vus == 0) {
        return problem("needs vus >= 1");
      }
      if (phase.duration <= Duration::zero()) {
        return problem("needs a duration > 0");
      }
      break;
    case ExecutorKind::ramping_vus:
      if (phase.stages.empty()) {
        return problem("needs at least one stage");
      }
      if (std::any_of(phase.stages.begin(), phase.stages.end(), [](const auto& s) { return s.duration < Duration::zero(); })) {
        return problem("needs stage durations >= 0");
      }
      break;
    case ExecutorKind::constant_arrival_rate:
    case ExecutorKind::poisson:
    case ExecutorKind::gamma:
      if (!(phase.rate_per_s > 0) || !std::isfinite(phase.rate_per_s)) {
        return problem(fmt::format("needs a rate > 0 requests/s, got {}", phase.rate_per_s));
      }
      if (phase.executor == ExecutorKind::gamma && (!(phase.burstiness > 0) || !std::isfinite(phase.burstiness))) {
        return problem(fmt::format("needs a burstiness > 0, got {}", phase.burstiness));
      }
      if (phase.duration <= Duration::zero()) {
        return problem("needs a duration > 0");
      }
      break;
    case ExecutorKind::trace:
      if (!(phase.speedup > 0) || !std::isfinite(phase.speedup)) {
        return problem(fmt::format("needs a speedup > 0, got {}", phase.speedup));
      }
      if (phase.max_duration <= Duration::zero()) {
        return problem("needs a max_duration > 0");
      }
      break;
    case ExecutorKind::iterations:
      if (phase.iterations == 0 || phase.vus == 0) {
        return problem("needs iterations >= 1 and vus >= 1");
      }
      if (phase.max_duration <= Duration::zero()) {
        return problem("needs a max_duration > 0");
      }
      break;
  }
  if (slice.whole()) {
    return {};
  }
  if (phase.executor == ExecutorKind::iterations && slice.share_of(phase.iterations) > 0 &&
      slice.share_of(std::min<std::uint64_t>(phase.vus, phase.iterations)) == 0) {
    return problem(fmt::format("with vus {} cannot be split {} ways: slice {} would have iterations and no user to run "
                               "them (use vus >= {} or fewer shards/threads)",
                               phase.vus, slice.count, to_string(slice), slice.count));
  }
  if (phase.max_in_flight > 0 && slice.share_of(phase.max_in_flight) == 0) {
    return problem(fmt::format("with max_in_flight {} cannot be split {} ways: slice {} would start nothing (use "
                               "max_in_flight >= {} or fewer shards/threads)",
                               phase.max_in_flight, slice.count, to_string(slice), slice.count));
  }
  return {};
}

Phase scale_phase(const Phase& phase, double time_scale) {
  Phase scaled_phase = phase;
  if (time_scale == 1.0) {
    return scaled_phase;
  }
  scaled_phase.start_time = scaled(phase.start_time, time_scale);
  scaled_phase.duration = scaled(phase.duration, time_scale);
  scaled_phase.max_duration = scaled(phase.max_duration, time_scale);
  scaled_phase.graceful_stop = scaled(phase.graceful_stop, time_scale);
  scaled_phase.speedup = phase.speedup / time_scale;  // trace: its clock runs time_scale times as long
  for (auto& stage : scaled_phase.stages) {
    stage.duration = scaled(stage.duration, time_scale);
  }
  return scaled_phase;
}

Duration scheduled_duration(const Phase& phase) { return scenario::nominal_length(phase).value_or(phase.max_duration); }

std::size_t peak_concurrency(const Phase& phase) { return scenario::peak_requests(phase); }

RampPoint ramp_at(std::size_t start_vus, std::span<const scenario::Stage> stages, Duration elapsed) {
  double from = static_cast<double>(start_vus);
  Duration begin{};
  for (const auto& stage : stages) {
    const Duration end = begin + stage.duration;
    const double to = static_cast<double>(stage.target_vus);
    if (elapsed < end) {
      const double length = static_cast<double>(stage.duration.count());
      const double value = from + (to - from) * static_cast<double>((elapsed - begin).count()) / length;
      RampPoint point;
      double change_at = length;  // within the stage, in ns from its begin
      if (to >= from) {
        const double target = std::floor(value + 1e-9);
        point.target_vus = static_cast<std::size_t>(target);
        if (to > from && target + 1 <= to) {
          change_at = std::ceil((target + 1 - from) * length / (to - from));
        }
      } else {
        const double target = std::ceil(value - 1e-9);
        point.target_vus = static_cast<std::size_t>(target);
        change_at = std::ceil((from - (target - 1)) * length / (from - to));
      }
      Duration next = begin + Duration(static_cast<Duration::rep>(std::min(change_at, length)));
      point.next_change = std::max(next, elapsed + Duration(1));
      return point;
    }
    from = to;
    begin = end;
  }
  return RampPoint{static_cast<std::size_t>(from), std::nullopt};
}

std::unique_ptr<Executor> make_executor(const Phase& phase, TimePoint phase_start, std::uint64_t seed,
                                        const Trace* trace, Slice slice) {
  if (phase.executor == ExecutorKind::trace) {
    return trace != nullptr ? make_trace_executor(phase, phase_start, *trace, slice) : nullptr;
  }
  if (phase.executor == ExecutorKind::constant_arrival_rate || phase.executor == ExecutorKind::poisson ||
      phase.executor == ExecutorKind::gamma) {
    return std::make_unique<OpenLoop>(phase, phase_start, seed, slice);
  }
  return std::make_unique<ClosedLoop>(phase, phase_start, slice);
}

}  // namespace llmd::engine
