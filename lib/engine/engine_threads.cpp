// run_phases() with several event loops (engine.hpp, `run --threads N`): N engines on N threads,
// each on its slice of every phase; the calling thread coordinates and merges.
#include "engine/engine_threads.hpp"

#include <algorithm>
#include <exception>
#include <system_error>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "engine/engine_loop.hpp"

namespace llmd::engine {

namespace {

// Longest the coordinator sleeps without a callback due: it only waits for the loops to end.
constexpr auto k_idle_wait = std::chrono::milliseconds(200);

// How often the loops publish: twice per interval of what reads the snapshots, so that a progress
// line or a stop check sees figures at most about one interval old. Zero when nothing reads them.
std::chrono::nanoseconds publish_interval(const EngineConfig& config) {
  std::chrono::nanoseconds interval = std::chrono::nanoseconds::max();
  if (config.on_progress) {
    interval = std::min(interval, config.progress_interval);
  }
  if (config.stop_check) {
    interval = std::min(interval, config.stop_check_interval);
  }
  return interval == std::chrono::nanoseconds::max() ? std::chrono::nanoseconds::zero() : interval / 2;
}

// The live totals for stop_check: every loop's latest total merged, in-flight from the ledger.
RunResult live_run(const EngineConfig& config, ThreadHub& hub, TimePoint run_start, TimePoint now,
                   std::chrono::system_clock::time_point started_at) {
  RunResult live;
  live.total.name = "total";
  live.total.checks = config.scenario->checks;
  live.total.slo = config.scenario->slo;
  hub.visit_snapshots([&](const LoopSnapshot& snapshot) {
    if (snapshot.live_total) {
      (void)merge_into(live.total, *snapshot.live_total);  // same layouts: cannot fail
    }
  });
  live.total.wall_duration = now - run_start;
  live.total.started_at = std::chrono::nanoseconds::zero();
  const auto in_flight = hub.ledger().total(now);
  live.total.peak_in_flight = in_flight.peak;
  live.total.mean_in_flight = in_flight.mean;
  live.started_at = started_at;
  live.ended_at = std::chrono::system_clock::now();
  return live;
}

// Progress and stop checks on the calling thread until every loop is done.
void coordinate(const EngineConfig& config, std::span<const scenario::Phase> phases, ThreadHub& hub, TimePoint run_start,
                std::chrono::system_clock::time_point started_at) {
  std::vector<std::string> names;
  for (const auto& phase : phases) {
    names.push_back(phase.name);
  }
  ProgressMerger progress(std::move(names), run_start);
  TimePoint next_progress = run_start + config.progress_interval;
  TimePoint next_check = run_start + config.stop_check_interval;
  while (true) {
    TimePoint now = Clock::now();
    TimePoint wake = now + k_idle_wait;
    if (config.on_progress) {
      wake = std::min(wake, next_progress);
    }
    if (config.stop_check && !hub.halted()) {
      wake = std::min(wake, next_check);
    }
    if (hub.wait_done_until(wake)) {
      return;
    }
    now = Clock::now();
    if (config.on_progress && now >= next_progress) {
      hub.visit_snapshots([&progress](const LoopSnapshot& snapshot) {
        if (snapshot.published) {
          progress.add(snapshot);
        }
      });
      config.on_progress(progress.finish(now));
      next_progress = now + config.progress_interval;
    }
    const bool stopping = hub.halted() || (config.stop != nullptr && config.stop->load(std::memory_order_relaxed));
    if (config.stop_check && !stopping && now >= next_check) {
      next_check = now + config.stop_check_interval;
      if (auto reason = config.stop_check(live_run(config, hub, run_start, now, started_at))) {
        hub.halt(std::move(*reason), now - run_start);
      }
    }
  }
}

// A phase of every loop, merged: counters and histograms summed, targets added up, the wall time the
// longest (every loop starts the phase at the same instant), in flight from the ledger.
PhaseResult merge_phase(std::vector<RunResult>& results, std::size_t index, LoadLedger& ledger, TimePoint run_start,
                        bool is_total) {
  auto part = [&](std::size_t t) -> PhaseResult& { return is_total ? results[t].total : results[t].phases[index]; };
  PhaseResult merged = std::move(part(0));
  for (std::size_t t = 1; t < results.size(); ++t) {
    const PhaseResult& from = part(t);
    (void)merge_into(merged, from);  // same layouts: cannot fail
    merge_slice_plan(merged, from, std::chrono::nanoseconds{0});
    merged.wall_duration = std::max(merged.wall_duration, from.wall_duration);
    if (from.started_at) {
      merged.started_at = merged.started_at ? std::min(*merged.started_at, *from.started_at) : *from.started_at;
    }
  }
  if (merged.started_at) {
    const TimePoint end = run_start + *merged.started_at + merged.wall_duration;
    const auto in_flight = is_total ? ledger.total(end) : ledger.phase(index, end);
    merged.peak_in_flight = in_flight.peak;
    merged.mean_in_flight = in_flight.mean;
  }
  return merged;
}

// `coordinator_cpu`: what the calling thread spent coordinating (progress, stop checks); the run's
// client_cpu is it plus every loop's.
RunResult merge_loops(std::vector<RunResult> results, ThreadHub& hub, TimePoint run_start,
                      std::chrono::system_clock::time_point started_at, const CpuTime& coordinator_cpu) {
  RunResult merged;
  merged.client_cpu = coordinator_cpu;
  merged.started_at = started_at;
  merged.http_client = results.front().http_client;  // every loop chose alike
  merged.http_client_reason = results.front().http_client_reason;
  for (const RunResult& loop : results) {
    merged.http_counts += loop.http_counts;
  }
  for (std::size_t t = 0; t < results.size(); ++t) {
    EngineThread thread;
    thread.index = t;
    thread.started = results[t].total.started;
    thread.completed = results[t].total.completed;
    thread.cpu = results[t].client_cpu;
    if (results[t].client_cpu) {
      *merged.client_cpu += *results[t].client_cpu;
    }
    (void)thread.event_loop_lag_ns.merge(results[t].total.histograms.event_loop_lag_ns);  // same layout
    merged.threads.push_back(std::move(thread));
    merged.interrupted = merged.interrupted || results[t].interrupted;
    merged.aborted = merged.aborted || results[t].aborted;
  }
  for (std::size_t i = 0; i < results.front().phases.size(); ++i) {
    merged.phases.push_back(merge_phase(results, i, hub.ledger(), run_start, false));
  }
  merged.total = merge_phase(results, 0, hub.ledger(), run_start, true);
  merged.stop_reason = hub.reason();
  if (merged.stop_reason) {
    merged.interrupted = false;  // the run's own stop, as with one loop
    merged.stopped_at = hub.stopped_at();
  }
  merged.per_second = hub.ledger().finish_seconds();
  merged.ended_at = std::chrono::system_clock::now();
  return merged;
}

}  // namespace

util::Result<RunResult> run_threads(const EngineConfig& config, std::span<const scenario::Phase> phases) {
  const std::size_t count = config.threads;
  ThreadHub hub(count, publish_interval(config), static_cast<bool>(config.stop_check));
  std::mutex request_mutex;
  std::vector<EngineConfig> configs(count, config);  // each engine keeps a reference to its own
  std::vector<std::unique_ptr<Engine>> engines;
  for (std::size_t t = 0; t < count; ++t) {
    EngineConfig& own = configs[t];
    own.threads = 1;
    own.slice = config.slice.within(Slice{t, count});
    own.on_progress = nullptr;
    own.stop_check = nullptr;
    own.on_start = nullptr;
    own.document_budget_bytes = std::max<std::size_t>(config.document_budget_bytes / count, 1);
    if (config.on_request) {
      own.on_request = [&request_mutex, &log = config.on_request](const RequestRecord& record) {
        const std::lock_guard lock(request_mutex);
        log(record);
      };
    }
    auto prompts = PromptSource::create(config.scenario->request);
    if (!prompts) {
      return util::fail(prompts.error());
    }
    auto engine = std::make_unique<Engine>(own, std::move(*prompts));
    if (auto ready = engine->setup(phases); !ready) {
      return util::fail(count > 1 ? fmt::format("thread {} of {}: {}", t, count, ready.error()) : ready.error());
    }
    engine->join(hub, t);
    engines.push_back(std::move(engine));
  }
  const auto started_at = std::chrono::system_clock::now();
  const TimePoint run_start = Clock::now();
  hub.start(run_start, engines.front()->phase_starts(run_start));
  if (config.on_start) {
    config.on_start(run_start);
  }
  std::vector<RunResult> results(count);
  std::vector<std::exception_ptr> failures(count);
  std::vector<std::thread> threads;
  std::optional<std::string> spawn_failure;
  for (std::size_t t = 0; t < count && !spawn_failure; ++t) {
    try {
      threads.emplace_back([&, t] {
        try {
          results[t] = engines[t]->run(run_start);
        } catch (...) {
          failures[t] = std::current_exception();
          hub.abort_all();
        }
        hub.loop_done();
      });
    } catch (const std::system_error& error) {  // the system refused a thread: stop the ones running
      spawn_failure = fmt::format("cannot start event-loop thread {} of {}: {} (use fewer --threads)", t, count,
                                  error.what());
      hub.abort_all();
      for (std::size_t never = t; never < count; ++never) {
        hub.loop_done();
      }
    }
  }
  std::exception_ptr coordinator_failure;
  const CpuTime coordinator_at_start = thread_cpu_now();
  try {
    coordinate(config, phases, hub, run_start, started_at);
  } catch (...) {  // a callback threw: stop the loops, and join them before it goes on up
    coordinator_failure = std::current_exception();
    hub.abort_all();
  }
  for (auto& thread : threads) {
    thread.join();
  }
  if (coordinator_failure) {
    std::rethrow_exception(coordinator_failure);
  }
  if (spawn_failure) {
    return util::fail(*spawn_failure);
  }
  for (const auto& failure : failures) {
    if (failure) {
      std::rethrow_exception(failure);
    }
  }
  return merge_loops(std::move(results), hub, run_start, started_at, thread_cpu_now() - coordinator_at_start);
}

}  // namespace llmd::engine
