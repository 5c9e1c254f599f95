#include "util/curl_global.hpp"

#include <mutex>

#include <curl/curl.h>

namespace llmd::util {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace llmd::util
