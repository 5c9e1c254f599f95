#!/usr/bin/env python3
"""ctest result_schema_self_test: validate_results.py and the schema can fail.

A minimal result (a run that never started: run, cache and warmup null) must validate; the same
document with an undocumented field, an old cache field name, a 0 where null is required or an
unknown verdict must not; an empty folder must fail. Usage: validate_results_test.py SCHEMA
"""
import copy
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent

MINIMAL = {
    "schema": "llmd-bench/result", "version": 1,
    "tool": {"name": "llmd-bench", "version": "0.1.0"},
    "scenario": {
        "name": "s", "path": "s.yaml", "time_scale": 1.0,
        "target": {"base_url": "", "host": "", "headers": {}, "api_key_env": "", "insecure": False, "http2": False,
                   "preflight": True, "connect_timeout_s": 10.0, "request_timeout_s": 300.0},
        "request": {"api": "completions", "model": "", "prefix_tokens": 0, "suffix_tokens": 8, "max_tokens": 16,
                    "stream": True, "include_usage": True, "ignore_eos": False, "seed": 1, "multi_turn": None},
        "warmup": None,
        "phases": [{"name": "p", "executor": "constant-vus", "start_time_s": 0.0, "duration_s": 1.0, "vus": 1,
                    "start_vus": None, "stages": None, "rate_per_s": None, "max_in_flight": None, "iterations": None,
                    "max_duration_s": None, "graceful_stop_s": 30.0}],
    },
    "target": {"name": "simulator", "url": "http://127.0.0.1:1", "embedded_sim": True, "sim": None},
    "model": "", "model_source": "", "warmup": None, "run": None, "cache": None, "cache_source": "",
    "thresholds": [], "checks": {}, "warnings": [], "aborted_by_threshold": None, "errors": ["embedded simulator: port in use"], "notes": [], "diagnostics": [],
    "interrupted": False, "partial": True, "verdict": "error", "exit_code": 3, "shard": None, "start_at": None,
    "stages": [{"name": "simulator", "seconds": 0.002, "detail": ""}, {"name": "diagnostics", "seconds": 1e-05, "detail": "0 findings"},
               {"name": "judge", "seconds": 1e-05, "detail": "error"}],
}

CACHE_TOTALS = {"queries_tokens": 10.0, "hits_tokens": 5.0, "queries_blocks": None, "hits_blocks": None,
                "requests_success": 1.0, "hit_rate": 0.5, "max_pod_share": 1.0, "max_share_pod": "p",
                "max_pod_query_share": 1.0, "max_query_share_pod": "p", "external_queries_tokens": None,
                "external_hits_tokens": None, "pods_ok": 1, "pods_failed": 0, "pods_invalid": 0, "pods_vanished": 0,
                "missing_pods": [], "mixed_units": False}


def with_cache(totals):
    document = copy.deepcopy(MINIMAL)
    document["cache"] = {"pods": [], "totals": totals, "diagnostics": []}
    return document


def run(schema, documents):
    with tempfile.TemporaryDirectory() as folder:
        for i, document in enumerate(documents):
            pathlib.Path(folder, f"r{i}.json").write_text(json.dumps(document))
        done = subprocess.run([sys.executable, str(HERE / "validate_results.py"), schema, folder],
                              capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr


def main(schema):
    failures = []
    code, out = run(schema, [MINIMAL, with_cache(CACHE_TOTALS)])
    if code != 0:
        failures.append(f"valid documents rejected: {out}")
    old_names = dict(CACHE_TOTALS)
    old_names["hits"] = old_names.pop("hits_tokens")
    rate_above_one = dict(CACHE_TOTALS, hit_rate=2.0)
    bad = {
        "an undocumented field": dict(copy.deepcopy(MINIMAL), surprise=1),
        "an old cache field name": with_cache(old_names),
        "a hit rate above 1": with_cache(rate_above_one),
        "an unknown verdict": dict(copy.deepcopy(MINIMAL), verdict="maybe"),
        "a missing field": {k: v for k, v in MINIMAL.items() if k != "target"},
        "an unknown stage": dict(copy.deepcopy(MINIMAL), stages=[{"name": "nap", "seconds": 1.0, "detail": ""}]),
    }
    for what, document in bad.items():
        code, out = run(schema, [document])
        if code != 1 or "0 of 1 result files valid" not in out:
            failures.append(f"{what} was not rejected (exit {code}): {out}")
    code, out = run(schema, [])
    if code != 1 or "0 result files" not in out:
        failures.append(f"an empty folder passed (exit {code}): {out}")
    for failure in failures:
        print("FAIL:", failure)
    print(f"validate_results_test: {len(bad) + 2 - len(failures)} of {len(bad) + 2} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
