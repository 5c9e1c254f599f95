#include "engine/prompt_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

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

// Stream tags: independent word streams for the same seed.
constexpr std::uint64_t k_tag_shared_prefix = 1;
constexpr std::uint64_t k_tag_session_prefix = 2;
constexpr std::uint64_t k_tag_suffix = 3;
constexpr std::uint64_t k_tag_random_words = 4;
constexpr std::uint64_t k_tag_random_length = 5;
constexpr std::size_t k_index_words = 4;  // base-256 digits of the request index in a suffix

bool is_message_array(const json& messages) {
  if (!messages.is_array() || messages.empty()) {
    return false;
  }
  return std::all_of(messages.begin(), messages.end(), [](const json& message) {
    return message.is_object() && message.contains("role") && message["role"].is_string() &&
           message.contains("content") && (message["content"].is_string() || message["content"].is_array());
  });
}

Result<DatasetEntry> parse_dataset_line(std::string_view line, scenario::ApiKind api, const std::string& where) {
  auto parsed = util::parse_json_bounded(line);
  if (!parsed) {
    return fail(parsed.error().starts_with("is not JSON")
                    ? fmt::format("{}: not valid JSON: \"{}\"", where, sse::preview(line))
                    : fmt::format("{}: the line {}", where, parsed.error()));
  }
  json value = std::move(*parsed);
  DatasetEntry entry;
  if (value.is_object() && value.contains("prompt") && value["prompt"].is_string()) {
    entry.prompt = value["prompt"].get<std::string>();
    return entry;
  }
  if (value.is_object() && value.contains("messages") && is_message_array(value["messages"])) {
    if (api != scenario::ApiKind::chat) {
      return fail(fmt::format("{}: \"messages\" needs request.api: chat (completions takes \"prompt\")", where));
    }
    entry.messages = std::move(value["messages"]);
    return entry;
  }
  return fail(fmt::format(
      "{}: expected an object with \"prompt\" (a string) or \"messages\" (an array of {{\"role\",\"content\"}} "
      "objects), got: {}",
      where, sse::preview(line)));
}

// "s.yaml:7: " for errors about the `requests` section, "" when its location is unknown.
std::string where_prefix(const scenario::SourceLocation& where) {
  if (where.file.empty()) {
    return "";
  }
  return where.line > 0 ? fmt::format("{}:{}: ", where.file, where.line) : where.file + ": ";
}

Result<void> check_length(const scenario::LengthDistribution& length) {
  using Kind = scenario::LengthDistribution::Kind;
  if (length.min_tokens > length.max_tokens) {
    return fail(fmt::format("request.length: min_tokens {} is above max_tokens {}", length.min_tokens, length.max_tokens));
  }
  if (length.kind == Kind::uniform && length.a > length.b) {
    return fail(fmt::format("request.length: uniform min {} is above max {}", length.a, length.b));
  }
  if ((length.kind == Kind::normal || length.kind == Kind::lognormal) && length.b < 0) {
    return fail(fmt::format("request.length: standard deviation {} is negative", length.b));
  }
  if (length.kind == Kind::lognormal && length.a <= 0) {
    return fail(fmt::format("request.length: lognormal mean {} must be > 0", length.a));
  }
  return {};
}

}  // namespace

Result<std::vector<DatasetEntry>> load_dataset(const std::string& path, scenario::ApiKind api) {
  auto text = util::read_file(path, scenario::limits::k_max_dataset_bytes + 1);
  if (!text) {
    return fail(text.error());
  }
  if (text->size() > scenario::limits::k_max_dataset_bytes) {
    return fail(fmt::format("{}: dataset is larger than {} MiB (the most llmd-bench reads): split it or sample it",
                            path, scenario::limits::k_max_dataset_bytes >> 20U));
  }
  std::vector<DatasetEntry> entries;
  std::string_view rest(*text);
  for (std::size_t number = 1; !rest.empty(); ++number) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    auto entry = parse_dataset_line(line, api, fmt::format("{}:{}", path, number));
    if (!entry) {
      return fail(entry.error());
    }
    entries.push_back(std::move(*entry));
  }
  if (entries.empty()) {
    return fail(fmt::format("{}: no prompts (expected one JSON object per line)", path));
  }
  return entries;
}

Result<PromptSource> PromptSource::create(const scenario::RequestSpec& spec) {
  PromptSource source(spec);
  switch (spec.prompt) {
    case scenario::PromptKind::fixed:
      break;
    case scenario::PromptKind::shared_prefix:
      append_words(source.m_shared_prefix, spec.seed, k_tag_shared_prefix, 0, spec.prefix_tokens);
      break;
    case scenario::PromptKind::per_session:
      break;
    case scenario::PromptKind::dataset: {
      if (spec.dataset_path.empty()) {
        return fail(where_prefix(spec.where) + "request.dataset: a JSONL file path is required with prompt: dataset");
      }
      auto entries = load_dataset(spec.dataset_path, spec.api);
      if (!entries) {
        return fail(where_prefix(spec.where) + entries.error());
      }
      source.m_dataset = std::move(*entries);
      break;
    }
    case scenario::PromptKind::random:
      if (auto valid = check_length(spec.length); !valid) {
        return fail(where_prefix(spec.where) + valid.error());
      }
      break;
    case scenario::PromptKind::prefix_groups: {
      auto groups = PrefixGroups::create(spec.prefix_groups, spec.seed);
      if (!groups) {
        return fail(where_prefix(spec.where) + groups.error());
      }
      source.m_groups.emplace(std::move(*groups));
      break;
    }
  }
  return source;
}

const std::string& PromptSource::session_prefix(std::size_t session) {
  auto [it, inserted] = m_session_prefixes.try_emplace(session);
  if (inserted) {
    append_words(it->second, m_spec.seed, k_tag_session_prefix, session, m_spec.prefix_tokens);
  }
  return it->second;
}

void PromptSource::append_suffix(std::uint64_t request_index, std::string& out) const {
  const std::size_t words = m_spec.suffix_tokens;
  std::uint64_t digits = request_index;
  for (std::size_t i = 0; i < words; ++i) {
    if (i < k_index_words) {
      append_word(out, static_cast<std::size_t>(digits & 0xff));
      digits >>= 8;
    } else {
      append_word(out, static_cast<std::size_t>(mix64(m_spec.seed, k_tag_suffix, request_index, i)));
    }
  }
}

std::size_t PromptSource::random_length(std::uint64_t request_index) const {
  return draw_length(m_spec.length, mix64(m_spec.seed, k_tag_random_length, request_index));
}

std::size_t draw_length(const scenario::LengthDistribution& length, std::uint64_t key) {
  using Kind = scenario::LengthDistribution::Kind;
  SplitMix64 rng(key);
  double drawn = length.a;
  switch (length.kind) {
    case Kind::constant:
      break;
    case Kind::uniform:
      drawn = static_cast<double>(
          std::uniform_int_distribution<std::int64_t>(std::llround(length.a), std::llround(length.b))(rng));
      break;
    case Kind::normal:
      drawn = std::normal_distribution<double>(length.a, length.b)(rng);
      break;
    case Kind::lognormal: {
      // a, b are the mean and standard deviation of the tokens; convert to the log's parameters.
      const double sigma2 = std::log1p((length.b * length.b) / (length.a * length.a));
      drawn = std::lognormal_distribution<double>(std::log(length.a) - sigma2 / 2, std::sqrt(sigma2))(rng);
      break;
    }
  }
  const double low = static_cast<double>(length.min_tokens);
  const double high = static_cast<double>(length.max_tokens);
  return static_cast<std::size_t>(std::clamp(std::round(drawn), low, high));
}

void PromptSource::fill(std::uint64_t request_index, std::size_t session, Prompt& out) {
  out.text.clear();
  out.messages = nullptr;
  out.max_tokens.reset();
  switch (m_spec.prompt) {
    case scenario::PromptKind::fixed:
      out.text = m_spec.text;
      break;
    case scenario::PromptKind::shared_prefix:
      out.text = m_shared_prefix;
      append_suffix(request_index, out.text);
      break;
    case scenario::PromptKind::per_session:
      out.text = session_prefix(session);
      append_suffix(request_index, out.text);
      break;
    case scenario::PromptKind::dataset: {
      const auto& entry = m_dataset[request_index % m_dataset.size()];
      if (entry.messages.is_null()) {
        out.text = entry.prompt;
      } else {
        out.messages = &entry.messages;
      }
      break;
    }
    case scenario::PromptKind::random:
      append_words(out.text, m_spec.seed, k_tag_random_words, request_index, random_length(request_index));
      break;
    case scenario::PromptKind::prefix_groups:
      m_groups->fill(request_index, out.text);
      out.max_tokens = m_groups->max_tokens(request_index);
      break;
  }
}

std::string PromptSource::session_id(std::size_t session) const {
  return fmt::format("llmd-{}-{}", m_spec.seed, session);
}

}  // namespace llmd::engine
