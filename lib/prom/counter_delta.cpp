#include "prom/counter_delta.hpp"

#include <cmath>

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

}  // namespace llmd::prom
