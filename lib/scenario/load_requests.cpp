// `requests:` of a scenario file: the prompt source (table of kinds, each with its own keys) and
// the sampling/streaming parameters every request carries.
#include <algorithm>
#include <array>
#include <limits>
#include <span>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;
using yaml::Field;
using yaml::Need;
using yaml::Range;
using yaml::Section;
using limits::k_max_tokens;

constexpr std::uint64_t k_any_seed = std::numeric_limits<std::uint64_t>::max();

constexpr std::array<std::string_view, 7> k_request_keys = {"prompt",         "max_tokens", "temperature", "stream",
                                                            "stream_options", "ignore_eos", "token_counts"};
constexpr std::array<std::string_view, 2> k_token_counts_keys = {"calibrate", "align_to_block"};
constexpr std::array<std::string_view, 1> k_stream_options_keys = {"include_usage"};

util::Result<void> load_fixed(const Section& section, RequestSpec& request) {
  return section.read("text", request.text, Need::required);
}

util::Result<void> load_shared_prefix(const Section& section, RequestSpec& request) {
  LLMD_TRY(section.read_unsigned("prefix_tokens", request.prefix_tokens, 1, k_max_tokens));
  LLMD_TRY(section.read_unsigned("suffix_tokens", request.suffix_tokens, 0, k_max_tokens));
  return section.read_unsigned("seed", request.seed, 0, k_any_seed);
}

}  // namespace

util::Result<void> load_session_header(const Section& section, RequestSpec& request) {
  if (auto header = section.get("session_header")) {
    auto name = header->as_string();
    if (!name) {
      return fail(name.error());
    }
    if (auto valid = check_header_name(*name); !valid) {
      return fail(header->error(valid.error()));
    }
    request.session_header = std::move(*name);
  }
  return {};
}

namespace {

util::Result<void> load_per_session(const Section& section, RequestSpec& request) {
  LLMD_TRY(load_shared_prefix(section, request));
  return load_session_header(section, request);
}

util::Result<void> load_path(const Section& section, RequestSpec& request) {
  auto field = section.require("path");
  if (!field) {
    return fail(field.error());
  }
  auto path = field->as_existing_file();
  if (!path) {
    return fail(path.error());
  }
  request.dataset_path = std::move(*path);
  return {};
}

constexpr std::pair<std::string_view, DatasetSpec::Format> k_formats[] = {{"jsonl", DatasetSpec::Format::jsonl},
                                                                          {"sharegpt", DatasetSpec::Format::sharegpt}};
constexpr std::pair<std::string_view, DatasetSpec::Replay> k_replays[] = {{"first-turn", DatasetSpec::Replay::first_turn},
                                                                          {"multi-turn", DatasetSpec::Replay::multi_turn}};
constexpr std::pair<std::string_view, bool> k_output_tokens[] = {{"dataset", true}, {"max_tokens", false}};

util::Result<void> load_dataset(const Section& section, RequestSpec& request) {
  LLMD_TRY(load_path(section, request));
  if (auto format = section.get("format")) {
    auto value = format->as_choice("format", k_formats);
    if (!value) {
      return fail(value.error());
    }
    request.dataset.format = *value;
  }
  if (auto replay = section.get("replay")) {
    auto value = replay->as_choice("replay", k_replays);
    if (!value) {
      return fail(value.error());
    }
    request.dataset.replay = *value;
  }
  if (auto output = section.get("output_tokens")) {
    auto value = output->as_choice("output_tokens", k_output_tokens);
    if (!value) {
      return fail(value.error());
    }
    request.dataset.output_tokens_from_dataset = *value;
  }
  return {};
}

util::Result<void> load_trace(const Section& section, RequestSpec& request) {
  LLMD_TRY(load_path(section, request));
  return section.read_unsigned("block_size", request.trace.block_size, 1, limits::k_max_trace_block_size);
}

// --- random: `length` is a token count or a distribution table ---

using LengthKind = LengthDistribution::Kind;

util::Result<void> load_constant(const Section& section, std::uint64_t max, LengthDistribution& length) {
  std::size_t value = 0;
  LLMD_TRY(section.read_unsigned("value", value, 1, max, Need::required));
  length.a = static_cast<double>(value);
  length.min_tokens = 1;
  length.max_tokens = max;  // no clamp of its own: the value is the length
  return {};
}

// `min` and `max` (tokens): required for uniform (the range), optional clamps otherwise.
util::Result<void> load_bounds(const Section& section, std::uint64_t limit, LengthDistribution& length, Need need) {
  LLMD_TRY(section.read_unsigned("min", length.min_tokens, 1, limit, need));
  LLMD_TRY(section.read_unsigned("max", length.max_tokens, 1, limit, need));
  if (length.max_tokens < length.min_tokens) {
    if (auto max = section.get("max")) {
      return fail(max->error(fmt::format("must be >= min ({}), got {}", length.min_tokens, length.max_tokens)));
    }
    return fail(section.get("min")->error(fmt::format("must be <= max ({}), got {}", length.max_tokens, length.min_tokens)));
  }
  return {};
}

util::Result<void> load_uniform(const Section& section, std::uint64_t max, LengthDistribution& length) {
  LLMD_TRY(load_bounds(section, max, length, Need::required));
  length.a = static_cast<double>(length.min_tokens);
  length.b = static_cast<double>(length.max_tokens);
  return {};
}

util::Result<void> load_normal(const Section& section, std::uint64_t max, LengthDistribution& length) {
  const auto tokens = static_cast<double>(max);
  LLMD_TRY(section.read("mean", length.a, Range::above(0, tokens), Need::required));
  LLMD_TRY(section.read("stddev", length.b, Range::between(0, tokens), Need::required));
  return load_bounds(section, max, length, Need::optional);
}

struct DistributionRow {
  std::string_view name;
  LengthKind kind;
  std::span<const std::string_view> keys;
  util::Result<void> (*load)(const Section&, std::uint64_t max, LengthDistribution&);
};

constexpr std::string_view k_constant_keys[] = {"distribution", "value"};
constexpr std::string_view k_uniform_keys[] = {"distribution", "min", "max"};
constexpr std::string_view k_normal_keys[] = {"distribution", "mean", "stddev", "min", "max"};

constexpr std::array<DistributionRow, 4> k_distributions = {{
    {"constant", LengthKind::constant, k_constant_keys, load_constant},
    {"uniform", LengthKind::uniform, k_uniform_keys, load_uniform},
    {"normal", LengthKind::normal, k_normal_keys, load_normal},
    {"lognormal", LengthKind::lognormal, k_normal_keys, load_normal},
}};

}  // namespace

util::Result<void> load_length(const Field& field, LengthDistribution& length, std::uint64_t max) {
  if (field.node().IsScalar()) {  // `length: 128`
    auto value = field.as_unsigned(1, max);
    if (!value) {
      return fail(value.error());
    }
    length = LengthDistribution{LengthKind::constant, static_cast<double>(*value), 0, 1, max};
    return {};
  }
  auto kind = field.peek("distribution");
  if (!kind) {
    return fail(field.error(field.node().IsMap() ? "missing required key \"distribution\""
                                                 : "expected a token count or a mapping with a `distribution`, got " +
                                                       field.describe()));
  }
  auto row = kind->as_row("distribution", k_distributions);
  if (!row) {
    return fail(row.error());
  }
  auto section = Section::open(field, (*row)->keys, fmt::format("for distribution {}", (*row)->name));
  if (!section) {
    return fail(section.error());
  }
  length = LengthDistribution{};
  length.kind = (*row)->kind;
  length.max_tokens = std::min<std::size_t>(length.max_tokens, max);  // the default clamp, within the key's bound
  return (*row)->load(*section, max, length);
}

namespace {

util::Result<void> load_random(const Section& section, RequestSpec& request) {
  if (auto length = section.get("length")) {
    LLMD_TRY(load_length(*length, request.length, k_max_tokens));
  }
  return section.read_unsigned("seed", request.seed, 0, k_any_seed);
}

// --- the prompt kinds ---

struct PromptRow {
  std::string_view name;
  PromptKind kind;
  std::span<const std::string_view> keys;
  util::Result<void> (*load)(const Section&, RequestSpec&);
};

constexpr std::string_view k_fixed_keys[] = {"kind", "text"};
constexpr std::string_view k_shared_prefix_keys[] = {"kind", "prefix_tokens", "suffix_tokens", "seed"};
constexpr std::string_view k_per_session_keys[] = {"kind", "prefix_tokens", "suffix_tokens", "seed", "session_header"};
constexpr std::string_view k_dataset_keys[] = {"kind", "path", "format", "replay", "output_tokens"};
constexpr std::string_view k_trace_keys[] = {"kind", "path", "block_size"};
constexpr std::string_view k_random_keys[] = {"kind", "length", "seed"};
constexpr std::string_view k_multi_turn_keys[] = {"kind",          "turns",      "user_tokens", "output_tokens",
                                                  "system_prompt_tokens", "think_time", "seed",        "session_header"};

constexpr std::array<PromptRow, 8> k_prompts = {{
    {"fixed", PromptKind::fixed, k_fixed_keys, load_fixed},
    {"shared-prefix", PromptKind::shared_prefix, k_shared_prefix_keys, load_shared_prefix},
    {"per-session", PromptKind::per_session, k_per_session_keys, load_per_session},
    {"dataset", PromptKind::dataset, k_dataset_keys, load_dataset},
    {"random", PromptKind::random, k_random_keys, load_random},
    {"multi-turn", PromptKind::multi_turn, k_multi_turn_keys, load_multi_turn},
    {"trace", PromptKind::trace, k_trace_keys, load_trace},
    {"prefix-groups", PromptKind::prefix_groups, k_prefix_groups_keys, load_prefix_groups},
}};

util::Result<void> load_prompt(const Field& field, RequestSpec& request) {
  auto row = field.tagged_row("kind", "prompt kind", k_prompts);
  if (!row) {
    return fail(row.error());
  }
  auto section = Section::open(field, (*row)->keys, fmt::format("for prompt kind {}", (*row)->name));
  if (!section) {
    return fail(section.error());
  }
  request.prompt = (*row)->kind;
  return (*row)->load(*section, request);
}

util::Result<void> load_stream_options(const Section& requests, RequestSpec& request) {
  auto field = requests.get("stream_options");
  if (!field) {
    return {};
  }
  if (!request.stream) {
    return fail(field->error("only valid with stream: true (vLLM rejects stream_options without streaming)"));
  }
  auto options = Section::open(*field, k_stream_options_keys);
  if (!options) {
    return fail(options.error());
  }
  return options->read("include_usage", request.include_usage);
}

util::Result<TokenCountsSpec::Calibrate> parse_calibrate(std::string_view text) {
  if (text == "auto") return TokenCountsSpec::Calibrate::automatic;
  if (text == "on") return TokenCountsSpec::Calibrate::on;
  if (text == "off") return TokenCountsSpec::Calibrate::off;
  return fail(fmt::format("unknown calibrate \"{}\": choose auto (calibrate when POST /tokenize answers), on (a missing "
                          "/tokenize fails the run) or off",
                          text));
}

util::Result<void> load_token_counts(const Section& section, RequestSpec& request) {
  auto field = section.get("token_counts");
  if (!field) {
    return {};
  }
  auto counts = Section::open(*field, k_token_counts_keys);
  if (!counts) {
    return fail(counts.error());
  }
  LLMD_TRY(counts->read_parsed("calibrate", request.token_counts.calibrate, parse_calibrate));
  return counts->read("align_to_block", request.token_counts.align_to_block);
}

}  // namespace

util::Result<void> load_requests(const Field& field, RequestSpec& request) {
  auto section = Section::open(field, k_request_keys);
  if (!section) {
    return fail(section.error());
  }
  request.where = field.where();
  if (auto prompt = section->get("prompt")) {
    LLMD_TRY(load_prompt(*prompt, request));
  }
  LLMD_TRY(section->read_unsigned("max_tokens", request.max_tokens, 1, k_max_tokens));
  if (section->has("temperature")) {
    double temperature = 0;
    LLMD_TRY(section->read("temperature", temperature, Range::between(0, limits::k_max_temperature)));
    request.temperature = temperature;
  }
  LLMD_TRY(section->read("stream", request.stream));
  LLMD_TRY(load_stream_options(*section, request));
  LLMD_TRY(load_token_counts(*section, request));
  return section->read("ignore_eos", request.ignore_eos);
}

}  // namespace llmd::scenario::detail

namespace llmd::scenario {

std::string_view to_string(PromptKind kind) {
  for (const auto& row : detail::k_prompts) {
    if (row.kind == kind) {
      return row.name;
    }
  }
  return "?";
}

}  // namespace llmd::scenario
