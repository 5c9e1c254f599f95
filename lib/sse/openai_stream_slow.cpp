// Slow path of OpenAiStreamDecoder: nlohmann/json DOM. Used when the scanner is unsure; it is the
// one place that calls a payload malformed, with a message saying why.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sse/openai_stream.hpp"
#include "sse/openai_stream_rules.hpp"
#include "sse/preview.hpp"
#include "util/json_text.hpp"

namespace llmd::sse {
namespace {

using Json = nlohmann::json;

// A member that must be a string or null when present: adds the string's UTF-8 bytes to `total`.
// Returns a description of the problem, or "" when fine.
std::string add_text(const Json& object, const char* name, std::size_t& total) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return {};
  }
  if (!it->is_string()) {
    return fmt::format("\"{}\" is {}, not a string", name, it->type_name());
  }
  total += it->get_ref<const std::string&>().size();
  return {};
}

// Largest token count taken as one: far above any context length, far below where sums could
// wrap or lose precision in a double.
constexpr std::int64_t k_max_token_count = 1'000'000'000'000'000;  // 1e15

// A token count: an integer 0..1e15 (an integral float such as 15.0 is accepted too). Larger
// values (2^64-1 from a broken server) are no count: they used to wrap to -1.
std::optional<std::int64_t> count_value(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    return number <= static_cast<std::uint64_t>(k_max_token_count) ? std::optional<std::int64_t>(static_cast<std::int64_t>(number))
                                                                     : std::nullopt;
  }
  if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    return number >= 0 && number <= k_max_token_count ? std::optional<std::int64_t>(number) : std::nullopt;
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (number >= 0 && number <= static_cast<double>(k_max_token_count) &&
        number == static_cast<double>(static_cast<std::int64_t>(number))) {
      return static_cast<std::int64_t>(number);
    }
  }
  return std::nullopt;
}

std::string read_choice(const Json& choice, OpenAiChunk& chunk, std::string& finish_reason) {
  if (!choice.is_object()) {
    return fmt::format("a \"choices\" element is {}, not an object", choice.type_name());
  }
  ++chunk.choice_count;
  std::string problem = add_text(choice, "text", chunk.text_bytes);
  const auto delta = choice.find("delta");
  if (problem.empty() && delta != choice.end() && !delta->is_null()) {
    if (!delta->is_object()) {
      return fmt::format("\"delta\" is {}, not an object", delta->type_name());
    }
    problem = add_text(*delta, "content", chunk.text_bytes);
    for (const char* name : {"reasoning_content", "reasoning"}) {
      if (problem.empty()) {
        problem = add_text(*delta, name, chunk.reasoning_bytes);
      }
    }
  }
  const auto reason = choice.find("finish_reason");
  if (problem.empty() && reason != choice.end() && !reason->is_null()) {
    if (!reason->is_string()) {
      return fmt::format("\"finish_reason\" is {}, not a string", reason->type_name());
    }
    finish_reason = reason->get<std::string>();
  }
  return problem;
}

std::string read_choices(const Json& doc, OpenAiChunk& chunk, std::string& finish_reason) {
  const auto choices = doc.find("choices");
  if (choices == doc.end() || choices->is_null()) {
    return {};
  }
  if (!choices->is_array()) {
    return fmt::format("\"choices\" is {}, not an array", choices->type_name());
  }
  for (const Json& choice : *choices) {
    if (std::string problem = read_choice(choice, chunk, finish_reason); !problem.empty()) {
      return problem;
    }
  }
  return {};
}

std::string read_usage(const Json& doc, OpenAiChunk& chunk) {
  const auto usage = doc.find("usage");
  if (usage == doc.end() || usage->is_null()) {
    return {};
  }
  auto result = read_usage_object(*usage);
  if (!result) {
    return result.error();
  }
  chunk.usage = *result;
  return {};
}

}  // namespace

tl::expected<Usage, std::string> read_usage_object(const Json& usage) {
  if (!usage.is_object()) {
    return tl::make_unexpected(fmt::format("\"usage\" is {}, not an object", usage.type_name()));
  }
  Usage result;
  for (const auto& [name, field] : {std::pair{"prompt_tokens", &result.prompt_tokens},
                                    std::pair{"completion_tokens", &result.completion_tokens}}) {
    const auto it = usage.find(name);
    const auto count = it == usage.end() ? std::nullopt : count_value(*it);
    if (!count) {
      return tl::make_unexpected(fmt::format("\"usage\" has no non-negative integer \"{}\"", name));
    }
    *field = *count;
  }
  const auto details = usage.find("prompt_tokens_details");
  if (details != usage.end() && details->is_object()) {
    const auto cached = details->find("cached_tokens");
    if (cached != details->end() && !cached->is_null()) {
      result.cached_tokens = count_value(*cached);
      if (!result.cached_tokens) {
        return tl::make_unexpected("\"prompt_tokens_details.cached_tokens\" is not a non-negative integer");
      }
    }
  }
  return result;
}

OpenAiChunk OpenAiStreamDecoder::decode_slow(std::string_view data) {
  OpenAiChunk chunk;
  if (rules::is_done(data)) {
    chunk.kind = ChunkKind::done;
    return chunk;
  }
  auto parsed = util::parse_json_bounded(data);
  if (!parsed) {
    chunk.problem = fmt::format("SSE data {}: \"{}\"", parsed.error(), preview(data));
    return chunk;
  }
  Json doc = std::move(*parsed);
  if (auto error = api_error_from_json(doc)) {
    chunk.kind = ChunkKind::error;
    chunk.error = std::move(error);
    return chunk;
  }
  std::string problem =
      doc.is_object() ? std::string() : fmt::format("the payload is {}, not an object", doc.type_name());
  m_slow_finish_reason.clear();
  if (problem.empty()) {
    problem = read_choices(doc, chunk, m_slow_finish_reason);
  }
  if (problem.empty()) {
    problem = read_usage(doc, chunk);
  }
  const auto kind = problem.empty() ? rules::kind_of(chunk, doc.contains("choices")) : std::nullopt;
  if (problem.empty() && !kind) {
    problem = "no \"choices\", \"usage\" or \"error\"";
  }
  if (!kind) {
    OpenAiChunk malformed;
    malformed.problem = fmt::format("SSE data is not an OpenAI stream chunk ({}): \"{}\"", problem, preview(data));
    return malformed;
  }
  chunk.kind = *kind;
  chunk.finish_reason = m_slow_finish_reason;
  return chunk;
}

}  // namespace llmd::sse
