#pragma once
// The two requests `llmd-bench run` sends before the warm-up, each once, through the same request
// builder (URL join, Host, bearer token, extra headers, body) and transport (a RequestState slot:
// HTTP version, TLS options, timeouts, SSE parsing and classification) as the measured requests:
//
// 1. Model discovery, when neither the scenario nor --model names a model: GET {base}/v1/models and
//    take the first model's `id` (an llm-d / Gateway API Inference Extension gateway answers 400
//    "model not found in request body" to a completion without `model`).
// 2. Preflight (as `vllm bench serve` does before a benchmark): one small request (a 2-word prompt,
//    at most k_preflight_max_tokens tokens, streamed as the scenario streams). A configuration that
//    can only fail (no connection, TLS, 401/403, a 404 from a gateway with no route for the Host,
//    an unknown model, another 4xx) is an error with the diagnosis, before anything is measured.
//    A 5xx, a 429, a timeout or a broken stream is the server's behaviour under test: a note, and
//    the run goes on to measure it.
//
// Both block the calling thread (curl_easy_perform), before the event loop starts. Messages never
// carry the bearer token.
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>

#include "engine/outcome.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"

namespace llmd::engine {

inline constexpr std::size_t k_preflight_max_tokens = 4;
inline constexpr std::string_view k_preflight_prompt = "llmd-bench preflight";

// Where and how the requests go: the scenario's target settings and request spec, the base URL
// actually used (the scenario's, or the embedded simulator's gateway) and the bearer token.
struct TargetAccess {
  const scenario::Scenario* scenario = nullptr;
  std::string base_url;
  std::string bearer_token;  // never printed
  const std::atomic<bool>* cancel = nullptr;  // set (Ctrl-C): the request in progress is given up
};

// One finished exchange, owned (TransferFacts only views a slot).
struct Exchange {
  std::string method;  // "GET" | "POST"
  std::string url;
  CURLcode code = CURLE_OK;
  std::string curl_error;
  bool request_sent = false;
  long http_status = 0;
  std::string body;  // non-SSE answers: the body (capped as the run caps it)
  Outcome outcome;   // classify() of the transfer, as the run would count it
  std::string proxy_note;  // with no answer (http_status 0), env_proxy.hpp proxy_note(url): "" or "; libcurl sent …"
};

// Sends one request and waits for the answer. `get`: GET with no body; else POST `body`.
// Fails only when the request cannot be built (bad URL or header).
util::Result<Exchange> exchange(const TargetAccess& target, std::string_view path, bool get, const std::string& body);

// The `id`s of a GET /v1/models answer ({"object":"list","data":[{"id":...},...]}), in order.
// Errors say what is wrong with the body ("is not JSON", "has no \"data\" list").
util::Result<std::vector<std::string>> parse_model_list(std::string_view body);

// GET {base}/v1/models. The error names the URL, the status or connection error, and what to do
// ("set `model` in the scenario or --model").
util::Result<std::vector<std::string>> list_models(const TargetAccess& target);

// The first model of list_models(); an empty list is an error.
util::Result<std::string> discover_model(const TargetAccess& target);

// What the preflight concluded from its exchange (pure; tested without a network).
struct PreflightVerdict {
  bool proceed = true;
  bool needs_model_list = false;  // the target does not know the model: list them in the message
  std::string message;            // !proceed: the error; proceed: a note ("" when all was well)
};
PreflightVerdict judge_preflight(const Exchange& exchange, const scenario::Target& target, std::string_view model);

// Sends the preflight request and judges it. Ok(note, "" when clean) to go on; the error is the
// diagnosis (the run is then not carried out, exit 3).
util::Result<std::string> preflight(const TargetAccess& target, std::string_view model);

}  // namespace llmd::engine
