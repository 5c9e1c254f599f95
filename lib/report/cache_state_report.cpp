#include "report/cache_state_report.hpp"

#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/console.hpp"

namespace llmd::report {

namespace {

using nlohmann::json;

json nullable(const std::optional<std::uint64_t>& value) { return value ? json(*value) : json(nullptr); }

std::optional<bool> cold_verified(const run::CacheStateReport& state) {
  if (state.reset != "api") {
    return std::nullopt;
  }
  bool cold = !state.reset_pods.empty();
  for (const auto& pod : state.reset_pods) {
    cold = cold && pod.cold;
  }
  return cold;
}

void render_reset(std::string& out, const run::CacheStateReport& state) {
  if (state.reset == "restart") {
    out += "  reset .....: pods restarted (the restart stage)\n";
    return;
  }
  if (state.reset != "api") {
    return;
  }
  out += fmt::format("  reset .....: POST /reset_prefix_cache on {} pods, {}\n", state.reset_pods.size(),
                     cold_verified(state).value_or(false) ? "cold verified" : "NOT verified cold");
  for (const auto& pod : state.reset_pods) {
    const std::string probe = pod.probe_query_tokens
                                  ? fmt::format("probe hit {} of {} tokens", pod.probe_hit_tokens.value_or(0),
                                                *pod.probe_query_tokens)
                                  : std::string("probe not measured");
    out += fmt::format("    {:<22} HTTP {:<4} {}{}\n", pod.pod, pod.status, pod.cold ? "cold, " + probe : probe,
                       pod.problem.empty() ? "" : ": " + util::escape_controls(pod.problem));
  }
}

void render_residency(std::string& out, const run::CacheStateReport& state) {
  const std::string block = state.block_size_tokens
                                ? fmt::format("block {} tokens from {}", *state.block_size_tokens, state.block_size_source)
                                : std::string("block size unknown: any hit counts");
  std::size_t resident = 0;
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_pod;  // pod -> (resident, not)
  for (const auto& row : state.residency) {
    resident += row.resident ? 1 : 0;
    auto& counts = per_pod[row.pod.empty() ? std::string("(no pod)") : row.pod];
    (row.resident ? counts.first : counts.second) += 1;
  }
  out += fmt::format("  verify ....: {} of {} prefixes resident ({})\n", resident, state.residency.size(), block);
  for (const auto& [pod, counts] : per_pod) {
    out += fmt::format("    {:<22} {} resident{}\n", pod, counts.first,
                       counts.second > 0 ? fmt::format(", {} NOT resident", counts.second) : "");
  }
  for (const auto& row : state.residency) {
    if (!row.resident) {
      out += fmt::format("    not resident: {}: {}\n", row.prefix, util::escape_controls(row.problem));
    }
  }
}

}  // namespace

std::string render_cache_state(const run::CacheStateReport& state) {
  std::vector<std::string> asked;
  if (state.reset != "none") asked.push_back("reset " + state.reset);
  if (state.prime) asked.push_back("prime");
  if (state.verify) asked.push_back("verify");
  std::string out = fmt::format("\ncache state before the measured loop ({})\n", fmt::join(asked, ", "));
  render_reset(out, state);
  if (state.prime) {
    out += state.prefixes == 0 ? "  prime .....: nothing to prime (no prefix shared between requests)\n"
                               : fmt::format("  prime .....: {} of {} prefixes sent once, unmeasured{}\n", state.primed,
                                             state.prefixes,
                                             state.prime_note.empty() ? "" : "; " + util::escape_controls(state.prime_note));
  }
  if (state.verify) {
    if (state.prefixes == 0) {
      out += "  verify ....: nothing to verify (no prefix shared between requests)\n";
    } else {
      render_residency(out, state);
    }
  }
  return out;
}

std::string render_calibration(const run::CalibrationReport& c) {
  std::string out = fmt::format("\ntoken counts (requests.token_counts.calibrate: {}, via POST {})\n", c.mode,
                                util::escape_controls(c.tokenize_url));
  if (!c.calibrated) {
    out += fmt::format("  not calibrated: {}\n", util::escape_controls(c.note));
    return out;
  }
  out += fmt::format("  requested {} tokens{}; every prefix measures exactly {} server tokens{} ({} POST /tokenize)\n",
                     c.requested_tokens,
                     c.block_size_tokens ? fmt::format(", aligned up to {} (block size {}, {})",
                                                       c.aligned_tokens, *c.block_size_tokens,
                                                       c.block_size_source)
                                         : "",
                     c.aligned_tokens,
                     c.chat ? " (chat API: the user message's text counted alone, the chat template's tokens are extra)" : "",
                     c.tokenize_calls);
  constexpr std::size_t k_rows = 8;
  for (std::size_t i = 0; i < c.prefixes.size() && i < k_rows; ++i) {
    const auto& p = c.prefixes[i];
    out += fmt::format("  {:<14} {} words + {} filler, server tokens {} (the generator's {} words alone: {})\n", p.prefix,
                       p.words, p.fillers, p.server_tokens,
                       c.aligned_tokens, p.uncalibrated_tokens);
  }
  if (c.prefixes.size() > k_rows) {
    out += fmt::format("  ... {} more prefixes (all in the JSON result)\n", c.prefixes.size() - k_rows);
  }
  return out;
}

json calibration_json(const run::CalibrationReport& c) {
  json prefixes = json::array();
  for (const auto& p : c.prefixes) {
    prefixes.push_back({{"prefix", p.prefix},
                        {"words", p.words},
                        {"fillers", p.fillers},
                        {"uncalibrated_tokens", p.uncalibrated_tokens},
                        {"server_tokens", p.server_tokens}});
  }
  return {{"mode", c.mode},
          {"calibrated", c.calibrated},
          {"chat", c.chat},
          {"tokenize_url", c.tokenize_url},
          {"requested_tokens", c.requested_tokens},
          {"aligned_tokens", c.aligned_tokens},
          {"block_size_tokens", c.block_size_tokens ? json(*c.block_size_tokens) : json(nullptr)},
          {"block_size_source", c.block_size_source},
          {"tokenize_calls", c.tokenize_calls},
          {"note", c.note},
          {"prefixes", std::move(prefixes)}};
}

json cache_state_json(const run::CacheStateReport& state) {
  json pods = json::array();
  for (const auto& pod : state.reset_pods) {
    pods.push_back({{"pod", pod.pod},
                    {"status", pod.status},
                    {"probe_query_tokens", nullable(pod.probe_query_tokens)},
                    {"probe_hit_tokens", nullable(pod.probe_hit_tokens)},
                    {"cold", pod.cold},
                    {"problem", pod.problem}});
  }
  json residency = json::array();
  for (const auto& row : state.residency) {
    residency.push_back({{"prefix", row.prefix},
                         {"pod", row.pod},
                         {"probe_tokens", row.probe_tokens},
                         {"expected_hit_tokens", row.expected_hit_tokens},
                         {"hit_tokens", row.hit_tokens},
                         {"resident", row.resident},
                         {"problem", row.problem}});
  }
  const auto cold = cold_verified(state);
  return {{"reset", state.reset},
          {"reset_pods", std::move(pods)},
          {"cold_verified", cold ? json(*cold) : json(nullptr)},
          {"prime", state.prime},
          {"prefixes", state.prefixes},
          {"primed", state.primed},
          {"prime_note", state.prime_note},
          {"verify", state.verify},
          {"block_size_tokens", state.block_size_tokens ? json(*state.block_size_tokens) : json(nullptr)},
          {"block_size_source", state.block_size_source},
          {"residency", std::move(residency)}};
}

}  // namespace llmd::report
