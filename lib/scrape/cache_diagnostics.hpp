#pragma once
// Findings about a computed cache report, each with what to do next (STYLE.md habit 6).
// Internal to compute_cache_report(); exposed for its tests.
#include <vector>

#include "scrape/cache_report.hpp"

namespace llmd::scrape {

// Fleet-wide findings first (no queries anywhere, mixed units, external cache), then one or more per
// pod in the report's pod order (scrape failed, vanished, new, caching disabled, restart, blocks,
// V0 gauge only, no counters / model filter matched nothing).
std::vector<CacheDiagnostic> diagnose_cache(const CacheReport& report);

}  // namespace llmd::scrape
