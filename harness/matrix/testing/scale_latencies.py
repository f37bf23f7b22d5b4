#!/usr/bin/python3
"""Test helper: copy of a result directory's runs with the waiter latencies of the cells whose
name contains MATCH multiplied by FACTOR (a synthetic regression).
Usage: scale_latencies.py SRC DST MATCH FACTOR"""
import glob
import json
import os
import shutil
import sys

src, dst, match, factor = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
shutil.copytree(src, dst)
LATENCY = ("real_time", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns")
for path in glob.glob(os.path.join(dst, "runs", "*.json")):
    with open(path) as f:
        doc = json.load(f)
    for b in doc["benchmarks"]:
        if match in b["name"]:
            for k in LATENCY:
                if k in b:
                    b[k] *= factor
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
