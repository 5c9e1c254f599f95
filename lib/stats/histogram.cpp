#include "stats/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace llmd::stats {

using nlohmann::json;
using util::Result;
using util::fail;

std::string to_decimal_string(Uint128 value) {
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// ---- HistogramLayout ----------------------------------------------------------------------

namespace detail {

Result<void> validate_layout_fields(std::uint64_t sub_bucket_bits, std::uint64_t lowest_value,
                             std::uint64_t max_value_bits) {
  if (sub_bucket_bits < k_min_sub_bucket_bits || sub_bucket_bits > k_max_sub_bucket_bits) {
    return fail(fmt::format("sub_bucket_bits: got {}, expected an integer in [{}, {}]", sub_bucket_bits,
                            k_min_sub_bucket_bits, k_max_sub_bucket_bits));
  }
  if (max_value_bits < sub_bucket_bits + 1 || max_value_bits > k_max_max_value_bits) {
    return fail(fmt::format("max_value_bits: got {}, expected an integer in [{}, {}] (sub_bucket_bits + 1 .. 64)",
                            max_value_bits, sub_bucket_bits + 1, k_max_max_value_bits));
  }
  const std::uint64_t highest = max_value_bits == 64 ? UINT64_MAX : (std::uint64_t{1} << max_value_bits) - 1;
  if (lowest_value > highest) {
    return fail(fmt::format("lowest_value: got {}, expected at most {} (2^max_value_bits - 1)", lowest_value,
                            highest));
  }
  return {};
}

}  // namespace detail

Result<void> validate(const HistogramLayout& layout) {
  return detail::validate_layout_fields(layout.sub_bucket_bits, layout.lowest_value, layout.max_value_bits);
}

std::string to_string(const HistogramLayout& layout) {
  return fmt::format("{{sub_bucket_bits={}, lowest_value={}, max_value_bits={}}}", layout.sub_bucket_bits,
                     layout.lowest_value, layout.max_value_bits);
}

std::uint64_t HistogramLayout::highest_value() const {
  return max_value_bits >= 64 ? UINT64_MAX : (std::uint64_t{1} << max_value_bits) - 1;
}

std::size_t HistogramLayout::num_buckets() const { return bucket_index(highest_value()) + 1; }

std::uint64_t HistogramLayout::bucket_lowest_value(std::size_t index) const {
  if (index < (std::size_t{1} << (sub_bucket_bits + 1))) {
    return index;
  }
  const std::size_t shift = (index >> sub_bucket_bits) - 1;
  const std::uint64_t mantissa = index - (shift << sub_bucket_bits);
  return mantissa << shift;
}

std::uint64_t HistogramLayout::bucket_highest_value(std::size_t index) const {
  if (index < (std::size_t{1} << (sub_bucket_bits + 1))) {
    return index;
  }
  const std::size_t shift = (index >> sub_bucket_bits) - 1;
  return bucket_lowest_value(index) + ((std::uint64_t{1} << shift) - 1);
}

double HistogramLayout::bucket_midpoint(std::size_t index) const {
  const std::uint64_t lowest = bucket_lowest_value(index);
  const std::uint64_t width_minus_one = bucket_highest_value(index) - lowest;
  return static_cast<double>(lowest) + static_cast<double>(width_minus_one) / 2.0;
}

double HistogramLayout::max_relative_error() const {
  return std::ldexp(1.0, -static_cast<int>(sub_bucket_bits + 1));
}

std::uint64_t nearest_rank(double p, std::uint64_t n) {
  const double clamped = std::isnan(p) ? 0.0 : std::clamp(p, 0.0, 100.0);
  const double exact = clamped * static_cast<double>(n) / 100.0;
  const double rank = std::ceil(exact * (1.0 - 1e-12));
  if (rank <= 1.0) {
    return 1;
  }
  if (rank >= static_cast<double>(n)) {
    return n;
  }
  return static_cast<std::uint64_t>(rank);
}

// ---- LogLinearHistogram ---------------------------------------------------------------------

LogLinearHistogram::LogLinearHistogram() : LogLinearHistogram(HistogramLayout{}) {}

LogLinearHistogram::LogLinearHistogram(const HistogramLayout& layout)
    : m_layout(layout), m_highest_value(layout.highest_value()), m_bucket_counts(layout.num_buckets(), 0) {}

Result<LogLinearHistogram> LogLinearHistogram::create(const HistogramLayout& layout) {
  if (auto valid = validate(layout); !valid) {
    return fail("invalid histogram layout: " + valid.error());
  }
  return LogLinearHistogram(layout);
}

Result<void> LogLinearHistogram::merge(const LogLinearHistogram& other) {
  if (!(m_layout == other.m_layout)) {
    return fail(fmt::format("cannot merge histograms with different layouts: {} vs {}", to_string(m_layout),
                            to_string(other.m_layout)));
  }
  if (other.m_count == 0) {
    return {};
  }
  const auto [first, last] = other.occupied();
  for (std::size_t i = first; i < last; ++i) {
    m_bucket_counts[i] += other.m_bucket_counts[i];
  }
  m_count += other.m_count;
  m_sum += other.m_sum;
  m_min = std::min(m_min, other.m_min);
  m_max = std::max(m_max, other.m_max);
  m_below_range += other.m_below_range;
  m_above_range += other.m_above_range;
  return {};
}

std::pair<std::size_t, std::size_t> LogLinearHistogram::occupied() const {
  if (m_count == 0) {
    return {0, 0};
  }
  const auto index = [this](std::uint64_t value) {
    return m_layout.bucket_index(std::clamp(value, m_layout.lowest_value, m_highest_value));
  };
  return {index(m_min), index(m_max) + 1};
}

void LogLinearHistogram::reset() {
  const auto [first, last] = occupied();
  std::fill(m_bucket_counts.begin() + static_cast<std::ptrdiff_t>(first),
            m_bucket_counts.begin() + static_cast<std::ptrdiff_t>(last), 0);
  m_count = 0;
  m_min = UINT64_MAX;
  m_max = 0;
  m_sum = 0;
  m_below_range = 0;
  m_above_range = 0;
}

std::optional<std::uint64_t> LogLinearHistogram::min() const {
  return m_count == 0 ? std::nullopt : std::optional<std::uint64_t>(m_min);
}

std::optional<std::uint64_t> LogLinearHistogram::max() const {
  return m_count == 0 ? std::nullopt : std::optional<std::uint64_t>(m_max);
}

std::optional<double> LogLinearHistogram::mean() const {
  if (m_count == 0) {
    return std::nullopt;
  }
  return static_cast<double>(m_sum) / static_cast<double>(m_count);
}

std::optional<double> LogLinearHistogram::percentile(double p) const {
  if (m_count == 0) {
    return std::nullopt;
  }
  const std::uint64_t rank = nearest_rank(p, m_count);
  if (rank == 1) {
    return static_cast<double>(m_min);
  }
  if (rank == m_count) {
    return static_cast<double>(m_max);
  }
  std::uint64_t seen = 0;
  const auto [first, last] = occupied();
  for (std::size_t i = first; i < last; ++i) {
    seen += m_bucket_counts[i];
    if (seen >= rank) {
      return std::clamp(m_layout.bucket_midpoint(i), static_cast<double>(m_min), static_cast<double>(m_max));
    }
  }
  return static_cast<double>(m_max);  // unreachable: the bucket counts add up to m_count
}

Summary summarize(const LogLinearHistogram& histogram) {
  Summary summary;
  summary.count = histogram.count();
  summary.overflow_count = histogram.overflow_count();
  summary.min = histogram.min();
  summary.max = histogram.max();
  summary.mean = histogram.mean();
  summary.p50 = histogram.percentile(50);
  summary.p90 = histogram.percentile(90);
  summary.p95 = histogram.percentile(95);
  summary.p99 = histogram.percentile(99);
  summary.p999 = histogram.percentile(99.9);
  return summary;
}

}  // namespace llmd::stats
