#pragma once
// What goes on the wire for one request: the URL, the header lines and the JSON body.
// Pure functions (plus an RAII wrapper for libcurl's header list); no I/O.
#include <string>
#include <string_view>
#include <vector>

#include "engine/prompt_source.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

struct curl_slist;

namespace llmd::engine {

// "/v1/completions" or "/v1/chat/completions".
std::string_view endpoint_path(scenario::ApiKind api);

// Joins target.base_url and an endpoint path. The base may carry a path prefix
// ("http://gw/llm" + "/v1/completions" -> "http://gw/llm/v1/completions"); trailing slashes are
// dropped, and a base that already ends in "/v1" (as OpenAI client base URLs do) is not doubled
// ("http://gw/v1" -> "http://gw/v1/completions"). Errors quote the URL:
//   "target.base_url: \"gw:80\" must start with http:// or https://"
//   "target.base_url: \"http://\" has no host"
//   "target.base_url: \"http://gw/?a=1\" must not have a query or fragment"
util::Result<std::string> join_url(std::string_view base_url, std::string_view path);

// The request body, serialised with nlohmann/json ONCE per request into `out` (replaced):
//   {"model":M,                         (omitted when `model` is empty: the server's default)
//    "prompt":TEXT | "messages":[...],  (chat without dataset messages: [{"role":"user","content":TEXT}])
//    "max_tokens":N, "temperature":T,   (N: Prompt::max_tokens when set, else spec.max_tokens; temperature only when set)
//    "stream":true, "stream_options":{"include_usage":true},  (stream_options only with include_usage)
//    "ignore_eos":true}                 (only when set: a vLLM extension)
void build_body(const scenario::RequestSpec& spec, std::string_view model, const Prompt& prompt, std::string& out);

// Whether the libcurl this binary runs with can carry `target`'s transport (`base_url` is the URL
// actually used: the scenario's, or the embedded simulator's). Fails, naming the setting and what to
// do, when target.http2 is asked for and libcurl has no HTTP/2, or for h2c (HTTP/2 with prior
// knowledge over http://) on libcurl < 8.0.0: 7.88 breaks every reused h2c connection ("Error in
// the HTTP2 framing layer", curl issue #10634, fixed in 8.0.0), so such a run would measure a
// libcurl bug. The CLI reports this as a usage error before anything runs.
util::Result<void> check_transport(const scenario::Target& target, std::string_view base_url);

// build_body's output without rebuilding the JSON document for every request: the body is
// serialised once per run with a placeholder where the prompt goes and split there; render() then
// writes prefix + the prompt's JSON + suffix. The prompt text is copied as is when it is printable
// ASCII without '"' or '\\' (its JSON form is then itself in quotes) and otherwise serialised by
// nlohmann/json exactly as build_body would, so render() == build_body() byte for byte (tested).
// Chat dataset messages (Prompt::messages) and prompts with their own max_tokens take build_body's path whole. Cost: one copy of the prompt, no
// allocation once `out` has grown (the profile showed build_body at ~9% of the client's CPU).
class BodyTemplate {
 public:
  BodyTemplate(const scenario::RequestSpec& spec, std::string model);
  void render(const Prompt& prompt, std::string& out) const;

 private:
  const scenario::RequestSpec* m_spec;
  std::string m_model;
  std::string m_prefix;
  std::string m_suffix;
  bool m_split = false;  // false: the placeholder was not found once; render() uses build_body
};

// Header lines ("Name: value") for every request of a run, in this order:
//   Content-Type: application/json
//   Accept: text/event-stream (spec.stream) | application/json
//   Expect:                      (empty: disables curl's "Expect: 100-continue" round trip on large bodies)
//   Host: <target.host>          (when set: virtual-host gateways)
//   Authorization: Bearer <token> (when the caller passed a token; never logged or stored in results)
//   <target.headers...>
// Fails on a header name that is not an HTTP token or a value with CR/LF (quoting the name; never
// the token): "target.headers: header name \"X Y\" is not a valid HTTP token".
util::Result<std::vector<std::string>> build_header_lines(const scenario::Target& target, std::string_view bearer_token,
                                                          const scenario::RequestSpec& spec);

// An owned libcurl header list (curl_slist_append / curl_slist_free_all). Movable, not copyable.
class HeaderList {
 public:
  HeaderList() = default;
  explicit HeaderList(const std::vector<std::string>& lines);
  HeaderList(HeaderList&& other) noexcept : m_list(other.m_list) { other.m_list = nullptr; }
  HeaderList& operator=(HeaderList&& other) noexcept;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList();

  void append(const std::string& line);
  curl_slist* get() const { return m_list; }

 private:
  curl_slist* m_list = nullptr;
};

}  // namespace llmd::engine
