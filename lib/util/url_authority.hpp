#pragma once
// Where the authority ("user:pw@host:port") of a URL is: after "scheme://" (or from the start
// when there is no scheme) up to the first '/'. Shared by everything that names a URL's host or
// drops its credentials (pod names from metrics URLs, the preflight's Host diagnosis, the
// Tekton `target` result).
#include <cstddef>
#include <string_view>

namespace llmd::util {

struct UrlAuthority {
  std::size_t begin = 0;       // first character after "scheme://"
  std::size_t host_begin = 0;  // after the last '@' of the authority (== begin without user info)
  std::size_t end = 0;         // the first '/' after begin, or the URL's size
};

UrlAuthority find_authority(std::string_view url);

// host[:port] of `url`, without user info.
inline std::string_view url_host_port(std::string_view url) {
  const UrlAuthority a = find_authority(url);
  return url.substr(a.host_begin, a.end - a.host_begin);
}

}  // namespace llmd::util
