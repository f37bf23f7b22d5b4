#!/usr/bin/python3
"""Runs gpcbench-micro once with a tiny min time and checks its Google Benchmark JSON:
it parses, every expected benchmark and its floor are present, every paired benchmark
that ran reports `floor_ns` and `vs_floor`, skipped ones say why, and the histogram
records without allocating. Usage: check_micro_json.py BINARY"""
import json
import os
import subprocess
import sys

INVALIDATORS = ["mremap", "mmap-fixed", "zap", "punch-hole", "thp-split", "thp-collapse",
                "migrate", "compact", "mprotect"]


def expected_pairs(max_threads):
    pairs = []
    for t in range(1, max_threads + 1):
        pairs.append((f"check/lockless:0/threads:{t}", f"floor/pthread_rwlock_read/threads:{t}"))
        pairs.append((f"check/lockless:1/threads:{t}", f"floor/seqcount_read/threads:{t}"))
    pairs += [("refresh/lockless:0", "floor/hva_to_pfn"), ("refresh/lockless:1", "floor/hva_to_pfn"),
              ("refresh/lockless:0", "floor/hva_to_pfn_map")]
    for cross in (0, 1):
        for wait in (0, 1):  # busy, spin: against the spin ping-pong
            pairs.append((f"wakeup/wait:{wait}/cross:{cross}/manual_time", f"floor/spin_wake/cross:{cross}/manual_time"))
        for wait in (2, 3):  # haltpoll, block: against the futex wake
            pairs.append((f"wakeup/wait:{wait}/cross:{cross}/manual_time", f"floor/futex_wake/cross:{cross}/timeout:0/manual_time"))
        pairs.append((f"wakeup/wait:3/cross:{cross}/manual_time", f"floor/futex_wake/cross:{cross}/timeout:1/manual_time"))
    for inv in INVALIDATORS:
        pairs.append((f"invalidator/{inv}", f"floor/invalidator_bare/{inv}"))
    for sig in ("getrusage_thread", "thread_schedstat", "loadavg"):
        pairs.append((f"runnable_signal/{sig}", "floor/clock_gettime_poll"))
    for wait in ("busy", "spin", "haltpoll", "block"):
        pairs.append((f"bracket/mremap/strategy:{wait}/manual_time", "floor/bracket_bare/mremap/manual_time"))
    pairs += [("kvm/exit_harness/manual_time", "floor/kvm_exit_raw"), ("kvm/pvclock_update", "floor/kvm_out_raw"),
              ("histogram/record", "floor/array_increment"), ("clock/tsc_now_ns", "floor/clock_gettime_monotonic"),
              ("clock/rdtsc", "floor/clock_gettime_monotonic")]
    return pairs


def main():
    binary = sys.argv[1]
    proc = subprocess.run([binary, "--benchmark_min_time=0.002", "--benchmark_format=json"],
                          capture_output=True, text=True, timeout=200)
    if proc.returncode != 0:
        sys.exit(f"{binary} exited with {proc.returncode}:\n{proc.stderr}")
    doc = json.loads(proc.stdout)
    runs = {b["name"]: b for b in doc["benchmarks"]}
    max_threads = max(2, len(os.sched_getaffinity(0)))
    errors = []
    for bench, floor in expected_pairs(max_threads):
        for name in (bench, floor):
            if name not in runs:
                errors.append(f"missing benchmark {name}")
        if bench not in runs or floor not in runs:
            continue
        b, f = runs[bench], runs[floor]
        for r in (b, f):
            if r.get("error_occurred") and not r.get("error_message"):
                errors.append(f"{r['name']} was skipped without a reason")
        if not f.get("error_occurred") and "floor_ns" not in f:
            errors.append(f"{floor} has no floor_ns counter")
        if not b.get("error_occurred"):
            for c in ("floor_ns", "vs_floor"):
                if c not in b:
                    errors.append(f"{bench} has no {c} counter")
            if b.get("vs_floor", 1) <= 0:
                errors.append(f"{bench}: vs_floor {b.get('vs_floor')} is not positive")
    h = runs.get("histogram/record", {})
    if not h.get("error_occurred") and h.get("allocs_per_op", 1) != 0:
        errors.append(f"histogram/record allocated: {h.get('allocs_per_op')} per op")
    skipped = [f"{n}: {r['error_message']}" for n, r in runs.items() if r.get("error_occurred")]
    print(f"{len(runs)} benchmarks, {len(skipped)} skipped")
    for s in skipped:
        print("  skipped", s)
    if errors:
        sys.exit("\n".join(errors))


if __name__ == "__main__":
    main()
