#include "sim/openai_api.hpp"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/tokenizer.hpp"
#include "util/json_text.hpp"

namespace llmd::sim {

using nlohmann::json;

namespace {

ApiError bad_request(std::string message, std::optional<std::string> param = std::nullopt) {
  return ApiError{400, "BadRequestError", std::move(message), std::move(param)};
}

std::string type_name(const json& value) {
  return value.type_name();
}

// Reads an optional field of the expected kind; returns an error naming it when the type is wrong.
template <class Check>
std::optional<ApiError> check_field(const json& body, const char* key, Check is_ok, const char* expected) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null() || is_ok(*it)) {
    return std::nullopt;
  }
  return bad_request(fmt::format("'{}' must be {}, got {}", key, expected, type_name(*it)), key);
}

tl::expected<std::string, ApiError> completion_prompt(const json& body) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) {
    return tl::unexpected(bad_request("'prompt' is required", "prompt"));
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    return (*it)[0].get<std::string>();
  }
  if (it->is_array() && !it->empty() && std::all_of(it->begin(), it->end(), [](const json& t) { return t.is_number_integer(); })) {
    // A prompt given as token ids: each id becomes one piece "t<id>", one token in our tokenizer.
    std::string text;
    for (const auto& token : *it) {
      text += fmt::format("t{} ", token.get<std::int64_t>());
    }
    return text;
  }
  return tl::unexpected(bad_request("'prompt' must be a string, a list of one string, or a list of token ids "
                                    "(llmd-bench sim serves one prompt per request)",
                                    "prompt"));
}

tl::expected<std::string, ApiError> message_content(const json& message, std::size_t index) {
  auto content = message.find("content");
  if (content == message.end() || content->is_null()) {
    return std::string();
  }
  if (content->is_string()) {
    return content->get<std::string>();
  }
  if (content->is_array()) {
    std::string text;
    for (const auto& part : *content) {
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
      } else {
        return tl::unexpected(bad_request(fmt::format("messages[{}].content: only text parts are supported", index), "messages"));
      }
    }
    return text;
  }
  return tl::unexpected(bad_request(fmt::format("messages[{}].content must be a string or a list of parts", index), "messages"));
}

tl::expected<std::string, ApiError> chat_prompt(const json& body) {
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty()) {
    return tl::unexpected(bad_request("'messages' is required and must be a non-empty list", "messages"));
  }
  std::string prompt;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& message = (*it)[i];
    if (!message.is_object() || !message.contains("role") || !message["role"].is_string()) {
      return tl::unexpected(bad_request(fmt::format("messages[{}] must be an object with a string 'role'", i), "messages"));
    }
    auto content = message_content(message, i);
    if (!content) {
      return tl::unexpected(content.error());
    }
    if (!prompt.empty()) {
      prompt += ' ';
    }
    prompt += render_chat_prompt(message["role"].get<std::string>(), *content);
  }
  return prompt;
}

// The body of a request, as a JSON object whose `model` (when given) is the served one.
tl::expected<json, ApiError> parse_object_for_model(std::string_view body_text, const PodSettings& settings) {
  auto parsed = util::parse_json_bounded(body_text);
  if (!parsed) {
    return tl::unexpected(bad_request(parsed.error().starts_with("is not JSON")
                                          ? std::string("The request body is not valid JSON.")
                                          : fmt::format("The request body {}.", parsed.error())));
  }
  if (!parsed->is_object()) {
    return tl::unexpected(bad_request(fmt::format("The request body must be a JSON object, got {}.", type_name(*parsed))));
  }
  const auto model = parsed->find("model");
  if (model != parsed->end() && !model->is_null()) {
    if (!model->is_string()) {
      return tl::unexpected(bad_request(fmt::format("'model' must be a string, got {}", type_name(*model)), "model"));
    }
    if (model->get<std::string>() != settings.model) {
      return tl::unexpected(ApiError{404, "NotFoundError",
                                     fmt::format("The model `{}` does not exist.", model->get<std::string>()), "model"});
    }
  }
  return std::move(*parsed);
}

std::optional<ApiError> check_types(const json& body) {
  auto is_bool = [](const json& v) { return v.is_boolean(); };
  auto is_number = [](const json& v) { return v.is_number(); };
  auto is_int = [](const json& v) { return v.is_number_integer(); };
  auto is_string = [](const json& v) { return v.is_string(); };
  auto is_object = [](const json& v) { return v.is_object(); };
  for (auto error : {check_field(body, "model", is_string, "a string"), check_field(body, "stream", is_bool, "a boolean"),
                     check_field(body, "max_tokens", is_int, "an integer"),
                     check_field(body, "max_completion_tokens", is_int, "an integer"),
                     check_field(body, "temperature", is_number, "a number"), check_field(body, "n", is_int, "an integer"),
                     check_field(body, "ignore_eos", is_bool, "a boolean"),
                     check_field(body, "stream_options", is_object, "an object")}) {
    if (error) {
      return error;
    }
  }
  return std::nullopt;
}

std::optional<ApiError> read_options(const json& body, GenerationRequest& request, const PodSettings& settings) {
  request.stream = body.value("stream", false);
  request.ignore_eos = body.value("ignore_eos", false);
  request.temperature = body.contains("temperature") && !body["temperature"].is_null() ? body["temperature"].get<double>() : 1.0;
  if (request.temperature < 0) {
    return bad_request(fmt::format("temperature must be non-negative, got {}.", request.temperature), "temperature");
  }
  if (body.contains("n") && !body["n"].is_null() && body["n"].get<std::int64_t>() != 1) {
    return bad_request("n must be 1 (llmd-bench sim generates one choice per request)", "n");
  }
  const char* max_key = body.contains("max_tokens") && !body["max_tokens"].is_null() ? "max_tokens" : "max_completion_tokens";
  if (body.contains(max_key) && !body[max_key].is_null()) {
    const auto max_tokens = body[max_key].get<std::int64_t>();
    if (max_tokens < 1) {
      return bad_request(fmt::format("max_tokens must be at least 1, got {}.", max_tokens), max_key);
    }
    request.max_tokens = static_cast<std::size_t>(max_tokens);
  } else if (request.api == Api::completions) {
    request.max_tokens = settings.default_max_tokens;  // vLLM's CompletionRequest default (16)
  } else {
    request.max_tokens = 0;  // chat: up to the context limit, set once the prompt is counted
  }
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    if (!request.stream) {
      return bad_request("Stream options can only be defined when `stream=True`.", "stream_options");
    }
    request.include_usage = body["stream_options"].value("include_usage", false);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 16> k_words = {" the", " cache", " of",  " a",     " prefix", " token", " is",  " hit",
                                                      " and", " block", " to",  " model", " pod",    " in",    " fast", " route"};

// vLLM's UsageInfo in its field order; prompt_tokens_details only when cached_tokens is reported
// (--enable-prompt-tokens-details).
std::string usage_text(std::size_t prompt_tokens, std::size_t completion_tokens, std::optional<std::size_t> cached_tokens) {
  const std::string details =
      cached_tokens ? fmt::format(R"(,"prompt_tokens_details":{{"cached_tokens":{}}})", *cached_tokens) : std::string();
  return fmt::format(R"({{"prompt_tokens":{},"total_tokens":{},"completion_tokens":{}{}}})", prompt_tokens,
                     prompt_tokens + completion_tokens, completion_tokens, details);
}

}  // namespace

ErrorFormat error_format_for(MetricsFlavor flavor) {
  return flavor == MetricsFlavor::v0 ? ErrorFormat::flat : ErrorFormat::nested;
}

std::string render_error(const ApiError& error, ErrorFormat format) {
  if (format == ErrorFormat::flat) {
    return json{{"object", "error"}, {"message", error.message}, {"type", error.type}, {"param", nullptr}, {"code", error.status}}.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  json param = error.param ? json(*error.param) : json(nullptr);
  return json{{"error", {{"message", error.message}, {"type", error.type}, {"param", param}, {"code", error.status}}}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string render_chat_prompt(std::string_view role, std::string_view content) {
  return fmt::format("<|{}|> {}", role, content);
}

std::string_view generated_token(std::uint64_t request_seed, std::size_t index) {
  return k_words[(request_seed + index * 7) % k_words.size()];
}

tl::expected<GenerationRequest, ApiError> parse_generation_request(Api api, std::string_view body_text,
                                                                   const PodSettings& settings, std::size_t* prompt_tokens) {
  auto parsed = util::parse_json_bounded(body_text);
  if (!parsed) {
    return tl::unexpected(bad_request(parsed.error().starts_with("is not JSON")
                                          ? std::string("The request body is not valid JSON.")
                                          : fmt::format("The request body {}.", parsed.error())));
  }
  json body = std::move(*parsed);
  if (!body.is_object()) {
    return tl::unexpected(bad_request(fmt::format("The request body must be a JSON object, got {}.", type_name(body))));
  }
  if (auto error = check_types(body)) {
    return tl::unexpected(*error);
  }
  GenerationRequest request;
  request.api = api;
  request.model = body.contains("model") && !body["model"].is_null() ? body["model"].get<std::string>() : settings.model;
  if (request.model != settings.model) {
    return tl::unexpected(ApiError{404, "NotFoundError", fmt::format("The model `{}` does not exist.", request.model), "model"});
  }
  auto prompt = api == Api::completions ? completion_prompt(body) : chat_prompt(body);
  if (!prompt) {
    return tl::unexpected(prompt.error());
  }
  request.prompt_text = std::move(*prompt);
  if (auto error = read_options(body, request, settings)) {
    return tl::unexpected(*error);
  }
  const std::size_t tokens = count_tokens(request.prompt_text, settings.tokenizer_piece_bytes);
  if (prompt_tokens != nullptr) {
    *prompt_tokens = tokens;
  }
  if (tokens == 0) {
    return tl::unexpected(bad_request("The prompt is empty: it must contain at least one token.", api == Api::chat ? "messages" : "prompt"));
  }
  if (request.max_tokens == 0) {
    // vLLM (get_max_tokens): a chat request without max_tokens may generate max_model_len - prompt.
    if (tokens >= settings.max_model_len) {
      return tl::unexpected(bad_request(fmt::format(
          "This model's maximum context length is {} tokens. However, you requested {} tokens in the messages, "
          "Please reduce the length of the messages.",
          settings.max_model_len, tokens)));
    }
    request.max_tokens = settings.max_model_len - tokens;
  }
  if (tokens + request.max_tokens > settings.max_model_len) {
    return tl::unexpected(bad_request(fmt::format(
        "This model's maximum context length is {} tokens. However, you requested {} tokens ({} in the messages, {} in the "
        "completion). Please reduce the length of the messages or completion.",
        settings.max_model_len, tokens + request.max_tokens, tokens, request.max_tokens)));
  }
  return request;
}

tl::expected<std::string, ApiError> parse_tokenize_request(std::string_view body_text, const PodSettings& settings) {
  auto body = parse_object_for_model(body_text, settings);
  if (!body) {
    return tl::unexpected(body.error());
  }
  if (body->contains("messages")) {
    return chat_prompt(*body);
  }
  const auto prompt = body->find("prompt");
  if (prompt == body->end() || !prompt->is_string()) {
    return tl::unexpected(bad_request("'prompt' (a string) or 'messages' (a list) is required", "prompt"));
  }
  return prompt->get<std::string>();
}

std::string render_tokenize_response(const std::vector<std::uint32_t>& tokens, std::size_t max_model_len) {
  return util::dump_json(
      json{{"count", tokens.size()}, {"max_model_len", max_model_len}, {"tokens", tokens}, {"token_strs", nullptr}});
}

tl::expected<std::vector<std::uint32_t>, ApiError> parse_detokenize_request(std::string_view body_text,
                                                                          const PodSettings& settings) {
  auto body = parse_object_for_model(body_text, settings);
  if (!body) {
    return tl::unexpected(body.error());
  }
  const auto tokens = body->find("tokens");
  if (tokens == body->end() || !tokens->is_array()) {
    return tl::unexpected(bad_request("'tokens' (a list of token ids) is required", "tokens"));
  }
  std::vector<std::uint32_t> ids;
  ids.reserve(tokens->size());
  for (const auto& token : *tokens) {
    if (!token.is_number_unsigned() || token.get<std::uint64_t>() > 0xFFFFFFFFull) {
      return tl::unexpected(bad_request(fmt::format("'tokens' must be token ids 0..4294967295, got {}", token.dump()), "tokens"));
    }
    ids.push_back(token.get<std::uint32_t>());
  }
  return ids;
}

std::string render_detokenize_response(std::string_view prompt) {
  return util::dump_json(json{{"prompt", std::string(prompt)}});
}

ResponseWriter::ResponseWriter(const GenerationRequest& request, std::string request_id, std::int64_t created_unix_s)
    : m_api(request.api) {
  const char* object = m_api == Api::completions ? "text_completion" : "chat.completion.chunk";
  m_head = fmt::format(R"({{"id":{},"object":"{}","created":{},"model":{},)", json(request_id).dump(-1, ' ', false, json::error_handler_t::replace), object, created_unix_s,
                       json(request.model).dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string ResponseWriter::stream_role_chunk() const {
  return fmt::format(R"(data: {}"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},"logprobs":null,"finish_reason":null}}]}}

)",
                     m_head);
}

std::string ResponseWriter::stream_token_chunk(std::string_view text, const char* finish_reason) const {
  const std::string reason = finish_reason != nullptr ? fmt::format("\"{}\"", finish_reason) : "null";
  const std::string escaped = json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
  if (m_api == Api::completions) {
    // vLLM dumps completion chunks with exclude_unset=False: "usage":null on every one but the
    // final usage chunk, asked for or not (chat chunks use exclude_unset=True: no "usage").
    return fmt::format(R"(data: {}"choices":[{{"index":0,"text":{},"logprobs":null,"finish_reason":{},"stop_reason":null}}],"usage":null}}

)",
                       m_head, escaped, reason);
  }
  return fmt::format(R"(data: {}"choices":[{{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":{}}}]}}

)",
                     m_head, escaped, reason);
}

std::string ResponseWriter::stream_usage_chunk(std::size_t prompt_tokens, std::size_t completion_tokens,
                                               std::optional<std::size_t> cached_tokens) const {
  return fmt::format("data: {}\"choices\":[],\"usage\":{}}}\n\n", m_head,
                     usage_text(prompt_tokens, completion_tokens, cached_tokens));
}

std::string ResponseWriter::stream_done() { return "data: [DONE]\n\n"; }

std::string ResponseWriter::stream_error_event(const ApiError& error) const {
  return fmt::format("data: {}\n\n", render_error(error, ErrorFormat::nested));
}

std::string ResponseWriter::full_response(std::string_view text, const char* finish_reason, std::size_t prompt_tokens,
                                          std::size_t completion_tokens, std::optional<std::size_t> cached_tokens) const {
  const std::string usage = usage_text(prompt_tokens, completion_tokens, cached_tokens);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  std::string head = m_head;
  if (m_api == Api::completions) {
    choice["text"] = std::string(text);
    choice["stop_reason"] = nullptr;
  } else {
    choice["message"] = {{"role", "assistant"}, {"content", std::string(text)}};
    // Non-streamed chat responses are "chat.completion", not the chunk object.
    head.replace(head.find("chat.completion.chunk"), std::string_view("chat.completion.chunk").size(), "chat.completion");
  }
  return fmt::format(R"({}"choices":[{}],"usage":{}}})", head, choice.dump(-1, ' ', false, json::error_handler_t::replace), usage);
}

}  // namespace llmd::sim
