#pragma once
// The k6-like end-of-run summary for humans (fmt). Pure: report in, text out.
#include <string>

#include "run/run_report.hpp"

namespace llmd::report {

struct TextOptions {
  bool unicode = true;  // ✓/✗ marks; false: PASS/FAIL words (for terminals without UTF-8)
};

std::string render_text(const run::RunReport& report, const TextOptions& options = {});

// The per-pod prefix-cache table (pod, Δqueries, Δhits, hit rate, share, Δrequests, status), the
// totals line and the diagnostics with their fixes; each line indented by two spaces. Used by
// render_text() under its heading, and by `llmd-bench diff`.
std::string render_cache_table(const scrape::CacheReport& cache);

}  // namespace llmd::report
