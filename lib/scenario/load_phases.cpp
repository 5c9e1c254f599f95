// `load:` and `warmup:` of a scenario file: k6-style executors, one row each with its own keys.
#include <algorithm>
#include <array>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "scenario/phase_load.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Need;
using yaml::Range;
using yaml::Section;
using yaml::ZeroDuration;
using limits::k_max_concurrency;

// Open loop, when the file gives no max_in_flight: due requests beyond it are dropped (counted).
constexpr std::size_t k_default_max_in_flight = 1000;

util::Result<void> load_constant_vus(const Section& section, Phase& phase) {
  LLMD_TRY(section.read_unsigned("vus", phase.vus, 1, k_max_concurrency, Need::required));
  return section.read("duration", phase.duration, ZeroDuration::rejected, Need::required);
}

constexpr std::array<std::string_view, 2> k_stage_keys = {"duration", "target"};

util::Result<void> load_stages(const Field& field, Phase& phase) {
  auto items = field.as_list();
  if (!items) {
    return fail(items.error());
  }
  if (items->empty()) {
    return fail(field.error("must list at least one stage, e.g. [{duration: 1m, target: 10}]"));
  }
  if (items->size() > limits::k_max_stages) {
    return fail(field.error(fmt::format("lists {} stages; at most {}", items->size(), limits::k_max_stages)));
  }
  std::size_t peak_vus = phase.start_vus;
  for (const Field& item : *items) {
    auto stage = Section::open(item, k_stage_keys);
    if (!stage) {
      return fail(stage.error());
    }
    Stage parsed;
    LLMD_TRY(stage->read("duration", parsed.duration, ZeroDuration::rejected, Need::required));
    LLMD_TRY(stage->read_unsigned("target", parsed.target_vus, 0, k_max_concurrency, Need::required));
    peak_vus = std::max(peak_vus, parsed.target_vus);
    phase.stages.push_back(parsed);
  }
  if (peak_vus == 0) {
    return fail(field.error("start_vus and every stage target are 0: no request would be sent"));
  }
  return {};
}

util::Result<void> load_ramping_vus(const Section& section, Phase& phase) {
  LLMD_TRY(section.read_unsigned("start_vus", phase.start_vus, 0, k_max_concurrency));
  auto stages = section.require("stages");
  if (!stages) {
    return fail(stages.error());
  }
  return load_stages(*stages, phase);
}

util::Result<void> load_arrival_rate(const Section& section, Phase& phase) {
  LLMD_TRY(section.read("rate", phase.rate_per_s, Range::between(limits::k_min_rate_per_s, limits::k_max_rate_per_s),
                        Need::required));
  LLMD_TRY(section.read("duration", phase.duration, ZeroDuration::rejected, Need::required));
  phase.max_in_flight = k_default_max_in_flight;
  return section.read_unsigned("max_in_flight", phase.max_in_flight, 1, k_max_concurrency);
}

util::Result<void> load_gamma(const Section& section, Phase& phase) {
  LLMD_TRY(load_arrival_rate(section, phase));
  return section.read("burstiness", phase.burstiness, Range::between(limits::k_min_burstiness, limits::k_max_burstiness),
                      Need::required);
}

util::Result<void> load_iterations(const Section& section, Phase& phase) {
  LLMD_TRY(section.read_unsigned("iterations", phase.iterations, 1, limits::k_max_iterations, Need::required));
  phase.vus = 1;
  LLMD_TRY(section.read_unsigned("vus", phase.vus, 1, k_max_concurrency));
  return section.read("max_duration", phase.max_duration, ZeroDuration::rejected);
}

// Replays the trace prompts' records at their own timestamps; the trace's span is known only when
// the run reads it, so the phase is bounded by max_duration (default a day) like iterations.
util::Result<void> load_trace(const Section& section, Phase& phase) {
  LLMD_TRY(section.read("speedup", phase.speedup, Range::between(limits::k_min_speedup, limits::k_max_speedup)));
  phase.max_in_flight = k_default_max_in_flight;
  LLMD_TRY(section.read_unsigned("max_in_flight", phase.max_in_flight, 1, k_max_concurrency));
  phase.max_duration = std::chrono::hours(24);
  return section.read("max_duration", phase.max_duration, ZeroDuration::rejected);
}

struct ExecutorRow {
  std::string_view name;
  ExecutorKind kind;
  std::span<const std::string_view> keys;  // besides name, executor, start_time, graceful_stop
  util::Result<void> (*load)(const Section&, Phase&);
};

constexpr std::string_view k_constant_vus_keys[] = {"vus", "duration"};
constexpr std::string_view k_ramping_vus_keys[] = {"start_vus", "stages"};
constexpr std::string_view k_arrival_rate_keys[] = {"rate", "duration", "max_in_flight"};
constexpr std::string_view k_gamma_keys[] = {"rate", "duration", "burstiness", "max_in_flight"};
constexpr std::string_view k_iterations_keys[] = {"iterations", "vus", "max_duration"};
constexpr std::string_view k_trace_keys[] = {"speedup", "max_in_flight", "max_duration"};

constexpr std::array<ExecutorRow, 7> k_executors = {{
    {"constant-vus", ExecutorKind::constant_vus, k_constant_vus_keys, load_constant_vus},
    {"ramping-vus", ExecutorKind::ramping_vus, k_ramping_vus_keys, load_ramping_vus},
    {"constant-arrival-rate", ExecutorKind::constant_arrival_rate, k_arrival_rate_keys, load_arrival_rate},
    {"poisson", ExecutorKind::poisson, k_arrival_rate_keys, load_arrival_rate},
    {"gamma", ExecutorKind::gamma, k_gamma_keys, load_gamma},
    {"iterations", ExecutorKind::iterations, k_iterations_keys, load_iterations},
    {"trace", ExecutorKind::trace, k_trace_keys, load_trace},
}};

enum class Role { measured, warmup };

struct LoadedPhase {
  Phase phase;
  bool explicit_start = false;
};

util::Result<LoadedPhase> load_phase(const Field& field, Role role, std::string default_name) {
  auto row = field.tagged_row("executor", "executor", k_executors);
  if (!row) {
    return fail(row.error());
  }
  std::vector<std::string_view> keys = {"name", "executor"};
  if (role == Role::measured) {
    keys.push_back("start_time");  // the warmup always runs first
  }
  keys.insert(keys.end(), (*row)->keys.begin(), (*row)->keys.end());
  keys.push_back("graceful_stop");
  auto section = Section::open(field, keys, fmt::format("for executor {}", (*row)->name));
  if (!section) {
    return fail(section.error());
  }
  LoadedPhase loaded;
  Phase& phase = loaded.phase;
  phase.executor = (*row)->kind;
  phase.where = field.where();
  phase.name = std::move(default_name);
  LLMD_TRY(section->read("name", phase.name));
  loaded.explicit_start = section->has("start_time");
  LLMD_TRY(section->read("start_time", phase.start_time, ZeroDuration::allowed));
  LLMD_TRY(section->read("graceful_stop", phase.graceful_stop, ZeroDuration::allowed));
  LLMD_TRY((*row)->load(*section, phase));
  return loaded;
}

}  // namespace

std::string_view to_string(ExecutorKind kind) {
  for (const ExecutorRow& row : k_executors) {
    if (row.kind == kind) {
      return row.name;
    }
  }
  return "?";
}

bool is_open_loop(ExecutorKind kind) {
  return kind == ExecutorKind::constant_arrival_rate || kind == ExecutorKind::poisson || kind == ExecutorKind::trace ||
         kind == ExecutorKind::gamma;
}

util::Result<std::vector<Phase>> load_phases(const Field& field) {
  auto items = field.as_list();
  if (!items) {
    return fail(items.error());
  }
  if (items->empty()) {
    return fail(field.error("must list at least one phase"));
  }
  if (items->size() > limits::k_max_phases) {
    return fail(field.error(fmt::format("lists {} phases; at most {}", items->size(), limits::k_max_phases)));
  }
  std::vector<Phase> phases;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const Field& item = (*items)[i];
    auto loaded = load_phase(item, Role::measured, item.path());
    if (!loaded) {
      return fail(loaded.error());
    }
    Phase& phase = loaded->phase;
    if (!loaded->explicit_start && !phases.empty()) {  // default: right after the previous phase
      const auto previous_length = nominal_length(phases.back());
      if (!previous_length) {
        return fail(item.error(fmt::format("needs a start_time: the previous phase ({}) has no fixed length",
                                           to_string(phases.back().executor))));
      }
      phase.start_time = phases.back().start_time + *previous_length;
    }
    LLMD_TRY(check_phase_span(phase, 1.0, {}));
    for (const Phase& earlier : phases) {
      if (earlier.name == phase.name) {
        return fail(item.error(fmt::format("duplicate phase name \"{}\" (first at line {})", phase.name, earlier.where.line)));
      }
    }
    phases.push_back(std::move(phase));
  }
  return phases;
}

util::Result<Phase> load_warmup(const Field& field) {
  auto loaded = load_phase(field, Role::warmup, "warmup");
  if (!loaded) {
    return fail(loaded.error());
  }
  LLMD_TRY(check_phase_span(loaded->phase, 1.0, {}));
  return std::move(loaded->phase);
}

}  // namespace llmd::scenario::detail
