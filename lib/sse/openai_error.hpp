#pragma once
// vLLM / OpenAI error bodies, in both shapes vLLM has used (see /work/shared/VLLM-METRICS.md):
//   before v0.10.1 (flat):  {"object":"error","message":...,"type":"BadRequestError","param":null,"code":400}
//   from v0.10.1 (nested):  {"error":{"message":...,"type":"NotFoundError","param":"model","code":404}}  (PR #22099)
// The same shapes arrive in-band in a stream as `data: {"error":{...}}`, the inner object being the
// flat form before v0.10.1 and the ErrorInfo form after. Parsed with nlohmann/json: errors are rare.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "util/result.hpp"

namespace llmd::sse {

struct ApiError {
  std::optional<int> code;  // the body's "code": the HTTP status the server meant (400, 404, 500...);
                            // nullopt when absent or not an integer (other servers send "rate_limited")
  std::string type;         // e.g. "BadRequestError", "NotFoundError"; empty when absent
  std::string message;      // human-readable reason; empty when absent
  bool operator==(const ApiError&) const = default;
};

// Classifies a non-streamed error response body (any HTTP status). Fails, quoting the body, when it
// is not JSON or has neither shape (e.g. a proxy's HTML 502 page).
util::Result<ApiError> classify_error_body(std::string_view body);

// The ApiError carried by an already parsed body or in-band error payload (either shape), or
// nullopt when `value` has neither: no "error" member, no "object":"error" and no "message".
std::optional<ApiError> api_error_from_json(const nlohmann::json& value);

}  // namespace llmd::sse
