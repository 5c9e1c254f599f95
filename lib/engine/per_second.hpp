#pragma once
// The run, second by second (issue 15): what the HTML report's time-series charts draw. One
// run-wide series (not per phase: phases that overlap share their seconds), indexed by whole
// seconds from the run start, the same clock as PhaseResult::started_at and completions_per_100ms.
//
// Per second:
//   started         requests launched in that second
//   ok / failed     requests that ENDED in that second, ok / not ok (failed, aborted or refused at launch)
//   output_tokens   output tokens of the requests that ended ok in that second
//   peak_in_flight  most requests in flight at once during the second (all phases)
//   ttft / itl      p50 and p95 of the TTFT of the requests that ended ok in that second, and of
//                   the inter-token gaps of those streams (k6 counts a sample when its request
//                   ends, so do we: a slow request shows up in the second it finished)
// The percentiles come from an engine histogram (<= 0.39% error, run_result.hpp) that is reset
// every second, so they are exact to the same bound as the phase percentiles; a second without
// ok requests has none (null in JSON). A second is closed, and its percentiles computed, when the
// first event of a later second arrives or the run ends: memory is one open histogram pair plus
// 10 numbers per second (k_max_seconds of them; later events go to the last second).
//
// Sharded runs (several engines) would need the histograms themselves to merge seconds; one
// engine closes its own seconds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "stats/histogram.hpp"

namespace llmd::engine {

inline constexpr std::size_t k_max_seconds = 24 * 3600;  // a day of seconds (~80 bytes each)

struct SecondBucket {
  std::uint32_t started = 0;
  std::uint32_t ok = 0;
  std::uint32_t failed = 0;
  std::uint64_t output_tokens = 0;
  std::uint32_t peak_in_flight = 0;
  std::optional<double> ttft_p50_ns;
  std::optional<double> ttft_p95_ns;
  std::optional<double> itl_p50_ns;
  std::optional<double> itl_p95_ns;

  bool operator==(const SecondBucket&) const = default;
};

class SecondRecorder {
 public:
  SecondRecorder();

  // A request started at `since_run_start`; `in_flight` counts it.
  void on_start(std::chrono::nanoseconds since_run_start, std::size_t in_flight);
  // A request ended at `since_run_start`; `in_flight` no longer counts it. ok requests pass their
  // output tokens, their TTFT (nullopt without a first token) and their inter-token gaps.
  void on_end(std::chrono::nanoseconds since_run_start, std::size_t in_flight, bool ok, std::uint64_t output_tokens,
              std::optional<std::uint64_t> ttft_ns, std::span<const std::uint64_t> gaps_ns);
  // Closes the open second and returns every second from 0 to the last one that saw an event.
  std::vector<SecondBucket> finish();

 private:
  // Makes `second` the open one (closing earlier ones); returns it.
  SecondBucket& at(std::chrono::nanoseconds since_run_start, std::size_t in_flight_before);
  void close_open();

  std::vector<SecondBucket> m_seconds;
  stats::LogLinearHistogram m_ttft;
  stats::LogLinearHistogram m_itl;
  std::size_t m_in_flight = 0;  // as of the last event
};

// {"bucket_seconds":1,"started":[..],"ok":[..],"failed":[..],"output_tokens":[..],"peak_in_flight":[..],
//  "ttft_p50_ns":[n|null,..],"ttft_p95_ns":[..],"itl_p50_ns":[..],"itl_p95_ns":[..]} (columns, one entry per second)
nlohmann::json to_json(std::span<const SecondBucket> seconds);

}  // namespace llmd::engine
