#include "run/cache_state.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/preflight.hpp"
#include "engine/prompt_source.hpp"
#include "engine/request_builder.hpp"
#include "kube/kube_sources.hpp"
#include "run/cache_source.hpp"
#include "run/stages.hpp"
#include "util/json_text.hpp"

namespace llmd::run {

namespace {

using Reset = scenario::CacheStateSpec::Reset;

constexpr std::string_view k_reset_path = "/reset_prefix_cache";
constexpr std::size_t k_default_probe_block = 16;  // probe length when no block size is known
const std::atomic<bool> k_never{false};

// The scenario as the cache-state requests use it: one answer, not a stream, one output token.
scenario::Scenario probe_scenario(const scenario::Scenario& s) {
  scenario::Scenario copy = s;
  copy.request.stream = false;
  copy.request.max_tokens = 1;
  return copy;
}

PodAnswer answer_of(util::Result<engine::Exchange> exchanged, std::string what) {
  PodAnswer answer;
  answer.what = std::move(what);
  if (!exchanged) {
    answer.error = exchanged.error();
    return answer;
  }
  answer.what = "POST " + exchanged->url;
  answer.status = exchanged->http_status;
  answer.body = std::move(exchanged->body);
  if (answer.status == 0) {
    answer.error = exchanged->curl_error;
  }
  return answer;
}

bool ok(const PodAnswer& answer) { return answer.status >= 200 && answer.status <= 299; }

// "HTTP 500 (...)" / "no answer: Connection refused".
std::string failure_of(const PodAnswer& answer) {
  if (answer.status == 0) {
    return fmt::format("{}: no answer: {}", answer.what, answer.error);
  }
  std::string body = answer.body.substr(0, 200);
  return fmt::format("{} answered HTTP {}{}", answer.what, answer.status, body.empty() ? "" : " " + body);
}

class UrlPodApi final : public PodApi {
 public:
  UrlPodApi(std::vector<scrape::PodUrl> pods, const scenario::Scenario& s, std::string token, const std::atomic<bool>* cancel)
      : m_pods(std::move(pods)), m_scenario(probe_scenario(s)), m_token(std::move(token)), m_cancel(cancel) {
    m_scenario.target.host.clear();  // a pod is addressed by its own URL, not the gateway's virtual host
  }
  std::size_t size() const override { return m_pods.size(); }
  const std::string& name(std::size_t pod) const override { return m_pods[pod].pod; }
  PodAnswer post(std::size_t pod, std::string_view path, const std::string& body) override {
    const engine::TargetAccess access{&m_scenario, m_pods[pod].url, m_token, m_cancel != nullptr ? m_cancel : &k_never};
    return answer_of(engine::exchange(access, path, /*get=*/false, body), fmt::format("POST {}{}", m_pods[pod].url, path));
  }

 private:
  std::vector<scrape::PodUrl> m_pods;
  scenario::Scenario m_scenario;
  std::string m_token;
  const std::atomic<bool>* m_cancel;
};

// Pods of cache.source: kubernetes, through the API server's pod proxy (KubeSource::post_via_proxy).
class KubePodApi final : public PodApi {
 public:
  explicit KubePodApi(const kube::KubeSource& source) : m_source(source) {
    for (const auto& pod : source.pods().ready) {
      m_names.push_back(pod.name);
    }
  }
  std::size_t size() const override { return m_names.size(); }
  const std::string& name(std::size_t pod) const override { return m_names[pod]; }
  PodAnswer post(std::size_t pod, std::string_view path, const std::string& body) override {
    PodAnswer answer;
    answer.what = fmt::format("POST {} (pod {} through the API server's pod proxy)", path, m_names[pod]);
    auto output = m_source.post_via_proxy(pod, path, body);
    if (!output) {
      answer.error = output.error();
    } else if (output->exit_code == 0) {
      answer.status = 200;  // kubectl succeeds on 2xx only
      answer.body = std::move(output->out);
    } else {
      answer.status = kube_status(output->err);
      answer.body = output->err;
      answer.error = kube::describe_failure(*output);
    }
    return answer;
  }

 private:
  // The status behind kubectl's "Error from server (NotFound): ..." (0 when it names none we know).
  static long kube_status(std::string_view err) {
    constexpr std::pair<std::string_view, long> k_reasons[] = {
        {"(NotFound)", 404}, {"(BadRequest)", 400}, {"(Forbidden)", 403}, {"(Unauthorized)", 401},
        {"(MethodNotAllowed)", 405}, {"(ServiceUnavailable)", 503}, {"(InternalError)", 500}};
    for (const auto& [reason, status] : k_reasons) {
      if (err.find(reason) != std::string_view::npos) {
        return status;
      }
    }
    return 0;
  }

  const kube::KubeSource& m_source;
  std::vector<std::string> m_names;
};

std::vector<scrape::PodSnapshotResult> scrape_pods(RunState& state) {
  return scrape::snapshot_pods(state.source->scrape_all(), state.scenario().cache.model_filter);
}

// A completion (or chat) body for `text`, as the run would send it, unstreamed, one output token.
std::string prompt_body(const RunState& state, const std::string& text) {
  const scenario::Scenario probe = probe_scenario(state.scenario());
  engine::Prompt prompt;
  prompt.text = text;
  std::string body;
  engine::build_body(probe.request, state.report->model, prompt, body);
  return body;
}

// One prefix through the target, with the session header the workload sends with it.
PodAnswer send_through_target(const RunState& state, const engine::PrefixPrompt& prefix) {
  scenario::Scenario probe = probe_scenario(state.scenario());
  if (!prefix.session_id.empty()) {
    probe.target.headers.emplace_back(probe.request.session_header, prefix.session_id);
  }
  const std::string path(engine::endpoint_path(probe.request.api));
  const engine::TargetAccess access{&probe, state.report->target_url, state.request->bearer_token,
                                    state.request->stop != nullptr ? state.request->stop : &k_never};
  return answer_of(engine::exchange(access, path, /*get=*/false, prompt_body(state, prefix.text)),
                   fmt::format("POST {}{}", state.report->target_url, path));
}

// The workload's distinct prefixes (PromptSource::prefixes), counted in the report; nullopt when the
// prompt source cannot be made (the run's error, naming `stage`).
std::optional<std::vector<engine::PrefixPrompt>> counted_prefixes(RunState& state, std::string_view stage) {
  auto source = engine::PromptSource::create(state.scenario().request);
  if (!source) {
    state.report->errors.push_back(fmt::format("cache_state.{}: {}", stage, source.error()));
    return std::nullopt;
  }
  auto prefixes = source->prefixes(max_sessions(state.scenario().phases));
  state.report->cache_state->prefixes = prefixes.size();
  return prefixes;
}

// The reset's probe for pod `pod`: words of its own (no workload request shares them), long enough
// for at least two full blocks.
std::string cold_probe_text(std::size_t pod, std::size_t block_size) {
  std::string text = fmt::format("llmd cold probe pod{}", pod);
  for (std::size_t i = 0; i < 2 * block_size + 2; ++i) {
    text += fmt::format(" c{}p{}", i, pod);
  }
  return text;
}

std::optional<std::uint64_t> whole(const std::optional<double>& value) {
  if (!value || !(*value >= 0)) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(*value + 0.5);
}

// Checks one pod's cold probe; fills the outcome's figures and problem.
void judge_cold_probe(PodResetOutcome& pod, const PodAnswer& probe, const std::optional<CounterDelta>& delta) {
  if (!ok(probe)) {
    pod.problem = "the cold probe failed: " + failure_of(probe);
    return;
  }
  if (!delta) {
    pod.problem = "its counters could not be read before and after the cold probe";
    return;
  }
  pod.probe_query_tokens = delta->queries;
  pod.probe_hit_tokens = delta->hits;
  if (delta->queries == 0) {
    pod.problem = "the cold probe sent to it did not move its prefix-cache counters: is its API URL the pod whose "
                  "metrics are scraped (cache_state.pod_urls)?";
  } else if (delta->hits > 0) {
    pod.problem = fmt::format("not cold: the probe it had cached before the reset hit {} of its {} tokens again, so "
                              "the reset did not clear the cache (vLLM refuses a reset while requests hold blocks: "
                              "run it with no traffic on the pods)",
                              delta->hits, delta->queries);
  } else {
    pod.cold = true;
  }
}

void add_finding(RunState& state, std::string code, std::string message, std::string fix) {
  state.report->diagnostics.push_back({std::move(code), scrape::Severity::error, std::move(message), std::move(fix)});
}

}  // namespace

CacheStateReport& cache_state_report(RunState& state) {
  if (!state.report->cache_state) {
    const auto& spec = state.scenario().cache_state;
    CacheStateReport made;
    made.reset = spec.reset == Reset::api ? "api" : spec.reset == Reset::restart ? "restart" : "none";
    made.prime = spec.prime;
    made.verify = spec.verify;
    state.report->cache_state = std::move(made);
  }
  return *state.report->cache_state;
}

std::string pod_api_base(std::string_view metrics_url) {
  const auto scheme = metrics_url.find("://");
  const auto path = metrics_url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return std::string(metrics_url.substr(0, path));
}

std::unique_ptr<PodApi> make_url_pod_api(std::vector<scrape::PodUrl> pods, const scenario::Scenario& scenario,
                                         std::string bearer_token, const std::atomic<bool>* cancel) {
  return std::make_unique<UrlPodApi>(std::move(pods), scenario, std::move(bearer_token), cancel);
}

util::Result<std::unique_ptr<PodApi>> make_pod_api(const RunState& state) {
  const scenario::Scenario& s = state.scenario();
  std::vector<scrape::PodUrl> pods;
  if (s.cache.source == scenario::CacheSpec::Source::urls) {
    pods = pods_from_urls(s.cache.urls);
    for (std::size_t i = 0; i < pods.size(); ++i) {
      pods[i].url = s.cache_state.pod_urls.empty() ? pod_api_base(pods[i].url) : s.cache_state.pod_urls[i];
    }
  } else if (state.sim && s.cache.source == scenario::CacheSpec::Source::automatic) {
    for (std::size_t i = 0; i < state.sim->fleet().pod_count(); ++i) {
      pods.push_back({state.sim->fleet().pod(i).name(), state.sim->fleet().pod_url(i)});
    }
  } else if (const auto* kube = dynamic_cast<const kube::KubeSource*>(state.source.get())) {
    return std::unique_ptr<PodApi>(std::make_unique<KubePodApi>(*kube));
  } else {
    return util::fail("cache_state: the pods' own API is known only for the embedded simulator, cache.urls and "
                      "cache.source: kubernetes");
  }
  return make_url_pod_api(std::move(pods), s, state.request->bearer_token, state.request->stop);
}

std::string judge_reset_answer(const PodAnswer& answer) {
  if (reset_endpoint_missing(answer)) {
    return fmt::format("{} answered HTTP 404: the server does not serve the reset endpoint", answer.what);
  }
  if (!ok(answer)) {
    return failure_of(answer);
  }
  auto parsed = util::parse_json_bounded(answer.body);
  if (parsed && parsed->is_object() && parsed->contains("success") && (*parsed)["success"] == false) {
    return fmt::format("{} answered {{\"success\": false}}: the pod refused the reset while blocks were held "
                       "(running requests or KV transfers); run it with no traffic on the pods",
                       answer.what);
  }
  return "";
}

bool reset_endpoint_missing(const PodAnswer& answer) { return answer.status == 404; }

std::uint64_t expected_hit_tokens(std::uint64_t prompt_tokens, std::size_t block_size) {
  if (prompt_tokens == 0 || block_size == 0) {
    return 0;
  }
  return (prompt_tokens - 1) / block_size * block_size;
}

std::optional<CounterDelta> counter_delta(const std::vector<scrape::PodSnapshotResult>& before,
                                          const std::vector<scrape::PodSnapshotResult>& after, std::string_view pod) {
  const auto find = [pod](const std::vector<scrape::PodSnapshotResult>& pods) -> const scrape::PodSnapshot* {
    const auto it = std::find_if(pods.begin(), pods.end(), [pod](const auto& p) { return p.pod == pod; });
    return it != pods.end() && it->snapshot ? &*it->snapshot : nullptr;
  };
  const scrape::PodSnapshot* b = find(before);
  const scrape::PodSnapshot* a = find(after);
  if (b == nullptr || a == nullptr) {
    return std::nullopt;
  }
  const auto bq = whole(b->queries), bh = whole(b->hits), aq = whole(a->queries), ah = whole(a->hits);
  if (!bq || !bh || !aq || !ah || *aq < *bq || *ah < *bh) {
    return std::nullopt;  // no counters, or they went down (a restart in between)
  }
  return CounterDelta{*aq - *bq, *ah - *bh};
}

std::optional<std::size_t> resolve_block_size(const scenario::CacheStateSpec& spec,
                                              const std::vector<scrape::PodSnapshotResult>& pods,
                                              std::size_t sim_block_size, std::string& source) {
  if (spec.block_size != 0) {
    source = "cache_state.block_size";
    return spec.block_size;
  }
  for (const auto& pod : pods) {
    if (pod.snapshot && pod.snapshot->block_size_tokens && *pod.snapshot->block_size_tokens > 0) {
      source = "vllm:cache_config_info";
      return *pod.snapshot->block_size_tokens;
    }
  }
  if (sim_block_size != 0) {
    source = "simulator";
    return sim_block_size;
  }
  source = "";
  return std::nullopt;
}

std::size_t max_sessions(const std::vector<scenario::Phase>& phases) {
  std::size_t most = 0;
  for (const auto& phase : phases) {
    most = std::max({most, phase.vus, phase.start_vus});
    for (const auto& stage : phase.stages) {
      most = std::max(most, stage.target_vus);
    }
  }
  return most;
}

Next reset_cache(RunState& state) {
  CacheStateReport& cs = cache_state_report(state);
  auto api = make_pod_api(state);
  if (!api) {
    state.report->errors.push_back(api.error());
    return Next::stop;
  }
  PodApi& pods = **api;
  std::string block_source;
  const auto block = resolve_block_size(state.scenario().cache_state, scrape_pods(state),
                                        state.sim ? state.scenario().sim.pod.block_size_tokens : 0, block_source);
  const std::string completion_path(engine::endpoint_path(state.scenario().request.api));
  std::vector<std::string> bodies;
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < pods.size() && !state.stop_requested(); ++i) {
    bodies.push_back(prompt_body(state, cold_probe_text(i, block.value_or(k_default_probe_block))));
    PodResetOutcome outcome;
    outcome.pod = pods.name(i);
    pods.post(i, completion_path, bodies.back());  // something for the reset to clear; its answer does not matter
    const PodAnswer reset = pods.post(i, k_reset_path, "");
    outcome.status = reset.status;
    outcome.problem = judge_reset_answer(reset);
    if (reset_endpoint_missing(reset)) {
      missing.push_back(outcome.pod);
    }
    cs.reset_pods.push_back(std::move(outcome));
  }
  if (state.stop_requested()) {
    state.detail = "interrupted";
    return Next::go_on;  // the pipeline notes the interruption
  }
  const auto before = scrape_pods(state);
  std::vector<PodAnswer> probes(pods.size());
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (cs.reset_pods[i].problem.empty()) {
      probes[i] = pods.post(i, completion_path, bodies[i]);
    }
  }
  const auto after = scrape_pods(state);
  std::vector<std::string> not_cold;
  for (std::size_t i = 0; i < pods.size(); ++i) {
    PodResetOutcome& pod = cs.reset_pods[i];
    if (pod.problem.empty()) {
      judge_cold_probe(pod, probes[i], counter_delta(before, after, pod.pod));
    }
    if (!pod.cold) {
      not_cold.push_back(fmt::format("{}: {}", pod.pod, pod.problem));
    }
  }
  const std::size_t n = pods.size();
  if (!missing.empty()) {
    const std::string message = fmt::format(
        "cache_state.reset: api: POST {} answered 404 on {} of {} pods ({}): vLLM serves /reset_prefix_cache only "
        "with VLLM_SERVER_DEV_MODE=1",
        k_reset_path, missing.size(), n, fmt::join(missing, ", "));
    add_finding(state, "reset_endpoint_missing", message,
                "set VLLM_SERVER_DEV_MODE=1 on the vLLM container, or use cache_state.reset: restart");
    state.report->errors.push_back(message + "; set it on the vLLM container, or use cache_state.reset: restart");
    state.detail = fmt::format("{} of {} pods without the reset endpoint (404)", missing.size(), n);
    return Next::stop;
  }
  if (!not_cold.empty()) {
    const std::string message = fmt::format("cache_state.reset: api: {} of {} pods are not cold after the reset: {}",
                                            not_cold.size(), n, fmt::join(not_cold, "; "));
    add_finding(state, "reset_not_verified", message,
                "reset with no traffic on the pods, check that cache.urls / cache_state.pod_urls name the same pods, "
                "or use cache_state.reset: restart");
    state.report->errors.push_back(message);
    state.detail = fmt::format("{} of {} pods not cold", not_cold.size(), n);
    return Next::stop;
  }
  state.detail = fmt::format("{} pod{}, cold verified", n, n == 1 ? "" : "s");
  return Next::go_on;
}

Next prime_cache(RunState& state) {
  CacheStateReport& cs = cache_state_report(state);
  auto prefixes = counted_prefixes(state, "prime");
  if (!prefixes) {
    return Next::stop;
  }
  if (prefixes->empty()) {
    const auto& request = state.scenario().request;
    cs.prime_note = request.prompt == scenario::PromptKind::multi_turn && request.multi_turn.system_prompt_tokens > 0
                        ? "nothing to prime: a multi-turn conversation's shared part is its chat system message, and a "
                          "prime request of that message alone is rendered by the server's chat template, which need "
                          "not make it a prefix of the conversations' rendering"
                        : "nothing to prime: the prompt kind has no prefix shared between requests";
    state.detail = "nothing to prime";
    return Next::go_on;
  }
  std::string first_failure;
  for (const auto& prefix : *prefixes) {
    if (state.stop_requested()) {
      break;
    }
    const PodAnswer answer = send_through_target(state, prefix);
    if (ok(answer)) {
      ++cs.primed;
      state.primed.push_back(prefix);
    } else if (first_failure.empty()) {
      first_failure = fmt::format("{}: {}", prefix.label, failure_of(answer));
    }
  }
  state.detail = fmt::format("{} of {} prefix{}", cs.primed, cs.prefixes, cs.prefixes == 1 ? "" : "es");
  if (!first_failure.empty()) {
    cs.prime_note = fmt::format("{} of {} prime requests failed, first {}", cs.prefixes - cs.primed, cs.prefixes,
                                first_failure);
    if (cs.primed == 0 && !state.stop_requested()) {
      state.report->errors.push_back("cache_state.prime: no prime request succeeded: " + first_failure);
      return Next::stop;
    }
    state.report->notes.push_back("cache_state.prime: " + cs.prime_note);
  }
  return Next::go_on;
}

Next verify_cache(RunState& state) {
  CacheStateReport& cs = cache_state_report(state);
  auto prefixes = counted_prefixes(state, "verify");
  if (!prefixes) {
    return Next::stop;
  }
  if (prefixes->empty()) {
    state.detail = "nothing to verify";
    return Next::go_on;
  }
  auto before = scrape_pods(state);
  cs.block_size_tokens = resolve_block_size(state.scenario().cache_state, before,
                                            state.sim ? state.scenario().sim.pod.block_size_tokens : 0, cs.block_size_source);
  for (const auto& prefix : *prefixes) {
    if (state.stop_requested()) {
      break;
    }
    const PodAnswer answer = send_through_target(state, prefix);
    auto after = scrape_pods(state);
    PrefixResidency row;
    row.prefix = prefix.label;
    for (const auto& pod : after) {
      const auto delta = counter_delta(before, after, pod.pod);
      if (delta && delta->queries > row.probe_tokens) {
        row.pod = pod.pod;
        row.probe_tokens = delta->queries;
        row.hit_tokens = delta->hits;
      }
    }
    // Without a block size any hit counts (expected 0, at least 1 token below).
    row.expected_hit_tokens = cs.block_size_tokens ? expected_hit_tokens(row.probe_tokens, *cs.block_size_tokens) : 0;
    if (!ok(answer)) {
      row.problem = "the probe failed: " + failure_of(answer);
    } else if (row.pod.empty()) {
      row.problem = "the probe moved no scraped pod's counters (a pod outside the cache source?)";
    } else if (row.hit_tokens < std::max<std::uint64_t>(row.expected_hit_tokens, 1)) {
      row.problem = fmt::format("{} of the expected {} tokens hit on {}", row.hit_tokens, row.expected_hit_tokens, row.pod);
    }
    row.resident = row.problem.empty();
    cs.residency.push_back(std::move(row));
    before = std::move(after);
  }
  std::vector<std::string> missing;
  std::map<std::string, std::size_t> resident_on;
  for (const auto& row : cs.residency) {
    if (row.resident) {
      ++resident_on[row.pod];
    } else {
      missing.push_back(fmt::format("{} ({})", row.prefix, row.problem));
    }
  }
  const std::size_t n = cs.residency.size();
  if (!missing.empty()) {
    add_finding(state, "prefix_not_resident",
                fmt::format("cache_state.verify: {} of {} primed prefixes are not resident: {}", missing.size(), n,
                            fmt::join(missing, "; ")),
                "prime them (cache_state.prime: true) after any reset; check that the pods' KV cache holds every prefix "
                "(kv_blocks, --gpu-memory-utilization) and that the gateway routes a repeated prefix to the same pod");
    state.detail = fmt::format("{} of {} prefixes not resident", missing.size(), n);
    return Next::go_on;  // judged: verdict fail (exit 1), and the loop is still measured
  }
  state.detail = fmt::format("{} of {} prefix{} resident on {} pod{}", n, n, n == 1 ? "" : "es", resident_on.size(),
                             resident_on.size() == 1 ? "" : "s");
  return Next::go_on;
}

}  // namespace llmd::run
