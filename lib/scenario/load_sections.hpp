#pragma once
// Internal to the loader: one function per top-level section of a scenario file (schema:
// scenarios/README.md). Each reads the section's YAML into the plain structs of scenario.hpp and
// returns "file:line:column: field: message" errors. Cross-section rules live in loader.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "scenario/scenario.hpp"
#include "scenario/yaml_reader.hpp"
#include "sim/sim_config.hpp"
#include "util/result.hpp"

namespace llmd::scenario::detail {

// `target:` (load_target.cpp).
util::Result<void> load_target(const yaml::Field& field, Target& target);
// `api:` value: "completions" | "chat".
util::Result<ApiKind> load_api(const yaml::Field& field);

// `requests:` (load_requests.cpp); dataset paths are resolved against the scenario's directory.
util::Result<void> load_requests(const yaml::Field& field, RequestSpec& request);
// A token count or a `distribution` mapping (`random`'s `length`, multi-turn's `turns`, `user_tokens`,
// `output_tokens`, prefix-groups' token counts), every value within 1..max (load_requests.cpp).
util::Result<void> load_length(const yaml::Field& field, LengthDistribution& length, std::uint64_t max);
// `session_header` of a prompt kind: an HTTP header name (load_requests.cpp).
util::Result<void> load_session_header(const yaml::Section& section, RequestSpec& request);
// The keys of `prompt: {kind: multi-turn}` (load_multi_turn.cpp).
util::Result<void> load_multi_turn(const yaml::Section& section, RequestSpec& request);
// Rules of multi-turn prompts that span sections: the chat API, closed-loop phases, and the size of
// the history a conversation resends (load_multi_turn.cpp).
util::Result<void> check_multi_turn(const Scenario& scenario);
// Tokens of the longest conversation multi-turn prompts can send: system prompt + turns x (user +
// output tokens), each at its largest.
std::uint64_t history_tokens(const RequestSpec& request);

// `requests.prompt` of kind prefix-groups (load_prefix_groups.cpp): its keys, and the loader.
inline constexpr std::string_view k_prefix_groups_keys[] = {
    "kind", "groups", "prompts_per_group", "system_prompt_tokens", "question_tokens", "output_tokens", "order", "seed"};
util::Result<void> load_prefix_groups(const yaml::Section& section, RequestSpec& request);

// `load:` (a list) and `warmup:` (one phase) (load_phases.cpp).
util::Result<std::vector<Phase>> load_phases(const yaml::Field& field);
util::Result<Phase> load_warmup(const yaml::Field& field);
// "constant-vus", ... as written in files.
std::string_view to_string(ExecutorKind kind);
bool is_open_loop(ExecutorKind kind);

// `checks:`, `thresholds:` and `cache:` (load_checks.cpp). `stream` decides the default checks.
// Each check as listed, and how it was spelled.
util::Result<void> load_checks(const yaml::Field& field, bool stream, std::vector<CheckKind>& checks,
                               std::map<CheckKind, std::string>& spellings);
std::vector<CheckKind> default_checks(bool stream);
util::Result<std::vector<Threshold>> load_thresholds(const yaml::Field& field);
util::Result<void> load_cache(const yaml::Field& field, CacheSpec& cache);
// A non-empty list of http(s) URLs (check_http_url), each error at its item; `what` names one in
// the empty-list error ("must list at least one <what>").
util::Result<std::vector<std::string>> read_http_urls(const yaml::Field& field, std::string_view what);
// `cache_state:` (load_cache_state.cpp), and its rules against `cache` and `target` (run again after
// the flags): a reset or verify needs pods it can reach and read directly.
util::Result<void> load_cache_state(const yaml::Field& field, CacheStateSpec& cache_state);
util::Result<void> check_cache_state(const Scenario& scenario);

// `events:` (load_events.cpp): churn events, each `{at: D, restart_pod: POD}` or `{at: D, delete_pod: POD}`;
// `scale` is rejected. check_events (run by check_consistency): each `at` within the measured loop's
// planned length, a cache source, and the action that fits it (delete_pod: kubernetes; restart_pod:
// the embedded simulator or cache.urls).
util::Result<void> load_events(const yaml::Field& field, std::vector<ChurnEvent>& events);
util::Result<void> check_events(const Scenario& scenario);

// `sim:` (load_sim.cpp): applied over `config`, then sim::validate. `scenario_model` is the
// top-level `model` ("" = none): the simulator serves it unless `sim.model` says otherwise, and a
// different `sim.model` is an error.
util::Result<void> load_sim(const yaml::Field& field, std::string_view scenario_model, sim::SimConfig& config);

// Rules that span sections, run after loading and again after CLI overrides: per-session
// prompts need closed-loop phases; ttft/itl thresholds need streaming; cache_hit_rate and
// max_pod_share thresholds need per-pod metrics; phases fit the time scale and the limits on
// concurrency and prompt memory (check_time_scale, check_load_limits). Errors are located at the
// phase, threshold or key.
util::Result<void> check_consistency(const Scenario& scenario);
// The file-replay rules (load_replay.cpp): replay: multi-turn needs api: chat and closed-loop
// phases; prompt kind trace and executor trace only together.
util::Result<void> check_replay_rules(const Scenario& scenario);

// Every phase (and the warm-up) has virtual users, for prompt `kind`s that need them for `purpose`
// ("to own the sessions"); an open-loop phase is an error naming it (loader.cpp).
util::Result<void> check_phases_have_users(const Scenario& scenario, std::string_view kind, std::string_view purpose);

// Bounds that span keys (load_limits.cpp, limits.hpp), with the location of the phase or key.
// `phase` ends (start_time + its length + graceful_stop, times `time_scale`) within
// limits::k_max_duration, and its scaled length is not under 1 ns. `scale_where` says where the time
// scale was set (its key, or {"--time-scale"}) for messages when time_scale != 1.
util::Result<void> check_phase_span(const Phase& phase, double time_scale, const SourceLocation& scale_where);
// check_phase_span for every phase at Scenario::time_scale (nothing to do at 1).
util::Result<void> check_time_scale(const Scenario& scenario);
// Requests in flight at once over the phases that run at the same time (k_max_concurrency), and the
// prompt text they and the per-session prefixes hold (k_max_prompt_bytes_in_flight).
util::Result<void> check_load_limits(const Scenario& scenario);

// Checks shared by the file loader and the CLI overrides; messages carry no location.
// An http:// or https:// URL with a host (a path is allowed).
util::Result<void> check_http_url(std::string_view url);
// check_http_url, and not ending in /v1 (llmd-bench appends /v1/completions itself).
util::Result<void> check_base_url(std::string_view url);
// target.base_url as requests use it: trailing '/' dropped, and a trailing "/v1" (OpenAI's base_url
// convention, "http://gw/v1/") too, since requests add "/v1/..." ("http://gw/v1" -> "http://gw").
std::string normalize_base_url(std::string url);
// An HTTP header name (RFC 9110 token).
util::Result<void> check_header_name(std::string_view name);
// A bare host name with an optional :port (the Host header).
util::Result<void> check_host(std::string_view host);
// An environment variable NAME; the message never repeats the text (it may be the secret itself).
util::Result<void> check_env_name(std::string_view name);
util::Result<ApiKind> parse_api(std::string_view text);

// A check (text -> Result<void>) as a yaml::Section::read_parsed parser that keeps the text.
inline auto checked(util::Result<void> (*check)(std::string_view)) {
  return [check](std::string_view text) -> util::Result<std::string> {
    if (auto valid = check(text); !valid) {
      return util::fail(valid.error());
    }
    return std::string(text);
  };
}

}  // namespace llmd::scenario::detail
