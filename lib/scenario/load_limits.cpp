// Bounds that span keys (limits.hpp): how long each phase runs after time_scale, how many requests
// the phases have in flight at once, and the prompt text those requests hold.
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "scenario/phase_load.hpp"
#include "util/duration.hpp"
#include "util/number_text.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;

double seconds(Duration duration) { return std::chrono::duration<double>(duration).count(); }

// "1000h30m", "720h0m30s" (to the millisecond); in days past what the clock holds (a span times a
// huge time_scale).
std::string span_text(double span_s) {
  if (span_s < 1e9) {
    return util::format_duration(std::chrono::milliseconds(std::llround(span_s * 1e3)));
  }
  return fmt::format("{:.3g} days", span_s / 86400);
}

// What the phase schedules for: its nominal length, or max_duration for iterations.
Duration scheduled_length(const Phase& phase) { return nominal_length(phase).value_or(phase.max_duration); }

// "s.yaml:12:13: time_scale" or "--time-scale": where the time scale came from.
std::string scale_source(const SourceLocation& where) {
  return where.line > 0 ? to_string(where) + ": time_scale" : to_string(where);
}

std::string phase_ref(const Phase& phase) { return fmt::format("phase \"{}\" ({})", phase.name, to_string(phase.where)); }

// A phase's scheduled window [start, start + length), unscaled: time_scale keeps overlaps as they are.
struct Window {
  double start_s = 0;
  double end_s = 0;
  const Phase* phase = nullptr;
};

// The most requests in flight at once over phases that run at the same time; the error names the
// phase at whose start the sum goes past the limit and the phases running then.
util::Result<std::uint64_t> check_concurrency(const std::vector<Phase>& phases) {
  std::vector<Window> windows;
  for (const Phase& phase : phases) {
    const double start = seconds(phase.start_time);
    windows.push_back({start, start + seconds(scheduled_length(phase)), &phase});
  }
  std::uint64_t peak = 0;
  for (const Window& at : windows) {
    std::uint64_t sum = 0;
    std::vector<std::string_view> running;
    for (const Window& other : windows) {
      if (other.start_s <= at.start_s && at.start_s < other.end_s) {
        sum += peak_requests(*other.phase);
        running.push_back(other.phase->name);
      }
    }
    if (sum > limits::k_max_concurrency) {
      constexpr std::size_t k_names_shown = 10;
      const std::size_t shown = std::min(running.size(), k_names_shown);
      const std::string more = running.size() > shown ? fmt::format(" and {} more", running.size() - shown) : "";
      return fail(fmt::format("{}: phase \"{}\": {} requests could be in flight at once with the phases running then "
                              "({}{}); at most {}: lower vus or max_in_flight, or give the phases start times that do "
                              "not overlap",
                              to_string(at.phase->where), at.phase->name, sum,
                              fmt::join(running.begin(), running.begin() + static_cast<std::ptrdiff_t>(shown), ", "), more,
                              limits::k_max_concurrency));
    }
    peak = std::max(peak, sum);
  }
  return peak;
}

// The longest prompt a request can carry, in bytes; 0 when only the run can tell (dataset, trace).
std::uint64_t longest_prompt_bytes(const RequestSpec& request) {
  switch (request.prompt) {
    case PromptKind::fixed: return request.text.size();
    case PromptKind::shared_prefix:
    case PromptKind::per_session: return (request.prefix_tokens + request.suffix_tokens) * limits::k_max_bytes_per_token;
    case PromptKind::random: return request.length.max_tokens * limits::k_max_bytes_per_token;
    case PromptKind::dataset:
    case PromptKind::trace: return 0;
    case PromptKind::multi_turn: return history_tokens(request) * limits::k_max_bytes_per_token;
    case PromptKind::prefix_groups:  // system prompt, a space, question
      return (longest_length(request.prefix_groups.system_prompt_tokens) +
              longest_length(request.prefix_groups.question_tokens)) * limits::k_max_bytes_per_token;
  }
  return 0;
}

util::Result<void> check_prompt_memory(const Scenario& scenario, std::uint64_t in_flight, std::uint64_t sessions) {
  const RequestSpec& request = scenario.request;
  const std::uint64_t prompt_bytes = longest_prompt_bytes(request);
  // What each virtual user keeps between its requests: its prefix, or its conversation's history.
  const std::uint64_t prefix_bytes = request.prompt == PromptKind::per_session ? request.prefix_tokens * limits::k_max_bytes_per_token
                                     : request.prompt == PromptKind::multi_turn ? prompt_bytes
                                                                                : 0;
  const std::uint64_t held = in_flight * prompt_bytes + sessions * prefix_bytes;
  if (held <= limits::k_max_prompt_bytes_in_flight) {
    return {};
  }
  constexpr double k_mib = 1 << 20;
  const std::string sessions_text =
      prefix_bytes > 0 ? fmt::format(" and {} per-session {} of {:.1f} MiB", sessions,
                                     request.prompt == PromptKind::multi_turn ? "conversations" : "prefixes",
                                     prefix_bytes / k_mib)
                       : "";
  return fail(fmt::format("{}: requests.prompt: {} requests in flight at once with prompts of up to {:.1f} MiB{} would hold "
                          "{:.1f} GiB of prompt text; at most {} GiB: shorten the prompts or lower the concurrency "
                          "(vus, max_in_flight)",
                          to_string(request.where), in_flight, prompt_bytes / k_mib, sessions_text,
                          held / (k_mib * 1024), limits::k_max_prompt_bytes_in_flight >> 30));
}

}  // namespace

util::Result<void> check_phase_span(const Phase& phase, double time_scale, const SourceLocation& scale_where) {
  const Duration length = scheduled_length(phase);
  const double end_s = (seconds(phase.start_time) + seconds(length) + seconds(phase.graceful_stop)) * time_scale;
  const std::string parts = fmt::format("start_time {} + {} + graceful_stop {}", util::format_duration(phase.start_time),
                                        util::format_duration(length), util::format_duration(phase.graceful_stop));
  const double max_s = seconds(limits::k_max_duration);
  if (time_scale == 1.0 && end_s > max_s) {
    return fail(fmt::format("{}: phase \"{}\": ends {} after the run starts ({}); a phase must end within {} (30 days)",
                            to_string(phase.where), phase.name, span_text(end_s), parts,
                            util::format_duration(limits::k_max_duration)));
  }
  if (end_s > max_s) {
    return fail(fmt::format("{}: {} makes {} end {} after the run starts ({}, each x {}); scaled, a phase must end within "
                            "{} (30 days): lower the time scale",
                            scale_source(scale_where), util::format_number(time_scale), phase_ref(phase), span_text(end_s),
                            parts, util::format_number(time_scale), util::format_duration(limits::k_max_duration)));
  }
  if (std::llround(static_cast<double>(length.count()) * time_scale) == 0) {
    return fail(fmt::format("{}: {} makes {} last 0s ({} x {} is under 1ns); raise the time scale or lengthen the phase",
                            scale_source(scale_where), util::format_number(time_scale), phase_ref(phase),
                            util::format_duration(length), util::format_number(time_scale)));
  }
  return {};
}

util::Result<void> check_load_limits(const Scenario& scenario) {
  std::uint64_t sessions = 0;
  for (const Phase& phase : scenario.phases) {
    sessions = std::max<std::uint64_t>(sessions, peak_requests(phase));
  }
  auto in_flight = check_concurrency(scenario.phases);
  if (!in_flight) {
    return fail(in_flight.error());
  }
  std::uint64_t peak = *in_flight;
  if (scenario.warmup) {  // runs alone, before the measured phases
    peak = std::max<std::uint64_t>(peak, peak_requests(*scenario.warmup));
    sessions = std::max<std::uint64_t>(sessions, peak_requests(*scenario.warmup));
  }
  return check_prompt_memory(scenario, peak, sessions);
}

util::Result<void> check_time_scale(const Scenario& scenario) {
  if (scenario.time_scale == 1.0) {
    return {};  // every phase was checked as written when it was loaded
  }
  if (scenario.warmup) {
    LLMD_TRY(check_phase_span(*scenario.warmup, scenario.time_scale, scenario.time_scale_where));
  }
  for (const Phase& phase : scenario.phases) {
    LLMD_TRY(check_phase_span(phase, scenario.time_scale, scenario.time_scale_where));
  }
  return {};
}

}  // namespace llmd::scenario::detail
