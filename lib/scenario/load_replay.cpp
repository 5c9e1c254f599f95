// Rules that tie the file-replay prompt kinds to the rest of the scenario (trace_spec.hpp):
// `replay: multi-turn` needs the chat API and virtual users to own the conversations; the `trace`
// prompt kind and the `trace` executor come together (the records carry their own arrival times).
#include <fmt/format.h>

#include "scenario/load_sections.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;

util::Result<void> check_phase(const RequestSpec& request, const Phase& phase) {
  const bool trace_prompt = request.prompt == PromptKind::trace;
  const bool trace_executor = phase.executor == ExecutorKind::trace;
  if (trace_executor && !trace_prompt) {
    return fail(fmt::format("{}: phase \"{}\": executor trace replays the records of a trace file; set "
                            "requests.prompt to {{kind: trace, path: FILE}}",
                            to_string(phase.where), phase.name));
  }
  if (trace_prompt && !trace_executor) {
    return fail(fmt::format("{}: phase \"{}\": prompt kind trace needs executor trace (the records carry their own "
                            "arrival times), not {}",
                            to_string(phase.where), phase.name, to_string(phase.executor)));
  }
  if (request.prompt == PromptKind::dataset && request.dataset.replay == DatasetSpec::Replay::multi_turn &&
      is_open_loop(phase.executor)) {
    return fail(fmt::format("{}: phase \"{}\": replay: multi-turn needs virtual users to own the conversations, but "
                            "executor {} is open loop; use constant-vus, ramping-vus or iterations",
                            to_string(phase.where), phase.name, to_string(phase.executor)));
  }
  return {};
}

}  // namespace

util::Result<void> check_replay_rules(const Scenario& scenario) {
  const RequestSpec& request = scenario.request;
  if (request.prompt == PromptKind::dataset && request.dataset.replay == DatasetSpec::Replay::multi_turn &&
      request.api != ApiKind::chat) {
    return fail(fmt::format("{}: requests.prompt.replay: multi-turn resends each conversation's history as chat "
                            "messages; set api: chat",
                            to_string(request.where)));
  }
  if (scenario.warmup) {
    LLMD_TRY(check_phase(request, *scenario.warmup));
  }
  for (const Phase& phase : scenario.phases) {
    LLMD_TRY(check_phase(request, phase));
  }
  return {};
}

}  // namespace llmd::scenario::detail
