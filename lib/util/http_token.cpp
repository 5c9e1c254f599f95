#include "util/http_token.hpp"

#include <algorithm>
#include <cctype>

namespace llmd::util {

bool is_http_token(std::string_view text) {
  constexpr std::string_view k_specials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || k_specials.find(c) != std::string_view::npos;
  });
}

}  // namespace llmd::util
