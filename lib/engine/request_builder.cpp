#include "engine/request_builder.hpp"

#include <algorithm>
#include <cstdlib>

#include <curl/curl.h>
#include <fmt/format.h>

#include "util/ascii_case.hpp"
#include <nlohmann/json.hpp>

#include "sse/preview.hpp"
#include "util/http_token.hpp"

namespace llmd::engine {

using nlohmann::json;
using util::fail;
using util::Result;

namespace {

using util::starts_with_ignoring_case;

bool has_line_break(std::string_view value) { return value.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

std::string_view endpoint_path(scenario::ApiKind api) {
  return api == scenario::ApiKind::chat ? "/v1/chat/completions" : "/v1/completions";
}

Result<std::string> join_url(std::string_view base_url, std::string_view path) {
  std::size_t scheme_bytes = 0;
  if (starts_with_ignoring_case(base_url, "http://")) {
    scheme_bytes = 7;
  } else if (starts_with_ignoring_case(base_url, "https://")) {
    scheme_bytes = 8;
  } else {
    return fail(fmt::format("target.base_url: \"{}\" must start with http:// or https://", sse::preview(base_url)));
  }
  if (base_url.find_first_of("?#") != std::string_view::npos) {
    return fail(fmt::format("target.base_url: \"{}\" must not have a query or fragment", sse::preview(base_url)));
  }
  std::string_view trimmed = base_url;
  while (trimmed.size() > scheme_bytes && trimmed.back() == '/') {
    trimmed.remove_suffix(1);
  }
  const std::string_view authority = trimmed.substr(scheme_bytes, trimmed.find('/', scheme_bytes) - scheme_bytes);
  if (authority.empty()) {
    return fail(fmt::format("target.base_url: \"{}\" has no host", sse::preview(base_url)));
  }
  const std::string_view base_path = trimmed.substr(scheme_bytes + authority.size());
  if (base_path.size() >= 3 && base_path.substr(base_path.size() - 3) == "/v1" && path.substr(0, 4) == "/v1/") {
    path.remove_prefix(3);
  }
  std::string url(trimmed);
  url += path;
  return url;
}

util::Result<void> check_transport(const scenario::Target& target, std::string_view base_url) {
  if (!target.http2) {
    return {};
  }
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  if ((curl->features & CURL_VERSION_HTTP2) == 0) {
    return fail(fmt::format("target.http2 (--http2): this build's libcurl {} has no HTTP/2 support; drop http2 "
                            "or build llmd-bench against a libcurl with nghttp2",
                            curl->version));
  }
  constexpr unsigned k_h2c_fixed = 0x080000;  // curl 8.0.0
  if (starts_with_ignoring_case(base_url, "http://") && curl->version_num < k_h2c_fixed) {
    return fail(fmt::format(
        "target.http2 (--http2) with the http:// target {} means HTTP/2 with prior knowledge (h2c), which libcurl {} "
        "breaks on every reused connection (\"Error in the HTTP2 framing layer\", curl issue #10634, fixed in curl "
        "8.0.0); use an https:// target (HTTP/2 negotiated by TLS ALPN), drop http2, or build llmd-bench against "
        "libcurl >= 8.0.0",
        base_url, curl->version));
  }
  return {};
}

void build_body(const scenario::RequestSpec& spec, std::string_view model, const Prompt& prompt, std::string& out) {
  json body = json::object();
  if (!model.empty()) {
    body["model"] = model;
  }
  if (spec.api == scenario::ApiKind::chat) {
    if (prompt.messages != nullptr) {
      body["messages"] = *prompt.messages;
    } else {
      body["messages"] = json::array({json{{"role", "user"}, {"content", prompt.text}}});
    }
  } else {
    body["prompt"] = prompt.text;
  }
  body["max_tokens"] = prompt.max_tokens.value_or(spec.max_tokens);
  if (spec.temperature) {
    body["temperature"] = *spec.temperature;
  }
  body["stream"] = spec.stream;
  if (spec.stream && spec.include_usage) {
    body["stream_options"] = {{"include_usage", true}};
  }
  if (spec.ignore_eos) {
    body["ignore_eos"] = true;
  }
  out = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// Stands for the prompt in the template; control characters make it impossible in a real model
// name without escapes, and BodyTemplate checks that its serialised form occurs exactly once.
constexpr std::string_view k_placeholder = "\x01llmd-bench\x02prompt\x03";

bool is_plain_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
  });
}

void append_json_string(std::string_view text, std::string& out) {
  if (is_plain_ascii(text)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

BodyTemplate::BodyTemplate(const scenario::RequestSpec& spec, std::string model)
    : m_spec(&spec), m_model(std::move(model)) {
  Prompt probe;
  probe.text = std::string(k_placeholder);
  std::string text_body;
  build_body(spec, m_model, probe, text_body);
  const std::string marker = json(std::string(k_placeholder)).dump();
  const std::size_t at = text_body.find(marker);
  if (at == std::string::npos || text_body.find(marker, at + 1) != std::string::npos) {
    return;
  }
  m_prefix = text_body.substr(0, at);
  m_suffix = text_body.substr(at + marker.size());
  m_split = true;
}

void BodyTemplate::render(const Prompt& prompt, std::string& out) const {
  if (!m_split || prompt.messages != nullptr || prompt.max_tokens) {
    build_body(*m_spec, m_model, prompt, out);
    return;
  }
  out.assign(m_prefix);
  append_json_string(prompt.text, out);
  out += m_suffix;
}

Result<std::vector<std::string>> build_header_lines(const scenario::Target& target, std::string_view bearer_token,
                                                    const scenario::RequestSpec& spec) {
  std::vector<std::string> lines = {"Content-Type: application/json",
                                    spec.stream ? "Accept: text/event-stream" : "Accept: application/json", "Expect:"};
  if (!target.host.empty()) {
    if (has_line_break(target.host) || target.host.find_first_of(" \t") != std::string::npos) {
      return fail(fmt::format("target.host: \"{}\" is not a valid Host header value", sse::preview(target.host)));
    }
    lines.push_back("Host: " + target.host);
  }
  if (!bearer_token.empty()) {
    if (has_line_break(bearer_token)) {
      return fail(fmt::format("the bearer token (from ${}) contains a line break", target.api_key_env));
    }
    lines.push_back(fmt::format("Authorization: Bearer {}", bearer_token));
  }
  for (const auto& [name, value] : target.headers) {
    if (!util::is_http_token(name)) {
      return fail(fmt::format("target.headers: header name \"{}\" is not a valid HTTP token", sse::preview(name)));
    }
    if (has_line_break(value)) {
      return fail(fmt::format("target.headers: the value of \"{}\" contains a line break", sse::preview(name)));
    }
    lines.push_back(value.empty() ? name + ";" : name + ": " + value);  // "Name;" sends an empty header
  }
  return lines;
}

HeaderList::HeaderList(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    append(line);
  }
}

HeaderList& HeaderList::operator=(HeaderList&& other) noexcept {
  if (this != &other) {
    curl_slist_free_all(m_list);
    m_list = other.m_list;
    other.m_list = nullptr;
  }
  return *this;
}

HeaderList::~HeaderList() { curl_slist_free_all(m_list); }

void HeaderList::append(const std::string& line) {
  curl_slist* extended = curl_slist_append(m_list, line.c_str());
  if (extended == nullptr) {
    std::abort();  // out of memory
  }
  m_list = extended;
}

}  // namespace llmd::engine
