#include "engine/env_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>

#include "util/ascii_case.hpp"

namespace llmd::engine {

namespace {

// An IPv4 or IPv6 literal as 16 bytes (IPv4 in the first 4) and its bit count, or 0 when `text` is neither.
std::size_t parse_ip(const std::string& text, std::array<unsigned char, 16>& bytes) {
  bytes.fill(0);
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return 32;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    return 128;
  }
  return 0;
}

bool same_prefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, std::size_t bits) {
  const std::size_t whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) {
    return false;
  }
  const std::size_t rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xFFu << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

const char* read_env(EnvLookup lookup, const char* name) {
  const char* value = lookup(name);
  return value != nullptr && value[0] != '\0' ? value : nullptr;  // libcurl's curl_getenv: empty is unset
}

}  // namespace

bool no_proxy_covers(std::string_view host, std::string_view no_proxy) {
  // Hand-written: libcurl (7.86+, lib/noproxy.c) has no public call that answers this; these are its rules.
  if (no_proxy == "*") {
    return true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::array<unsigned char, 16> host_ip{};
  const std::size_t host_bits = parse_ip(std::string(host), host_ip);
  if (host_bits == 0 && !host.empty() && host.back() == '.') {
    host.remove_suffix(1);  // a fully qualified name's trailing dot
  }
  std::size_t at = 0;
  while (at < no_proxy.size()) {
    const std::size_t start = no_proxy.find_first_not_of(", \t", at);
    if (start == std::string_view::npos) {
      break;
    }
    std::size_t end = no_proxy.find_first_of(", \t", start);
    if (end == std::string_view::npos) {
      end = no_proxy.size();
    }
    std::string_view token = no_proxy.substr(start, end - start);
    at = end;
    if (host_bits != 0) {
      // An address matches an address, whole or as a CIDR block ("10.0.0.0/8", "fd00::/8").
      std::size_t bits = host_bits;
      if (const std::size_t slash = token.find('/'); slash != std::string_view::npos) {
        const std::string_view count = token.substr(slash + 1);
        const auto parsed = std::from_chars(count.data(), count.data() + count.size(), bits);
        if (parsed.ec != std::errc{} || parsed.ptr != count.data() + count.size() || bits > host_bits) {
          continue;
        }
        token = token.substr(0, slash);
      }
      if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
        token = token.substr(1, token.size() - 2);
      }
      std::array<unsigned char, 16> token_ip{};
      if (parse_ip(std::string(token), token_ip) == host_bits && same_prefix(host_ip, token_ip, bits)) {
        return true;
      }
      continue;
    }
    // A name matches itself or any name under it: "svc.cluster.local" and ".svc.cluster.local" both cover
    // "gw.ns.svc.cluster.local", neither covers "notsvc.cluster.local".
    if (token.front() == '.') {
      token.remove_prefix(1);
    }
    if (!token.empty() && token.back() == '.') {
      token.remove_suffix(1);
    }
    if (token.empty() || token.size() > host.size()) {
      continue;
    }
    const std::string_view tail = host.substr(host.size() - token.size());
    if (util::equals_ignoring_case(tail, token) &&
        (token.size() == host.size() || host[host.size() - token.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

EnvProxy env_proxy(std::string_view scheme, std::string_view host, EnvLookup getenv_fn) {
  const EnvLookup lookup = getenv_fn != nullptr ? getenv_fn : +[](const char* name) -> const char* { return std::getenv(name); };
  EnvProxy proxy;
  std::string lower;
  for (const char c : scheme) {
    lower += util::ascii_lower(c);
  }
  lower += "_proxy";
  std::string upper;
  for (const char c : lower) {
    upper += util::ascii_upper(c);
  }
  if (read_env(lookup, lower.c_str()) != nullptr) {
    proxy.variable = lower;
  } else if (lower != "http_proxy" && read_env(lookup, upper.c_str()) != nullptr) {
    proxy.variable = upper;
  } else {
    for (const char* name : {"all_proxy", "ALL_PROXY"}) {
      if (read_env(lookup, name) != nullptr) {
        proxy.variable = name;
        break;
      }
    }
  }
  if (proxy.variable.empty()) {
    return proxy;
  }
  const char* no_proxy_variable = "no_proxy";
  const char* no_proxy = read_env(lookup, no_proxy_variable);
  if (no_proxy == nullptr) {
    no_proxy_variable = "NO_PROXY";
    no_proxy = read_env(lookup, no_proxy_variable);
  }
  if (no_proxy != nullptr && no_proxy_covers(host, no_proxy)) {
    proxy.exempted_by = no_proxy_variable;
  }
  return proxy;
}

std::string proxy_note(std::string_view url, EnvLookup getenv_fn) {
  CURLU* parsed = curl_url();
  const std::string text(url);
  std::string scheme;
  std::string host;
  if (parsed != nullptr && curl_url_set(parsed, CURLUPART_URL, text.c_str(), 0) == CURLUE_OK) {
    for (auto [part, into] : {std::pair{CURLUPART_SCHEME, &scheme}, std::pair{CURLUPART_HOST, &host}}) {
      char* value = nullptr;
      if (curl_url_get(parsed, part, &value, 0) == CURLUE_OK && value != nullptr) {
        *into = value;
      }
      curl_free(value);
    }
  }
  curl_url_cleanup(parsed);
  if (scheme.empty() || host.empty()) {
    return {};
  }
  const EnvProxy proxy = env_proxy(scheme, host, getenv_fn);
  if (!proxy.proxied()) {
    return {};
  }
  return fmt::format("; libcurl sent it through the proxy in ${} (no_proxy does not exempt {}): check that proxy, or "
                     "add the host to no_proxy",
                     proxy.variable, host);
}

}  // namespace llmd::engine
