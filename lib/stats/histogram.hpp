#pragma once
// Mergeable log-linear ("HDR-style") histogram for latencies in nanoseconds, or any other
// non-negative integer quantity (token counts, tokens/s rounded to an integer).
//
// Layout. With k = sub_bucket_bits, a value v goes to bucket
//     shift = max(0, bit_width(v) - (k + 1))
//     index = (shift << k) + (v >> shift)
// Values below 2^(k+1) get one bucket each (width 1: exact). Above that, each power of two
// [2^e, 2^(e+1)) is split into 2^k linear sub-buckets of width 2^(e-k). Example, k = 2:
//     index  0..7   values 0..7 (width 1)
//     index  8..11  values [8,10) [10,12) [12,14) [14,16)   (width 2)
//     index 12..15  values [16,20) [20,24) [24,28) [28,32)  (width 4) ...
// The index is contiguous, so record() is one bit_width, one shift and one add.
//
// Error bound. A bucket in the octave [2^e, 2^(e+1)) has lower bound L >= 2^e and width
// w = 2^(e-k), so w / L <= 2^-k. percentile() reports the bucket midpoint M = L + (w-1)/2, and
// any integer x in the bucket satisfies |M - x| <= (w-1)/2 < w/2, hence
//     |M - x| / x < (w/2) / L <= 2^-(k+1).
// Default k = 7: width/value <= 1/128, reported percentiles within 1/256 = 0.39% of the exact
// value (requirement: 1%). The midpoint is then clamped to the exact [min, max], which can only
// move it closer. Values outside the tracked range lose this bound (see "Out-of-range values").
//
// Memory. Buckets span index 0 .. bucket_index(highest_value()): (max_value_bits - k + 1) * 2^k
// 64-bit counters. Default max_value_bits = 42 (highest value 2^42-1 ns = 73.3 minutes):
// 36 * 128 = 4608 buckets = 36 KiB, allocated once by the constructor.
//
// Percentile definition (nearest rank). For n recorded values sorted ascending x[1..n], the
// p-th percentile (p in [0, 100]) is x[r] with r = max(1, ceil(p/100 * n)): p = 0 is the
// minimum, p = 100 the maximum, p = 50 of {1,2,3,4} is 2. nearest_rank() computes r.
//
// Out-of-range values. Values below layout.lowest_value (default 1: a 0 ns latency is a clock
// glitch) or above highest_value() are counted in their bucket at the edge of the range (so count()
// and the percentile ranks stay right) AND in below_range_count()/above_range_count(), whose sum
// is overflow_count(); reports must show it (never silently reclassified, STYLE.md anti-pattern 3).
// min(), max() and sum() keep the raw, unclamped values.
//
// Threading. record() allocates nothing and takes no lock; a histogram is NOT thread-safe. Give
// each thread its own histogram and merge() them when the run ends.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/result.hpp"

namespace llmd::stats {

// 128-bit accumulator for sums: 2^64 ns is 584 years, but record_n(value, n) multiplies.
__extension__ typedef unsigned __int128 Uint128;

// Decimal digits of `value`, e.g. "18446744073709551616".
std::string to_decimal_string(Uint128 value);

// JSON "schema" and "version" written by to_json() and required by from_json().
inline constexpr const char* k_histogram_schema = "llmd-bench/histogram";
inline constexpr std::uint64_t k_histogram_schema_version = 1;

// Valid layouts: sub_bucket_bits in [1, 10], max_value_bits in [sub_bucket_bits + 1, 64],
// lowest_value <= highest_value().
inline constexpr std::uint32_t k_min_sub_bucket_bits = 1;
inline constexpr std::uint32_t k_max_sub_bucket_bits = 10;
inline constexpr std::uint32_t k_max_max_value_bits = 64;

struct HistogramLayout {
  // k: each power of two above 2^(k+1) is split into 2^k linear sub-buckets (see the file comment).
  std::uint32_t sub_bucket_bits = 7;
  // Smallest tracked value; smaller values count as below range (0 by default).
  std::uint64_t lowest_value = 1;
  // Largest tracked value is 2^max_value_bits - 1; larger values count as above range.
  std::uint32_t max_value_bits = 42;

  bool operator==(const HistogramLayout&) const = default;

  // The methods below require a valid layout (validate() succeeded).
  std::uint64_t highest_value() const;
  // Number of buckets (counters) a histogram with this layout holds.
  std::size_t num_buckets() const;
  // Bucket of `value`; for values above highest_value() the index is >= num_buckets().
  std::size_t bucket_index(std::uint64_t value) const {
    const int width = std::bit_width(value);
    const int k = static_cast<int>(sub_bucket_bits);
    const int shift = width > k + 1 ? width - k - 1 : 0;
    return (static_cast<std::size_t>(shift) << sub_bucket_bits) + static_cast<std::size_t>(value >> shift);
  }
  // Smallest and largest value that land in bucket `index` (inclusive).
  std::uint64_t bucket_lowest_value(std::size_t index) const;
  std::uint64_t bucket_highest_value(std::size_t index) const;
  // (lowest + highest) / 2: what percentile() reports for the bucket.
  double bucket_midpoint(std::size_t index) const;
  // Bound on |reported - exact| / exact for percentiles of in-range values: 2^-(k+1).
  double max_relative_error() const;
};

// Error names the field, e.g. "sub_bucket_bits: got 0, expected an integer in [1, 10]".
util::Result<void> validate(const HistogramLayout& layout);
namespace detail {
// validate() on 64-bit field values (from_json() reads them before narrowing).
util::Result<void> validate_layout_fields(std::uint64_t sub_bucket_bits, std::uint64_t lowest_value,
                                          std::uint64_t max_value_bits);
}  // namespace detail
// "{sub_bucket_bits=7, lowest_value=1, max_value_bits=42}"
std::string to_string(const HistogramLayout& layout);

// Nearest rank r in [1, n] of the p-th percentile (definition above). p is clamped to [0, 100]
// (NaN counts as 0); products within 1e-12 (relative) above an integer are treated as that
// integer, so decimal p such as 99.9 behave as if exact. Requires n >= 1.
std::uint64_t nearest_rank(double p, std::uint64_t n);

class LogLinearHistogram {
 public:
  // Default layout: 1 ns .. 73.3 min, <= 0.39% percentile error, 36 KiB.
  LogLinearHistogram();
  // Fails when validate(layout) fails; the error starts with "invalid histogram layout: ".
  static util::Result<LogLinearHistogram> create(const HistogramLayout& layout);

  // Records one value. O(1), no allocation, no lock.
  void record(std::uint64_t value) { record_n(value, 1); }
  // Records `n` occurrences of `value` (n = 0 does nothing). The total count must stay < 2^64.
  void record_n(std::uint64_t value, std::uint64_t n);
  // Adds `other` bucket-wise. Fails, leaving *this unchanged, when the layouts differ:
  // "cannot merge histograms with different layouts: {...} vs {...}".
  util::Result<void> merge(const LogLinearHistogram& other);
  // Forgets every recorded value; keeps the layout and the allocated buckets.
  void reset();

  const HistogramLayout& layout() const { return m_layout; }
  // Values recorded, out-of-range ones included.
  std::uint64_t count() const { return m_count; }
  // Exact smallest / largest recorded value (unclamped); nullopt when empty.
  std::optional<std::uint64_t> min() const;
  std::optional<std::uint64_t> max() const;
  // Exact sum of the recorded values (unclamped); 0 when empty.
  Uint128 sum() const { return m_sum; }
  // sum() / count() in double precision; nullopt when empty.
  std::optional<double> mean() const;
  // Nearest-rank percentile, p in [0, 100]: the exact min() for rank 1, the exact max() for
  // rank count(), otherwise the midpoint of the bucket holding that rank, clamped to
  // [min(), max()]. nullopt when empty.
  std::optional<double> percentile(double p) const;
  // Values recorded outside [layout().lowest_value, layout().highest_value()].
  std::uint64_t overflow_count() const { return m_below_range + m_above_range; }
  std::uint64_t below_range_count() const { return m_below_range; }
  std::uint64_t above_range_count() const { return m_above_range; }
  // Count per bucket, indexed by layout().bucket_index().
  std::span<const std::uint64_t> bucket_counts() const { return m_bucket_counts; }

  // Sparse JSON form, e.g.
  //   {"schema": "llmd-bench/histogram", "version": 1,
  //    "layout": {"sub_bucket_bits": 7, "lowest_value": 1, "max_value_bits": 42},
  //    "count": 3, "min": 5, "max": 1000, "sum": 1015, "below_range": 0, "above_range": 0,
  //    "buckets": [[5, 1], [10, 1], [500, 1]]}
  // "buckets" lists [bucket_index, count] for non-empty buckets, by increasing index. "min" and
  // "max" are null when count is 0. "sum" is a JSON integer, or a decimal string when it
  // exceeds 2^64 - 1.
  nlohmann::json to_json() const;
  // Inverse of to_json(), validating every field and the totals against the buckets. Errors
  // look like "histogram JSON: buckets[2][1]: got -4, expected a non-negative integer".
  static util::Result<LogLinearHistogram> from_json(const nlohmann::json& json);

  // Same layout, same buckets, same totals.
  bool operator==(const LogLinearHistogram&) const = default;

 private:
  explicit LogLinearHistogram(const HistogramLayout& layout);
  // The bucket indices [first, last) that can be non-empty: those of the clamped min() and max(),
  // since every recorded value lies between them (from_json checks the same of what it reads).
  // Empty when count() is 0. Lets reset(), percentile(), merge() and to_json() skip the ~4,600
  // empty buckets of the default layout (36 KiB) that a narrow distribution never touches.
  std::pair<std::size_t, std::size_t> occupied() const;

  HistogramLayout m_layout;
  std::uint64_t m_highest_value = 0;          // m_layout.highest_value(), cached for record()
  std::vector<std::uint64_t> m_bucket_counts;  // layout().num_buckets() counters
  std::uint64_t m_count = 0;
  std::uint64_t m_min = UINT64_MAX;  // meaningful only when m_count > 0
  std::uint64_t m_max = 0;           // meaningful only when m_count > 0
  Uint128 m_sum = 0;
  std::uint64_t m_below_range = 0;
  std::uint64_t m_above_range = 0;
};

inline void LogLinearHistogram::record_n(std::uint64_t value, std::uint64_t n) {
  if (n == 0) {
    return;
  }
  std::uint64_t tracked = value;
  if (value < m_layout.lowest_value) {
    m_below_range += n;
    tracked = m_layout.lowest_value;
  } else if (value > m_highest_value) {
    m_above_range += n;
    tracked = m_highest_value;
  }
  m_bucket_counts[m_layout.bucket_index(tracked)] += n;
  m_count += n;
  m_sum += static_cast<Uint128>(value) * n;
  if (value < m_min) {
    m_min = value;
  }
  if (value > m_max) {
    m_max = value;
  }
}

// What reports print, computed once. Statistics of an empty histogram are nullopt, not zero.
// Values are in the unit recorded (nanoseconds for latencies).
struct Summary {
  std::uint64_t count = 0;           // values recorded, out-of-range ones included
  std::uint64_t overflow_count = 0;  // values outside the layout range (see the file comment)
  std::optional<std::uint64_t> min;  // exact
  std::optional<std::uint64_t> max;  // exact
  std::optional<double> mean;        // exact up to double rounding
  // Nearest-rank percentiles, within layout.max_relative_error() of the exact value.
  std::optional<double> p50;
  std::optional<double> p90;
  std::optional<double> p95;
  std::optional<double> p99;
  std::optional<double> p999;  // 99.9th

  bool operator==(const Summary&) const = default;
};

Summary summarize(const LogLinearHistogram& histogram);

// percentile(p) of a histogram of nanoseconds, in seconds; nullopt when empty.
inline std::optional<double> percentile_seconds(const LogLinearHistogram& ns, double p) {
  const auto value = ns.percentile(p);
  return value ? std::optional<double>(*value * 1e-9) : std::nullopt;
}

}  // namespace llmd::stats
