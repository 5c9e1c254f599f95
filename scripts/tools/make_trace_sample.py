#!/usr/bin/env python3
"""Writes scenarios/data/mooncake-sample.jsonl: a small trace in the Mooncake format
(kvcache-ai/Mooncake FAST'25 traces; replayed by AIPerf and SGLang) for scenarios/trace-replay.yaml.

120 requests over about 60 s, block size 16 tokens (the simulator's and vLLM's default; the
Mooncake traces use 512). Every request starts with the same 2 blocks (a system prompt, hash ids 0
and 1); then the 8 blocks of one of 16 documents picked at random (hash ids 2 + 8d ..); then 1 to 3
blocks of its own, the last one cut short (input_length ends inside it, as Mooncake's
hash_ids hold ceil(input_length / block_size) ids). Arrival gaps are exponential with a mean of
0.5 s, rounded to the ms. Deterministic (seed 7): running it again writes the same file.

Usage: scripts/tools/make_trace_sample.py [OUT]   (default scenarios/data/mooncake-sample.jsonl)
"""
import json
import random
import sys

BLOCK = 16
GROUPS = 16
GROUP_BLOCKS = 8
RECORDS = 120


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "scenarios/data/mooncake-sample.jsonl"
    rng = random.Random(7)
    next_id = 2 + GROUPS * GROUP_BLOCKS
    t_ms = 0.0
    lines = []
    for _ in range(RECORDS):
        group = rng.randrange(GROUPS)
        own = rng.randint(1, 3)
        ids = [0, 1] + [2 + group * GROUP_BLOCKS + b for b in range(GROUP_BLOCKS)]
        ids += list(range(next_id, next_id + own))
        next_id += own
        input_length = len(ids) * BLOCK - rng.randint(0, BLOCK - 1)
        lines.append(json.dumps({"timestamp": int(round(t_ms)), "input_length": input_length,
                                 "output_length": rng.randint(16, 64), "hash_ids": ids}))
        t_ms += rng.expovariate(1 / 500.0)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
