#pragma once
// The routing report (issue 14): did the router send each request to the pod holding its prefix?
//   - per pod: requests, errors, TTFT / ITL / end-to-end percentiles and output tokens/s of the
//     requests a served-by response header attributed to it (engine/attribution.hpp), mapped to
//     pod names through the cache source's addresses (metrics URL host:port, Kubernetes podIP);
//   - per group (shared prefix, session, prefix group, conversation): affinity = share of its
//     requests on its most-used pod, distinct pods, pod switches (consecutive requests on different
//     pods) and requests sent away from the group's first pod (the one that cached its prefix);
//   - load imbalance: coefficient of variation and max/mean of requests per pod (attributed
//     requests, else the pods' Δvllm:request_success_total), every scraped pod counted, idle ones as 0;
//   - routing efficiency: the pods' measured hit rate / the workload's ideal hit rate
//     (run/ideal_hit_rate.hpp).
// What cannot be computed is listed with the reason and what to enable, never filled in.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/attribution.hpp"
#include "run/ideal_hit_rate.hpp"
#include "scrape/cache_report.hpp"

namespace llmd::run {

struct PodRouting {
  std::string pod;            // pod name; the endpoint as the gateway named it when no scraped pod matches
  std::vector<std::string> endpoints;  // as the served-by header named them; none for a scraped pod no request was attributed to
  bool mapped = false;        // `pod` is a scraped pod (matched by host:port or IP)
  std::uint64_t requests = 0; // attributed requests (ok + failed)
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::optional<double> ttft_p50_s, ttft_p99_s;
  std::optional<double> itl_p50_s, itl_p99_s;
  std::optional<double> e2e_p50_s, e2e_p99_s;
  std::optional<double> output_tokens_per_s;  // its ok requests' output tokens / the measured wall time
  std::optional<std::uint64_t> cached_tokens;  // Σ usage...cached_tokens when each ok response reported it
  std::optional<double> scraped_hits;          // the pod's ΣΔhits (tokens) over the loop, when scraped in tokens
};

struct GroupRouting {
  std::string group;            // "group 3", "session 2", "shared prefix", a conversation's session id
  std::uint64_t requests = 0;
  std::string top_pod;          // its most-used pod
  double affinity = 0;          // requests on top_pod / requests
  std::size_t pods = 0;         // distinct pods that served it
  std::uint64_t switches = 0;
  std::uint64_t sent_away = 0;  // requests not on the pod that served its first request
  std::string first_pod;
};

struct RoutingInputs {
  const engine::Attribution* attribution = nullptr;  // the measured phases' (RunResult::total)
  std::vector<std::string> headers_tried;            // served_by_header_names(target.served_by_header)
  std::map<std::string, std::string> pod_addresses;  // MetricsSource::pod_addresses()
  const scrape::CacheReport* cache = nullptr;        // nullptr: no cache source / not scraped
  const IdealHitRate* ideal = nullptr;               // nullptr: not computed
  double wall_seconds = 0;                           // the measured phases' wall time
  bool groups_expected = false;                      // the prompt kind has groups (PromptSource::group_of)
};

struct RoutingReport {
  std::vector<std::string> headers_tried;
  std::map<std::string, std::uint64_t> headers_seen;  // header -> responses it attributed
  std::uint64_t attributed = 0;
  std::uint64_t unattributed = 0;
  std::vector<PodRouting> pods;          // by pod name
  std::vector<std::string> unmapped;     // endpoints that match no scraped pod
  std::vector<GroupRouting> groups;      // worst affinity first, then by name
  std::optional<double> affinity_p10;    // nearest-rank percentile over groups
  std::optional<double> affinity_mean;
  std::optional<double> affinity_min;
  std::uint64_t switches_total = 0;
  std::optional<double> switches_mean;   // per group
  std::optional<std::uint64_t> sent_away;
  std::optional<double> load_cv;         // requests per pod: population stddev / mean
  std::optional<double> load_max_over_mean;
  std::string load_source;               // "served-by header" | "pods' vllm:request_success_total" | ""
  std::optional<double> measured_hit_rate;
  std::optional<double> ideal_hit_rate;
  std::optional<double> efficiency;      // measured / ideal
  std::vector<std::string> not_computed; // "what: why; what to do", one per figure that is missing
  // Per pod: client cached_tokens vs scraped Δhits differing by more than 1% (pod, client, pods').
  struct CachedMismatch {
    std::string pod;
    std::uint64_t client = 0;
    double hits = 0;
  };
  std::vector<CachedMismatch> cached_mismatches;
};

RoutingReport compute_routing(const RoutingInputs& inputs);

// The scraped pod an endpoint names (`addresses`: MetricsSource::pod_addresses()): its host:port
// exactly, else its host when one pod alone has it; nullopt when none does.
std::optional<std::string> pod_for(const std::map<std::string, std::string>& addresses, std::string_view endpoint);

// Nearest-rank percentile (0..100) of `values` (sorted here); nullopt when empty.
std::optional<double> nearest_rank(std::vector<double> values, double percentile);

// {"headers_tried","headers_seen","attributed","unattributed","pods":[...],"unmapped_endpoints",
//  "groups":[...],"affinity":{"p10","mean","min"},"pod_switches":{"total","mean_per_group"},"sent_away",
//  "load_imbalance":{"cv","max_over_mean","source"},"efficiency":{"measured_hit_rate","ideal_hit_rate","ratio"},
//  "not_computed":[...]}
nlohmann::json to_json(const RoutingReport& report);

}  // namespace llmd::run
