// Per-request pod attribution (attribution.hpp).
#include "engine/attribution.hpp"

#include <algorithm>
#include <cctype>

#include "engine/outcome.hpp"
#include "engine/run_result.hpp"

namespace llmd::engine {

std::vector<std::string> served_by_header_names(std::span<const std::string> user) {
  std::vector<std::string> names;
  const auto add = [&names](std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!lower.empty() && std::find(names.begin(), names.end(), lower) == names.end()) {
      names.push_back(std::move(lower));
    }
  };
  for (const auto& name : user) {
    add(name);
  }
  for (const auto name : k_default_served_by_headers) {
    add(name);
  }
  return names;
}

std::string_view endpoint_of(std::string_view value) {
  value = value.substr(0, value.find(','));
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && blank(value.front())) {
    value.remove_prefix(1);
  }
  while (!value.empty() && blank(value.back())) {
    value.remove_suffix(1);
  }
  return value;
}

EndpointStats::EndpointStats()
    : ttft_ns(make_engine_histogram()),
      inter_token_latency_ns(make_engine_histogram()),
      http_req_duration_ns(make_engine_histogram()) {}

namespace {

void note_group(GroupStats& group, const std::string& endpoint, std::uint64_t requests) {
  if (group.requests == 0) {
    group.first_endpoint = endpoint;
  } else if (group.last_endpoint != endpoint) {
    ++group.switches;
  }
  if (endpoint != group.first_endpoint) {
    group.sent_away += requests;
  }
  group.last_endpoint = endpoint;
  group.requests += requests;
  group.requests_by_endpoint[endpoint] += requests;
}

}  // namespace

void record_attribution(Attribution& into, std::string_view header, std::string_view endpoint, std::string_view group,
                        const TransferFacts& facts, const Outcome& outcome, const RequestTiming& timing, LoopKind loop) {
  if (endpoint.empty()) {
    ++into.unattributed;
    return;
  }
  ++into.attributed;
  ++into.headers_seen[std::string(header)];
  const std::string key(endpoint);
  auto found = into.endpoints.find(key);
  if (found == into.endpoints.end() && into.endpoints.size() >= k_max_endpoints) {
    ++into.overflow_endpoints;
  } else {
    if (found == into.endpoints.end()) {
      found = into.endpoints.emplace(key, EndpointStats{}).first;
    }
    EndpointStats& stats = found->second;
    if (!outcome.ok) {
      ++stats.failed;
    } else {
      ++stats.ok;
      stats.output_tokens = saturating_add(stats.output_tokens, static_cast<std::uint64_t>(std::max<std::int64_t>(outcome.output_tokens, 0)));
      if (outcome.cached_tokens) {
        stats.cached_tokens = saturating_add(stats.cached_tokens, static_cast<std::uint64_t>(std::max<std::int64_t>(*outcome.cached_tokens, 0)));
        ++stats.responses_with_cached_tokens;
      }
      const TimePoint origin = loop == LoopKind::open ? timing.scheduled : timing.started;
      if (timing.first_token != TimePoint{}) {
        stats.ttft_ns.record(elapsed_ns(origin, timing.first_token));
      }
      for (const auto gap : facts.inter_token_gaps_ns) {
        stats.inter_token_latency_ns.record(gap);
      }
      stats.http_req_duration_ns.record(elapsed_ns(origin, timing.ended));
    }
  }
  if (group.empty()) {
    return;
  }
  const std::string label(group);
  auto entry = into.groups.find(label);
  if (entry == into.groups.end()) {
    if (into.groups.size() >= k_max_groups) {
      ++into.overflow_groups;
      return;
    }
    entry = into.groups.emplace(label, GroupStats{}).first;
  }
  note_group(entry->second, key, 1);
}

void add_endpoint(EndpointStats& into, const EndpointStats& from) {
  into.ok += from.ok;
  into.failed += from.failed;
  into.output_tokens = saturating_add(into.output_tokens, from.output_tokens);
  into.cached_tokens = saturating_add(into.cached_tokens, from.cached_tokens);
  into.responses_with_cached_tokens += from.responses_with_cached_tokens;
  (void)into.ttft_ns.merge(from.ttft_ns);  // same layout (make_engine_histogram): cannot fail
  (void)into.inter_token_latency_ns.merge(from.inter_token_latency_ns);
  (void)into.http_req_duration_ns.merge(from.http_req_duration_ns);
}

void merge_attribution(Attribution& into, const Attribution& from) {
  into.attributed += from.attributed;
  into.unattributed += from.unattributed;
  into.overflow_endpoints += from.overflow_endpoints;
  into.overflow_groups += from.overflow_groups;
  for (const auto& [header, count] : from.headers_seen) {
    into.headers_seen[header] += count;
  }
  for (const auto& [endpoint, stats] : from.endpoints) {
    add_endpoint(into.endpoints.try_emplace(endpoint).first->second, stats);
  }
  for (const auto& [label, group] : from.groups) {
    auto [it, inserted] = into.groups.try_emplace(label);
    GroupStats& target = it->second;
    if (inserted) {
      target = group;
      continue;
    }
    if (group.requests == 0) {
      continue;
    }
    if (target.last_endpoint != group.first_endpoint) {
      ++target.switches;  // the group moved between the phases
    }
    target.switches += group.switches;
    for (const auto& [endpoint, count] : group.requests_by_endpoint) {
      target.requests_by_endpoint[endpoint] += count;
      if (endpoint != target.first_endpoint) {
        target.sent_away += count;
      }
    }
    target.requests += group.requests;
    target.last_endpoint = group.last_endpoint;
  }
}

}  // namespace llmd::engine
