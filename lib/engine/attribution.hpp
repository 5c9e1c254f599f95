#pragma once
// Per-request pod attribution: which endpoint served each request, read from a response header the
// gateway adds (target.served_by_header, then the endpoint-picker protocol's
// x-gateway-destination-endpoint-served and x-gateway-destination-endpoint, then x-served-by), and
// what each endpoint and each prefix group (shared prefix, session, prefix group, conversation) saw.
// The engine records every completed request here (record_attribution); run/routing.hpp turns it
// into the routing report (per-pod latencies, affinity, pod switches, load imbalance).
//
// Header values are `ip:port` (Envoy %UPSTREAM_HOST%, HAProxy %s, nginx $upstream_addr); of a comma
// list the first entry is kept (the endpoint picker's x-gateway-destination-endpoint lists its pick
// first, then fallbacks; nginx's $upstream_addr after a retry lists the failed upstream first, so
// there the count names the first endpoint tried). Bounded: a hostile gateway sending a new value per
// request cannot grow memory past k_max_endpoints / k_max_groups entries (the rest are counted as
// overflow).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stats/histogram.hpp"

namespace llmd::engine {

struct Outcome;
struct RequestTiming;
struct TransferFacts;
enum class LoopKind;

// Header names tried after the user's (target.served_by_header), lowercase.
inline constexpr std::string_view k_default_served_by_headers[] = {
    "x-gateway-destination-endpoint-served", "x-gateway-destination-endpoint", "x-served-by"};
inline constexpr std::size_t k_max_endpoints = 4096;  // distinct served-by values kept
inline constexpr std::size_t k_max_groups = 100000;   // distinct groups kept

// The names to try, in order: `user` (lowercased), then k_default_served_by_headers, without repeats.
std::vector<std::string> served_by_header_names(std::span<const std::string> user);

// The endpoint a header value names: its first comma-separated entry, trimmed ("" when none).
std::string_view endpoint_of(std::string_view value);

// What the requests one endpoint answered add up to (ok requests feed the histograms).
struct EndpointStats {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t output_tokens = 0;
  std::uint64_t cached_tokens = 0;                 // usage.prompt_tokens_details.cached_tokens, summed
  std::uint64_t responses_with_cached_tokens = 0;
  stats::LogLinearHistogram ttft_ns;
  stats::LogLinearHistogram inter_token_latency_ns;
  stats::LogLinearHistogram http_req_duration_ns;
  EndpointStats();
};

// The requests of one group, in completion order.
struct GroupStats {
  std::map<std::string, std::uint64_t> requests_by_endpoint;
  std::string first_endpoint;  // the endpoint that served the group's first request
  std::string last_endpoint;   // ... and its latest one
  std::uint64_t requests = 0;  // attributed requests
  std::uint64_t switches = 0;  // consecutive requests served by different endpoints
  std::uint64_t sent_away = 0; // requests served by another endpoint than first_endpoint
};

struct Attribution {
  std::uint64_t attributed = 0;    // completed requests whose response named an endpoint
  std::uint64_t unattributed = 0;  // completed requests without any of the headers (or an empty value)
  std::map<std::string, std::uint64_t> headers_seen;  // header name -> responses it attributed
  std::map<std::string, EndpointStats> endpoints;     // endpoint value -> its requests
  std::map<std::string, GroupStats> groups;           // group label -> its requests
  std::uint64_t overflow_endpoints = 0;  // requests of endpoints beyond k_max_endpoints (not in `endpoints`)
  std::uint64_t overflow_groups = 0;     // requests of groups beyond k_max_groups (not in `groups`)
};

// Records one completed request: `endpoint` "" = not attributed; `header` the header name that
// named it; `group` "" = the request belongs to no group.
void record_attribution(Attribution& into, std::string_view header, std::string_view endpoint, std::string_view group,
                        const TransferFacts& facts, const Outcome& outcome, const RequestTiming& timing, LoopKind loop);

// Adds one endpoint's requests to another's (counts and histograms).
void add_endpoint(EndpointStats& into, const EndpointStats& from);

// Adds `from` (a later phase) into `into`: counts and histograms add; a group's switches add, plus
// one when its first endpoint in `from` differs from its last in `into`; sent_away is recounted
// against `into`'s first endpoint.
void merge_attribution(Attribution& into, const Attribution& from);

}  // namespace llmd::engine
