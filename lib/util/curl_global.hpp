#pragma once
// libcurl's process-wide setup, shared by every module that makes HTTP requests (engine, scrape).

namespace llmd::util {

// curl_global_init, once per process (not thread-safe itself, hence before the first easy handle).
void init_curl_once();

}  // namespace llmd::util
