// `events:` (churn during the measured loop) and its rules against `load` and `cache`.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "scenario/phase_load.hpp"
#include "util/duration.hpp"

namespace llmd::scenario {

std::string_view to_string(ChurnEvent::Action action) {
  switch (action) {
    case ChurnEvent::Action::restart_pod: return "restart_pod";
    case ChurnEvent::Action::delete_pod: return "delete_pod";
  }
  return "?";
}

namespace detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Section;
using yaml::ZeroDuration;

constexpr std::array<std::string_view, 4> k_event_keys = {"at", "restart_pod", "delete_pod", "scale"};

constexpr std::pair<std::string_view, ChurnEvent::Action> k_actions[] = {
    {"restart_pod", ChurnEvent::Action::restart_pod},
    {"delete_pod", ChurnEvent::Action::delete_pod},
};

util::Result<ChurnEvent> load_event(const Field& item) {
  auto section = Section::open(item, k_event_keys, "for an event");
  if (!section) {
    return fail(section.error());
  }
  if (item.node()["scale"].IsDefined()) {
    return fail(item.error("scale events are not supported (only restart_pod and delete_pod); remove the `scale` key"));
  }
  ChurnEvent event;
  event.where = item.where();
  int actions = 0;
  for (const auto& [key, action] : k_actions) {
    const YAML::Node raw = item.node()[std::string(key)];
    if (!raw.IsDefined()) {
      continue;
    }
    ++actions;
    if (raw.IsNull()) {
      return fail(item.error(fmt::format("{}: missing pod name, e.g. {{at: 30s, {}: sim-pod-1}}", key, key)));
    }
    LLMD_TRY(section->read(key, event.pod));
    event.action = action;
  }
  if (actions != 1) {
    return fail(item.error(fmt::format("an event needs exactly one of restart_pod: POD or delete_pod: POD (found {})",
                                       actions)));
  }
  LLMD_TRY(section->read("at", event.at, ZeroDuration::allowed, yaml::Need::required));
  return event;
}

// The measured loop's planned length: the latest phase end (start_time + its nominal length, or
// max_duration for iterations and trace), before time_scale.
Duration planned_loop_length(const Scenario& scenario) {
  Duration end{};
  for (const Phase& phase : scenario.phases) {
    end = std::max(end, phase.start_time + nominal_length(phase).value_or(phase.max_duration));
  }
  return end;
}

bool counters_available(const Scenario& s) {
  return s.cache.source != CacheSpec::Source::none &&
         !(s.cache.source == CacheSpec::Source::automatic && !s.target.base_url.empty());
}

}  // namespace

util::Result<void> load_events(const Field& field, std::vector<ChurnEvent>& events) {
  auto items = field.as_list();
  if (!items) {
    return fail(items.error());
  }
  events.clear();
  for (const Field& item : *items) {
    auto event = load_event(item);
    if (!event) {
      return fail(event.error());
    }
    events.push_back(std::move(*event));
  }
  return {};
}

util::Result<void> check_events(const Scenario& s) {
  const Duration loop = planned_loop_length(s);
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const ChurnEvent& event = s.events[i];
    const std::string prefix = fmt::format("{}: events[{}]", to_string(event.where), i);
    if (event.at >= loop) {
      return fail(fmt::format("{}: at {} is not within the measured loop, which is planned to last {}; move the event "
                              "earlier or lengthen `load`",
                              prefix, util::format_duration(event.at), util::format_duration(loop)));
    }
    if (!counters_available(s)) {
      return fail(prefix + ": events are judged from the pods' prefix-cache counters over time: they need a cache "
                           "source (cache.urls, cache.source: kubernetes or the embedded simulator)");
    }
    const auto source = s.cache.source;
    if (event.action == ChurnEvent::Action::delete_pod && source != CacheSpec::Source::kubernetes) {
      return fail(prefix + ": delete_pod deletes a Kubernetes pod with kubectl and needs cache.source: kubernetes; "
                           "for simulator pods use restart_pod");
    }
    if (event.action == ChurnEvent::Action::restart_pod && source != CacheSpec::Source::urls &&
        source != CacheSpec::Source::automatic) {
      return fail(prefix + ": restart_pod posts /admin/restart to a simulator pod's metrics URL and needs the "
                           "embedded simulator or cache.urls; for Kubernetes pods use delete_pod");
    }
  }
  return {};
}

}  // namespace detail

}  // namespace llmd::scenario
