#!/usr/bin/env python3
"""Makes PODS real-format /metrics dumps of about KB kilobytes each from one simulator scrape:
every family keeps its HELP/TYPE once and gets its samples repeated for model_name variants
(as a pod serving several LoRA adapters would), until the text reaches the size.
usage: make_metrics.py SOURCE.prom OUT_DIR PODS KB"""
import os, re, sys

src, out_dir, pods, kb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
families, current = [], None
for line in open(src, encoding="utf-8").read().splitlines():
    if line.startswith("# HELP"):
        current = {"meta": [line], "samples": []}
        families.append(current)
    elif line.startswith("#"):
        if current is not None:
            current["meta"].append(line)
    elif line.strip() and current is not None:
        current["samples"].append(line)
base_bytes = sum(len(l) + 1 for f in families for l in f["meta"] + f["samples"])
variants = max(1, (kb * 1024) // max(base_bytes, 1) + 1)
model = re.compile(r'model_name="([^"]*)"')
os.makedirs(out_dir, exist_ok=True)
for pod in range(pods):
    lines = []
    for family in families:
        lines += family["meta"]
        for v in range(variants):
            for sample in family["samples"]:
                lines.append(model.sub(lambda m: f'model_name="{m.group(1)}{"" if v == 0 else f"-lora-{v}"}"', sample))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, f"pod-{pod:03d}.prom"), "w", encoding="utf-8") as f:
        f.write(text)
print(f"{pods} dumps of {len(text)} bytes ({variants} model_name variants)")
