#pragma once
// The OpenAI-compatible request/response shapes a simulated vLLM pod speaks: request parsing and
// validation (with vLLM's error bodies), and the streaming / non-streaming response bodies.
// Pure functions, no I/O.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sim/sim_config.hpp"

namespace llmd::sim {

enum class Api { completions, chat };

// vLLM's error body: flat {"object":"error",...} before v0.10.1, nested {"error":{...}} since
// (PR #22099). The simulator picks the format from its metrics flavor (v0 -> flat).
enum class ErrorFormat { flat, nested };
ErrorFormat error_format_for(MetricsFlavor flavor);

struct ApiError {
  int status = 400;                  // HTTP status
  std::string type;                  // "BadRequestError", "NotFoundError", "InternalServerError"
  std::string message;
  std::optional<std::string> param;  // offending field, when known (nested format only)
};

std::string render_error(const ApiError& error, ErrorFormat format);

struct GenerationRequest {
  Api api = Api::completions;
  std::string model;
  std::string prompt_text;          // completions: the prompt; chat: messages rendered through the chat template
  // Output tokens the pod will generate: max_tokens / max_completion_tokens; without them vLLM's
  // defaults: completions PodSettings::default_max_tokens (16), chat max_model_len - prompt tokens.
  std::size_t max_tokens = 16;
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage
  bool ignore_eos = false;
  double temperature = 1.0;
};

// Parses and validates a request body the way vLLM's OpenAI server does: malformed JSON or bad
// field types -> 400 BadRequestError naming the field; unknown model -> 404 NotFoundError;
// prompt + max_tokens > max_model_len -> 400 with vLLM's "maximum context length" message.
// `prompt_tokens` is filled with the prompt's token count (needed for the context check).
tl::expected<GenerationRequest, ApiError> parse_generation_request(Api api, std::string_view body,
                                                                   const PodSettings& settings,
                                                                   std::size_t* prompt_tokens = nullptr);

// vLLM's `POST /tokenize` body: {"model", "prompt": "..."} or {"model", "messages": [...]} (the chat
// template applied, as for a chat request; `add_special_tokens` / `add_generation_prompt` are
// accepted and change nothing, the simulator's tokenizer has no special tokens). Returns the text to
// tokenize; errors as parse_generation_request's (404 for an unknown model, 400 naming the field).
tl::expected<std::string, ApiError> parse_tokenize_request(std::string_view body, const PodSettings& settings);
// {"count":N,"max_model_len":M,"tokens":[...],"token_strs":null}, vLLM's TokenizeResponse.
std::string render_tokenize_response(const std::vector<std::uint32_t>& tokens, std::size_t max_model_len);
// vLLM's `POST /detokenize` body {"model", "tokens": [ids]}: the ids (each 0..2^32-1, the simulator's
// token ids), or a 400 naming `tokens`.
tl::expected<std::vector<std::uint32_t>, ApiError> parse_detokenize_request(std::string_view body, const PodSettings& settings);
// {"prompt":"..."}, vLLM's DetokenizeResponse.
std::string render_detokenize_response(std::string_view prompt);

// The chat template: "<|role|> content" per message, joined by spaces.
std::string render_chat_prompt(std::string_view role, std::string_view content);

// The i-th generated token's text (" word"), deterministic for a given request seed.
std::string_view generated_token(std::uint64_t request_seed, std::size_t index);

// Builds the bodies of one response. Construct once per request; each call returns a complete
// body: an SSE event ("data: {...}\n\n") for the stream_* functions, a JSON document otherwise.
class ResponseWriter {
 public:
  ResponseWriter(const GenerationRequest& request, std::string request_id, std::int64_t created_unix_s);

  std::string stream_role_chunk() const;                   // chat only: delta {"role":"assistant","content":""}
  std::string stream_token_chunk(std::string_view text, const char* finish_reason) const;
  // `cached_tokens`: usage.prompt_tokens_details.cached_tokens (vLLM --enable-prompt-tokens-details);
  // nullopt leaves prompt_tokens_details out, as vLLM does by default.
  std::string stream_usage_chunk(std::size_t prompt_tokens, std::size_t completion_tokens,
                                 std::optional<std::size_t> cached_tokens = std::nullopt) const;
  static std::string stream_done();                        // "data: [DONE]\n\n"
  std::string stream_error_event(const ApiError& error) const;  // in-band error after streaming began
  std::string full_response(std::string_view text, const char* finish_reason, std::size_t prompt_tokens,
                            std::size_t completion_tokens, std::optional<std::size_t> cached_tokens = std::nullopt) const;

 private:
  Api m_api;
  std::string m_head;  // {"id":...,"object":...,"created":...,"model":..., — shared by every chunk
};

}  // namespace llmd::sim
