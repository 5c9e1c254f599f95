#include "engine/preflight.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/env_proxy.hpp"
#include "engine/request_builder.hpp"
#include "engine/request_state.hpp"
#include "sse/preview.hpp"
#include "util/curl_global.hpp"
#include "util/json_text.hpp"
#include "util/url_authority.hpp"

namespace llmd::engine {

namespace {

constexpr std::string_view k_models_path = "/v1/models";
constexpr std::string_view k_set_model = "set `model` in the scenario or --model";

bool contains_ignoring_case(std::string_view text, std::string_view word) {
  return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != text.end();
}

bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// "Host: gw.example (target.host / --host)" or "Host: 127.0.0.1:8000 (from the URL; set target.host / --host ...)".
std::string host_sent(const scenario::Target& target, std::string_view url) {
  if (!target.host.empty()) {
    return fmt::format("the Host header sent was \"{}\" (target.host / --host)", target.host);
  }
  const util::UrlAuthority a = util::find_authority(url);
  const auto authority = url.substr(a.begin, a.end - a.begin);
  return fmt::format("the Host header sent was \"{}\" (from the URL; a gateway that routes by virtual host needs "
                     "target.host / --host)",
                     authority);
}

// A 400 or 404 that says the model is unknown (vLLM: 404 "The model `x` does not exist."; the GIE
// endpoint picker: 400 "model not found in request body"; OpenAI: "model_not_found").
bool unknown_model(const Exchange& exchange) {
  if (exchange.http_status != 400 && exchange.http_status != 404) {
    return false;
  }
  const std::string_view body = exchange.body;
  return contains_ignoring_case(body, "model") &&
         (contains_ignoring_case(body, "does not exist") || contains_ignoring_case(body, "not found") ||
          contains_ignoring_case(body, "model_not_found") || contains_ignoring_case(body, "unknown model"));
}

// libcurl's progress callback: a non-zero return ends the transfer (CURLE_ABORTED_BY_CALLBACK).
int check_cancel(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancel)->load() ? 1 : 0;
}

std::string what_failed(const Exchange& exchange) {
  return fmt::format("{} {}", exchange.method, exchange.url);
}

}  // namespace

util::Result<Exchange> exchange(const TargetAccess& target, std::string_view path, bool get, const std::string& body) {
  const scenario::Scenario& s = *target.scenario;
  auto url = join_url(target.base_url, path);
  if (!url) {
    return util::fail(url.error());
  }
  scenario::RequestSpec spec = s.request;
  spec.stream = get ? false : s.request.stream;
  auto lines = build_header_lines(s.target, target.bearer_token, spec);
  if (!lines) {
    return util::fail(lines.error());
  }
  const HeaderList headers(*lines);
  util::init_curl_once();
  auto created = RequestState::create(TransferSettings{*url, spec.stream, s.target.http2, s.target.insecure,
                                                       s.target.connect_timeout, s.target.request_timeout});
  if (!created) {
    return util::fail(created.error());
  }
  RequestState& state = **created;
  state.body() = body;
  const TimePoint started = Clock::now();
  state.begin(headers.get(), started, started, nullptr);
  if (get) {
    curl_easy_setopt(state.easy(), CURLOPT_HTTPGET, 1L);
  }
  if (target.cancel != nullptr) {
    curl_easy_setopt(state.easy(), CURLOPT_XFERINFOFUNCTION, &check_cancel);
    curl_easy_setopt(state.easy(), CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(target.cancel));
    curl_easy_setopt(state.easy(), CURLOPT_NOPROGRESS, 0L);
  }
  const CURLcode code = curl_easy_perform(state.easy());
  state.end(code, Clock::now());
  const TransferFacts facts = state.facts();
  Exchange result;
  result.method = get ? "GET" : "POST";
  result.url = *url;
  result.code = code;
  result.curl_error = facts.curl_error.empty() ? curl_easy_strerror(code) : std::string(facts.curl_error);
  result.request_sent = facts.request_sent;
  result.http_status = facts.http_status;
  result.body = std::string(facts.body);
  result.outcome = classify(facts);
  if (result.http_status == 0) {  // no answer: the only case whose messages carry the note
    result.proxy_note = proxy_note(result.url);
  }
  return result;
}

util::Result<std::vector<std::string>> parse_model_list(std::string_view body) {
  auto parsed = util::parse_json_bounded(body);
  if (!parsed) {
    return util::fail(fmt::format("the answer {} (\"{}\")", parsed.error(), sse::preview(body, 120)));
  }
  const auto data = parsed->is_object() ? parsed->find("data") : parsed->end();
  if (!parsed->is_object() || data == parsed->end() || !data->is_array()) {
    return util::fail(fmt::format("the answer has no \"data\" list of models (\"{}\")", sse::preview(body, 120)));
  }
  std::vector<std::string> ids;
  for (const auto& model : *data) {
    const auto id = model.is_object() ? model.find("id") : model.end();
    if (!model.is_object() || id == model.end() || !id->is_string() || id->get<std::string>().empty()) {
      return util::fail(fmt::format("a model in \"data\" has no \"id\" string (\"{}\")", sse::preview(model.dump(), 120)));
    }
    ids.push_back(id->get<std::string>());
  }
  return ids;
}

util::Result<std::vector<std::string>> list_models(const TargetAccess& target) {
  auto answer = exchange(target, k_models_path, /*get=*/true, "");
  if (!answer) {
    return util::fail(answer.error());
  }
  const Exchange& e = *answer;
  if (e.http_status == 0) {  // no answer: connection, TLS, timeout
    return util::fail(fmt::format("GET {} failed: {} (check --target / target.base_url and that the server is up){}",
                                  e.url, e.curl_error, e.proxy_note));
  }
  if (e.http_status == 401 || e.http_status == 403) {
    return util::fail(fmt::format("GET {} answered HTTP {}: wrong or missing API key{}", e.url, e.http_status,
                                  target.scenario->target.api_key_env.empty()
                                      ? " (no token sent: set target.api_key_env / --api-key-env)"
                                      : " (api_key_env " + target.scenario->target.api_key_env + ")"));
  }
  if (e.http_status < 200 || e.http_status > 299) {
    return util::fail(fmt::format("GET {} answered {}", e.url, e.outcome.message));
  }
  auto ids = parse_model_list(e.body);
  if (!ids) {
    return util::fail(fmt::format("GET {} answered HTTP {}, but {}", e.url, e.http_status, ids.error()));
  }
  return ids;
}

util::Result<std::string> discover_model(const TargetAccess& target) {
  auto models = list_models(target);
  if (!models) {
    return util::fail(fmt::format("no model to request: the scenario names none, and discovering it failed: {}; {}",
                                  models.error(), k_set_model));
  }
  if (models->empty()) {
    return util::fail(fmt::format("no model to request: the scenario names none, and GET {} lists no model; {}",
                                  *join_url(target.base_url, k_models_path), k_set_model));
  }
  return models->front();
}

PreflightVerdict judge_preflight(const Exchange& e, const scenario::Target& target, std::string_view model) {
  const auto refuse = [](std::string message) { return PreflightVerdict{false, false, std::move(message)}; };
  const std::string request = what_failed(e);
  if (e.outcome.ok) {
    return {};
  }
  switch (e.outcome.failure) {
    case FailureClass::connect:
      return refuse(fmt::format("preflight: {} could not connect: {}; check --target / target.base_url and that the "
                                "server is up{}",
                                request, e.outcome.message, e.proxy_note));
    case FailureClass::tls:
      return refuse(fmt::format("preflight: {} failed in TLS: {}; check the server certificate (a self-signed one "
                                "needs --insecure / target.insecure: true)",
                                request, e.outcome.message));
    default:
      break;
  }
  if (e.http_status == 401 || e.http_status == 403) {
    return refuse(fmt::format("preflight: {} answered {}: wrong or missing API key ({})", request, e.outcome.message,
                              target.api_key_env.empty()
                                  ? "no token was sent: set target.api_key_env / --api-key-env to the NAME of the "
                                    "variable holding it"
                                  : "api_key_env " + target.api_key_env));
  }
  if (unknown_model(e)) {
    PreflightVerdict verdict = refuse(fmt::format("preflight: {} answered {}: the target does not serve model \"{}\"",
                                                  request, e.outcome.message, model));
    verdict.needs_model_list = true;
    return verdict;
  }
  if (e.http_status == 404 && blank(e.body)) {
    return refuse(fmt::format("preflight: {} answered HTTP 404 with an empty body: wrong Host? An Envoy / gateway 404 "
                              "has an empty body when no route matches the Host; {}",
                              request, host_sent(target, e.url)));
  }
  if (e.http_status == 404) {
    return refuse(fmt::format("preflight: {} answered {}: wrong path or Host? check the base_url path prefix (URL "
                              "{}) and that {}",
                              request, e.outcome.message, e.url, host_sent(target, e.url)));
  }
  if (e.http_status >= 400 && e.http_status <= 499 && e.http_status != 429 && e.http_status != 408) {
    return refuse(fmt::format("preflight: {} answered {}: the target rejects the scenario's requests; check "
                              "`requests` (max_tokens, api, headers) against the server",
                              request, e.outcome.message));
  }
  // 5xx, 429, a timeout, a broken or malformed stream: what the run is there to measure.
  return PreflightVerdict{true, false,
                          fmt::format("preflight: {} failed ({}: {}); measuring the target as it is", request,
                                      to_string(e.outcome.failure), e.outcome.message)};
}

util::Result<std::string> preflight(const TargetAccess& target, std::string_view model) {
  const scenario::Scenario& s = *target.scenario;
  scenario::RequestSpec spec = s.request;
  spec.max_tokens = std::min(spec.max_tokens, k_preflight_max_tokens);
  Prompt prompt;
  prompt.text = std::string(k_preflight_prompt);
  std::string body;
  build_body(spec, model, prompt, body);
  auto answer = exchange(target, endpoint_path(spec.api), /*get=*/false, body);
  if (!answer) {
    return util::fail("preflight: " + answer.error());
  }
  PreflightVerdict verdict = judge_preflight(*answer, s.target, model);
  if (verdict.proceed) {
    return verdict.message;
  }
  if (verdict.needs_model_list) {
    auto models = list_models(target);
    if (!models) {
      verdict.message += fmt::format("; listing the served models failed too: {}", models.error());
    } else if (models->empty()) {
      verdict.message += fmt::format("; GET {} lists no model", *join_url(target.base_url, k_models_path));
    } else {
      std::string names;
      for (const auto& id : *models) {
        names += (names.empty() ? "" : ", ") + id;
      }
      verdict.message += fmt::format("; GET {} lists: {}; {} to one of them", *join_url(target.base_url, k_models_path),
                                     names, k_set_model);
    }
  }
  return util::fail(verdict.message);
}

}  // namespace llmd::engine
