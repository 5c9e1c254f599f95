#include "sse/openai_error.hpp"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sse/preview.hpp"
#include "util/json_text.hpp"

namespace llmd::sse {
namespace {

std::string string_member(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "code": 404 (vLLM) or "404"; anything else (null, "rate_limited", 4.5) has no HTTP meaning.
std::optional<int> code_member(const nlohmann::json& object) {
  const auto it = object.find("code");
  if (it == object.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value >= 0 && value <= 999) {
      return static_cast<int>(value);
    }
    return std::nullopt;
  }
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> api_error_from_json(const nlohmann::json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  const nlohmann::json* inner = &value;
  const auto error = value.find("error");
  if (error != value.end() && error->is_string()) {
    return ApiError{std::nullopt, std::string(), error->get<std::string>()};
  }
  if (error != value.end() && error->is_object()) {
    inner = &*error;  // nested form; its content is the flat form before v0.10.1, ErrorInfo after
  } else if (string_member(value, "object") != "error" &&
             (!value.contains("message") || value.contains("choices"))) {  // a chunk may carry a "message"
    return std::nullopt;
  }
  return ApiError{code_member(*inner), string_member(*inner, "type"), string_member(*inner, "message")};
}

util::Result<ApiError> classify_error_body(std::string_view body) {
  auto document = util::parse_json_bounded(body);
  if (!document) {
    return util::fail(fmt::format("error body {}: \"{}\"", document.error(), preview(body, 80)));
  }
  const nlohmann::json& parsed = *document;
  auto error = api_error_from_json(parsed);
  if (!error) {
    return util::fail(fmt::format(
        "error body has no \"error\" member, no \"object\":\"error\" and no \"message\": \"{}\"",
        preview(body, 80)));
  }
  return std::move(*error);
}

}  // namespace llmd::sse
