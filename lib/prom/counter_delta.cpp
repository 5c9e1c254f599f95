#include "prom/counter_delta.hpp"

#include <cmath>

#include <fmt/format.h>

namespace llmd::prom {

namespace {

bool is_counter_value(double value) { return std::isfinite(value) && value >= 0; }

}  // namespace

std::string_view to_string(DeltaStatus status) {
  switch (status) {
    case DeltaStatus::ok: return "ok";
    case DeltaStatus::reset: return "reset";
    case DeltaStatus::appeared: return "new";
    case DeltaStatus::vanished: return "vanished";
    case DeltaStatus::absent: return "absent";
    case DeltaStatus::invalid: return "invalid";
  }
  return "invalid";
}

CounterDelta counter_delta(std::optional<double> before, std::optional<double> after, KnownRestart restart) {
  if ((before && !is_counter_value(*before)) || (after && !is_counter_value(*after))) {
    return {std::nullopt, DeltaStatus::invalid};
  }
  if (!after) {
    return {std::nullopt, before ? DeltaStatus::vanished : DeltaStatus::absent};
  }
  if (!before) {
    return {*after, DeltaStatus::appeared};
  }
  if (*after < *before || restart == KnownRestart::yes) {
    return {*after, DeltaStatus::reset};
  }
  return {*after - *before, DeltaStatus::ok};
}

SeriesDelta series_delta(const SeriesMap& before, const SeriesMap& after, KnownRestart restart) {
  SeriesDelta result;
  if (before.empty() && after.empty()) {
    return result;
  }
  bool reset = false;
  bool invalid = false;
  auto add = [&result](double value) { result.delta = result.delta.value_or(0.0) + value; };
  for (const auto& [key, now] : after) {
    const auto was = before.find(key);
    const bool recreated = was != before.end() && was->second.created_unix_seconds && now.created_unix_seconds &&
                           *was->second.created_unix_seconds != *now.created_unix_seconds;
    const std::optional<double> old = was != before.end() ? std::optional<double>(was->second.value) : std::nullopt;
    const CounterDelta delta = counter_delta(old, now.value, recreated ? KnownRestart::yes : restart);
    if (delta.status == DeltaStatus::invalid) {
      invalid = true;
      result.events.push_back({key, delta.status, fmt::format("holds {:g} (before: {})", now.value,
                                                              old ? fmt::format("{:g}", *old) : "none")});
      continue;
    }
    add(*delta.delta);
    if (delta.status == DeltaStatus::reset) {
      reset = true;
      std::string evidence;
      if (recreated) {
        evidence = fmt::format("_created changed ({:.3f} -> {:.3f}); counted from zero: {:g}",
                               *was->second.created_unix_seconds, *now.created_unix_seconds, now.value);
      } else if (now.value < *old) {
        evidence = fmt::format("went down from {:g} to {:g}; counted from zero", *old, now.value);
      } else {
        evidence = fmt::format("the process restarted; counted from zero: {:g}", now.value);
      }
      result.events.push_back({key, delta.status, std::move(evidence)});
    } else if (delta.status == DeltaStatus::appeared && !before.empty()) {
      result.events.push_back({key, delta.status, fmt::format("appeared during the run; counted from zero: {:g}", now.value)});
    }
  }
  for (const auto& [key, was] : before) {
    if (!after.contains(key)) {
      result.events.push_back({key, DeltaStatus::vanished, fmt::format("was {:g}, missing after the run", was.value)});
    }
  }
  if (invalid) {
    result.delta.reset();
    result.status = DeltaStatus::invalid;
  } else if (after.empty()) {
    result.delta.reset();
    result.status = DeltaStatus::vanished;
  } else if (before.empty()) {
    result.status = DeltaStatus::appeared;
  } else {
    result.status = reset ? DeltaStatus::reset : DeltaStatus::ok;
  }
  return result;
}

}  // namespace llmd::prom
