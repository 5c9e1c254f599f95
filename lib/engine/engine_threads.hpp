#pragma once
// Internal to the engine module: what the event loops of a `--threads N` run share (engine.hpp),
// and the coordinator that runs them (engine_threads.cpp).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/load_ledger.hpp"
#include "engine/loop_progress.hpp"

namespace llmd::engine {

class ThreadHub {
 public:
  ThreadHub(std::size_t threads, std::chrono::nanoseconds publish_interval, bool wants_live_total)
      : m_snapshots(threads), m_publish_interval(publish_interval), m_wants_live_total(wants_live_total) {}

  // Before any loop runs: the ledger, from the common run start.
  void start(TimePoint run_start, std::span<const TimePoint> phase_starts) { m_ledger.emplace(run_start, phase_starts); }
  LoadLedger& ledger() { return *m_ledger; }

  // Loops: publish their snapshot (nothing to publish when publish_interval() is zero).
  std::chrono::nanoseconds publish_interval() const { return m_publish_interval; }
  bool wants_live_total() const { return m_wants_live_total; }
  void publish(std::size_t thread, LoopSnapshot snapshot) {
    const std::lock_guard lock(m_mutex);
    snapshot.published = true;
    m_snapshots[thread] = std::move(snapshot);
  }
  // The coordinator: every loop's latest snapshot (unpublished ones have published == false).
  template <class Visit>
  void visit_snapshots(Visit visit) const {
    const std::lock_guard lock(m_mutex);
    for (const auto& snapshot : m_snapshots) {
      visit(snapshot);
    }
  }

  // The run's own stop, seen by every loop within one flag poll: stop_check's reason (a stop like
  // the first Ctrl-C, not an interruption), or abort_all() when a loop failed.
  void halt(std::string reason, std::chrono::nanoseconds at) {
    {
      const std::lock_guard lock(m_mutex);
      m_reason = std::move(reason);
      m_stopped_at = at;
    }
    m_halted.store(true, std::memory_order_release);
  }
  bool halted() const { return m_halted.load(std::memory_order_acquire); }
  std::optional<std::string> reason() const {
    const std::lock_guard lock(m_mutex);
    return m_reason;
  }
  std::chrono::nanoseconds stopped_at() const {
    const std::lock_guard lock(m_mutex);
    return m_stopped_at;
  }
  void abort_all() {
    m_aborting.store(true, std::memory_order_release);
    m_halted.store(true, std::memory_order_release);
  }
  bool aborting() const { return m_aborting.load(std::memory_order_acquire); }

  // A loop ended; the coordinator waits for all of them.
  void loop_done() {
    {
      const std::lock_guard lock(m_mutex);
      ++m_done;
    }
    m_done_changed.notify_all();
  }
  // True when every loop is done; waits until then or `deadline`.
  bool wait_done_until(TimePoint deadline) {
    std::unique_lock lock(m_mutex);
    return m_done_changed.wait_until(lock, deadline, [this] { return m_done == m_snapshots.size(); });
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_done_changed;
  std::size_t m_done = 0;
  std::vector<LoopSnapshot> m_snapshots;
  std::chrono::nanoseconds m_publish_interval;
  bool m_wants_live_total;
  std::optional<LoadLedger> m_ledger;
  std::atomic<bool> m_halted{false};
  std::atomic<bool> m_aborting{false};
  std::optional<std::string> m_reason;
  std::chrono::nanoseconds m_stopped_at{};
};

// run_phases() with config.threads > 1.
util::Result<RunResult> run_threads(const EngineConfig& config, std::span<const scenario::Phase> phases);

}  // namespace llmd::engine
