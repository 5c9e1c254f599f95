#include "util/url_authority.hpp"

#include <algorithm>

namespace llmd::util {

UrlAuthority find_authority(std::string_view url) {
  UrlAuthority a;
  const auto scheme = url.find("://");
  a.begin = scheme == std::string_view::npos ? 0 : scheme + 3;
  a.end = std::min(url.find('/', a.begin), url.size());
  const auto at = url.substr(a.begin, a.end - a.begin).rfind('@');
  a.host_begin = at == std::string_view::npos ? a.begin : a.begin + at + 1;
  return a;
}

}  // namespace llmd::util
