#include "engine/trace.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/dataset.hpp"
#include "engine/prompt_words.hpp"
#include "scenario/limits.hpp"
#include "sse/preview.hpp"
#include "util/atomic_file.hpp"
#include "util/json_text.hpp"

namespace llmd::engine {

using nlohmann::json;
using util::fail;
using util::Result;

namespace {

// A whole number in [min, max] from a JSON number; nullopt otherwise.
std::optional<std::uint64_t> whole(const json& value, std::uint64_t min, std::uint64_t max) {
  if (!value.is_number_integer() || (value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0)) {
    return std::nullopt;
  }
  const auto number = value.get<std::uint64_t>();
  return number >= min && number <= max ? std::optional(number) : std::nullopt;
}

Result<std::size_t> read_length(const json& record, std::string_view key, const std::string& where) {
  const auto length = record.contains(key) ? whole(record[key], 1, scenario::limits::k_max_tokens) : std::nullopt;
  if (!length) {
    return fail(fmt::format("{}: \"{}\" must be an integer 1..{}, got: {}", where, key, scenario::limits::k_max_tokens,
                            record.contains(key) ? json_preview(record[key]) : "nothing"));
  }
  return static_cast<std::size_t>(*length);
}

Result<std::chrono::nanoseconds> read_timestamp(const json& record, const std::string& where) {
  const double max_ms = std::chrono::duration<double, std::milli>(scenario::limits::k_max_duration).count();
  const json* value = record.contains("timestamp") ? &record["timestamp"] : nullptr;
  if (value == nullptr || !value->is_number() || !(value->get<double>() >= 0) || value->get<double>() > max_ms) {
    return fail(fmt::format("{}: \"timestamp\" must be a number of ms since the trace start, 0..{} (720h), got: {}",
                            where, max_ms, value != nullptr ? json_preview(*value) : "nothing"));
  }
  return std::chrono::nanoseconds(std::llround(value->get<double>() * 1e6));
}

Result<void> read_hash_ids(const json& record, TraceRecord& out, std::size_t block_size, const std::string& where) {
  if (!record.contains("hash_ids") || record["hash_ids"].is_null()) {
    return {};
  }
  const json& ids = record["hash_ids"];
  if (!ids.is_array()) {
    return fail(fmt::format("{}: \"hash_ids\" must be a list of block ids (integers >= 0), got: {}", where,
                            json_preview(ids)));
  }
  const std::size_t fits = (out.input_length + block_size - 1) / block_size;
  if (ids.size() > fits) {
    return fail(fmt::format("{}: {} hash_ids of block_size {} tokens need input_length > {}, got {}: set the prompt's "
                            "block_size to the trace's (Mooncake traces: 512)",
                            where, ids.size(), block_size, (ids.size() - 1) * block_size, out.input_length));
  }
  out.hash_ids.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = whole(ids[i], 0, UINT64_MAX);
    if (!id) {
      return fail(fmt::format("{}: hash_ids[{}] must be an integer >= 0, got: {}", where, i,
                              json_preview(ids[i])));
    }
    out.hash_ids.push_back(*id);
  }
  return {};
}

Result<TraceRecord> parse_record(const json& value, std::string_view line, std::size_t block_size,
                                 const std::string& where) {
  if (!value.is_object()) {
    return fail(fmt::format("{}: expected an object {{\"timestamp\", \"input_length\", \"output_length\", \"hash_ids\"}}, "
                            "got: {}",
                            where, sse::preview(line)));
  }
  TraceRecord record;
  auto timestamp = read_timestamp(value, where);
  if (!timestamp) {
    return fail(timestamp.error());
  }
  record.timestamp = *timestamp;
  auto input = read_length(value, "input_length", where);
  if (!input) {
    return fail(input.error());
  }
  record.input_length = *input;
  auto output = read_length(value, "output_length", where);
  if (!output) {
    return fail(output.error());
  }
  record.output_length = *output;
  LLMD_TRY(read_hash_ids(value, record, block_size, where));
  return record;
}

double to_ms(std::chrono::nanoseconds t) { return std::chrono::duration<double, std::milli>(t).count(); }

}  // namespace

Result<Trace> load_trace(const std::string& path, std::size_t block_size) {
  if (block_size == 0) {
    return fail(fmt::format("{}: block_size must be >= 1", path));
  }
  auto text = util::read_file(path, scenario::limits::k_max_dataset_bytes + 1);
  if (!text) {
    return fail(text.error());
  }
  if (text->size() > scenario::limits::k_max_dataset_bytes) {
    return fail(fmt::format("{}: trace is larger than {} MiB (the most llmd-bench reads): split it or sample it", path,
                            scenario::limits::k_max_dataset_bytes >> 20U));
  }
  Trace trace;
  trace.block_size = block_size;
  auto read = for_each_jsonl_value(*text, path, [&](json value, std::string_view line, const std::string& where) -> Result<void> {
    if (trace.records.size() == scenario::limits::k_max_trace_records) {
      return fail(fmt::format("{}: more than {} records, the most a trace may hold: split the trace", where,
                              scenario::limits::k_max_trace_records));
    }
    auto record = parse_record(value, line, block_size, where);
    if (!record) {
      return fail(record.error());
    }
    if (!trace.records.empty() && record->timestamp < trace.records.back().timestamp) {
      return fail(fmt::format("{}: timestamp {} ms is before the previous record's {} ms: sort the trace by timestamp",
                              where, to_ms(record->timestamp), to_ms(trace.records.back().timestamp)));
    }
    trace.records.push_back(std::move(*record));
    return {};
  });
  if (!read) {
    return fail(read.error());
  }
  if (trace.records.empty()) {
    return fail(fmt::format("{}: no records (expected one JSON object per line: {{\"timestamp\": ms, \"input_length\": "
                            "N, \"output_length\": N, \"hash_ids\": [...]}})",
                            path));
  }
  return trace;
}

void append_block_text(std::uint64_t hash_id, std::size_t tokens, std::string& out) {
  for (std::size_t i = 0; i < tokens; ++i) {
    append_word(out, static_cast<std::size_t>(mix64(stream_tag::trace_block, hash_id, i)));
  }
}

void build_trace_prompt(const TraceRecord& record, std::uint64_t record_index, std::size_t block_size, std::string& out) {
  out.clear();
  std::size_t left = record.input_length;
  for (const std::uint64_t id : record.hash_ids) {
    const std::size_t tokens = std::min(left, block_size);
    append_block_text(id, tokens, out);
    left -= tokens;
  }
  append_index_words(out, record_index, left,
                     [&](std::size_t i) { return mix64(stream_tag::trace_tail, record_index, i); });
}

TraceSummary summarize(const Trace& trace) {
  TraceSummary summary;
  summary.records = trace.records.size();
  std::unordered_set<std::uint64_t> distinct;
  for (const TraceRecord& record : trace.records) {
    summary.input_tokens += record.input_length;
    summary.output_tokens += record.output_length;
    summary.blocks += record.hash_ids.size();
    distinct.insert(record.hash_ids.begin(), record.hash_ids.end());
  }
  summary.distinct_blocks = distinct.size();
  if (!trace.records.empty()) {
    summary.span = trace.records.back().timestamp - trace.records.front().timestamp;
  }
  return summary;
}

}  // namespace llmd::engine
