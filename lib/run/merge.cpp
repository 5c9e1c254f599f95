#include "run/merge.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/json_text.hpp"

namespace llmd::run {

using nlohmann::json;
using std::chrono::nanoseconds;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

// The shard object's index / count: integers with 0 <= index < count.
util::Result<void> read_shard_object(const json& shard, const std::string& file, ShardResult& out) {
  const auto index = shard.find("index");
  const auto count = shard.find("count");
  if (index == shard.end() || count == shard.end() || !index->is_number_unsigned() || !count->is_number_unsigned() ||
      count->get<std::uint64_t>() == 0 || index->get<std::uint64_t>() >= count->get<std::uint64_t>()) {
    return util::fail(fmt::format("{}: shard {}: expected {{\"index\": I, \"count\": N}} with 0 <= I < N", file, util::json_excerpt(shard)));
  }
  out.index = index->get<std::size_t>();
  out.count = count->get<std::size_t>();
  if (const auto start_at = shard.find("start_at"); start_at != shard.end() && start_at->is_string()) {
    out.start_at = start_at->get<std::string>();
  }
  return {};
}

// The shard's own errors, for the message that refuses it ("" when it recorded none).
std::string first_error(const json& result) {
  const auto errors = result.find("errors");
  if (errors != result.end() && errors->is_array() && !errors->empty() && errors->front().is_string()) {
    return ": " + errors->front().get<std::string>();
  }
  return "";
}

}  // namespace

util::Result<ShardResult> read_shard(const json& result, const std::string& file) {
  if (!result.is_object()) {
    return util::fail(fmt::format("{}: not an llmd-bench result (expected a JSON object)", file));
  }
  ShardResult out;
  out.file = file;
  const auto shard = result.find("shard");
  if (shard == result.end() || !shard->is_object()) {
    return util::fail(fmt::format("{}: not a shard result (no \"shard\" object): merge takes the results of "
                                  "`llmd-bench run --shard I/N --out json=FILE`",
                                  file));
  }
  LLMD_TRY(read_shard_object(*shard, file, out));
  const auto verdict = result.find("verdict");
  if (verdict != result.end() && verdict->is_string() && (*verdict == "error" || *verdict == "interrupted")) {
    return util::fail(fmt::format("{}: shard {}/{} ended with verdict {}{}; run that shard again before merging", file,
                                  out.index, out.count, verdict->get<std::string>(), first_error(result)));
  }
  const auto scenario = result.find("scenario");
  if (scenario == result.end() || !scenario->is_object() || !scenario->contains("sha256") ||
      !(*scenario)["sha256"].is_string() || (*scenario)["sha256"].get_ref<const std::string&>().size() != 64) {
    return util::fail(fmt::format("{}: scenario.sha256 missing or not 64 hex characters (a shard result records its "
                                  "scenario file's hash)",
                                  file));
  }
  out.scenario_sha256 = (*scenario)["sha256"].get<std::string>();
  if (const auto path = scenario->find("path"); path != scenario->end() && path->is_string()) {
    out.scenario_path = path->get<std::string>();
  }
  const auto run = result.find("run");
  if (run == result.end() || run->is_null()) {
    return util::fail(fmt::format("{}: shard {}/{} has no measured run (\"run\": null)", file, out.index, out.count));
  }
  if (const auto started_at = run->find("started_at"); started_at != run->end() && started_at->is_string()) {
    out.started_at = started_at->get<std::string>();
  }
  auto read = engine::run_result_from_json(*run, "run");
  if (!read) {
    return util::fail(fmt::format("{}: {}", file, read.error()));
  }
  out.run = std::move(*read);
  return out;
}

util::Result<std::vector<std::size_t>> check_shard_set(const std::vector<ShardResult>& shards, MissingShards missing) {
  if (shards.empty()) {
    return util::fail("no shard result to merge");
  }
  const ShardResult& first = shards.front();
  std::map<std::size_t, const ShardResult*> by_index;
  for (const auto& shard : shards) {
    if (shard.scenario_sha256 != first.scenario_sha256) {
      return util::fail(fmt::format("{} and {} ran different scenario files (sha256 {} and {}): merge only the shards of "
                                    "one sharded run",
                                    first.file, shard.file, first.scenario_sha256, shard.scenario_sha256));
    }
    if (shard.count != first.count) {
      return util::fail(fmt::format("{} is shard {}/{} and {} is shard {}/{}: the shards of one run share their count",
                                    first.file, first.index, first.count, shard.file, shard.index, shard.count));
    }
    if (const auto [it, inserted] = by_index.emplace(shard.index, &shard); !inserted) {
      return util::fail(fmt::format("{} and {} are both shard {}/{}: give each shard's result once", it->second->file,
                                    shard.file, shard.index, shard.count));
    }
  }
  std::vector<std::size_t> absent;
  for (std::size_t i = 0; i < first.count; ++i) {
    if (!by_index.contains(i)) {
      absent.push_back(i);
    }
  }
  if (!absent.empty() && missing == MissingShards::refuse) {
    std::vector<std::string> files;
    for (const auto& shard : shards) {
      files.push_back(shard.file);
    }
    return util::fail(fmt::format("shard{} {} of {} missing (given: {}); pass --allow-missing-shards to merge the "
                                  "others anyway",
                                  absent.size() == 1 ? "" : "s", fmt::join(absent, ", "), first.count,
                                  fmt::join(files, ", ")));
  }
  return absent;
}

namespace {

// Where each shard stands against the merged run's start.
struct Offset {
  nanoseconds from_start{};  // shard started_at - merged started_at (>= 0)
  std::size_t seconds = 0;   // in whole per-second buckets, rounded
  std::size_t slices = 0;    // in 100 ms completion slices, rounded
};

std::size_t rounded_buckets(nanoseconds offset, nanoseconds bucket) {
  return static_cast<std::size_t>(std::llround(static_cast<double>(offset.count()) / static_cast<double>(bucket.count())));
}

// The length of the union of [start, end) spans.
nanoseconds union_length(std::vector<std::pair<TimePoint, TimePoint>> spans) {
  std::sort(spans.begin(), spans.end());
  nanoseconds length{0};
  std::optional<std::pair<TimePoint, TimePoint>> open;
  for (const auto& span : spans) {
    if (open && span.first <= open->second) {
      open->second = std::max(open->second, span.second);
      continue;
    }
    if (open) {
      length += open->second - open->first;
    }
    open = span;
  }
  if (open) {
    length += open->second - open->first;
  }
  return length;
}

void shift_completions(std::vector<engine::CompletionBucket>& buckets, std::size_t by) {
  if (by == 0 || buckets.empty()) {
    return;
  }
  const std::size_t size = std::min(buckets.size() + by, engine::k_max_completion_buckets);
  std::vector<engine::CompletionBucket> shifted(size);
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    auto& into = shifted[std::min(i + by, size - 1)];  // past 24 h: the last slice, as count_completion does
    into.ok += buckets[i].ok;
    into.failed += buckets[i].failed;
  }
  buckets = std::move(shifted);
}

// One phase (or the total) of every shard that has it, with each shard's offset.
struct PhaseParts {
  std::vector<engine::PhaseResult*> parts;
  std::vector<TimePoint> shard_starts;
};

// Merges `parts` (the same phase of several shards, completion slices already aligned) into one.
util::Result<engine::PhaseResult> merge_phase(const PhaseParts& phase, TimePoint run_start, bool is_total) {
  engine::PhaseResult merged;
  const engine::PhaseResult& first = *phase.parts.front();
  merged.name = first.name;
  merged.executor = first.executor;
  std::vector<std::pair<TimePoint, TimePoint>> spans;
  std::optional<TimePoint> earliest;
  for (std::size_t i = 0; i < phase.parts.size(); ++i) {
    const engine::PhaseResult& part = *phase.parts[i];
    if (part.executor != merged.executor) {
      return util::fail(fmt::format("phase \"{}\" has executor {} in one shard and {} in another", merged.name,
                                    part.executor ? engine::to_string(*part.executor) : "none",
                                    merged.executor ? engine::to_string(*merged.executor) : "none"));
    }
    if (auto added = engine::merge_into(merged, part); !added) {
      return util::fail(fmt::format("phase \"{}\": {}", merged.name, added.error()));
    }
    if (part.started_at) {
      const TimePoint start = phase.shard_starts[i] + std::chrono::duration_cast<TimePoint::duration>(*part.started_at);
      spans.emplace_back(start, start + std::chrono::duration_cast<TimePoint::duration>(part.wall_duration));
      earliest = earliest ? std::min(*earliest, start) : start;
    }
    // Not additive in general, but the shards ran side by side: their loads add up.
    merged.peak_in_flight += part.peak_in_flight;
    merged.mean_in_flight += part.mean_in_flight;
  }
  merged.wall_duration = union_length(spans);
  if (earliest) {
    merged.started_at = std::chrono::duration_cast<nanoseconds>(*earliest - run_start);
  }
  // Targets, windows and trace offsets (the offsets are from the phase start: they move by the
  // shard's phase start minus the merged one).
  for (std::size_t i = 0; i < phase.parts.size(); ++i) {
    const engine::PhaseResult& part = *phase.parts[i];
    nanoseconds shift{0};
    if (part.started_at && merged.started_at) {
      const auto shard_phase_start = phase.shard_starts[i] + std::chrono::duration_cast<TimePoint::duration>(*part.started_at);
      shift = std::chrono::duration_cast<nanoseconds>(shard_phase_start - (run_start + *merged.started_at));
    }
    engine::merge_slice_plan(merged, part, is_total ? nanoseconds{0} : shift);
  }
  return merged;
}

// Per-second counts summed on absolute seconds; percentiles dropped (see merge.hpp).
std::vector<engine::SecondBucket> merge_seconds(const std::vector<ShardResult>& shards, const std::vector<Offset>& offsets) {
  std::vector<engine::SecondBucket> merged;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    const auto& seconds = shards[s].run.per_second;
    for (std::size_t i = 0; i < seconds.size(); ++i) {
      const std::size_t at = std::min(i + offsets[s].seconds, engine::k_max_seconds - 1);
      if (merged.size() <= at) {
        merged.resize(at + 1);
      }
      auto& into = merged[at];
      into.started += seconds[i].started;
      into.ok += seconds[i].ok;
      into.failed += seconds[i].failed;
      into.output_tokens += seconds[i].output_tokens;
      into.peak_in_flight += seconds[i].peak_in_flight;
    }
  }
  return merged;
}

std::vector<std::string> merge_notes(const MergedShards& merged) {
  std::vector<std::string> notes = {
      fmt::format("merged from {} of {} shards: counts and histograms are exact sums; rates are over the union of the "
                  "shards' wall time",
                  merged.count - merged.missing.size(), merged.count),
      "peak_in_flight is the sum of the shards' peaks: an upper bound, since the shards' peaks may not coincide",
      "per-second TTFT and ITL percentiles cannot be merged from the shards' percentiles: null in the merged "
      "per-second series (the run's percentiles come from the merged histograms)",
  };
  return notes;
}

}  // namespace

void order_checks(engine::RunResult& run, const std::vector<scenario::CheckKind>& order) {
  const auto rank = [&order](scenario::CheckKind check) {
    return std::find(order.begin(), order.end(), check) - order.begin();
  };
  const auto by_rank = [&rank](scenario::CheckKind a, scenario::CheckKind b) { return rank(a) < rank(b); };
  for (auto& phase : run.phases) {
    std::stable_sort(phase.checks.begin(), phase.checks.end(), by_rank);
  }
  std::stable_sort(run.total.checks.begin(), run.total.checks.end(), by_rank);
}

util::Result<MergedShards> merge_shards(std::vector<ShardResult> shards, MissingShards missing) {
  auto absent = check_shard_set(shards, missing);
  if (!absent) {
    return util::fail(absent.error());
  }
  std::sort(shards.begin(), shards.end(), [](const ShardResult& a, const ShardResult& b) { return a.index < b.index; });
  MergedShards merged;
  merged.count = shards.front().count;
  merged.missing = std::move(*absent);
  engine::RunResult& run = merged.run;
  run.started_at = shards.front().run.started_at;
  run.ended_at = shards.front().run.ended_at;
  for (const auto& shard : shards) {
    run.started_at = std::min(run.started_at, shard.run.started_at);
    run.ended_at = std::max(run.ended_at, shard.run.ended_at);
    run.interrupted = run.interrupted || shard.run.interrupted;
    run.aborted = run.aborted || shard.run.aborted;
  }
  std::vector<Offset> offsets;
  for (auto& shard : shards) {
    const auto from_start = std::chrono::duration_cast<nanoseconds>(shard.run.started_at - run.started_at);
    offsets.push_back({from_start, rounded_buckets(from_start, std::chrono::seconds(1)),
                       rounded_buckets(from_start, engine::k_completion_bucket)});
    for (auto& phase : shard.run.phases) {
      shift_completions(phase.completions_per_100ms, offsets.back().slices);
    }
    shift_completions(shard.run.total.completions_per_100ms, offsets.back().slices);
  }
  // Phases by name, in the order they first appear.
  std::vector<std::string> names;
  std::map<std::string, PhaseParts> phases;
  PhaseParts totals;
  for (auto& shard : shards) {
    for (auto& phase : shard.run.phases) {
      if (!phases.contains(phase.name)) {
        names.push_back(phase.name);
      }
      phases[phase.name].parts.push_back(&phase);
      phases[phase.name].shard_starts.push_back(shard.run.started_at);
    }
    totals.parts.push_back(&shard.run.total);
    totals.shard_starts.push_back(shard.run.started_at);
  }
  for (const auto& name : names) {
    auto phase = merge_phase(phases[name], run.started_at, false);
    if (!phase) {
      return util::fail(phase.error());
    }
    run.phases.push_back(std::move(*phase));
  }
  auto total = merge_phase(totals, run.started_at, true);
  if (!total) {
    return util::fail(total.error());
  }
  run.total = std::move(*total);
  run.per_second = merge_seconds(shards, offsets);
  // The HTTP client, when every shard ran the same one (a shard's machine may have had a proxy set).
  if (std::all_of(shards.begin(), shards.end(),
                  [&](const auto& shard) { return shard.run.http_client == shards.front().run.http_client; })) {
    run.http_client = shards.front().run.http_client;
    run.http_client_reason = shards.front().run.http_client_reason;
  }
  for (const auto& shard : shards) {
    run.http_counts += shard.run.http_counts;
  }
  // The client CPU of every shard's loops, when every shard recorded it (a partial sum would pass
  // for the whole).
  if (std::all_of(shards.begin(), shards.end(), [](const auto& shard) { return shard.run.client_cpu.has_value(); })) {
    run.client_cpu.emplace();
    for (const auto& shard : shards) {
      *run.client_cpu += *shard.run.client_cpu;
    }
  }
  // Every shard's event loops, by shard and thread: a lagging loop on one load machine stays visible
  // (merging loop i of every shard would dilute it). A one-loop shard lists none of its own; its one
  // loop is its totals.
  for (const auto& shard : shards) {
    if (shard.run.threads.empty()) {
      engine::EngineThread loop;
      loop.started = shard.run.total.started;
      loop.completed = shard.run.total.completed;
      loop.cpu = shard.run.client_cpu;
      loop.event_loop_lag_ns = shard.run.total.histograms.event_loop_lag_ns;
      loop.shard = shard.index;
      run.threads.push_back(std::move(loop));
    }
    for (const auto& thread : shard.run.threads) {
      run.threads.push_back(thread);
      run.threads.back().shard = shard.index;
    }
  }
  merged.notes = merge_notes(merged);
  if (!merged.missing.empty()) {
    merged.diagnostics.push_back(
        {"missing_shards", scrape::Severity::warning,
         fmt::format("shard{} {} of {} missing: the merged numbers cover {} of {} shards' load (--allow-missing-shards)",
                     merged.missing.size() == 1 ? "" : "s", fmt::join(merged.missing, ", "), merged.count,
                     merged.count - merged.missing.size(), merged.count),
         "run the missing shards again (same scenario file, same --shard I/N) and merge every result"});
  }
  return merged;
}

}  // namespace llmd::run
