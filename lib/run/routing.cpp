// The routing report (routing.hpp).
#include "run/routing.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "engine/outcome.hpp"


namespace llmd::run {

namespace {

using nlohmann::json;

// What a user enables so that responses name the pod that served them.
constexpr std::string_view k_enable_served_by =
    "have the gateway add the upstream address to responses (Envoy/Istio: response_headers_to_add "
    "x-served-by: %UPSTREAM_HOST%; HAProxy: http-response set-header X-Served-By %s; nginx: add_header "
    "X-Served-By $upstream_addr always) or name the header it already sends in target.served_by_header "
    "(README \"Routing analysis\")";

// "[::1]:8000" -> "[::1]", "10.0.0.5:8000" -> "10.0.0.5", "10.0.0.5" -> "10.0.0.5".
std::string_view host_of(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(0, close + 1);
  }
  const auto colon = address.find(':');
  if (colon != std::string_view::npos && address.find(':', colon + 1) == std::string_view::npos) {
    return address.substr(0, colon);
  }
  return address;  // no port, or a bare IPv6 address
}


using stats::percentile_seconds;

// Requests per pod -> (cv, max/mean); nullopt for no pods or no requests.
std::optional<std::pair<double, double>> imbalance(const std::vector<double>& counts) {
  if (counts.empty()) {
    return std::nullopt;
  }
  double sum = 0;
  double most = 0;
  for (const double count : counts) {
    sum += count;
    most = std::max(most, count);
  }
  const double mean = sum / static_cast<double>(counts.size());
  if (!(mean > 0)) {
    return std::nullopt;
  }
  double squares = 0;
  for (const double count : counts) {
    squares += (count - mean) * (count - mean);
  }
  return std::pair{std::sqrt(squares / static_cast<double>(counts.size())) / mean, most / mean};
}

json optional_number(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

}  // namespace

std::optional<std::string> pod_for(const std::map<std::string, std::string>& addresses, std::string_view endpoint) {
  for (const auto& [pod, address] : addresses) {
    if (address == endpoint) {
      return pod;
    }
  }
  const std::string_view host = host_of(endpoint);
  std::optional<std::string> found;
  std::size_t matches = 0;
  for (const auto& [pod, address] : addresses) {
    if (host_of(address) == host || (host.size() > 2 && host.front() == '[' && address == host.substr(1, host.size() - 2))) {
      found = pod;
      ++matches;
    }
  }
  return matches == 1 ? found : std::nullopt;
}

std::optional<double> nearest_rank(std::vector<double> values, double percentile) {
  if (values.empty()) {
    return std::nullopt;
  }
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(percentile / 100.0 * static_cast<double>(values.size()));
  const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[index];
}

RoutingReport compute_routing(const RoutingInputs& inputs) {
  RoutingReport report;
  report.headers_tried = inputs.headers_tried;
  const engine::Attribution empty;
  const engine::Attribution& attribution = inputs.attribution != nullptr ? *inputs.attribution : empty;
  report.headers_seen = attribution.headers_seen;
  report.attributed = attribution.attributed;
  report.unattributed = attribution.unattributed;
  const bool attributed = attribution.attributed > 0;

  // Endpoints -> pods (several endpoints may name one pod: merged).
  std::map<std::string, std::string> pod_of_endpoint;
  std::map<std::string, engine::EndpointStats> by_pod;
  std::map<std::string, std::vector<std::string>> endpoints_of_pod;
  std::map<std::string, bool> mapped;
  for (const auto& [endpoint, stats] : attribution.endpoints) {
    const auto pod = pod_for(inputs.pod_addresses, endpoint);
    const std::string name = pod ? *pod : endpoint;
    if (!pod) {
      report.unmapped.push_back(endpoint);
    }
    pod_of_endpoint[endpoint] = name;
    mapped[name] = pod.has_value();
    endpoints_of_pod[name].push_back(endpoint);
    engine::add_endpoint(by_pod[name], stats);
  }
  // Every scraped pod gets a row (an idle pod is part of the imbalance).
  std::map<std::string, const scrape::PodCacheRow*> rows;
  if (inputs.cache != nullptr) {
    for (const auto& row : inputs.cache->pods) {
      rows[row.pod] = &row;
      if (attributed && !by_pod.contains(row.pod)) {
        by_pod[row.pod];
        mapped[row.pod] = true;
      }
    }
  }
  for (const auto& [name, stats] : by_pod) {
    PodRouting pod;
    pod.pod = name;
    pod.endpoints = endpoints_of_pod[name];
    pod.mapped = mapped[name];
    pod.ok = stats.ok;
    pod.failed = stats.failed;
    pod.requests = stats.ok + stats.failed;
    pod.ttft_p50_s = percentile_seconds(stats.ttft_ns, 50);
    pod.ttft_p99_s = percentile_seconds(stats.ttft_ns, 99);
    pod.itl_p50_s = percentile_seconds(stats.inter_token_latency_ns, 50);
    pod.itl_p99_s = percentile_seconds(stats.inter_token_latency_ns, 99);
    pod.e2e_p50_s = percentile_seconds(stats.http_req_duration_ns, 50);
    pod.e2e_p99_s = percentile_seconds(stats.http_req_duration_ns, 99);
    if (inputs.wall_seconds > 0) {
      pod.output_tokens_per_s = static_cast<double>(stats.output_tokens) / inputs.wall_seconds;
    }
    if (stats.ok > 0 && stats.responses_with_cached_tokens == stats.ok) {
      pod.cached_tokens = stats.cached_tokens;
    }
    if (auto row = rows.find(name); row != rows.end() && row->second->in_totals &&
                                    row->second->unit == scrape::CounterUnit::tokens && row->second->hits.delta) {
      pod.scraped_hits = *row->second->hits.delta;
    }
    if (pod.cached_tokens && pod.scraped_hits) {
      const double client = static_cast<double>(*pod.cached_tokens);
      const double larger = std::max(client, *pod.scraped_hits);
      if (larger > 0 && std::abs(client - *pod.scraped_hits) / larger > 0.01) {
        report.cached_mismatches.push_back({name, *pod.cached_tokens, *pod.scraped_hits});
      }
    }
    report.pods.push_back(std::move(pod));
  }

  // Groups.
  std::vector<double> affinities;
  std::uint64_t sent_away = 0;
  for (const auto& [label, group] : attribution.groups) {
    if (group.requests == 0) {
      continue;
    }
    std::map<std::string, std::uint64_t> per_pod;
    for (const auto& [endpoint, count] : group.requests_by_endpoint) {
      per_pod[pod_of_endpoint.contains(endpoint) ? pod_of_endpoint[endpoint] : endpoint] += count;
    }
    GroupRouting row;
    row.group = label;
    row.requests = group.requests;
    for (const auto& [pod, count] : per_pod) {
      if (row.top_pod.empty() || count > per_pod[row.top_pod]) {
        row.top_pod = pod;
      }
    }
    row.affinity = static_cast<double>(per_pod[row.top_pod]) / static_cast<double>(group.requests);
    row.pods = per_pod.size();
    row.switches = group.switches;
    row.sent_away = group.sent_away;
    row.first_pod = pod_of_endpoint.contains(group.first_endpoint) ? pod_of_endpoint[group.first_endpoint] : group.first_endpoint;
    affinities.push_back(row.affinity);
    report.switches_total += group.switches;
    sent_away += group.sent_away;
    report.groups.push_back(std::move(row));
  }
  std::sort(report.groups.begin(), report.groups.end(), [](const GroupRouting& a, const GroupRouting& b) {
    return a.affinity != b.affinity ? a.affinity < b.affinity : a.group < b.group;
  });
  if (!affinities.empty()) {
    report.affinity_p10 = nearest_rank(affinities, 10);
    report.affinity_min = *std::min_element(affinities.begin(), affinities.end());
    double sum = 0;
    for (const double affinity : affinities) {
      sum += affinity;
    }
    report.affinity_mean = sum / static_cast<double>(affinities.size());
    report.switches_mean = static_cast<double>(report.switches_total) / static_cast<double>(affinities.size());
    report.sent_away = sent_away;
  }

  // Load imbalance.
  std::vector<double> counts;
  if (attributed) {
    for (const auto& pod : report.pods) {
      counts.push_back(static_cast<double>(pod.requests));
    }
    report.load_source = "served-by header";
  } else if (inputs.cache != nullptr && !inputs.cache->pods.empty()) {
    bool every = true;
    for (const auto& row : inputs.cache->pods) {
      every = every && row.requests_success.delta.has_value();
      if (row.requests_success.delta) {
        counts.push_back(*row.requests_success.delta);
      }
    }
    if (every) {
      report.load_source = "pods' vllm:request_success_total";
    } else {
      counts.clear();
    }
  }
  if (auto spread = imbalance(counts)) {
    report.load_cv = spread->first;
    report.load_max_over_mean = spread->second;
  } else {
    report.load_source.clear();
  }

  // Efficiency.
  if (inputs.cache != nullptr) {
    report.measured_hit_rate = inputs.cache->totals.hit_rate;
  }
  if (inputs.ideal != nullptr) {
    report.ideal_hit_rate = inputs.ideal->rate;
  }
  if (report.measured_hit_rate && report.ideal_hit_rate && *report.ideal_hit_rate > 0) {
    report.efficiency = *report.measured_hit_rate / *report.ideal_hit_rate;
  }

  // What could not be computed, and why.
  const std::string tried = fmt::format("{}", fmt::join(inputs.headers_tried, ", "));
  if (!attributed) {
    const std::string why =
        attribution.unattributed == 0
            ? std::string("no request completed")
            : fmt::format("none of the {} responses carried a served-by header (tried: {})", attribution.unattributed, tried);
    report.not_computed.push_back(fmt::format("per-pod latency, errors and tokens/s: {}; {}", why, k_enable_served_by));
    report.not_computed.push_back(fmt::format("affinity, pod switches and requests sent away: {}", why));
  } else {
    if (attribution.unattributed > 0) {
      report.not_computed.push_back(fmt::format(
          "{} of {} responses carried no served-by header: the per-pod and per-group figures leave them out",
          attribution.unattributed, attribution.unattributed + attribution.attributed));
    }
    if (!inputs.groups_expected) {
      report.not_computed.push_back("affinity, pod switches and requests sent away: the prompt kind has no prefix groups "
                                    "(shared-prefix, per-session, prefix-groups, multi-turn and fixed prompts have)");
    }
    if (!report.unmapped.empty()) {
      report.not_computed.push_back(fmt::format(
          "pod names for endpoint{} {}: no scraped pod has that address (cache URLs' host:port, or the Kubernetes "
          "podIP); they are listed as the gateway named them",
          report.unmapped.size() == 1 ? "" : "s", fmt::join(report.unmapped, ", ")));
    }
    if (attribution.overflow_endpoints + attribution.overflow_groups > 0) {
      report.not_computed.push_back(fmt::format(
          "{} requests of endpoints past the first {} and {} of groups past the first {} are left out (too many distinct "
          "values)",
          attribution.overflow_endpoints, engine::k_max_endpoints, attribution.overflow_groups, engine::k_max_groups));
    }
  }
  if (!report.load_cv) {
    report.not_computed.push_back(fmt::format(
        "load imbalance: {}", attributed ? "no request was attributed"
                                         : "no served-by header and not every scraped pod exports "
                                           "vllm:request_success_total (or no cache source)"));
  }
  if (!report.efficiency) {
    std::string why;
    if (inputs.cache == nullptr) {
      why = "no cache source: the pods' prefix-cache counters are needed (cache.urls, or cache.source: kubernetes)";
    } else if (!report.measured_hit_rate) {
      why = "the pods counted no prefix-cache queries over the loop";
    } else if (inputs.ideal == nullptr || !inputs.ideal->rate) {
      why = "the workload's ideal hit rate is not known" + (inputs.ideal != nullptr && !inputs.ideal->reason.empty()
                                                                  ? ": " + inputs.ideal->reason
                                                                  : std::string());
    } else {
      why = "the workload's ideal hit rate is 0 (no prompt shares a full block with an earlier one)";
    }
    report.not_computed.push_back("routing efficiency: " + why);
  }
  return report;
}

json to_json(const RoutingReport& report) {
  json pods = json::array();
  for (const auto& pod : report.pods) {
    pods.push_back({{"pod", pod.pod},
                    {"endpoints", pod.endpoints},
                    {"mapped", pod.mapped},
                    {"requests", pod.requests},
                    {"ok", pod.ok},
                    {"failed", pod.failed},
                    {"ttft_seconds", {{"p50", optional_number(pod.ttft_p50_s)}, {"p99", optional_number(pod.ttft_p99_s)}}},
                    {"itl_seconds", {{"p50", optional_number(pod.itl_p50_s)}, {"p99", optional_number(pod.itl_p99_s)}}},
                    {"e2e_seconds", {{"p50", optional_number(pod.e2e_p50_s)}, {"p99", optional_number(pod.e2e_p99_s)}}},
                    {"output_tokens_per_second", optional_number(pod.output_tokens_per_s)},
                    {"cached_tokens", pod.cached_tokens ? json(*pod.cached_tokens) : json(nullptr)},
                    {"scraped_hits_tokens", optional_number(pod.scraped_hits)}});
  }
  json groups = json::array();
  for (const auto& group : report.groups) {
    groups.push_back({{"group", group.group},
                      {"requests", group.requests},
                      {"top_pod", group.top_pod},
                      {"affinity", group.affinity},
                      {"pods", group.pods},
                      {"switches", group.switches},
                      {"sent_away", group.sent_away},
                      {"first_pod", group.first_pod}});
  }
  return {{"headers_tried", report.headers_tried},
          {"headers_seen", report.headers_seen},
          {"attributed", report.attributed},
          {"unattributed", report.unattributed},
          {"pods", std::move(pods)},
          {"unmapped_endpoints", report.unmapped},
          {"groups", std::move(groups)},
          {"affinity",
           {{"p10", optional_number(report.affinity_p10)},
            {"mean", optional_number(report.affinity_mean)},
            {"min", optional_number(report.affinity_min)}}},
          {"pod_switches", {{"total", report.switches_total}, {"mean_per_group", optional_number(report.switches_mean)}}},
          {"sent_away", report.sent_away ? json(*report.sent_away) : json(nullptr)},
          {"load_imbalance",
           {{"cv", optional_number(report.load_cv)},
            {"max_over_mean", optional_number(report.load_max_over_mean)},
            {"source", report.load_source.empty() ? json(nullptr) : json(report.load_source)}}},
          {"efficiency",
           {{"measured_hit_rate", optional_number(report.measured_hit_rate)},
            {"ideal_hit_rate", optional_number(report.ideal_hit_rate)},
            {"ratio", optional_number(report.efficiency)}}},
          {"not_computed", report.not_computed}};
}

}  // namespace llmd::run
