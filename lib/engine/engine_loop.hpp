#pragma once
// Internal to the engine module: the event loop object behind run_phases() (engine.hpp). Split
// over engine_requests.cpp (setup, request slots, launching and completing requests) and
// engine.cpp (phase lifecycle, stop/abort flags, progress, the loop itself).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/conversation.hpp"
#include "engine/curl_multi.hpp"
#include "engine/engine.hpp"
#include "engine/executors.hpp"
#include "engine/fast_http.hpp"
#include "engine/load_ledger.hpp"
#include "engine/loop_progress.hpp"
#include "engine/per_second.hpp"
#include "engine/phase_run.hpp"
#include "engine/prompt_source.hpp"
#include "engine/request_builder.hpp"
#include "engine/request_state.hpp"

namespace llmd::engine {

class ThreadHub;

// Runs phases on one thread; see engine.hpp.
class Engine final : public TransferSink {
 public:
  Engine(const EngineConfig& config, PromptSource prompts) : m_config(config), m_spec(config.scenario->request),
                                                             m_prompts(std::move(prompts)) {}

  util::Result<void> setup(std::span<const scenario::Phase> phases);
  // One of several loops (engine_threads.hpp): before run(). The hub's ledger counts in-flight
  // requests and seconds, the hub's stop stops this loop, and progress goes to the hub (on_start,
  // on_progress and stop_check are the coordinator's).
  void join(ThreadHub& hub, std::size_t thread) {
    m_hub = &hub;
    m_thread = thread;
  }
  // When each phase starts, for a run that starts at `run_start` (after setup()).
  std::vector<TimePoint> phase_starts(TimePoint run_start) const;
  // `run_start`: the common start of a threaded run (default: now).
  RunResult run(std::optional<TimePoint> run_start = std::nullopt);

 private:
  // Binds launches and drops of one phase to the engine.
  class PhaseLauncher final : public Launcher {
   public:
    PhaseLauncher(Engine& engine, std::size_t phase) : m_engine(engine), m_phase(phase) {}
    void launch(std::size_t vu, TimePoint scheduled) override { m_engine.launch(m_phase, vu, scheduled); }
    void drop(TimePoint /*scheduled*/) override { ++m_engine.m_phases[m_phase].result.dropped; }
    void drop_many(std::uint64_t count, TimePoint /*first_scheduled*/) override {
      m_engine.m_phases[m_phase].result.dropped += count;
    }

   private:
    Engine& m_engine;
    std::size_t m_phase;
  };

  void on_transfer_done(RequestState& state, CURLcode code) override;
  void launch(std::size_t phase_index, std::size_t vu, TimePoint scheduled);
  void fail_launch(PhaseRun& phase, std::size_t vu, RequestState* slot, const std::string& message);
  void choose_client(std::size_t max_connections);
  util::Result<RequestState*> acquire_slot();
  void release_slot(RequestState* slot, PhaseRun& phase, TimePoint now);
  curl_slist* headers_for(std::size_t session);
  // Multi-turn: fills m_prompt with the user's next turn and returns its header list (with the
  // conversation's session id), noting the turn number in `state`.
  curl_slist* next_turn(std::size_t phase_index, std::size_t vu, RequestState& state);
  // Multi-turn: the turn of `state` ended (ok or not; the answer text when ok): per-turn figures,
  // the conversation's history, and the user's think time before its next turn.
  void end_turn(PhaseRun& phase, const RequestState& state, const Outcome& outcome, const TransferFacts& facts,
                TimePoint now);
  TimePoint advance(TimePoint now);
  TimePoint advance_phase(std::size_t index, TimePoint now);
  void abort_in_flight(std::size_t phase_index, TimePoint now);
  // TTFT of an ok request with a first token (the histograms' definition, outcome.cpp).
  static std::optional<std::uint64_t> ttft_ns(const RequestState& state, const Outcome& outcome);
  // m_seconds: a request ended (before release_slot: it is still counted in flight).
  void count_second(const RequestState& state, const TransferFacts& facts, const Outcome& outcome, TimePoint now);
  // EngineConfig::on_request for a request that ended: with its transfer's facts (nullptr: aborted or
  // never launched; `state` nullptr: no slot).
  void log_request(const PhaseRun& phase, const RequestState* state, const TransferFacts* facts, const Outcome* outcome,
                   RequestRecord::End end, TimePoint now,
                   std::optional<bool> good = std::nullopt);
  // Closed loop: the user's next request waits when the answer asked for it (backoff.hpp).
  void back_off(PhaseRun& phase, std::size_t vu, const TransferFacts& facts, const Outcome& outcome, TimePoint now);
  void begin_stop(TimePoint now);
  void process_deferred(TimePoint now);
  void report_progress(TimePoint now);
  void probe_loop_lag(TimePoint now);
  RunResult collect(TimePoint now);
  // Every phase merged as of `now` (collect() and the live stop_check).
  PhaseResult merged_total(TimePoint now) const;
  // EngineConfig::stop_check, when due: may begin the stop.
  void check_stop(TimePoint now);
  // The stop/abort flags (and the hub's): may begin the stop or abort what is in flight.
  void check_flags(TimePoint now);
  // What this loop reports of itself: for its progress line, or to a threaded run's hub.
  LoopSnapshot snapshot() const;
  // Threaded: this loop's snapshot to the hub.
  void publish(TimePoint now);
  // engine.coalesce auto, every k_coalesce_update: the loop's pause window from the recent gaps.
  void update_coalesce(TimePoint now);

  const EngineConfig& m_config;
  const scenario::RequestSpec& m_spec;
  PromptSource m_prompts;
  Prompt m_prompt;  // scratch, reused by every launch
  std::optional<BodyTemplate> m_body;  // set up once the model is known (it holds the model)
  DocumentBudget m_document_budget;  // non-streamed bodies held by requests in flight
  TransferSettings m_transfer;
  std::vector<std::string> m_header_lines;
  HeaderList m_headers;
  std::unordered_map<std::size_t, HeaderList> m_session_headers;  // per_session: one list per session
  std::optional<ConversationSource> m_conversations;                // multi_turn
  // multi_turn: per (phase, vu), the header list of its current conversation and that session id.
  std::map<std::pair<std::size_t, std::size_t>, std::pair<std::string, HeaderList>> m_conversation_headers;
  std::unique_ptr<CurlMulti> m_multi;
  std::unique_ptr<FastHttp> m_fast;  // the built-in HTTP/1.1 client, when it runs the requests (on m_multi's loop)
  std::string m_http_client;         // RunResult::http_client and its reason
  std::string m_http_client_reason;
  std::vector<std::unique_ptr<RequestState>> m_pool;  // every slot ever created
  std::vector<RequestState*> m_free;
  std::vector<PhaseRun> m_phases;
  std::vector<std::pair<std::size_t, std::size_t>> m_deferred;  // (phase, vu) whose launch failed
  std::uint64_t m_next_request_index = 0;
  TimePoint m_run_start{};
  bool m_stopping = false;
  bool m_aborted = false;
  std::optional<std::string> m_stop_reason;  // what stop_check answered
  std::chrono::nanoseconds m_stopped_at{};   // when, from the run start
  TimePoint m_next_stop_check{};
  std::chrono::system_clock::time_point m_started_at{};
  std::optional<LoadLedger> m_own_ledger;  // one loop: requests in flight and RunResult::per_second
  LoadLedger* m_ledger = nullptr;          // m_own_ledger, or the hub's
  ThreadHub* m_hub = nullptr;              // threaded runs
  std::size_t m_thread = 0;
  TimePoint m_next_publish{};
  stats::LogLinearHistogram m_live_ttft = make_engine_histogram();  // progress only; ok requests
  stats::LogLinearHistogram m_loop_lag = make_engine_histogram();   // the run total's event_loop_lag_ns
  TimePoint m_loop_probe_due{};
  // engine.coalesce auto: inter-token gaps seen since the window was last set (RequestState::watch_gaps).
  stats::LogLinearHistogram m_recent_gaps = make_engine_histogram();
  TimePoint m_next_coalesce_update{};
  std::uint64_t m_completed = 0;
  std::uint64_t m_errors = 0;
  std::optional<ProgressMerger> m_progress;  // one loop with on_progress: its line from its own snapshot
  TimePoint m_last_progress{};
};

}  // namespace llmd::engine
