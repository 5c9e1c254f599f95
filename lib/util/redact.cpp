#include "util/redact.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_text.hpp"

namespace llmd::util {

namespace {

constexpr std::string_view k_mask = "***";

std::mutex g_mutex;
std::vector<std::string> g_secrets;  // longest first, so a secret containing another is hidden whole

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// Characters that end the authority of a URL (and so cannot be part of its userinfo).
bool ends_authority(char c) {
  return c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\' ||
         std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Replaces "user[:password]@" after every "scheme://" with "***@".
std::string hide_userinfo(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t at = text.find("://"); at != std::string_view::npos; at = text.find("://", at + 3)) {
    if (at == 0 || !is_scheme_char(text[at - 1])) {
      continue;
    }
    const std::size_t authority = at + 3;
    std::size_t end = authority;
    while (end < text.size() && !ends_authority(text[end])) {
      ++end;
    }
    const std::size_t user_end = text.substr(authority, end - authority).rfind('@');
    if (user_end == std::string_view::npos) {
      continue;
    }
    out.append(text.substr(copied, authority - copied));
    out.append(k_mask);
    copied = authority + user_end;  // keeps the '@'
  }
  out.append(text.substr(copied));
  return out;
}

void replace_all(std::string& text, std::string_view needle) {
  if (needle.empty()) {
    return;
  }
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + k_mask.size())) {
    text.replace(at, needle.size(), k_mask);
  }
}

}  // namespace

void add_secret(std::string_view value) {
  if (value.size() < 4) {
    return;
  }
  std::lock_guard lock(g_mutex);
  for (std::string form : {std::string(value), dump_json(nlohmann::json(std::string(value)))}) {
    if (form.size() >= 2 && form.front() == '"' && form.back() == '"') {
      form = form.substr(1, form.size() - 2);  // the JSON-escaped form, without its quotes
    }
    if (std::find(g_secrets.begin(), g_secrets.end(), form) == g_secrets.end()) {
      g_secrets.push_back(std::move(form));
    }
  }
  std::sort(g_secrets.begin(), g_secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string redact(std::string_view text) {
  std::string out = hide_userinfo(text);
  std::lock_guard lock(g_mutex);
  for (const std::string& secret : g_secrets) {
    replace_all(out, secret);
  }
  return out;
}

}  // namespace llmd::util
