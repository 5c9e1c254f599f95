// Engine (engine_loop.hpp): setup, the request slot pool, launching and completing requests.
#include <algorithm>
#include <cmath>

#include <curl/curl.h>
#include <fmt/format.h>

#include "engine/engine_loop.hpp"

#include "engine/backoff.hpp"
#include "engine/dataset.hpp"
#include "util/curl_global.hpp"
#include "util/process.hpp"

namespace llmd::engine {

util::Result<void> Engine::setup(std::span<const scenario::Phase> phases) {
  const auto& scenario = *m_config.scenario;
  const std::string& base_url = m_config.base_url.empty() ? scenario.target.base_url : m_config.base_url;
  if (base_url.empty()) {
    return util::fail("no target: target.base_url is empty and no simulator URL was given");
  }
  if (auto transport = check_transport(scenario.target, base_url); !transport) {
    return transport;
  }
  auto url = join_url(base_url, endpoint_path(m_spec.api));
  if (!url) {
    return util::fail(url.error());
  }
  auto lines = build_header_lines(scenario.target, m_config.bearer_token, m_spec);
  if (!lines) {
    return util::fail(lines.error());
  }
  m_header_lines = std::move(*lines);
  m_headers = HeaderList(m_header_lines);
  m_body.emplace(m_spec, m_config.model.empty() ? m_spec.model : m_config.model);
  m_transfer = TransferSettings{*url, m_spec.stream, scenario.target.http2, scenario.target.insecure,
                                scenario.target.connect_timeout, scenario.target.request_timeout};
  m_transfer.expected_tokens = m_spec.max_tokens;
  m_transfer.served_by_headers = served_by_header_names(scenario.target.served_by_header);
  if (m_spec.prompt == scenario::PromptKind::multi_turn) {
    m_conversations.emplace(m_spec);
    m_transfer.capture_text = true;
  }
  m_document_budget.limit = m_config.document_budget_bytes;
  m_transfer.budget = &m_document_budget;
  std::size_t concurrency = 0;
  bool unbounded = false;
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (auto valid = validate_phase(phases[i], m_config.slice); !valid) {
      return valid;
    }
    PhaseRun& run = m_phases.emplace_back();
    run.phase = scale_phase(phases[i], scenario.time_scale);
    run.result.name = run.phase.name;
    run.result.executor = run.phase.executor;
    run.result.checks = scenario.checks;
    run.result.slo = scenario.slo;
    if (run.phase.executor == scenario::ExecutorKind::constant_arrival_rate ||
        run.phase.executor == scenario::ExecutorKind::poisson || run.phase.executor == scenario::ExecutorKind::gamma) {
      run.result.target_rate_per_s = run.phase.rate_per_s / static_cast<double>(m_config.slice.count);
    } else if (run.phase.executor == scenario::ExecutorKind::iterations) {
      run.result.iterations_target = m_config.slice.share_of(run.phase.iterations);
    } else if (run.phase.executor == scenario::ExecutorKind::trace) {
      const Trace* trace = m_prompts.trace();
      if (trace == nullptr) {
        return util::fail(fmt::format("phase \"{}\": executor trace needs prompt kind trace", run.phase.name));
      }
      run.result.trace = TraceReplay{trace->records.size(), run.phase.speedup, {}};
      run.result.trace->started_offsets_ns.resize(trace->records.size());
    }
    const std::size_t peak = peak_concurrency(run.phase);
    run.connect_streaks.assign(peak, 0);
    unbounded = unbounded || peak == 0;
    concurrency += peak;
  }
  if (!unbounded && concurrency >= k_many_streams) {
    m_transfer.receive_buffer_bytes = k_many_streams_buffer_bytes;
  }
  util::init_curl_once();
  util::raise_open_file_limit();
  const long connections = unbounded ? 0 : static_cast<long>(std::max<std::size_t>(concurrency, 1));
  auto multi = CurlMulti::create(CurlMultiOptions{connections, connections, m_transfer.http2});
  if (!multi) {
    return util::fail(multi.error());
  }
  m_multi = std::move(*multi);
  auto probe = acquire_slot();  // fails early on a URL libcurl rejects, whichever client runs it
  if (!probe) {
    return util::fail(probe.error());
  }
  m_free.push_back(*probe);
  choose_client(static_cast<std::size_t>(connections));
  return {};
}

// The built-in HTTP/1.1 client where it applies (fast_http.hpp), else libcurl; either way the run
// records which and why.
void Engine::choose_client(std::size_t max_connections) {
  const HttpEngineChoice choice = choose_http_engine(m_config.scenario->engine.http, m_transfer);
  m_http_client = "libcurl";
  m_http_client_reason = choice.reason;
  if (!choice.fast) {
    return;
  }
  auto fast = FastHttp::create(choice.target, m_transfer, *m_multi, max_connections);
  if (!fast) {  // libcurl resolves per request and reports the failure on each one, as before
    m_http_client_reason = fast.error();
    return;
  }
  m_fast = std::move(*fast);
  m_transfer.libcurl_handle = false;  // the slots from here on: the built-in client runs them all
  m_http_client = "built-in HTTP/1.1";
  const scenario::Coalesce& coalesce = m_config.scenario->engine.coalesce;
  if (coalesce.mode == scenario::Coalesce::Mode::fixed) {
    m_multi->set_coalesce_window(coalesce.window);  // auto: update_coalesce() once gaps are seen
  }
}

void Engine::update_coalesce(TimePoint now) {
  if (!m_fast || m_config.scenario->engine.coalesce.mode != scenario::Coalesce::Mode::automatic ||
      now < m_next_coalesce_update) {
    return;
  }
  m_next_coalesce_update = now + k_coalesce_update;
  if (m_recent_gaps.count() < k_coalesce_min_gaps) {
    return;  // too few new gaps to judge: the window stays
  }
  // A tenth of the median gap: a pause then rarely holds two events of one stream (those would
  // share the later stamp); back-to-back events (median ~0) need no pause and get none.
  const auto window = std::chrono::nanoseconds(static_cast<std::int64_t>(m_recent_gaps.percentile(50).value_or(0) / 10));
  m_multi->set_coalesce_window(std::min(window, std::chrono::nanoseconds(scenario::limits::k_max_coalesce)));
  m_recent_gaps.reset();
}

util::Result<RequestState*> Engine::acquire_slot() {
  if (!m_free.empty()) {
    RequestState* slot = m_free.back();
    m_free.pop_back();
    return slot;
  }
  auto created = RequestState::create(m_transfer);
  if (!created) {
    return util::fail(created.error());
  }
  m_pool.push_back(std::move(*created));
  return m_pool.back().get();
}

void Engine::release_slot(RequestState* slot, PhaseRun& phase, TimePoint now) {
  slot->release_body();
  slot->in_use = false;
  m_free.push_back(slot);
  phase.in_flight.change(now, -1);
  phase.last_completion = now;
}

curl_slist* Engine::headers_for(std::size_t session) {
  if (!m_prompts.sends_session_header()) {
    return m_headers.get();
  }
  auto [it, inserted] = m_session_headers.try_emplace(session);
  if (inserted) {
    it->second = HeaderList(m_header_lines);
    it->second.append(fmt::format("{}: {}", m_spec.session_header, m_prompts.session_id(session)));
  }
  return it->second.get();
}

curl_slist* Engine::next_turn(std::size_t phase_index, std::size_t vu, RequestState& state) {
  const TurnRequest turn =
      m_conversations->next(phase_index, phase_key(m_phases[phase_index].phase.name), vu, m_prompt);
  state.turn = turn.number;
  state.group = *turn.session_id;
  auto& [session_id, headers] = m_conversation_headers[{phase_index, vu}];
  if (session_id != *turn.session_id || headers.get() == nullptr) {
    session_id = *turn.session_id;
    headers = HeaderList(m_header_lines);
    headers.append(fmt::format("{}: {}", m_spec.session_header, session_id));
  }
  return headers.get();
}

void Engine::end_turn(PhaseRun& phase, const RequestState& state, const Outcome& outcome, const TransferFacts& facts,
                      TimePoint now) {
  record_turn(phase.result, state.turn, outcome, state.timing());
  const std::string answer = !outcome.ok ? std::string() : m_spec.stream ? state.streamed_text() : answer_from_body(facts.body);
  const bool goes_on = m_conversations->finish(state.phase, state.vu, outcome.ok, answer);
  const auto think = m_spec.multi_turn.think_time;
  if (goes_on && think.count() > 0) {
    const auto scaled = std::chrono::nanoseconds(
        static_cast<std::int64_t>(std::llround(static_cast<double>(think.count()) * m_config.scenario->time_scale)));
    phase.executor->pause(state.vu, now + scaled);
  }
}

void Engine::launch(std::size_t phase_index, std::size_t vu, TimePoint scheduled) {
  PhaseRun& phase = m_phases[phase_index];
  const TimePoint now = Clock::now();
  ++phase.result.started;
  phase.in_flight.change(now, +1);
  m_ledger->started(phase_index, now, now - m_run_start);
  auto slot = acquire_slot();
  if (!slot) {
    fail_launch(phase, vu, nullptr, slot.error());
    return;
  }
  RequestState& state = **slot;
  curl_slist* headers = nullptr;
  state.turn = 0;
  if (m_conversations) {
    headers = next_turn(phase_index, vu, state);
  } else {
    const std::uint64_t request = m_config.slice.index + m_config.slice.count * m_next_request_index++;
    m_prompts.group_of(request, vu, state.group);
    m_prompts.fill(request, vu, m_prompt);
    headers = headers_for(vu);
  }
  state.generator_tokens.reset();
  if (!m_conversations && m_prompt.messages == nullptr) {
    state.generator_tokens = count_words(m_prompt.text);
  }
  m_body->render(m_prompt, state.body());
  state.phase = phase_index;
  state.vu = vu;
  state.loop = phase.executor->loop();
  const TimePoint start = Clock::now();
  if (phase.result.trace && vu < phase.result.trace->started_offsets_ns.size()) {
    phase.result.trace->started_offsets_ns[vu] = (start - phase.start).count();  // vu: the record (trace_executor.hpp)
  }
  state.begin(headers, state.loop == LoopKind::open ? scheduled : start, start, &phase.result.histograms);
  state.watch_gaps(m_fast && m_config.scenario->engine.coalesce.mode == scenario::Coalesce::Mode::automatic
                       ? &m_recent_gaps
                       : nullptr);
  if (m_fast) {
    m_fast->start(state);  // failures come back as completions, as libcurl's do
  } else if (auto added = m_multi->add(state.easy()); !added) {
    if (state.turn > 0) {  // the turn ends here: failed, and its conversation with it
      record_turn(phase.result, state.turn, Outcome{}, RequestTiming{});
      m_conversations->finish(phase_index, vu, false, {});
    }
    fail_launch(phase, vu, &state, added.error());
    return;
  }
  state.in_use = true;
}

void Engine::fail_launch(PhaseRun& phase, std::size_t vu, RequestState* slot, const std::string& message) {
  const TimePoint now = Clock::now();
  const auto phase_index = static_cast<std::size_t>(&phase - m_phases.data());
  count_completion(phase.result, now - m_run_start, false);
  m_ledger->ended(phase_index, now, now - m_run_start, false, 0, std::nullopt, {});
  log_request(phase, slot, nullptr, nullptr, RequestRecord::End::failed, now);
  ++phase.result.completed;
  ++phase.result.failed;
  ++m_completed;
  ++m_errors;
  const auto other = static_cast<std::size_t>(FailureClass::other);
  ++phase.result.failures_by_class[other];
  if (!phase.result.failure_examples[other]) {
    phase.result.failure_examples[other] = message;
  }
  if (slot != nullptr) {
    release_slot(slot, phase, now);
  } else {
    phase.in_flight.change(now, -1);
  }
  m_deferred.emplace_back(phase_index, vu);
}

void Engine::on_transfer_done(RequestState& state, CURLcode code) {
  const TimePoint now = Clock::now();
  state.end(code, now);
  PhaseRun& phase = m_phases[state.phase];
  const TransferFacts facts = state.facts();
  const Outcome outcome = classify(facts);
  const std::optional<bool> good = record_completion(phase.result, facts, outcome, state.timing(), state.loop);
  record_attribution(phase.result.attribution, facts.served_by_header, facts.served_by, state.group, facts, outcome,
                     state.timing(), state.loop);
  count_completion(phase.result, now - m_run_start, outcome.ok);
  count_second(state, facts, outcome, now);
  log_request(phase, &state, &facts, &outcome, outcome.ok ? RequestRecord::End::ok : RequestRecord::End::failed, now, good);
  if (outcome.ok && outcome.prompt_tokens && state.generator_tokens) {
    record_prompt_token_accuracy(phase.result, *state.generator_tokens, *outcome.prompt_tokens);
  }
  if (state.turn > 0) {
    end_turn(phase, state, outcome, facts, now);
  }
  if (const auto ttft = ttft_ns(state, outcome)) {
    m_live_ttft.record(*ttft);
  }
  ++m_completed;
  m_errors += outcome.ok ? 0 : 1;
  const std::size_t vu = state.vu;
  if (state.loop == LoopKind::closed && vu < phase.connect_streaks.size()) {
    back_off(phase, vu, facts, outcome, now);
  }
  release_slot(&state, phase, now);
  PhaseLauncher launcher(*this, state.phase);
  phase.executor->on_done(vu, now, launcher);
}

std::optional<std::uint64_t> Engine::ttft_ns(const RequestState& state, const Outcome& outcome) {
  const RequestTiming& timing = state.timing();
  if (!outcome.ok || timing.first_token == TimePoint{}) {
    return std::nullopt;
  }
  const TimePoint origin = state.loop == LoopKind::open ? timing.scheduled : timing.started;
  return elapsed_ns(origin, timing.first_token);
}

void Engine::count_second(const RequestState& state, const TransferFacts& facts, const Outcome& outcome, TimePoint now) {
  const auto tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(outcome.output_tokens, 0));
  m_ledger->ended(state.phase, now, now - m_run_start, outcome.ok, tokens, ttft_ns(state, outcome),
                  facts.inter_token_gaps_ns);
}

void Engine::log_request(const PhaseRun& phase, const RequestState* state, const TransferFacts* facts,
                         const Outcome* outcome, RequestRecord::End end, TimePoint now, std::optional<bool> good) {
  if (!m_config.on_request) {
    return;
  }
  const auto offset = [this](TimePoint at) { return std::chrono::duration_cast<std::chrono::nanoseconds>(at - m_run_start); };
  const auto optional_offset = [&](TimePoint at) {
    return at == TimePoint{} ? std::nullopt : std::optional<std::chrono::nanoseconds>(offset(at));
  };
  RequestRecord record;
  record.phase = phase.phase.name;
  record.end = end;
  if (phase.result.slo) {
    record.good = good.value_or(false);
  }
  record.ended = offset(now);
  record.started = record.ended;
  record.scheduled = record.ended;
  if (state != nullptr) {
    const RequestTiming& timing = state->timing();
    record.vu = state->vu;
    if (timing.started != TimePoint{}) {
      record.started = offset(timing.started);
      record.scheduled = offset(timing.scheduled != TimePoint{} ? timing.scheduled : timing.started);
    }
    record.first_byte = optional_offset(timing.first_byte);
    record.first_event = optional_offset(timing.first_event);
    const TimePoint origin = state->loop == LoopKind::open ? timing.scheduled : timing.started;
    record.e2e_ns = origin == TimePoint{} ? 0 : elapsed_ns(origin, now);
  }
  if (facts != nullptr && outcome != nullptr) {
    record.http_status = facts->http_status;
    record.endpoint = facts->served_by;
    if (outcome->ok) {
      record.ttft_ns = ttft_ns(*state, *outcome);
      record.output_tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(outcome->output_tokens, 0));
    } else {
      record.failure = outcome->failure;
    }
  } else if (end == RequestRecord::End::failed) {
    record.failure = FailureClass::other;  // refused at launch
  }
  m_config.on_request(record);
}

void Engine::back_off(PhaseRun& phase, std::size_t vu, const TransferFacts& facts, const Outcome& outcome,
                      TimePoint now) {
  const bool connect = !outcome.ok && outcome.failure == FailureClass::connect;
  const BackoffDecision decision =
      decide_backoff(m_config.scenario->target.backoff, connect, facts.http_status, facts.retry_after,
                     phase.connect_streaks[vu], std::chrono::system_clock::now());
  if (decision.kind == BackoffKind::none) {
    return;
  }
  auto& backoff = phase.result.backoff;
  ++(decision.kind == BackoffKind::retry_after ? backoff.retry_after_waits : backoff.connect_error_waits);
  backoff.waited_ns = saturating_add(backoff.waited_ns, static_cast<std::uint64_t>(decision.wait.count()));
  phase.executor->pause(vu, now + decision.wait);
}

void Engine::abort_in_flight(std::size_t phase_index, TimePoint now) {
  PhaseRun& phase = m_phases[phase_index];
  PhaseLauncher launcher(*this, phase_index);
  for (std::size_t i = 0; i < m_pool.size(); ++i) {  // by index: on_done may grow the pool
    RequestState* slot = m_pool[i].get();
    if (!slot->in_use || slot->phase != phase_index) {
      continue;
    }
    if (m_fast) {
      m_fast->cancel(*slot);
    } else {
      m_multi->remove(slot->easy());
    }
    ++phase.result.aborted;
    count_completion(phase.result, now - m_run_start, false);
    m_ledger->ended(phase_index, now, now - m_run_start, false, 0, std::nullopt, {});
    log_request(phase, slot, nullptr, nullptr, RequestRecord::End::aborted, now);
    if (slot->turn > 0) {
      record_turn_aborted(phase.result, slot->turn);
      m_conversations->finish(phase_index, slot->vu, false, {});
    }
    release_slot(slot, phase, now);
    phase.executor->on_done(slot->vu, now, launcher);  // the executor is done starting: no relaunch
  }
}


}  // namespace llmd::engine
