#include "engine/trace_executor.hpp"

#include <algorithm>
#include <cmath>

#include "scenario/limits.hpp"

namespace llmd::engine {

using scenario::Duration;

namespace {

class TraceLoop final : public Executor {
 public:
  TraceLoop(const scenario::Phase& phase, TimePoint start, const Trace& trace, Slice slice)
      : m_trace(trace),
        m_speedup(phase.speedup),
        m_slice(slice),
        m_max_in_flight(slice.share_of(phase.max_in_flight)),
        m_start(start),
        m_end(start + std::min(phase.max_duration, trace_due_offset(trace, trace.records.size() - 1, phase.speedup) +
                                                       Duration(1))) {}

  TimePoint tick(TimePoint now, Launcher& launcher) override {
    std::size_t starts = 0;
    while (!m_stopped && m_next < m_trace.records.size()) {
      const TimePoint due = m_start + trace_due_offset(m_trace, m_next, m_speedup);
      if (due > now || due >= m_end) {
        break;
      }
      if (!m_slice.owns(m_next)) {
        ++m_next;  // another slice's record
        continue;
      }
      if (m_max_in_flight != 0 && m_in_flight >= m_max_in_flight) {
        launcher.drop(due);
        ++m_next;
        continue;
      }
      if (starts++ == k_max_starts_per_tick) {
        return now;  // serve the sockets, then the rest of the batch
      }
      ++m_in_flight;
      launcher.launch(m_next, due);
      ++m_next;
    }
    if (done_starting(now)) {
      return TimePoint::max();
    }
    return m_start + trace_due_offset(m_trace, m_next, m_speedup);
  }

  void on_done(std::size_t /*vu*/, TimePoint /*now*/, Launcher& /*launcher*/) override {
    if (m_in_flight > 0) {
      --m_in_flight;
    }
  }

  void stop() override { m_stopped = true; }
  bool done_starting(TimePoint /*now*/) const override {
    return m_stopped || m_next >= m_trace.records.size() ||
           m_start + trace_due_offset(m_trace, m_next, m_speedup) >= m_end;
  }
  TimePoint end_time() const override { return m_end; }
  std::size_t active() const override { return m_in_flight; }
  LoopKind loop() const override { return LoopKind::open; }

 private:
  const Trace& m_trace;
  double m_speedup;
  Slice m_slice;                // the records it replays: index mod count == index
  std::size_t m_max_in_flight;  // this slice's share (0: no limit)
  TimePoint m_start;
  TimePoint m_end;
  std::size_t m_next = 0;
  std::size_t m_in_flight = 0;
  bool m_stopped = false;
};

}  // namespace

Duration trace_due_offset(const Trace& trace, std::size_t index, double speedup) {
  const auto since_first = trace.records[index].timestamp - trace.records.front().timestamp;
  const double offset_ns = static_cast<double>(since_first.count()) / speedup;
  // Past any phase end (720h after time_scale), and far inside the clock: never started.
  const double ceiling_ns = 2 * static_cast<double>(scenario::limits::k_max_duration.count());
  return Duration(static_cast<Duration::rep>(std::llround(std::min(offset_ns, ceiling_ns))));
}

std::unique_ptr<Executor> make_trace_executor(const scenario::Phase& phase, TimePoint phase_start, const Trace& trace,
                                              Slice slice) {
  return std::make_unique<TraceLoop>(phase, phase_start, trace, slice);
}

}  // namespace llmd::engine
