#include "run/pipeline.hpp"

#include <chrono>

#include "run/stages.hpp"

namespace llmd::run {

namespace {

// Runs one stage, timed; its timing is recorded even when it throws (a defect the cli reports).
Next run_stage(const Stage& stage, RunState& state) {
  state.detail.clear();
  const auto started = std::chrono::steady_clock::now();
  const auto record = [&](std::string detail) {
    state.report->stages.push_back({std::string(stage.name), std::chrono::steady_clock::now() - started, std::move(detail)});
  };
  try {
    if (state.request->before_stage) {
      state.request->before_stage(stage.id);
    }
    const Next next = stage.run(state);
    record(std::move(state.detail));
    return next;
  } catch (...) {
    record("internal error");
    throw;
  }
}

}  // namespace

const std::vector<std::string_view>& stage_ids() {
  static const std::vector<std::string_view> ids = [] {
    std::vector<std::string_view> all;
    for (const auto& stage : stages()) {
      all.push_back(stage.id);
    }
    return all;
  }();
  return ids;
}

void run_pipeline(const RunRequest& request, RunReport& report) {
  RunState state;
  state.request = &request;
  state.report = &report;
  report.scenario = request.scenario;
  report.shard = request.shard;
  report.no_gates = request.no_gates || request.shard.has_value();
  bool stopped = false;
  for (const auto& stage : stages()) {
    if (stopped && !stage.always) {
      continue;
    }
    const bool applies = stage.applies(state);
    if (applies && run_stage(stage, state) == Next::stop) {
      stopped = true;
      continue;
    }
    if (!stopped && !stage.stopped_note.empty() && (applies || stage.check_when_skipped) && state.stop_requested()) {
      note_interrupted(state, stage.stopped_note);
      stopped = true;
    }
  }
}

}  // namespace llmd::run
