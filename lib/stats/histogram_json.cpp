// JSON form of LogLinearHistogram (schema in histogram.hpp): to_json() and the validating from_json().
#include <algorithm>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stats/histogram.hpp"
#include "util/json_text.hpp"

namespace llmd::stats {

using nlohmann::json;
using util::Result;
using util::fail;

namespace {

// What from_json() reads besides the layout and the buckets.
struct Totals {
  std::uint64_t count = 0;
  std::optional<std::uint64_t> min;  // null in the JSON when count is 0
  std::optional<std::uint64_t> max;
  Uint128 sum = 0;
  std::uint64_t below_range = 0;
  std::uint64_t above_range = 0;
};

tl::unexpected<std::string> field_error(std::string_view path, std::string_view problem) {
  return fail(fmt::format("histogram JSON: {}: {}", path, problem));
}

Result<std::uint64_t> uint_at(const json& value, std::string_view path) {
  if (const auto number = util::json_uint(value)) {
    return *number;
  }
  return field_error(path, fmt::format("got {}, expected a non-negative integer", util::json_excerpt(value)));
}

Result<std::uint64_t> read_uint(const json& object, const char* key, std::string_view prefix = "") {
  const std::string path = std::string(prefix) + key;
  const auto it = object.find(key);
  if (it == object.end()) {
    return field_error(path, "missing, expected a non-negative integer");
  }
  return uint_at(*it, path);
}

// Null (empty histogram) or a non-negative integer.
Result<std::optional<std::uint64_t>> read_optional_uint(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it != object.end() && it->is_null()) {
    return std::optional<std::uint64_t>();
  }
  return read_uint(object, key).map([](std::uint64_t value) { return std::optional<std::uint64_t>(value); });
}

// A JSON integer, or a string of decimal digits for sums above 2^64 - 1.
Result<Uint128> read_sum(const json& object) {
  const auto it = object.find("sum");
  if (it != object.end() && it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    const Uint128 limit = ~Uint128{0};
    Uint128 value = 0;
    bool valid = !text.empty();
    for (const char c : text) {
      const unsigned digit = static_cast<unsigned>(c - '0');
      if (c < '0' || c > '9' || value > (limit - digit) / 10) {
        valid = false;
        break;
      }
      value = value * 10 + digit;
    }
    if (valid) {
      return value;
    }
    return field_error("sum", fmt::format("got {}, expected a non-negative integer below 2^128", util::json_excerpt(*it)));
  }
  return read_uint(object, "sum").map([](std::uint64_t value) { return static_cast<Uint128>(value); });
}

Result<void> check_header(const json& object) {
  const auto schema = object.find("schema");
  if (schema == object.end() || !schema->is_string() || schema->get_ref<const std::string&>() != k_histogram_schema) {
    const std::string got = schema == object.end() ? std::string("nothing") : util::json_excerpt(*schema);
    return field_error("schema", fmt::format("got {}, expected \"{}\"", got, k_histogram_schema));
  }
  auto version = read_uint(object, "version");
  if (!version) {
    return fail(version.error());
  }
  if (*version != k_histogram_schema_version) {
    return field_error("version", fmt::format("got {}, expected {}", *version, k_histogram_schema_version));
  }
  return {};
}

// Moves result's value into `out`, or keeps its error in `first_error` unless one is already there.
template <class T, class U>
void take(Result<T>&& result, U& out, std::string& first_error) {
  if (result) {
    out = std::move(*result);
  } else if (first_error.empty()) {
    first_error = std::move(result.error());
  }
}

Result<HistogramLayout> read_layout(const json& object) {
  const auto it = object.find("layout");
  if (it == object.end() || !it->is_object()) {
    const std::string got = it == object.end() ? std::string("nothing") : util::json_excerpt(*it);
    return field_error("layout", fmt::format("got {}, expected an object", got));
  }
  std::uint64_t sub_bucket_bits = 0;
  std::uint64_t lowest_value = 0;
  std::uint64_t max_value_bits = 0;
  std::string error;
  take(read_uint(*it, "sub_bucket_bits", "layout."), sub_bucket_bits, error);
  take(read_uint(*it, "lowest_value", "layout."), lowest_value, error);
  take(read_uint(*it, "max_value_bits", "layout."), max_value_bits, error);
  if (!error.empty()) {
    return fail(error);
  }
  if (auto valid = detail::validate_layout_fields(sub_bucket_bits, lowest_value, max_value_bits); !valid) {
    return fail("histogram JSON: layout." + valid.error());
  }
  return HistogramLayout{static_cast<std::uint32_t>(sub_bucket_bits), lowest_value,
                         static_cast<std::uint32_t>(max_value_bits)};
}

Result<Totals> read_totals(const json& object) {
  Totals totals;
  std::string error;
  take(read_uint(object, "count"), totals.count, error);
  take(read_optional_uint(object, "min"), totals.min, error);
  take(read_optional_uint(object, "max"), totals.max, error);
  take(read_sum(object), totals.sum, error);
  take(read_uint(object, "below_range"), totals.below_range, error);
  take(read_uint(object, "above_range"), totals.above_range, error);
  if (!error.empty()) {
    return fail(error);
  }
  return totals;
}

// Fills `counts` from the sparse [[index, count], ...] list; returns the total count.
Result<std::uint64_t> read_buckets(const json& object, std::vector<std::uint64_t>& counts) {
  const auto it = object.find("buckets");
  if (it == object.end() || !it->is_array()) {
    const std::string got = it == object.end() ? std::string("nothing") : util::json_excerpt(*it);
    return field_error("buckets", fmt::format("got {}, expected an array of [bucket_index, count]", got));
  }
  std::uint64_t total = 0;
  std::size_t next_index = 0;  // indices strictly increase
  for (std::size_t n = 0; n < it->size(); ++n) {
    const json& entry = (*it)[n];
    const std::string path = fmt::format("buckets[{}]", n);
    if (!entry.is_array() || entry.size() != 2) {
      return field_error(path, fmt::format("got {}, expected [bucket_index, count]", util::json_excerpt(entry)));
    }
    auto index = uint_at(entry[0], path + "[0]");
    auto count = uint_at(entry[1], path + "[1]");
    if (!index || !count) {
      return fail(!index ? index.error() : count.error());
    }
    if (*index >= counts.size() || *index < next_index) {
      return field_error(path + "[0]", fmt::format("got {}, expected a bucket index in [{}, {}] (increasing)", *index,
                                                   next_index, counts.size() - 1));
    }
    if (*count > UINT64_MAX - total) {
      return field_error(path + "[1]", "the total count exceeds 2^64 - 1");
    }
    counts[*index] = *count;
    total += *count;
    next_index = *index + 1;
  }
  return total;
}


// Totals of an empty histogram: nothing but zeros and nulls.
Result<void> check_empty_totals(const Totals& totals) {
  if (totals.min || totals.max) {
    return field_error(totals.min ? "min" : "max",
                       fmt::format("got {}, expected null (count is 0)", totals.min ? *totals.min : *totals.max));
  }
  if (totals.sum != 0) {
    return field_error("sum", fmt::format("got {}, expected 0 (count is 0)", to_decimal_string(totals.sum)));
  }
  if (totals.below_range != 0 || totals.above_range != 0) {
    return field_error(totals.below_range != 0 ? "below_range" : "above_range",
                       fmt::format("got {}, expected 0 (count is 0)", std::max(totals.below_range, totals.above_range)));
  }
  return {};
}

// Index of the first / last non-empty bucket; requires at least one.
std::pair<std::size_t, std::size_t> nonempty_range(const std::vector<std::uint64_t>& counts) {
  const auto nonempty = [](std::uint64_t count) { return count != 0; };
  const auto first = std::find_if(counts.begin(), counts.end(), nonempty) - counts.begin();
  const auto last_from_end = std::find_if(counts.rbegin(), counts.rend(), nonempty) - counts.rbegin();
  return {static_cast<std::size_t>(first), counts.size() - 1 - static_cast<std::size_t>(last_from_end)};
}

// min and max must be integers in the first / last non-empty bucket, the out-of-range counters
// must agree with them, and the sum must lie in [min * count, max * count].
Result<void> check_extremes(const Totals& totals, const HistogramLayout& layout,
                            const std::vector<std::uint64_t>& counts) {
  if (!totals.min || !totals.max) {
    return field_error(!totals.min ? "min" : "max",
                       fmt::format("got null, expected an integer (count is {})", totals.count));
  }
  const std::uint64_t min = *totals.min;
  const std::uint64_t max = *totals.max;
  const auto [first, last] = nonempty_range(counts);
  const auto bucket_of = [&layout](std::uint64_t value) {
    return layout.bucket_index(std::clamp(value, layout.lowest_value, layout.highest_value()));
  };
  if (min > max || bucket_of(min) != first) {
    return field_error("min", fmt::format("got {}, expected a value in the first non-empty bucket {}", min, first));
  }
  if (bucket_of(max) != last) {
    return field_error("max", fmt::format("got {}, expected a value in the last non-empty bucket {}", max, last));
  }
  if ((totals.below_range != 0) != (min < layout.lowest_value) || totals.below_range > totals.count) {
    return field_error("below_range", fmt::format("got {}, inconsistent with min {} and count {}",
                                                  totals.below_range, min, totals.count));
  }
  if ((totals.above_range != 0) != (max > layout.highest_value()) ||
      totals.above_range > totals.count - totals.below_range) {
    return field_error("above_range", fmt::format("got {}, inconsistent with max {} and count {}",
                                                  totals.above_range, max, totals.count));
  }
  if (totals.sum < static_cast<Uint128>(min) * totals.count || totals.sum > static_cast<Uint128>(max) * totals.count) {
    return field_error("sum", fmt::format("got {}, expected a value in [min * count, max * count]",
                                          to_decimal_string(totals.sum)));
  }
  return {};
}

}  // namespace

json LogLinearHistogram::to_json() const {
  json buckets = json::array();
  const auto [first, last] = occupied();
  for (std::size_t i = first; i < last; ++i) {
    if (m_bucket_counts[i] != 0) {
      buckets.push_back(json::array({static_cast<std::uint64_t>(i), m_bucket_counts[i]}));
    }
  }
  json sum = m_sum <= UINT64_MAX ? json(static_cast<std::uint64_t>(m_sum)) : json(to_decimal_string(m_sum));
  return json{
      {"schema", k_histogram_schema},
      {"version", k_histogram_schema_version},
      {"layout",
       {{"sub_bucket_bits", m_layout.sub_bucket_bits},
        {"lowest_value", m_layout.lowest_value},
        {"max_value_bits", m_layout.max_value_bits}}},
      {"count", m_count},
      {"min", m_count == 0 ? json(nullptr) : json(m_min)},
      {"max", m_count == 0 ? json(nullptr) : json(m_max)},
      {"sum", std::move(sum)},
      {"below_range", m_below_range},
      {"above_range", m_above_range},
      {"buckets", std::move(buckets)},
  };
}

Result<LogLinearHistogram> LogLinearHistogram::from_json(const json& object) {
  if (!object.is_object()) {
    return fail(fmt::format("histogram JSON: got {}, expected an object", util::json_excerpt(object)));
  }
  if (auto header = check_header(object); !header) {
    return fail(header.error());
  }
  auto layout = read_layout(object);
  if (!layout) {
    return fail(layout.error());
  }
  auto totals = read_totals(object);
  if (!totals) {
    return fail(totals.error());
  }
  LogLinearHistogram histogram(*layout);
  auto bucket_total = read_buckets(object, histogram.m_bucket_counts);
  if (!bucket_total) {
    return fail(bucket_total.error());
  }
  if (totals->count != *bucket_total) {
    return field_error("count", fmt::format("got {}, expected {} (the sum of the bucket counts)", totals->count,
                                            *bucket_total));
  }
  auto consistent = totals->count == 0 ? check_empty_totals(*totals)
                                       : check_extremes(*totals, *layout, histogram.m_bucket_counts);
  if (!consistent) {
    return fail(consistent.error());
  }
  histogram.m_count = totals->count;
  histogram.m_min = totals->count == 0 ? UINT64_MAX : *totals->min;
  histogram.m_max = totals->count == 0 ? 0 : *totals->max;
  histogram.m_sum = totals->sum;
  histogram.m_below_range = totals->below_range;
  histogram.m_above_range = totals->above_range;
  return histogram;
}

}  // namespace llmd::stats
