#pragma once
// The scenario: everything `llmd-bench run` needs to know, as plain data. Loaded from YAML/JSON by
// loader.hpp (schema: scenarios/README.md), overridden by CLI flags, consumed by the engine, the
// cache snapshotter and the report. Durations are std::chrono::nanoseconds; token counts _tokens.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenario/length_distribution.hpp"
#include "scenario/prefix_groups_spec.hpp"
#include "scenario/source_location.hpp"
#include "scenario/thresholds.hpp"
#include "scenario/trace_spec.hpp"
#include "sim/sim_config.hpp"

namespace llmd::scenario {

using Duration = std::chrono::nanoseconds;

enum class ApiKind { completions, chat };  // /v1/completions or /v1/chat/completions

// How closed-loop users wait when the server asks them to or cannot be reached (engine/backoff.hpp).
struct Backoff {
  bool retry_after = true;                              // honour Retry-After of 429 / 503 answers
  Duration max_retry_after = std::chrono::seconds(60);  // longer Retry-After values are cut to this
  bool connect_errors = true;  // after a connect failure: 10 ms, doubling per consecutive one, to 1 s
};

struct Target {
  std::string base_url;  // "http://gw.ns.svc:80" (path prefix allowed); empty = the embedded simulator
  std::string host;      // sent as the Host header (virtual-host gateways); empty = from the URL
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string api_key_env;  // NAME of the env var holding a bearer token; the token itself is never stored here
  bool insecure = false;    // true = skip TLS certificate verification (explicit opt-in)
  bool http2 = false;       // negotiate HTTP/2 (h2 over TLS, h2c prior knowledge over http)
  bool preflight = true;    // one request before the warm-up that diagnoses a wrong target (engine/preflight.hpp)
  // Response headers naming the endpoint (ip:port) that served each request, tried before the
  // built-in x-gateway-destination-endpoint-served, x-gateway-destination-endpoint, x-served-by
  // (engine/attribution.hpp); a gateway adds one when told to (README "Routing analysis").
  std::vector<std::string> served_by_header{};
  Duration connect_timeout = std::chrono::seconds(10);
  Duration request_timeout = std::chrono::seconds(300);  // whole request, including streaming
  Backoff backoff;
  SourceLocation where;  // the `target` section (or the --target flag), for run-time errors (unset api_key_env)
};

enum class PromptKind {
  fixed,          // the same `text` every request
  shared_prefix,  // prefix_tokens shared by ALL requests + suffix_tokens unique per request
  per_session,    // each virtual user: its own prefix_tokens prefix + unique suffix, and its own x-session-id
  dataset,        // prompts (or chat messages) from a JSONL file, in order, wrapping around
  random,         // random words, length drawn from `length`
  multi_turn,     // each virtual user: conversations whose turns resend the whole history (chat API)
  trace,          // Mooncake-style JSONL trace: lengths and shared hash_id blocks per record (trace_spec.hpp)
  prefix_groups,  // `groups` system prompts, each shared by `prompts_per_group` questions (prefix_groups_spec.hpp)
};

// The name a scenario writes for `kind` ("shared-prefix", "prefix-groups", ...).
std::string_view to_string(PromptKind kind);

// Whether the calibrate stage (requests.token_counts) sizes this kind's prefixes: shared-prefix
// and per-session; the other kinds' lengths stay the generator's word counts.
constexpr bool calibrates_prefixes(PromptKind kind) {
  return kind == PromptKind::shared_prefix || kind == PromptKind::per_session;
}

}  // namespace llmd::scenario

#include "scenario/multi_turn_spec.hpp"  // MultiTurnSpec, which reuses LengthDistribution

namespace llmd::scenario {

// requests.token_counts: make generated prefixes exactly N tokens of the SERVER's tokenizer through
// its POST /tokenize (run stage "calibrate", run/calibrate.hpp).
struct TokenCountsSpec {
  enum class Calibrate {
    automatic,  // `auto`: calibrate when POST /tokenize answers, else go on with a note
    on,         // a missing /tokenize is a finding, exit 3
    off,        // the generator's count (one word = one token); the report says by how much it is off
  };
  Calibrate calibrate = Calibrate::automatic;
  bool align_to_block = false;  // round N up to a multiple of the block size first
};

// One generated prefix after calibration: the first `words` words of its generator stream, then
// `fillers` one-token filler words; `tokens` is the server's count of that text. Plain data the
// calibrate stage writes into RequestSpec::calibrated and PromptSource::create reads.
struct CalibratedPrefix {
  std::size_t words = 0;
  std::size_t fillers = 0;
  std::size_t tokens = 0;
};

struct RequestSpec {
  ApiKind api = ApiKind::completions;
  std::string model;  // empty = ask GET /v1/models and take the first
  PromptKind prompt = PromptKind::shared_prefix;
  std::string text;                 // fixed
  std::size_t prefix_tokens = 1000; // shared_prefix, per_session
  std::size_t suffix_tokens = 16;   // shared_prefix, per_session: unique tail per request
  std::string dataset_path;         // dataset: JSONL or ShareGPT JSON; trace: the JSONL trace
  DatasetSpec dataset;              // dataset: format, replay, output_tokens (trace_spec.hpp)
  TraceSpec trace;                  // trace: block_size (trace_spec.hpp)
  LengthDistribution length;        // random
  MultiTurnSpec multi_turn;         // multi_turn
  PrefixGroupsSpec prefix_groups;   // prefix_groups
  std::size_t max_tokens = 64;
  std::optional<double> temperature;
  bool stream = true;
  bool include_usage = true;        // stream_options.include_usage (when stream)
  bool ignore_eos = false;          // vLLM extension: generate exactly max_tokens
  std::uint64_t seed = 1;           // prompt generation
  std::string session_header = "x-session-id";  // per_session, multi_turn: header carrying the session id
  TokenCountsSpec token_counts;     // token_counts: calibration through POST /tokenize
  // Set by the run's calibrate stage (never by the scenario file): shared_prefix: [0], per_session: by
  // session; a session without an entry uses the generator's uncalibrated prefix.
  std::vector<CalibratedPrefix> calibrated;
  SourceLocation where;  // the `requests` section, for run-time errors (unreadable dataset)
};

enum class ExecutorKind {
  constant_vus,           // `vus` users looping for `duration` (closed loop)
  ramping_vus,            // users ramp linearly through `stages` starting from `start_vus` (closed loop)
  constant_arrival_rate,  // `rate` requests/s on a fixed schedule for `duration` (open loop)
  poisson,                // `rate` requests/s with exponential gaps (open loop)
  gamma,                  // `rate` requests/s with gamma gaps of shape `burstiness` (open loop; 1 = poisson)
  iterations,             // exactly `iterations` requests shared by `vus` users (closed loop), bounded by max_duration
  trace,                  // the `trace` prompts' records at their timestamps / speedup (open loop), bounded by max_duration
};

struct Stage {
  Duration duration{};
  std::size_t target_vus = 0;
};

struct Phase {
  std::string name;
  ExecutorKind executor = ExecutorKind::constant_vus;
  Duration start_time{};          // offset from the start of the measured run (k6 startTime)
  Duration duration{};            // constant_vus, constant_arrival_rate, poisson, gamma
  std::size_t vus = 0;            // constant_vus, iterations
  std::size_t start_vus = 0;      // ramping_vus
  std::vector<Stage> stages;      // ramping_vus
  double rate_per_s = 0;          // constant_arrival_rate, poisson, gamma
  double burstiness = 1;          // gamma: the gaps' shape (vLLM --burstiness); their CV is 1/sqrt(burstiness)
  std::size_t max_in_flight = 0;  // open loop: requests in flight at most; a due request beyond it is DROPPED (counted)
  std::size_t iterations = 0;     // iterations
  Duration max_duration = std::chrono::minutes(10);  // iterations, trace: give up after this
  double speedup = 1;             // trace: replay the trace's clock this many times faster (2 = twice as fast)
  Duration graceful_stop = std::chrono::seconds(30); // in-flight requests may finish this long after the phase ends
  SourceLocation where;
};

enum class CheckKind { status_200, non_empty_content, sse_content_type };

// "status_200", "non_empty_content", "sse_content_type": the name of a default check in reports
// (the engine, which links no scenario code, keeps the same names: engine::to_string(CheckKind)).
std::string_view canonical_name(CheckKind check);
// A check by either spelling the `checks` list accepts ("status-200" or "status_200"); nullopt
// when there is no such check.
std::optional<CheckKind> find_check(std::string_view name);

// `cache.source: kubernetes`: pods found with kubectl (pod discovery in lib/kube), scraped through
// the API server's pod proxy or `kubectl exec`. Empty kubeconfig/context/namespace: as kubectl
// decides (KUBECONFIG, ~/.kube/config, the context's namespace).
struct KubernetesSpec {
  enum class Via { proxy, exec };  // proxy: kubectl get --raw .../pods/POD:PORT/proxy/metrics; exec: curl/wget in the container
  std::string namespace_name;                  // `namespace:` ("" = the context's namespace)
  std::string selector = "llm-d.ai/role=decode";  // label selector (kubectl -l)
  std::string container = "vllm";             // container that serves /metrics (exec target; its ports)
  std::vector<std::uint16_t> ports = {8200, 8001, 8000};  // metrics ports tried in order per pod
  Via via = Via::proxy;
  std::string kubeconfig;                      // --kubeconfig ("" = KUBECONFIG or ~/.kube/config)
  std::string context;                         // --context ("" = current context)
  bool restart_pods = false;                   // `restart:` restart the selected pods before the run
};

// `source: prometheus`: the same counters read from a Prometheus server's query API at the two
// instants (each from the first scrape after it), for pods that cannot be reached directly.
struct PrometheusSpec {
  std::string url;                 // `prometheus_url`: http://prometheus:9090
  std::string matcher;             // `matcher`: PromQL label matchers selecting the pods' series
  std::string pod_label = "pod";   // `pod_label`: the label naming a pod
  // `scrape_interval`: how often Prometheus scrapes the pods; a snapshot waits for each pod's first
  // scrape after it was requested, at most 2 x scrape_interval + 5 s
  Duration scrape_interval = std::chrono::seconds(30);
  // `bearer_token_env` (or --prometheus-token-env): NAME of the environment variable holding the
  // token sent as "Authorization: Bearer" (OpenShift thanos-querier: a ServiceAccount token); the
  // token is never printed or stored. "" = no token.
  std::string bearer_token_env;
  bool insecure = false;  // `insecure`: skip TLS certificate verification of the Prometheus URL
  std::string ca_file;    // `ca_file`: PEM bundle to verify its certificate with (libcurl CAINFO); "" = system CAs
};

struct CacheSpec {
  enum class Source { automatic, none, urls, files, kubernetes, prometheus };  // automatic: the embedded sim's pods, else none
  Source source = Source::automatic;
  std::vector<std::string> urls;          // urls: pod metrics URLs (http://10.0.0.5:8200/metrics)
  std::vector<std::string> files;         // files: saved dumps (used by tests and `diff`)
  KubernetesSpec kubernetes;              // kubernetes: discovery and scrape settings
  PrometheusSpec prometheus;              // prometheus: query API settings
  std::string model_filter;               // only series with this model_name (empty = all)
  Duration scrape_timeout = std::chrono::seconds(10);
  std::size_t max_parallel_scrapes = 32;
  // How many pods may be missing from the cache totals (scrape failed, invalid figures, vanished)
  // before the cache gates (cache_hit_rate, max_pod_share, max_pod_query_share) fail regardless of
  // their values. 0: every pod must be counted.
  std::size_t allow_missing_pods = 0;
  // `interval` (--cache-interval): scrape every pod this often during the measured loop and keep
  // per-pod time series (run/cache_timeline.hpp); nullopt: off (churn `events` then use 1 s).
  // Multiplied by time_scale like the phase times.
  std::optional<Duration> interval;
  SourceLocation where;
};

// `cache_state:` the prefix cache's state before the measured loop, made a known, verified fact by
// the run's stages reset -> prime -> verify (run/cache_state_stages.hpp). Documented in
// scenarios/README.md#cache_state.
struct CacheStateSpec {
  enum class Reset {
    none,     // leave the cache as it is
    api,      // POST /reset_prefix_cache on every pod (vLLM with VLLM_SERVER_DEV_MODE=1), then check it is cold
    restart,  // restart the pods (cache.source: kubernetes; same as cache.restart / --restart-pods)
  };
  Reset reset = Reset::none;
  bool prime = false;   // send each distinct prefix of the workload once, unmeasured, at concurrency 1
  bool verify = false;  // probe each prefix again and check from the counters that it hit its full blocks
  // Each pod's API base URL (http://10.0.0.5:8000), for resets and per-pod probes, in the order of
  // cache.urls; empty: each metrics URL without its path (http://10.0.0.5:8000/metrics -> http://10.0.0.5:8000).
  std::vector<std::string> pod_urls;
  // KV block size in tokens for the expected hits; 0: the pods' vllm:cache_config_info, else the
  // embedded simulator's block_size.
  std::size_t block_size = 0;
  SourceLocation where;  // the section; the file when absent
  bool any() const { return reset != Reset::none || prime || verify; }
};

// One churn event of the top-level `events:` list (load_events.cpp, run/cache_timeline.hpp): at
// `at` into the measured loop (multiplied by time_scale like the phase times), something happens
// to one pod. `scale:` is not supported (rejected by the loader).
struct ChurnEvent {
  enum class Action {
    restart_pod,  // simulator pods: POST /admin/restart on the pod (its metrics URL's origin)
    delete_pod,   // Kubernetes: kubectl delete pod NAME --wait=false (cache.kubernetes namespace and target)
  };
  Duration at{};
  Action action = Action::restart_pod;
  std::string pod;
  SourceLocation where;  // the list item
};

// "restart_pod" | "delete_pod" (the key a scenario writes).
std::string_view to_string(ChurnEvent::Action action);

// The HTTP client that runs the requests (engine/fast_http.hpp): `automatic` takes the built-in
// HTTP/1.1 client for plain http:// targets and libcurl for the rest; `curl` always libcurl.
enum class HttpClient { automatic, curl };

// "auto" | "curl" (what a scenario writes).
std::string_view to_string(HttpClient client);

// engine.coalesce / --coalesce (engine/curl_multi.hpp, README "Wake-ups"): how long the event loop
// may pause before it waits, so that one wake-up reads the events of many streams (a wake-up is most
// of the client's CPU when each brings one event). A pause moves no receive time: it applies only
// while every read carries the kernel's arrival stamp (the built-in client), never to libcurl.
// `automatic`: a tenth of the median inter-token gap seen so far (none before the first gaps),
// at most limits::k_max_coalesce; `off`: never; `fixed`: up to `window`.
struct Coalesce {
  enum class Mode { automatic, off, fixed };
  Mode mode = Mode::automatic;
  std::chrono::nanoseconds window{};  // fixed only: in (0, limits::k_max_coalesce]
};

// "auto", "off" or the fixed window ("2ms"), as a scenario writes it.
std::string to_string(const Coalesce& coalesce);

// `engine:` how the load generator itself runs.
struct EngineSpec {
  // Event loops (threads) the load is spread over (engine/engine.hpp); `--threads` overrides.
  std::size_t threads = 1;
  SourceLocation where;  // its key, or {"--threads"}; empty when not set
  // engine.http; `--http-engine` overrides.
  HttpClient http = HttpClient::automatic;
  // engine.coalesce; `--coalesce` overrides.
  Coalesce coalesce;
};

// `slo:` per-request service-level objectives, for goodput (engine/outcome.hpp judge_slo): a request
// is good when it ended ok and met every objective that is set. Latencies are measured from the
// request's reference instant, as the histograms are (open loop: its scheduled time).
enum class ItlStat { p95, max };
std::string_view to_string(ItlStat stat);  // "p95", "max"

struct Slo {
  std::optional<std::chrono::nanoseconds> ttft;  // reference instant -> first token (none: missed)
  // The request's own inter-token gaps, judged by their p95 (nearest rank) or their max; a request
  // with fewer than two tokens has no gap and meets it.
  std::optional<std::chrono::nanoseconds> itl;
  ItlStat itl_stat = ItlStat::p95;
  // vLLM's TPOT: (end - first token) / (output tokens - 1); met with fewer than two tokens.
  std::optional<std::chrono::nanoseconds> tpot;
  std::optional<std::chrono::nanoseconds> e2e;   // reference instant -> last byte
  SourceLocation where;                          // the `slo` key

  friend bool operator==(const Slo& a, const Slo& b) {
    return a.ttft == b.ttft && a.itl == b.itl && a.itl_stat == b.itl_stat && a.tpot == b.tpot && a.e2e == b.e2e;
  }
};

struct Scenario {
  std::string name;        // default: file stem
  std::string path;        // file it was loaded from ("" for built-in)
  // SHA-256 of the file's bytes (64 hex characters; "" when not loaded from text): a shard result
  // records it, and `llmd-bench merge` refuses shards of different scenario files.
  std::string sha256;
  Target target;
  RequestSpec request;
  std::optional<Phase> warmup;   // unmeasured, before the "before" snapshot
  std::vector<Phase> phases;     // measured
  std::vector<CheckKind> checks;
  // How the `checks` list spelled each check ("status-200"): reports name a check as written.
  // Checks not in it (the defaults) are named canonically ("status_200"); see check_name().
  std::map<CheckKind, std::string> check_spellings;
  std::vector<Threshold> thresholds;
  std::optional<Slo> slo;        // `slo:`; goodput is reported only with it
  CacheSpec cache;
  CacheStateSpec cache_state;
  std::vector<ChurnEvent> events;  // `events:` churn during the measured loop, in file order
  sim::SimConfig sim;            // the embedded simulator (used when target.base_url is empty)
  double time_scale = 1.0;       // multiplies every phase duration/start time (tests: 0.01)
  SourceLocation time_scale_where;  // its `time_scale` key, or {"--time-scale"}; empty when not set
  EngineSpec engine;
};

// A check's name in every report: as the scenario wrote it, else canonical.
std::string check_name(const Scenario& scenario, CheckKind check);

}  // namespace llmd::scenario
