#include "cli/validate_command.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/exit_codes.hpp"
#include "engine/dataset.hpp"
#include "engine/executors.hpp"
#include "engine/trace.hpp"
#include "engine/run_result.hpp"
#include "report/exporter.hpp"
#include "sim/metrics_exporter.hpp"
#include "util/console.hpp"
#include "util/duration.hpp"
#include "util/number_text.hpp"

namespace llmd::cli {

namespace {

using scenario::ExecutorKind;
using util::format_duration;

std::string describe_target(const scenario::Scenario& s) {
  if (s.target.base_url.empty()) {
    const auto& sim = s.sim;
    return fmt::format("embedded simulator: {} pods, route {}, metrics {}, model {}{}", sim.pods, sim::to_string(sim.route),
                       sim::to_string(sim.pod.metrics_flavor), sim.pod.model,
                       sim.host.empty() ? "" : ", Host " + sim.host) +
           (sim.pod.tokenizer_piece_bytes == 8 ? ""
                                               : fmt::format(", tokenizer pieces of {} bytes", sim.pod.tokenizer_piece_bytes));
  }
  const auto& t = s.target;
  std::vector<std::string> parts;
  if (!t.host.empty()) {
    parts.push_back("Host " + t.host);
  }
  if (!t.api_key_env.empty()) {
    parts.push_back("bearer token from $" + t.api_key_env);
  }
  std::vector<std::string> header_names;
  for (const auto& header : t.headers) {
    header_names.push_back(header.first);
  }
  if (!header_names.empty()) {
    parts.push_back(fmt::format("headers {} (values not shown)", fmt::join(header_names, ", ")));
  }
  if (t.insecure) {
    parts.push_back("TLS not verified");
  }
  if (t.http2) {
    parts.push_back("HTTP/2");
  }
  parts.push_back(fmt::format("connect timeout {}, request timeout {}", format_duration(t.connect_timeout),
                              format_duration(t.request_timeout)));
  return fmt::format("{} ({})", t.base_url, fmt::join(parts, "; "));
}

// "2000", "uniform 16..64", "normal mean 800 stddev 300 in 1..4000".
std::string describe_length(const scenario::LengthDistribution& length) {
  using Kind = scenario::LengthDistribution::Kind;
  switch (length.kind) {
    case Kind::constant: return fmt::format("{}", static_cast<std::uint64_t>(length.a));
    case Kind::uniform: return fmt::format("uniform {}..{}", length.min_tokens, length.max_tokens);
    case Kind::normal:
    case Kind::lognormal:
      return fmt::format("{} mean {} stddev {} in {}..{}", length.kind == Kind::normal ? "normal" : "lognormal",
                         util::format_number(length.a), util::format_number(length.b), length.min_tokens,
                         length.max_tokens);
  }
  return "";
}

std::string describe_prompt(const scenario::RequestSpec& r) {
  switch (r.prompt) {
    case scenario::PromptKind::fixed: return fmt::format("fixed text of {} bytes", r.text.size());
    case scenario::PromptKind::shared_prefix:
      return fmt::format("shared-prefix ({} shared + {} unique tokens)", r.prefix_tokens, r.suffix_tokens);
    case scenario::PromptKind::per_session:
      return fmt::format("per-session ({} tokens per session + {} unique, header {})", r.prefix_tokens, r.suffix_tokens,
                         r.session_header);
    case scenario::PromptKind::dataset: {
      using Spec = scenario::DatasetSpec;
      const auto& d = r.dataset;
      return fmt::format("dataset {} (format {}, replay {}{})", r.dataset_path,
                         d.format == Spec::Format::automatic ? "detected from the content"
                         : d.format == Spec::Format::sharegpt ? "sharegpt"
                                                               : "jsonl",
                         d.replay == Spec::Replay::multi_turn ? "multi-turn" : "first-turn",
                         d.output_tokens_from_dataset ? ", max_tokens = the dataset's answer in words" : "");
    }
    case scenario::PromptKind::random: return "random words";
    case scenario::PromptKind::multi_turn: return scenario::describe(r.multi_turn, r.max_tokens, r.session_header);
    case scenario::PromptKind::trace: return fmt::format("trace {} (block_size {})", r.dataset_path, r.trace.block_size);
    case scenario::PromptKind::prefix_groups: {
      const auto& g = r.prefix_groups;
      return fmt::format("prefix-groups ({} groups x {} prompts, system prompt {} tokens, question {} tokens, order {}{}, "
                         "seed {})",
                         g.groups, g.prompts_per_group, describe_length(g.system_prompt_tokens),
                         describe_length(g.question_tokens), scenario::to_string(g.order),
                         g.output_tokens ? ", output " + describe_length(*g.output_tokens) + " tokens" : std::string(),
                         r.seed);
    }
  }
  return "";
}

std::string describe_request(const scenario::Scenario& s) {
  const scenario::RequestSpec& r = s.request;
  const std::string model = !r.model.empty()            ? r.model
                            : s.target.base_url.empty() ? s.sim.pod.model
                                                        : std::string("(the server's: first of GET /v1/models)");
  return fmt::format("{}, model {}, prompt {}, max_tokens {}{}", r.api == scenario::ApiKind::chat ? "chat" : "completions",
                     model, describe_prompt(r), r.max_tokens,
                     r.stream ? (r.include_usage ? ", streamed with usage" : ", streamed without usage") : ", not streamed");
}

// "2 VUs for 10s", "20/s for 5m (at most 200 in flight)", "40 iterations by 4 VUs (max_duration 10m)", ...
std::string describe_load(const scenario::Phase& p) {
  switch (p.executor) {
    case ExecutorKind::constant_vus: return fmt::format("{} VUs for {}", p.vus, format_duration(p.duration));
    case ExecutorKind::ramping_vus: {
      std::vector<std::string> stages;
      for (const auto& stage : p.stages) {
        stages.push_back(fmt::format("{} VUs over {}", stage.target_vus, format_duration(stage.duration)));
      }
      return fmt::format("from {} VUs to {}", p.start_vus, fmt::join(stages, ", then "));
    }
    case ExecutorKind::constant_arrival_rate:
    case ExecutorKind::poisson:
    case ExecutorKind::gamma:
      return fmt::format("{}/s for {}{}{}", util::format_number(p.rate_per_s), format_duration(p.duration),
                         p.executor == ExecutorKind::gamma ? fmt::format(", burstiness {}", util::format_number(p.burstiness))
                                                           : std::string(),
                         p.max_in_flight == 0 ? "" : fmt::format(" (at most {} in flight, the rest dropped)", p.max_in_flight));
    case ExecutorKind::iterations:
      return fmt::format("{} iterations by {} VUs (max_duration {})", p.iterations, p.vus, format_duration(p.max_duration));
    case ExecutorKind::trace:
      return fmt::format("the trace's records at their timestamps / {} (at most {} in flight, the rest dropped; "
                         "max_duration {})",
                         util::format_number(p.speedup), p.max_in_flight, format_duration(p.max_duration));
  }
  return "";
}

// One phase after time_scale: "loop: constant-vus, 2 VUs for 10s, start at 0s, graceful_stop 30s".
std::string describe_phase(const scenario::Phase& phase, double time_scale) {
  const scenario::Phase p = engine::scale_phase(phase, time_scale);
  return fmt::format("{}: {}, {}{}, graceful_stop {}", p.name, engine::to_string(p.executor), describe_load(p),
                     p.start_time > scenario::Duration::zero() ? ", start at " + format_duration(p.start_time) : "",
                     format_duration(p.graceful_stop));
}

std::string describe_cache(const scenario::Scenario& s) {
  using Source = scenario::CacheSpec::Source;
  const auto& c = s.cache;
  switch (c.source) {
    case Source::automatic:
      return s.target.base_url.empty() ? "the embedded simulator's pods (direct scrape)" : "none (no pod counters)";
    case Source::none: return "none (no pod counters)";
    case Source::urls: return fmt::format("{} pod URL(s): {}", c.urls.size(), fmt::join(c.urls, " "));
    case Source::files: return fmt::format("saved dumps: {}", fmt::join(c.files, " "));
    case Source::kubernetes: {
      const auto& k = c.kubernetes;
      return fmt::format("kubernetes: namespace {}, selector {}, container {}, via {}, ports {}{}",
                         k.namespace_name.empty() ? "(the context's)" : k.namespace_name, k.selector, k.container,
                         k.via == scenario::KubernetesSpec::Via::proxy ? "proxy" : "exec", fmt::join(k.ports, " "),
                         k.restart_pods ? ", pods restarted before the run" : "");
    }
    case Source::prometheus: {
      const auto& p = c.prometheus;
      return fmt::format("prometheus {} (matcher {}, pod label {}, scrape_interval {}{}{}{})", p.url, p.matcher, p.pod_label,
                         format_duration(p.scrape_interval),
                         p.bearer_token_env.empty() ? "" : ", bearer token from $" + p.bearer_token_env,
                         p.insecure ? ", TLS not verified" : "", p.ca_file.empty() ? "" : ", CA file " + p.ca_file);
    }
  }
  return "";
}

std::string describe_outputs(const Outputs& outputs) {
  std::vector<std::string> parts;
  for (const auto& file : outputs.files) {
    parts.push_back(fmt::format("{}={}", report::to_string(file.format), file.path));
  }
  if (outputs.tekton_results_dir) {
    parts.push_back("Tekton results in " + *outputs.tekton_results_dir);
  }
  return parts.empty() ? "the summary only" : fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

namespace {

// What the dataset or trace file holds, read as the run will read it; "" for generated prompts.
util::Result<std::string> describe_prompt_file(const scenario::Scenario& s) {
  const scenario::RequestSpec& r = s.request;
  if (r.prompt == scenario::PromptKind::dataset) {
    auto entries = engine::load_dataset(r.dataset_path, r.api, r.dataset);
    if (!entries) {
      return util::fail(entries.error());
    }
    std::size_t turns = 0;
    for (const auto& entry : *entries) {
      turns += std::max<std::size_t>(entry.turns.size(), 1);
    }
    return fmt::format("dataset:    {} records, {} requests before it wraps around\n", entries->size(), turns);
  }
  if (r.prompt != scenario::PromptKind::trace) {
    return std::string();
  }
  auto trace = engine::load_trace(r.dataset_path, r.trace.block_size);
  if (!trace) {
    return util::fail(trace.error());
  }
  const engine::TraceSummary t = engine::summarize(*trace);
  return fmt::format("trace:      {} records over {}, {} input and {} output tokens, {} hash id blocks ({} distinct, "
                     "{} tokens each)\n",
                     t.records, format_duration(t.span), t.input_tokens, t.output_tokens, t.blocks, t.distinct_blocks,
                     trace->block_size);
}

}  // namespace

std::string describe_plan(const RunInputs& inputs) {
  const scenario::Scenario& s = inputs.scenario;
  std::string out = fmt::format("scenario:   {}{}\n", s.name, s.path.empty() ? "" : " (" + s.path + ")");
  out += fmt::format("target:     {}\n", describe_target(s));
  out += fmt::format("request:    {}\n", describe_request(s));
  if (s.time_scale != 1.0) {
    out += fmt::format("time scale: {} (the durations below are scaled)\n", util::format_number(s.time_scale));
  }
  if (s.engine.threads > 1) {
    out += fmt::format("threads:    {} event loops (user, arrival and iteration k on loop k mod {})\n", s.engine.threads,
                       s.engine.threads);
  }
  out += fmt::format("warm-up:    {}\n", s.warmup ? describe_phase(*s.warmup, s.time_scale) + " (not measured)" : "none");
  out += "phases:\n";
  for (std::size_t i = 0; i < s.phases.size(); ++i) {
    out += fmt::format("  load[{}] {}\n", i, describe_phase(s.phases[i], s.time_scale));
  }
  if (scenario::calibrates_prefixes(s.request.prompt)) {
    using Calibrate = scenario::TokenCountsSpec::Calibrate;
    const auto& counts = s.request.token_counts;
    out += fmt::format(
        "tokens:     {}{}\n",
        counts.calibrate == Calibrate::off ? "the generator's count (calibrate: off)"
        : counts.calibrate == Calibrate::on
            ? "prefixes calibrated to exactly prefix_tokens server tokens via POST /tokenize (calibrate: on, required)"
            : "prefixes calibrated via POST /tokenize when the target answers it (calibrate: auto)",
        counts.align_to_block && counts.calibrate != Calibrate::off ? ", rounded up to a multiple of the block size" : "");
  }
  out += fmt::format("cache:      {}\n", describe_cache(s));
  if (s.cache_state.any()) {
    using Reset = scenario::CacheStateSpec::Reset;
    std::vector<std::string> steps;
    if (s.cache_state.reset != Reset::none) {
      steps.push_back(s.cache_state.reset == Reset::api ? "reset (POST /reset_prefix_cache on every pod, verified cold)"
                                                        : "reset (restart the pods)");
    }
    if (s.cache_state.prime) steps.emplace_back("prime each prefix once");
    if (s.cache_state.verify) steps.emplace_back("verify each prefix resident");
    out += fmt::format("cache state: {}\n", fmt::join(steps, ", then "));
  }
  std::vector<std::string> checks;
  for (const auto check : s.checks) {
    checks.emplace_back(engine::to_string(check));
  }
  out += fmt::format("checks:     {}\n", checks.empty() ? "none" : fmt::format("{}", fmt::join(checks, ", ")));
  out += s.thresholds.empty() ? "thresholds: none\n" : "thresholds:\n";
  for (const auto& t : s.thresholds) {
    out += fmt::format("  {} {}\n", t.metric, t.source);
  }
  out += fmt::format("outputs:    {}\n", describe_outputs(inputs.outputs));
  return out;
}

void add_validate_options(CLI::App& command, RunOptions& options) {
  add_run_options(command, options);
  command.footer(
      "Takes the arguments of `run` and checks them as `run` does before it starts; prints the plan, sends nothing.\n\n"
      "Examples:\n"
      "  llmd-bench validate scenarios/baseline.yaml --time-scale 0.01    # phases as they would run\n"
      "  llmd-bench validate scenarios/baseline.yaml --vus 20 --duration 2m --target http://gw.llm-d.svc");
}

CommandResult run_validate_command(const RunOptions& options) {
  CommandResult result;
  auto inputs = check_run_inputs(options);
  if (!inputs) {
    return result.fail(k_exit_usage, inputs.error());
  }
  auto prompt_file = describe_prompt_file(inputs->scenario);
  if (!prompt_file) {
    return result.fail(k_exit_usage, prompt_file.error());
  }
  util::print_stdout(describe_plan(*inputs) + *prompt_file + "valid: nothing was sent; `llmd-bench run` with the same arguments runs this plan\n");
  return result;
}

}  // namespace llmd::cli
