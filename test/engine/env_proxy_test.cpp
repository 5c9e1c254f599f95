// engine/env_proxy.hpp: the proxy libcurl takes from the environment, decided as libcurl does (names only,
// never a proxy URL), and the note an error from a proxied request carries.
#include "engine/env_proxy.hpp"

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NoProxy, FollowsLibcurlsRules) {
  // Names: the name itself and every name under it, with or without a leading dot, any case.
  EXPECT_TRUE(no_proxy_covers("gw.ns.svc.cluster.local", "localhost,.svc.cluster.local"));
  EXPECT_TRUE(no_proxy_covers("gw.ns.svc.cluster.local", "svc.cluster.local"));
  EXPECT_TRUE(no_proxy_covers("GW.example.COM", "example.com"));
  EXPECT_TRUE(no_proxy_covers("example.com", ".example.com"));
  EXPECT_TRUE(no_proxy_covers("example.com.", "example.com"));
  EXPECT_FALSE(no_proxy_covers("notexample.com", "example.com"));
  EXPECT_FALSE(no_proxy_covers("example.com", "www.example.com"));
  EXPECT_FALSE(no_proxy_covers("gw", "gw2,  , g"));
  EXPECT_TRUE(no_proxy_covers("gw", " other gw "));  // spaces separate as commas do
  // "*" alone exempts every host; inside a list it is a name like any other.
  EXPECT_TRUE(no_proxy_covers("anything", "*"));
  EXPECT_FALSE(no_proxy_covers("anything", "*,localhost"));
  // Addresses: the address itself or a CIDR block; a name never covers an address.
  EXPECT_TRUE(no_proxy_covers("127.0.0.1", "localhost,127.0.0.1"));
  EXPECT_FALSE(no_proxy_covers("127.0.0.1", "localhost"));
  EXPECT_FALSE(no_proxy_covers("127.0.0.12", "127.0.0.1"));
  EXPECT_TRUE(no_proxy_covers("10.42.7.9", "10.0.0.0/8"));
  EXPECT_TRUE(no_proxy_covers("10.42.7.9", "10.42.4.0/22"));
  EXPECT_FALSE(no_proxy_covers("10.42.8.9", "10.42.4.0/22"));
  EXPECT_FALSE(no_proxy_covers("10.42.7.9", "10.0.0.0/33"));
  EXPECT_FALSE(no_proxy_covers("10.42.7.9", "10.0.0.0/x"));
  EXPECT_TRUE(no_proxy_covers("[::1]", "::1"));
  EXPECT_TRUE(no_proxy_covers("::1", "[::1]"));
  EXPECT_TRUE(no_proxy_covers("fd00::1:2", "fd00::/8"));
  EXPECT_FALSE(no_proxy_covers("fe80::1", "fd00::/8"));
  EXPECT_FALSE(no_proxy_covers("::1", "127.0.0.1"));
  EXPECT_FALSE(no_proxy_covers("127.0.0.1", ""));
}

// A fake environment: NAME=value pairs, read by env_proxy in place of getenv.
const char* const* g_env = nullptr;
const char* fake_env(const char* name) {
  for (const char* const* at = g_env; at != nullptr && *at != nullptr; at += 2) {
    if (std::strcmp(at[0], name) == 0) {
      return at[1];
    }
  }
  return nullptr;
}
EnvProxy decide(std::initializer_list<const char*> env, std::string_view scheme, std::string_view host) {
  static std::vector<const char*> storage;
  storage.assign(env.begin(), env.end());
  storage.push_back(nullptr);
  g_env = storage.data();
  return env_proxy(scheme, host, fake_env);
}

TEST(EnvProxy, TakesTheVariableLibcurlTakes) {
  EXPECT_EQ(decide({"http_proxy", "http://p:1"}, "http", "gw").variable, "http_proxy");
  // HTTP_PROXY is never read for http:// (httpoxy); all_proxy is.
  EXPECT_TRUE(decide({"HTTP_PROXY", "http://p:1"}, "http", "gw").variable.empty());
  EXPECT_EQ(decide({"HTTP_PROXY", "http://p:1", "ALL_PROXY", "http://p:2"}, "http", "gw").variable, "ALL_PROXY");
  // https reads https_proxy, then HTTPS_PROXY, then all_proxy, ALL_PROXY; an empty variable is unset.
  EXPECT_EQ(decide({"HTTPS_PROXY", "http://p:1"}, "https", "gw").variable, "HTTPS_PROXY");
  EXPECT_EQ(decide({"https_proxy", "", "all_proxy", "http://p:1"}, "https", "gw").variable, "all_proxy");
  EXPECT_EQ(decide({"https_proxy", "http://p:1", "all_proxy", "http://p:2"}, "HTTPS", "gw").variable, "https_proxy");
  EXPECT_FALSE(decide({}, "http", "gw").proxied());
  EXPECT_FALSE(decide({"https_proxy", "http://p:1"}, "http", "gw").proxied());
}

TEST(EnvProxy, NoProxyExemptsAndLowerCaseWins) {
  const auto exempt = decide({"http_proxy", "http://p:1", "NO_PROXY", ".svc"}, "http", "gw.ns.svc");
  EXPECT_FALSE(exempt.proxied());
  EXPECT_EQ(exempt.variable, "http_proxy");
  EXPECT_EQ(exempt.exempted_by, "NO_PROXY");
  // A set no_proxy hides NO_PROXY; an empty one does not (libcurl reads neither value when empty).
  EXPECT_TRUE(decide({"http_proxy", "http://p:1", "no_proxy", "other", "NO_PROXY", "*"}, "http", "gw").proxied());
  EXPECT_EQ(decide({"http_proxy", "http://p:1", "no_proxy", "", "NO_PROXY", "*"}, "http", "gw").exempted_by, "NO_PROXY");
  EXPECT_TRUE(decide({"http_proxy", "http://p:1", "no_proxy", "gw2"}, "http", "gw").proxied());
}

TEST(EnvProxy, TheNoteNamesTheVariableAndTheHostNeverTheProxyUrl) {
  static const char* const secret_env[] = {"http_proxy", "http://alice:s3cret@proxy.corp:3128", "no_proxy", "localhost",
                                           nullptr};
  g_env = secret_env;
  const std::string note = proxy_note("http://gw.example:8080/v1/models", fake_env);
  EXPECT_EQ(note,
            "; libcurl sent it through the proxy in $http_proxy (no_proxy does not exempt gw.example): check that proxy, "
            "or add the host to no_proxy");
  EXPECT_THAT(note, Not(HasSubstr("s3cret")));
  EXPECT_THAT(note, Not(HasSubstr("proxy.corp")));
  EXPECT_EQ(proxy_note("http://localhost:8080/v1/models", fake_env), "");
  EXPECT_EQ(proxy_note("https://gw.example/v1/models", fake_env), "");  // https reads https_proxy, not http_proxy
  EXPECT_EQ(proxy_note("not a url", fake_env), "");
  g_env = nullptr;
  EXPECT_EQ(proxy_note("http://gw.example/v1/models", fake_env), "");
}

}  // namespace
}  // namespace llmd::engine
