#include "engine/prompt_source.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "engine/prompt_words.hpp"
#include "scenario/limits.hpp"

namespace llmd::engine {

using nlohmann::json;
using util::fail;
using util::Result;

namespace {

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

Result<PromptSource> PromptSource::create(const scenario::RequestSpec& spec) {
  PromptSource source(spec);
  switch (spec.prompt) {
    case scenario::PromptKind::fixed:
      break;
    case scenario::PromptKind::shared_prefix:
      source.m_shared_prefix = spec.calibrated.empty()
                                   ? source.generated_prefix(0, spec.prefix_tokens, 0)
                                   : source.generated_prefix(0, spec.calibrated[0].words, spec.calibrated[0].fillers);
      break;
    case scenario::PromptKind::per_session:
      break;
    case scenario::PromptKind::dataset: {
      if (spec.dataset_path.empty()) {
        return fail(where_prefix(spec.where) + "request.dataset: a JSONL file path is required with prompt: dataset");
      }
      auto entries = load_dataset(spec.dataset_path, spec.api, spec.dataset);
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
    case scenario::PromptKind::multi_turn:
      break;  // the engine's ConversationSource (conversation.hpp) makes these prompts
    case scenario::PromptKind::trace: {
      auto trace = load_trace(spec.dataset_path, spec.trace.block_size);
      if (!trace) {
        return fail(where_prefix(spec.where) + trace.error());
      }
      source.m_trace = std::move(*trace);
      break;
    }
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
    it->second = session < m_spec.calibrated.size()
                     ? generated_prefix(session, m_spec.calibrated[session].words, m_spec.calibrated[session].fillers)
                     : generated_prefix(session, m_spec.prefix_tokens, 0);
  }
  return it->second;
}

std::string PromptSource::generated_prefix(std::size_t session, std::size_t words, std::size_t fillers) const {
  std::string out;
  if (m_spec.prompt == scenario::PromptKind::per_session) {
    append_words(out, m_spec.seed, stream_tag::session_prefix, session, words);
  } else {
    append_words(out, m_spec.seed, stream_tag::shared_prefix, 0, words);
  }
  for (std::size_t i = 0; i < fillers; ++i) {
    if (!out.empty()) {
      out += ' ';
    }
    out += k_filler_word;
  }
  return out;
}

void PromptSource::append_suffix(std::uint64_t request_index, std::string& out) const {
  const std::size_t words = m_spec.suffix_tokens;
  append_index_words(out, request_index, words,
                     [&](std::size_t i) { return mix64(m_spec.seed, stream_tag::suffix, request_index, i); });
}

std::size_t PromptSource::random_length(std::uint64_t request_index) const {
  return draw_length(m_spec.length, mix64(m_spec.seed, stream_tag::random_length, request_index));
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
    case scenario::PromptKind::dataset:
      fill_dataset(request_index, session, out);
      break;
    case scenario::PromptKind::random:
      append_words(out.text, m_spec.seed, stream_tag::random_words, request_index, random_length(request_index));
      break;
    case scenario::PromptKind::multi_turn:
      break;  // the engine's ConversationSource (conversation.hpp) makes these prompts
    case scenario::PromptKind::trace: {
      const auto& records = m_trace->records;
      const std::size_t record = session % records.size();
      build_trace_prompt(records[record], record, m_trace->block_size, out.text);
      out.max_tokens = records[record].output_length;
      break;
    }
    case scenario::PromptKind::prefix_groups:
      m_groups->fill(request_index, out.text);
      out.max_tokens = m_groups->max_tokens(request_index);
      break;
  }
}

void PromptSource::group_of(std::uint64_t request_index, std::size_t session, std::string& out) const {
  out.clear();
  switch (m_spec.prompt) {
    case scenario::PromptKind::fixed: out = "fixed prompt"; break;
    case scenario::PromptKind::shared_prefix: out = "shared prefix"; break;
    case scenario::PromptKind::per_session: fmt::format_to(std::back_inserter(out), "session {}", session); break;
    case scenario::PromptKind::prefix_groups:
      fmt::format_to(std::back_inserter(out), "group {}", m_groups->pick(request_index).group);
      break;
    case scenario::PromptKind::dataset:
    case scenario::PromptKind::random:
    case scenario::PromptKind::multi_turn:
    case scenario::PromptKind::trace: break;
  }
}

std::optional<std::size_t> PromptSource::answer_tokens(std::optional<std::size_t> words) const {
  if (!m_spec.dataset.output_tokens_from_dataset || !words) {
    return std::nullopt;
  }
  return std::clamp<std::size_t>(*words, 1, scenario::limits::k_max_tokens);
}

void PromptSource::fill_dataset(std::uint64_t request_index, std::size_t session, Prompt& out) {
  if (m_spec.dataset.replay == scenario::DatasetSpec::Replay::first_turn) {
    const auto& entry = m_dataset[request_index % m_dataset.size()];
    if (entry.messages.is_null()) {
      out.text = entry.prompt;
    } else {
      out.messages = &entry.messages;
    }
    out.max_tokens = answer_tokens(entry.answer_words);
    return;
  }
  auto [it, inserted] = m_replaying.try_emplace(session);
  Replaying& replaying = it->second;
  if (inserted || replaying.turn >= m_dataset[replaying.entry].turns.size()) {
    replaying = Replaying{m_next_conversation++ % m_dataset.size(), 0};
  }
  const DatasetEntry& entry = m_dataset[replaying.entry];
  const DatasetTurn& turn = entry.turns[replaying.turn++];
  const auto sent = static_cast<std::ptrdiff_t>(turn.messages);
  m_turn_messages = nlohmann::json(entry.messages.begin(), entry.messages.begin() + sent);
  out.messages = &m_turn_messages;
  out.max_tokens = answer_tokens(turn.answer_words);
}

std::vector<PrefixPrompt> PromptSource::prefixes(std::size_t max_sessions) {
  std::vector<PrefixPrompt> out;
  const auto tokens = [this](std::size_t session) {
    return session < m_spec.calibrated.size() ? m_spec.calibrated[session].tokens : m_spec.prefix_tokens;
  };
  if (m_spec.prompt == scenario::PromptKind::shared_prefix) {
    out.push_back({"shared prefix", m_shared_prefix, tokens(0), ""});
  } else if (m_spec.prompt == scenario::PromptKind::per_session) {
    for (std::size_t session = 0; session < max_sessions; ++session) {
      out.push_back({fmt::format("session {}", session), session_prefix(session), tokens(session), session_id(session)});
    }
  } else if (m_spec.prompt == scenario::PromptKind::prefix_groups) {
    for (std::size_t group = 0; group < m_groups->groups(); ++group) {
      out.push_back({fmt::format("group {}", group), m_groups->system_prompt(group), m_groups->system_prompt_tokens(group), ""});
    }
  }
  return out;
}

std::string PromptSource::session_id(std::size_t session) const {
  return fmt::format("llmd-{}-{}", m_spec.seed, session);
}

}  // namespace llmd::engine
