// The proxy libcurl takes from the environment for a request, decided as libcurl decides it, so that
// llmd-bench can say so: the built-in HTTP/1.1 client (fast_http.hpp) is chosen only where libcurl would
// not proxy, and an error from a proxied request names the variable that sent it through the proxy.
// Only variable names are reported, never their values: a proxy URL may hold a password.
#pragma once

#include <string>
#include <string_view>

namespace llmd::engine {

// getenv, injectable for tests.
using EnvLookup = const char* (*)(const char*);

// Whether libcurl's no_proxy rules exempt `host` (a name, an IPv4 address or an IPv6 one, bracketed or not):
// "*" alone exempts every host; otherwise a comma- or space-separated list in which a name covers itself and
// every name under it (a leading dot changes nothing; case-insensitive) and an address covers itself or, as
// "address/bits", its CIDR block. Ports are not part of it.
bool no_proxy_covers(std::string_view host, std::string_view no_proxy);

struct EnvProxy {
  // The variable libcurl takes the proxy from ("http_proxy", "HTTPS_PROXY", "all_proxy", ...), or empty when
  // none is set for the scheme.
  std::string variable;
  // The no_proxy variable that exempts the host ("no_proxy" or "NO_PROXY"), or empty when none does.
  std::string exempted_by;
  bool proxied() const { return !variable.empty() && exempted_by.empty(); }
};

// libcurl's choice for a `scheme` ("http", "https") request to `host`: <scheme>_proxy, then its upper-case
// form except for http (HTTP_PROXY is ignored, "httpoxy"), then all_proxy and ALL_PROXY; an empty variable
// counts as unset. no_proxy, or NO_PROXY when no_proxy is unset or empty, may exempt the host.
EnvProxy env_proxy(std::string_view scheme, std::string_view host, EnvLookup getenv_fn = nullptr);

// For the message of a request to `url` that failed: "" when libcurl sent it straight, else
// "; libcurl sent it through the proxy in $http_proxy (no_proxy does not exempt gw.example): check that proxy,
// or add the host to no_proxy".
std::string proxy_note(std::string_view url, EnvLookup getenv_fn = nullptr);

}  // namespace llmd::engine
