// `target:` and `api:` of a scenario file, and the URL/host/env-name checks the CLI overrides share.
#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "scenario/load_sections.hpp"
#include "util/ascii_case.hpp"
#include "util/http_token.hpp"

namespace llmd::scenario::detail {

namespace {

using util::fail;

constexpr std::array<std::string_view, 11> k_target_keys = {"base_url",        "host",           "headers",
                                                            "api_key_env",     "insecure",       "http2",
                                                            "connect_timeout", "request_timeout", "backoff",
                                                            "preflight",       "served_by_header"};
constexpr std::array<std::string_view, 3> k_backoff_keys = {"retry_after", "max_retry_after", "connect_errors"};

constexpr std::pair<std::string_view, ApiKind> k_apis[] = {
    {"completions", ApiKind::completions},
    {"chat", ApiKind::chat},
};

using util::equals_ignoring_case;

util::Result<void> load_header(const yaml::Field& key, const yaml::Field& value, Target& target) {
  const std::string& name = key.node().Scalar();
  if (auto valid = check_header_name(name); !valid) {
    return fail(key.error(valid.error()));
  }
  if (equals_ignoring_case(name, "host")) {
    return fail(key.error("set the Host header with target.host, not in headers"));
  }
  if (equals_ignoring_case(name, "authorization")) {
    return fail(key.error("do not put credentials in scenario files: name the environment variable holding the token "
                          "in target.api_key_env (sent as \"Authorization: Bearer <token>\")"));
  }
  auto text = value.as_string();
  if (!text) {
    return fail(text.error());
  }
  if (text->find_first_of("\r\n") != std::string::npos) {
    return fail(value.error("a header value must not contain line breaks"));
  }
  target.headers.emplace_back(name, std::move(*text));
  return {};
}

util::Result<void> load_headers(const yaml::Field& field, Target& target) {
  auto headers = yaml::Section::open_any(field);
  if (!headers) {
    return fail(headers.error());
  }
  for (const auto& [key, value] : headers->entries()) {
    LLMD_TRY(load_header(key, value, target));
  }
  return {};
}

// target.served_by_header: a header name, or a list of them (tried in order).
util::Result<void> load_served_by(const yaml::Field& field, Target& target) {
  std::vector<yaml::Field> items;
  if (field.node().IsSequence()) {
    auto list = field.as_list();
    if (!list) {
      return fail(list.error());
    }
    items = std::move(*list);
  } else {
    items.push_back(field);
  }
  for (const auto& item : items) {
    auto name = item.as_string();
    if (!name) {
      return fail(name.error());
    }
    if (auto valid = check_header_name(*name); !valid) {
      return fail(item.error(valid.error()));
    }
    target.served_by_header.push_back(std::move(*name));
  }
  return {};
}

}  // namespace

util::Result<void> check_header_name(std::string_view name) {
  if (!util::is_http_token(name)) {
    return fail(fmt::format("\"{}\" is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)", name));
  }
  return {};
}

util::Result<void> check_http_url(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() > scheme.size() && equals_ignoring_case(url.substr(0, scheme.size()), scheme)) {
      const std::string_view rest = url.substr(scheme.size());
      if (rest.front() != '/' && rest.front() != ':' && rest.find_first_of(" \t\r\n") == std::string_view::npos) {
        return {};
      }
    }
  }
  return fail(fmt::format("expected an http:// or https:// URL with a host, got \"{}\"", url));
}

util::Result<void> check_base_url(std::string_view url) { return check_http_url(url); }

std::string normalize_base_url(std::string url) {
  const auto drop_slashes = [&url] {
    while (!url.empty() && url.back() == '/') {
      url.pop_back();
    }
  };
  drop_slashes();
  if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0 && url.find("://") + 3 < url.size() - 3) {
    url.resize(url.size() - 3);  // OpenAI's base_url convention: requests add /v1/... themselves
    drop_slashes();
  }
  return url;
}

util::Result<void> check_host(std::string_view host) {
  if (host.find("://") != std::string_view::npos || host.find_first_of("/ \t\r\n") != std::string_view::npos) {
    return fail(fmt::format("expected a host name with an optional :port (the Host header), got \"{}\"", host));
  }
  return {};
}

util::Result<void> check_env_name(std::string_view name) {
  const bool valid = !name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) == 0 &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                     });
  if (!valid) {
    return fail("expected the NAME of an environment variable holding the token (letters, digits and _, "
                "e.g. OPENAI_API_KEY), not the token itself; the value is not shown");
  }
  return {};
}

util::Result<ApiKind> parse_api(std::string_view text) {
  for (const auto& [name, kind] : k_apis) {
    if (text == name) {
      return kind;
    }
  }
  return fail(fmt::format("unknown api \"{}\"; expected one of completions, chat", text));
}

util::Result<ApiKind> load_api(const yaml::Field& field) { return field.as_choice("api", k_apis); }

// target.backoff: {retry_after: bool, max_retry_after: duration, connect_errors: bool}.
util::Result<void> load_backoff(const yaml::Field& field, Backoff& backoff) {
  auto section = yaml::Section::open(field, k_backoff_keys);
  if (!section) {
    return fail(section.error());
  }
  LLMD_TRY(section->read("retry_after", backoff.retry_after));
  LLMD_TRY(section->read("max_retry_after", backoff.max_retry_after, yaml::ZeroDuration::rejected));
  LLMD_TRY(section->read("connect_errors", backoff.connect_errors));
  return {};
}

util::Result<void> load_target(const yaml::Field& field, Target& target) {
  auto section = yaml::Section::open(field, k_target_keys);
  if (!section) {
    return fail(section.error());
  }
  target.where = field.where();
  LLMD_TRY(section->read_parsed("base_url", target.base_url, checked(check_base_url)));
  target.base_url = normalize_base_url(std::move(target.base_url));  // requests append "/v1/..." 
  LLMD_TRY(section->read_parsed("host", target.host, checked(check_host)));
  LLMD_TRY(section->read_parsed("api_key_env", target.api_key_env, checked(check_env_name)));
  if (auto headers = section->get("headers")) {
    LLMD_TRY(load_headers(*headers, target));
  }
  LLMD_TRY(section->read("insecure", target.insecure));
  LLMD_TRY(section->read("http2", target.http2));
  LLMD_TRY(section->read("preflight", target.preflight));
  LLMD_TRY(section->read("connect_timeout", target.connect_timeout, yaml::ZeroDuration::rejected));
  LLMD_TRY(section->read("request_timeout", target.request_timeout, yaml::ZeroDuration::rejected));
  if (auto backoff = section->get("backoff")) {
    LLMD_TRY(load_backoff(*backoff, target.backoff));
  }
  if (auto served_by = section->get("served_by_header")) {
    LLMD_TRY(load_served_by(*served_by, target));
  }
  return {};
}

}  // namespace llmd::scenario::detail
