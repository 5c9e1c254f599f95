#include "util/redact.hpp"

#include <gtest/gtest.h>

namespace llmd::util {
namespace {

TEST(Redact, HidesUrlUserinfoOfAnySchemeAndKeepsTheRest) {
  EXPECT_EQ(redact("target http://alice:pw@gw.example:80/v1 ok"), "target http://***@gw.example:80/v1 ok");
  EXPECT_EQ(redact("https://token@host/x?a=b@c"), "https://***@host/x?a=b@c");  // '@' after the path stays
  EXPECT_EQ(redact(R"({"url":"http://u:p@h","other":"mail me@x"})"), R"({"url":"http://***@h","other":"mail me@x"})");
  EXPECT_EQ(redact("http://gw.example:80/v1"), "http://gw.example:80/v1");
  EXPECT_EQ(redact("two http://a:b@x and ftp://c@y"), "two http://***@x and ftp://***@y");
  EXPECT_EQ(redact("no scheme ://x@y"), "no scheme ://x@y");
}

TEST(Redact, HidesRegisteredSecretsAsWrittenAndAsEscapedInJson) {
  add_secret("sk-live-ABC\"123");
  add_secret("abc");  // too short to hide: it would hide ordinary words
  EXPECT_EQ(redact("HTTP 401: bad token sk-live-ABC\"123 for abc"), "HTTP 401: bad token *** for abc");
  EXPECT_EQ(redact(R"({"message":"bad token sk-live-ABC\"123"})"), R"({"message":"bad token ***"})");
}

}  // namespace
}  // namespace llmd::util
