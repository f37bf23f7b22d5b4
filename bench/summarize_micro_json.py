#!/usr/bin/python3
"""Prints the Markdown table of docs/microbenchmarks.md from gpcbench-micro's JSON:
benchmark, wall time, measured ns/op (thread CPU time; TSC for wake-ups), floor, ratio
(the `vs_floor` counter; for wake-ups also the median ratio) and whether the goal is met.
With --benchmark_repetitions the median aggregates are used.
Usage: summarize_micro_json.py RESULT.json"""
import json
import re
import sys

UNIT_NS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}

# (name pattern, goal on vs_floor, goal text)
GOALS = [
    (r"^check/lockless:0/", 1.3, "<= 1.3x rwlock"),
    (r"^check/lockless:1/", 2.0, "<= 2x seqcount"),
    (r"^invalidator/", 1.10, "<= 1.10x bare"),
    (r"^kvm/exit_harness", 1.05, "<= 1.05x raw"),
    (r"^wakeup/wait:3/", 1.2, "<= 1.2x futex"),
]


def fmt_ns(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.2f} ns"


def main():
    doc = json.load(open(sys.argv[1]))
    rows = doc["benchmarks"]
    if any(r.get("aggregate_name") == "median" for r in rows):
        rows = [r for r in rows if r.get("aggregate_name") == "median" or r.get("error_occurred")]
    print("| benchmark | wall time | measured | floor | ratio | goal |")
    print("|---|---|---|---|---|---|")
    seen_skips = set()
    for r in rows:
        name = r.get("run_name", r["name"])
        if name.startswith("floor/"):
            continue
        if r.get("error_occurred"):
            if name not in seen_skips:
                print(f"| {name} | skipped: {r.get('error_message', '')} | | | | |")
            seen_skips.add(name)
            continue
        wall = r["real_time"] * UNIT_NS[r.get("time_unit", "ns")]
        if "ns_per_exit" in r:
            wall = r["ns_per_exit"]
        ratio = r.get("vs_floor")
        floor = r.get("floor_ns")
        measured = ratio * floor if ratio is not None and floor else None
        p50_ratio = r.get("p50_vs_floor")
        goal = "-"
        for pat, limit, text in GOALS:
            if re.search(pat, name) and ratio is not None:
                goal = f"{text}: {'met' if ratio <= limit else 'MISSED'}"
                if p50_ratio is not None:
                    goal += f" (median: {'met' if p50_ratio <= limit else 'MISSED'})"
        if name == "histogram/record":
            ok = measured is not None and measured <= 5 and r.get("allocs_per_op", 1) == 0
            goal = f"<= 5 ns, 0 allocs ({r.get('allocs_per_op'):g}): {'met' if ok else 'MISSED'}"
        m = fmt_ns(measured)
        f = fmt_ns(floor)
        if "p50_ns" in r:
            m += f", p50 {fmt_ns(r['p50_ns'])}"
        if "floor_p50_ns" in r:
            f += f", p50 {fmt_ns(r['floor_p50_ns'])}"
        if "update_ns" in r:
            m += f" (update {fmt_ns(r['update_ns'])})"
        ratio_s = f"{ratio:.2f}" if ratio is not None else "-"
        if p50_ratio is not None:
            ratio_s += f" (p50 {p50_ratio:.2f})"
        print(f"| {name} | {fmt_ns(wall)} | {m} | {f} | {ratio_s} | {goal} |")


if __name__ == "__main__":
    main()
