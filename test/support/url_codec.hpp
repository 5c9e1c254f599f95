#pragma once
// Test support: percent-encoding for the query strings the tests send and the fake servers read.
#include <string>

namespace llmd::test {

// Every byte but letters and digits as %XX (safe in a query value).
std::string url_encode(const std::string& text);

// "%7B" -> "{", "+" -> " " (application/x-www-form-urlencoded, as kubectl and curl send it).
std::string url_decode(const std::string& text);

}  // namespace llmd::test
