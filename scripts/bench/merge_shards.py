#!/usr/bin/env python3
"""Synthesizes the shard results of a long sharded run from one real result (bench.sh part merge).

merge_shards.py RESULT.json SCENARIO.yaml COUNT SECONDS OUT_DIR
Writes OUT_DIR/shard-I.json for I in 0..COUNT-1: RESULT with the issue 16 shard fields (shard,
scenario.sha256 of SCENARIO's bytes, verdict not_judged, no thresholds), SECONDS per-second buckets
and 10 x SECONDS completion slices per phase, and every histogram of every phase and of the total
filled densely (a long-tailed latency spread over ~1,500 buckets, different per shard), as a
10-minute run's would be. The histograms follow the engine layout (run_result.cpp:
sub_bucket_bits 7, lowest_value 0, max_value_bits 42) and stay self-consistent (count, min, max,
sum), so `llmd-bench merge` reads them as it reads real ones.
"""
import copy
import hashlib
import json
import random
import sys

SUB_BUCKET_BITS = 7


def bucket_index(value):
    width = value.bit_length()
    shift = width - SUB_BUCKET_BITS - 1 if width > SUB_BUCKET_BITS + 1 else 0
    return (shift << SUB_BUCKET_BITS) + (value >> shift)


def dense_histogram(template, rng, samples=20000):
    counts = {}
    values = [max(1, int(rng.lognormvariate(16.0, 1.6))) for _ in range(samples)]  # ~9 ms median, to minutes
    values = [min(v, (1 << 42) - 1) for v in values]
    for v in values:
        i = bucket_index(v)
        counts[i] = counts.get(i, 0) + 1
    h = copy.deepcopy(template)
    h.update(count=samples, min=min(values), max=max(values), sum=sum(values), below_range=0, above_range=0,
             buckets=[[i, counts[i]] for i in sorted(counts)])
    return h


def fill_phase(phase, rng, seconds):
    for metric in phase["metrics"].values():
        metric["histogram"] = dense_histogram(metric["histogram"], rng)
    for metric in phase["failed_metrics"]["time_to_failure_ns"].values():
        metric["histogram"] = dense_histogram(metric["histogram"], rng, 2000)
    slices = phase.get("completions_per_100ms")
    if slices:
        slices["ok"] = [rng.randrange(50) for _ in range(10 * seconds)]
        slices["failed"] = [rng.randrange(2) for _ in range(10 * seconds)]


def main():
    result_path, scenario_path, count, seconds, out_dir = sys.argv[1:6]
    count, seconds = int(count), int(seconds)
    base = json.load(open(result_path))
    sha256 = hashlib.sha256(open(scenario_path, "rb").read()).hexdigest()
    columns = ["started", "ok", "failed", "output_tokens", "peak_in_flight"]
    for index in range(count):
        rng = random.Random(index)
        shard = copy.deepcopy(base)
        shard["shard"] = {"index": index, "count": count, "origin": "--shard"}
        shard["scenario"]["sha256"] = sha256
        shard["verdict"] = "not_judged"
        shard["thresholds"] = []
        run = shard["run"]
        for phase in run["phases"] + [run["total"]]:
            fill_phase(phase, rng, seconds)
        per_second = run["per_second"]
        for column in columns:
            per_second[column] = [rng.randrange(100) for _ in range(seconds)]
        for column in ["ttft_p50_ns", "ttft_p95_ns", "itl_p50_ns", "itl_p95_ns"]:
            per_second[column] = [float(rng.randrange(1, 10**8)) for _ in range(seconds)]
        with open(f"{out_dir}/shard-{index}.json", "w") as out:
            json.dump(shard, out, indent=2)


if __name__ == "__main__":
    main()
