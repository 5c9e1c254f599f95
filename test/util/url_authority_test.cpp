#include "util/url_authority.hpp"

#include <gtest/gtest.h>

namespace {

using llmd::util::find_authority;
using llmd::util::url_host_port;

TEST(UrlAuthority, HostAndPortWithoutUserInfo) {
  EXPECT_EQ(url_host_port("http://10.0.0.5:8200/metrics"), "10.0.0.5:8200");
  EXPECT_EQ(url_host_port("http://alice:pw@10.0.0.5:8200/metrics"), "10.0.0.5:8200");
  EXPECT_EQ(url_host_port("10.0.0.6:8000/metrics"), "10.0.0.6:8000");
  EXPECT_EQ(url_host_port("https://gw.example"), "gw.example");
  EXPECT_EQ(url_host_port("https://a@b@gw.example/x@y"), "gw.example") << "the last '@' before the path";
}

TEST(UrlAuthority, SpansOfTheAuthority) {
  const std::string_view url = "https://u:p@gw:443/v1/x";
  const auto a = find_authority(url);
  EXPECT_EQ(url.substr(a.begin, a.end - a.begin), "u:p@gw:443");
  EXPECT_EQ(url.substr(a.host_begin, a.end - a.host_begin), "gw:443");
  const auto plain = find_authority("http://gw/p");
  EXPECT_EQ(plain.host_begin, plain.begin);
  EXPECT_EQ(plain.end, 9u);
}

}  // namespace
