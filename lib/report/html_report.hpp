#pragma once
// The run result as one self-contained HTML page (issue 15): `run --out html=FILE` and
// `llmd-bench report RESULT.json --html FILE`. Rendered from the result JSON (what --out json
// writes, schema/result-v1.schema.json), so a saved result renders offline and every number on
// the page is the JSON's.
//
// No network and no library: the charts are inline SVG drawn here (a charting library was
// considered; vendoring one would add ~200 KB of JavaScript to every report for six line charts,
// bars and CDFs that SVG paths draw directly), inline CSS, one small inline script that marks
// what was drawn; a Content-Security-Policy of default-src 'none' makes the browser refuse any fetch. Colours: the Okabe-Ito palette
// (colour-blind safe), and every status is also written as a word.
//
// Sections: header (scenario, target, model, verdict, thresholds, checks), over time (per-second
// requests, errors, in flight, TTFT and ITL p50/p95, tokens/s, from run.per_second, with phase
// boundaries and scheduled events marked), distributions (TTFT, ITL, E2E CDFs on a log axis from
// the run total's exact histograms), prefix cache (per-pod bars, fleet hit rate, the per-pod hit
// rate over time when cache.interval sampled it), routing, diagnostics with their fixes, the
// config echo (strings through util::redact) and the tool version.
//
// DOM hooks the browser test reads: #verdict[data-verdict], #hit-rate[data-value] (the JSON
// number as written), svg.chart[data-chart] with path.series / rect.series elements and, once the
// page has loaded, data-drawn="yes|no" (the script measures the laid-out series), body[data-charts].
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "report/compare.hpp"
#include "util/result.hpp"

namespace llmd::report {

// The page; fails when `result` is not an llmd-bench result ("schema" is not "llmd-bench/result").
util::Result<std::string> render_html(const nlohmann::json& result);

// `compare --out html=FILE`: both runs overlaid (per-second series, CDFs, per-pod hit rates; the
// baseline dashed), the gates and the side-by-side tables of `comparison` (compare.hpp). Hooks:
// #verdict[data-verdict="ok|regression"], svg.chart as above.
// `llmd-bench sweep --out html=FILE`: the answer, latency against achieved throughput and the achieved
// rate and goodput against the offered load (one point per step, the capacity marked), and the steps'
// table; rendered from the `llmd-bench/sweep` JSON document. Fails on any other document.
util::Result<std::string> render_sweep_html(const nlohmann::json& sweep);

std::string render_comparison_html(const nlohmann::json& baseline, const nlohmann::json& current,
                                   const Comparison& comparison);

}  // namespace llmd::report
