#include "report/json_report.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "engine/run_result.hpp"
#include "report/cache_state_report.hpp"
#include "report/tekton_results.hpp"
#include "report/timeline_report.hpp"
#include "scenario/source_location.hpp"
#include "util/instant.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

bool is_secret_header(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name == "authorization" || name == "cookie" || name == "proxy-authorization" ||
         name.find("key") != std::string::npos || name.find("token") != std::string::npos ||
         name.find("secret") != std::string::npos;
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Keys an executor does not use are null, never 0 (`rate_per_s` of a closed loop, `vus` of an
// open one): the scenario file could not have set them.
json phase_echo(const scenario::Phase& phase) {
  using Kind = scenario::ExecutorKind;
  const Kind kind = phase.executor;
  const bool open_loop = kind == Kind::constant_arrival_rate || kind == Kind::poisson || kind == Kind::gamma;
  const auto only = [](bool applies, json value) { return applies ? std::move(value) : json(nullptr); };
  json stages = json::array();
  std::chrono::nanoseconds ramp{0};
  for (const auto& stage : phase.stages) {
    stages.push_back({{"duration_s", seconds(stage.duration)}, {"target_vus", stage.target_vus}});
    ramp += std::chrono::duration_cast<std::chrono::nanoseconds>(stage.duration);
  }
  return {{"name", phase.name},
          {"executor", engine::to_string(phase.executor)},
          {"start_time_s", seconds(phase.start_time)},
          {"duration_s", only(kind != Kind::iterations && kind != Kind::trace,
                              seconds(kind == Kind::ramping_vus ? ramp : phase.duration))},
          {"vus", only(kind == Kind::constant_vus || kind == Kind::iterations, phase.vus)},
          {"start_vus", only(kind == Kind::ramping_vus, phase.start_vus)},
          {"stages", only(kind == Kind::ramping_vus, stages)},
          {"rate_per_s", only(open_loop, phase.rate_per_s)},
          {"burstiness", only(kind == Kind::gamma, phase.burstiness)},
          {"max_in_flight", only(open_loop || kind == Kind::trace, phase.max_in_flight)},
          {"iterations", only(kind == Kind::iterations, phase.iterations)},
          {"max_duration_s", only(kind == Kind::iterations || kind == Kind::trace, seconds(phase.max_duration))},
          {"speedup", only(kind == Kind::trace, phase.speedup)},
          {"graceful_stop_s", seconds(phase.graceful_stop)}};
}

// `slo:` in seconds (null without one).
json slo_echo(const std::optional<scenario::Slo>& slo) {
  if (!slo) {
    return nullptr;
  }
  const auto limit = [](const std::optional<std::chrono::nanoseconds>& value) {
    return value ? json(seconds(*value)) : json(nullptr);
  };
  return {{"ttft_s", limit(slo->ttft)},
          {"itl_s", limit(slo->itl)},
          {"itl_stat", std::string(scenario::to_string(slo->itl_stat))},
          {"tpot_s", limit(slo->tpot)},
          {"e2e_s", limit(slo->e2e)}};
}

json length_json(const scenario::LengthDistribution& length) {
  using Kind = scenario::LengthDistribution::Kind;
  switch (length.kind) {
    case Kind::constant: return {{"distribution", "constant"}, {"value", static_cast<std::uint64_t>(length.a)}};
    case Kind::uniform: return {{"distribution", "uniform"}, {"min", length.min_tokens}, {"max", length.max_tokens}};
    case Kind::normal:
    case Kind::lognormal:
      return {{"distribution", length.kind == Kind::normal ? "normal" : "lognormal"},
              {"mean", length.a},
              {"stddev", length.b},
              {"min", length.min_tokens},
              {"max", length.max_tokens}};
  }
  return nullptr;
}

// requests.prompt of kind multi-turn; null for the other kinds.
json multi_turn_echo(const scenario::RequestSpec& r) {
  if (r.prompt != scenario::PromptKind::multi_turn) {
    return nullptr;
  }
  const auto& m = r.multi_turn;
  return {{"turns", length_json(m.turns)},
          {"user_tokens", length_json(m.user_tokens)},
          {"output_tokens", m.output_tokens ? length_json(*m.output_tokens) : json(nullptr)},
          {"system_prompt_tokens", m.system_prompt_tokens},
          {"think_time_s", seconds(m.think_time)},
          {"session_header", r.session_header}};
}

std::string_view threshold_status(const run::ThresholdOutcome& t) {
  return t.result.passed ? "pass" : t.warning() ? "warn" : "fail";
}

json threshold_json(const run::ThresholdOutcome& t) {
  return {{"metric", t.threshold.metric},
          {"name", scenario::display_name(t.threshold)},
          {"source", t.threshold.source},
          {"where", scenario::to_string(t.threshold.where)},
          {"severity", scenario::to_string(t.threshold.severity)},
          {"abort_on_fail", t.threshold.abort_on_fail},
          {"status", threshold_status(t)},
          {"passed", t.result.passed},
          {"observed", t.result.observed ? json(*t.result.observed) : json(nullptr)},
          {"reason", t.result.reason}};
}

// Failed thresholds of severity warn: the run passed with them.
json warnings_json(const run::RunReport& report) {
  json warnings = json::array();
  for (const auto& t : report.thresholds) {
    if (t.warning()) {
      warnings.push_back({{"threshold", scenario::label(t.threshold)},
                          {"observed", t.result.observed ? json(*t.result.observed) : json(nullptr)},
                          {"reason", t.result.reason}});
    }
  }
  return warnings;
}

json threshold_abort_json(const run::RunReport& report) {
  if (!report.threshold_abort) {
    return nullptr;
  }
  const auto& abort = *report.threshold_abort;
  const auto& threshold = report.scenario->thresholds.at(abort.threshold);
  return {{"threshold", scenario::label(threshold)},
          {"at_s", std::chrono::duration<double>(abort.at).count()},
          {"reason", abort.reason}};
}

// The engine's per-phase "checks" objects use canonical names; rename them as the scenario wrote them.
void rename_checks(json& phase, const scenario::Scenario& s) {
  if (!phase.contains("checks")) {
    return;
  }
  json renamed = json::object();
  for (const auto& [name, counts] : phase["checks"].items()) {
    const auto kind = scenario::find_check(name);
    renamed[kind ? scenario::check_name(s, *kind) : name] = counts;
  }
  phase["checks"] = std::move(renamed);
}

json run_json(const run::RunReport& report) {
  if (!report.run) {
    return nullptr;
  }
  json run = engine::to_json(*report.run);
  for (auto& phase : run["phases"]) {
    rename_checks(phase, *report.scenario);
  }
  rename_checks(run["total"], *report.scenario);
  return run;
}

// The prefix-groups keys, null for other prompt kinds.
json prefix_groups_echo(const scenario::RequestSpec& r) {
  if (r.prompt != scenario::PromptKind::prefix_groups) {
    return nullptr;
  }
  const auto& g = r.prefix_groups;
  return {{"groups", g.groups},
          {"prompts_per_group", g.prompts_per_group},
          {"system_prompt_tokens", length_json(g.system_prompt_tokens)},
          {"question_tokens", length_json(g.question_tokens)},
          {"output_tokens", g.output_tokens ? length_json(*g.output_tokens) : json(nullptr)},
          {"order", scenario::to_string(g.order)}};
}

json ideal_hit_rate_json(const run::RunReport& report) {
  if (!report.ideal_hit_rate) {
    return nullptr;
  }
  const auto& ideal = *report.ideal_hit_rate;
  return {{"rate", ideal.rate ? json(*ideal.rate) : json(nullptr)},
          {"requests", ideal.requests},
          {"prompt_tokens", ideal.rate ? json(ideal.prompt_tokens) : json(nullptr)},
          {"hit_tokens", ideal.rate ? json(ideal.hit_tokens) : json(nullptr)},
          {"block_size_tokens", ideal.block_size_tokens},
          {"block_size_source", ideal.block_size_source},
          {"tokenizer", "simulator"},
          {"reason", ideal.reason},
          {"initial_cache",
           {{"state", ideal.initial_prefixes > 0 ? "primed" : "empty"},
            {"primed_prefixes", ideal.initial_prefixes},
            {"blocks", ideal.initial_blocks},
            {"reset", ideal.initial_reset}}}};
}

// {"index", "count", "origin"} of a shard run (run/shard.hpp); null otherwise. `llmd-bench merge`
// matches shards by it.
json shard_json(const run::RunReport& report) {
  if (!report.shard) {
    return nullptr;
  }
  return {{"index", report.shard->slice.index}, {"count", report.shard->slice.count}, {"origin", report.shard->origin}};
}

// {"at" (RFC 3339), "waited_s", "late_s"} of a run with --start-at; null otherwise.
json start_at_json(const run::RunReport& report) {
  if (!report.start) {
    return nullptr;
  }
  return {{"at", util::format_rfc3339(report.start->at)},
          {"waited_s", std::chrono::duration<double>(report.start->waited).count()},
          {"late_s", std::chrono::duration<double>(report.start->late).count()}};
}

}  // namespace

// The dataset / trace prompt file and its options; null for generated prompts.
json prompt_file_echo(const scenario::RequestSpec& r, scenario::PromptKind kind) {
  if (r.prompt != kind) {
    return nullptr;
  }
  if (kind == scenario::PromptKind::trace) {
    return {{"path", r.dataset_path}, {"block_size", r.trace.block_size}};
  }
  using Spec = scenario::DatasetSpec;
  const auto& d = r.dataset;
  return {{"path", r.dataset_path},
          {"format", d.format == Spec::Format::automatic ? json(nullptr)
                     : d.format == Spec::Format::sharegpt ? json("sharegpt")
                                                           : json("jsonl")},
          {"replay", d.replay == Spec::Replay::multi_turn ? "multi-turn" : "first-turn"},
          {"output_tokens", d.output_tokens_from_dataset ? "dataset" : "max_tokens"}};
}

json scenario_echo(const scenario::Scenario& s) {
  json headers = json::object();
  for (const auto& [name, value] : s.target.headers) {
    headers[name] = is_secret_header(name) ? "<redacted>" : value;
  }
  const auto& r = s.request;
  json phases = json::array();
  for (const auto& phase : s.phases) {
    phases.push_back(phase_echo(phase));
  }
  json events = json::array();
  for (const auto& event : s.events) {
    events.push_back({{"at_s", seconds(event.at)}, {"action", to_string(event.action)}, {"pod", event.pod}});
  }
  return {{"name", s.name},
          {"path", s.path},
          {"sha256", s.sha256.empty() ? json(nullptr) : json(s.sha256)},
          {"time_scale", s.time_scale},
          {"engine",
           {{"threads", s.engine.threads},
            {"http", scenario::to_string(s.engine.http)},
            {"coalesce", scenario::to_string(s.engine.coalesce)}}},
          {"slo", slo_echo(s.slo)},
          {"target",
           {{"base_url", s.target.base_url},
            {"host", s.target.host},
            {"headers", std::move(headers)},
            {"api_key_env", s.target.api_key_env},
            {"insecure", s.target.insecure},
            {"http2", s.target.http2},
            {"preflight", s.target.preflight},
            {"served_by_header", s.target.served_by_header},
            {"connect_timeout_s", seconds(s.target.connect_timeout)},
            {"request_timeout_s", seconds(s.target.request_timeout)}}},
          {"request",
           {{"api", r.api == scenario::ApiKind::chat ? "chat" : "completions"},
            {"model", r.model},
            {"prefix_tokens", r.prefix_tokens},
            {"suffix_tokens", r.suffix_tokens},
            {"max_tokens", r.max_tokens},
            {"stream", r.stream},
            {"include_usage", r.include_usage},
            {"ignore_eos", r.ignore_eos},
            {"seed", r.seed},
            {"multi_turn", multi_turn_echo(r)},
            {"dataset", prompt_file_echo(r, scenario::PromptKind::dataset)},
            {"trace", prompt_file_echo(r, scenario::PromptKind::trace)},
            {"prefix_groups", prefix_groups_echo(r)}}},
          {"warmup", s.warmup ? phase_echo(*s.warmup) : json(nullptr)},
          {"phases", std::move(phases)},
          {"cache_interval_s", s.cache.interval ? json(seconds(*s.cache.interval)) : json(nullptr)},
          {"events", std::move(events)}};
}

// `llmd-bench merge`: the shard results merged, in index order; null for a run.
json merged_from_json(const run::RunReport& report) {
  if (report.merged_from.empty()) {
    return nullptr;
  }
  json from = json::array();
  for (const auto& shard : report.merged_from) {
    from.push_back({{"file", shard.file}, {"index", shard.index}, {"started_at", shard.started_at}});
  }
  return from;
}

json to_json(const run::RunReport& report, int exit_code) {
  json thresholds = json::array();
  for (const auto& t : report.thresholds) {
    thresholds.push_back(threshold_json(t));
  }
  json diagnostics = json::array();
  for (const auto& d : report.diagnostics) {
    diagnostics.push_back(
        {{"code", d.code}, {"severity", scrape::to_string(d.severity)}, {"message", d.message}, {"fix", d.fix}});
  }
  json checks = json::object();
  for (const auto& c : report.checks) {
    checks[c.name] = {{"passed", c.passed},
                      {"failed", c.failed},
                      {"rate", c.rate() ? json(*c.rate()) : json(nullptr)},
                      {"no_data", c.no_data()}};
  }
  json stages = json::array();
  for (const auto& stage : report.stages) {
    stages.push_back({{"name", stage.name},
                      {"seconds", std::chrono::duration<double>(stage.elapsed).count()},
                      {"detail", stage.detail}});
  }
  return {{"schema", k_result_schema},
          {"version", k_result_schema_version},
          {"tool", {{"name", "llmd-bench"}, {"version", LLMD_VERSION}}},
          {"scenario", scenario_echo(*report.scenario)},
          {"target",
           {{"name", target_label(report.embedded_sim, report.target_url)},
            {"url", report.target_url},
            {"embedded_sim", report.embedded_sim},
            {"sim", report.sim_description}}},
          {"model", report.model},
          {"model_source", report.model_source},
          {"warmup", report.warmup ? engine::to_json(*report.warmup) : json(nullptr)},
          {"run", run_json(report)},
          {"merged_from", merged_from_json(report)},
          {"cache", report.cache ? scrape::to_json(*report.cache) : json(nullptr)},
          {"cache_source", report.cache_source},
          {"cache_state", report.cache_state ? cache_state_json(*report.cache_state) : json(nullptr)},
          {"token_calibration", report.calibration ? calibration_json(*report.calibration) : json(nullptr)},
          {"ideal_hit_rate", ideal_hit_rate_json(report)},
          {"routing", report.routing ? run::to_json(*report.routing) : json(nullptr)},
          {"timeseries", timeseries_json(report)},
          {"events", events_json(report)},
          {"thresholds", std::move(thresholds)},
          {"checks", std::move(checks)},
          {"warnings", warnings_json(report)},
          {"aborted_by_threshold", threshold_abort_json(report)},
          {"errors", report.errors},
          {"notes", report.notes},
          {"diagnostics", std::move(diagnostics)},
          {"interrupted", report.interrupted},
          {"stages", std::move(stages)},
          {"shard", shard_json(report)},
          {"start_at", start_at_json(report)},
          {"partial", report.interrupted || !report.errors.empty()},
          {"verdict", to_string(report.verdict)},
          {"exit_code", exit_code}};
}

}  // namespace llmd::report
