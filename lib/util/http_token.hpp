#pragma once
// RFC 9110 tokens: what an HTTP header name may be made of.
#include <string_view>

namespace llmd::util {

// True when `text` is a non-empty run of letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 `token`).
bool is_http_token(std::string_view text);

}  // namespace llmd::util
