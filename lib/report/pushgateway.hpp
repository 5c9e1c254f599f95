#pragma once
// `run --out prometheus-push=URL`: the Pushgateway's address checked before the run, and one HTTP
// PUT of the run's exposition text (report/prometheus_push.hpp) after it.
//
// Where: URL/metrics/job/llmd_bench/scenario/<name> (PUT replaces the whole group, so a scenario
// run again replaces its previous push). A name that is empty or holds anything but letters,
// digits and "-._~" (a "/" above all) goes in the Pushgateway's base64 form,
// /scenario@base64/<base64url of the name> ("=" for the empty name).
// How: libcurl easy handle (scrape/http_get.hpp), Content-Type `text/plain; version=0.0.4`, one
// 10 s timeout for the whole transfer. No authentication (a URL's user info is sent as curl sends
// it, but never printed: every message goes through util::redact).
#include <chrono>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::report {

inline constexpr std::chrono::milliseconds k_push_timeout{10'000};
inline constexpr std::string_view k_push_job = "llmd_bench";

// An http or https URL with a host, parsed by libcurl's URL API; the error says what is wrong,
// e.g. "scheme \"ftp\" is not http or https".
util::Result<void> check_pushgateway_url(const std::string& url);

// The group's URL: `base` without trailing "/", then /metrics/job/llmd_bench/scenario/... as above.
std::string pushgateway_group_url(std::string_view base, std::string_view scenario);

// RFC 4648 base64url with padding (the Pushgateway's @base64 path form).
std::string base64url(std::string_view bytes);

// PUTs `exposition` to `group_url`. Errors: curl's words for a transfer that failed, or
// "HTTP 400: <first line of the answer>" for a status other than 2xx.
util::Result<void> push_exposition(const std::string& group_url, const std::string& exposition,
                                   std::chrono::milliseconds timeout = k_push_timeout);

}  // namespace llmd::report
