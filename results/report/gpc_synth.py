#!/usr/bin/python3
"""Synthetic, schema-true matrix directories for the report's tests (never a measurement).

Writes what `gpcbench matrix --out DIR` writes (docs/matrix-format.md): runs/<slug>.rep<k>.json
in Google Benchmark's schema with gpcbench's counters and log-linear histograms,
matrix.json and environment.json (marked "synthetic": the report says so). Cells follow the
issue 14 contract: `cache/strategy:S/hook:H/.../placement:P`, the collided/uncollided split,
CPU per collision, co-runner progress during waits, starved refreshes and the placement
evidence. Each run draws its refresh latencies from a log-normal distribution and records them
in the same histogram layout as harness/common/loglinear.h, so percentiles are bucketed (and
tie) as real ones do.

    gpc_synth.py OUT_DIR        writes the demo matrix (the sample Answer in docs/)
"""
import json
import math
import os
import sys
import zlib

import numpy as np

SUB_BITS = 5  # GPC_LL_SUB_BITS: 32 buckets per power of two


def bucket_high(values):
    """The largest value of each value's log-linear bucket (gpc_ll_bucket_high(gpc_ll_bucket(v)))."""
    v = np.maximum(np.asarray(values, dtype=np.int64), 0)
    out = v.copy()
    big = v >= (1 << SUB_BITS)
    msb = np.frexp(v[big].astype(np.float64))[1].astype(np.int64) - 1  # exact below 2^53; int64 for 1 << shift
    shift = msb - SUB_BITS
    out[big] = ((v[big] >> shift) << shift) + (np.left_shift(np.int64(1), shift) - 1)
    return out


class Histogram:
    """Bucketed latencies of one run, with the quantile rule of harness/common/histogram.cpp."""

    def __init__(self, values):
        self.min, self.max = int(np.min(values)), int(np.max(values))
        uppers, counts = np.unique(bucket_high(values), return_counts=True)
        self.buckets = [(int(u), int(n)) for u, n in zip(uppers, counts)]
        self.count = int(len(values))
        self.mean = float(np.mean(values))

    def quantile(self, q):
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for upper, n in self.buckets:
            seen += n
            if seen >= rank:
                return float(min(max(upper, self.min), self.max))
        return float(self.max)

    def to_json(self):
        return {"unit": "ns", "count": self.count, "min": self.min, "max": self.max,
                "buckets": [[u, n] for u, n in self.buckets]}


class CellSpec:
    """One synthetic cell. Medians are in ns; `noise` is the log-normal sigma of a run's factor
    (its run-to-run spread); per-run lists (starved, held) are indexed by repetition."""

    def __init__(self, params, reps=5, p50=200e3, tail=2.0, cpu=100e3, corunner=None, noise=0.02,
                 collided=400, uncollided=4000, starved=(), unsafe=0, wait_share=0.002,
                 switches=5.0, held=(), seed=1):
        self.params = dict(params)
        self.reps, self.p50, self.tail, self.cpu, self.corunner = reps, p50, tail, cpu, corunner
        self.noise, self.collided, self.uncollided = noise, collided, uncollided
        self.starved, self.unsafe, self.held = starved, unsafe, held
        self.wait_share, self.switches = wait_share, switches
        self.seed = seed

    @property
    def name(self):
        scenario = self.params.get("scenario", "cache")
        return scenario + "".join(f"/{k}:{v}" for k, v in self.params.items() if k != "scenario")

    @property
    def slug(self):
        return self.name.replace("/", ".").replace(":", "-")


def _latencies(rng, median, tail, n):
    sigma = math.log(tail) / 2.326  # p99 / p50 of a log-normal = exp(2.326 sigma)
    return np.maximum(1, rng.lognormal(math.log(median), sigma, n)).astype(np.int64)


def _per_run(seq, rep, default):
    return seq[rep] if rep < len(seq) else default


def _counters(spec, rep, factor, coll, uncoll, both):
    c = {"collided_refreshes": float(spec.collided), "uncollided_refreshes": float(spec.uncollided)}
    for prefix, h in (("", both), ("collided_", coll), ("uncollided_", uncoll)):
        for name, q in (("p50_ns", 0.5), ("p90_ns", 0.9), ("p99_ns", 0.99), ("p999_ns", 0.999)):
            c[prefix + name] = h.quantile(q)
        c[prefix + "max_ns"], c[prefix + "mean_ns"] = float(h.max), h.mean
    c["cpu_ns_per_collision"] = spec.cpu * factor
    c["cpu_ns_per_op"] = spec.cpu * factor * spec.collided / both.count
    c["ops_per_s"] = 1e9 / both.mean
    c["violations"] = 0.0
    c["unsafe_violations"] = float(spec.unsafe)
    c["starved_refreshes"] = float(_per_run(spec.starved, rep, 0))
    placement = spec.params.get("placement")
    if spec.corunner is not None:
        c["corunner_progress"] = min(1.0, 0.5 + spec.corunner / 2 * factor)  # whole run: waits are a part
        if placement in ("shared", "overcommit"):
            c["corunner_progress_during_waits"] = min(1.0, spec.corunner / factor)
    if placement is not None:
        c["waiter_runqueue_wait_share"] = spec.wait_share * factor
        c["waiter_nonvoluntary_switches_per_s"] = spec.switches * factor
        c["placement_held"] = float(_per_run(spec.held, rep, 1))
    return c


def run_document(spec, rep, matrix_seed=1):
    """The result file of one repetition of one cell, as the matrix stores it."""
    rng = np.random.default_rng([zlib.crc32(spec.name.encode()), rep, spec.seed])
    factor = math.exp(rng.normal(0.0, spec.noise))
    coll = _latencies(rng, spec.p50 * factor, spec.tail, spec.collided)
    uncoll = _latencies(rng, 2e3 * factor, 1.5, spec.uncollided)  # a check-and-refresh without a wait
    hists = {"latency_collided": Histogram(coll), "latency_uncollided": Histogram(uncoll),
             "latency": Histogram(np.concatenate([coll, uncoll]))}
    bench = {"name": spec.name, "family_index": 0, "per_family_instance_index": 0, "run_name": spec.name,
             "run_type": "iteration", "repetitions": spec.reps, "repetition_index": rep, "threads": 1,
             "iterations": hists["latency"].count, "real_time": hists["latency"].mean,
             "cpu_time": spec.cpu * factor * spec.collided / hists["latency"].count, "time_unit": "ns"}
    bench.update(_counters(spec, rep, factor, hists["latency_collided"], hists["latency_uncollided"],
                           hists["latency"]))
    context = dict(ENVIRONMENT)
    context["run"] = {"scenario": spec.params.get("scenario", "cache"), **spec.params}
    context["matrix"] = {"name": "synthetic", "cell": spec.name, "repetition": rep, "seed": matrix_seed + rep,
                         "fingerprint": "synthetic"}
    context["gpcbench_histograms"] = {f"{spec.name}#{rep}": {k: h.to_json() for k, h in hists.items()}}
    return {"context": context, "benchmarks": [bench]}


ENVIRONMENT = {"synthetic": "gpc_synth.py: invented numbers for tests, not a measurement",
               "host_name": "synthetic", "num_cpus": 2, "kernel": {"release": "synthetic"},
               "load_avg": [0.0, 0.0, 0.0]}


def write_matrix(root, specs, duration_ns=2_000_000_000):
    """Writes a matrix directory for `specs` (a list of CellSpec) under `root`."""
    os.makedirs(os.path.join(root, "runs"), exist_ok=True)
    for spec in specs:
        for rep in range(spec.reps):
            path = os.path.join(root, "runs", f"{spec.slug}.rep{rep}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(run_document(spec, rep), f)
    cells = [{"id": s.name, "slug": s.slug, "scenario": s.params.get("scenario", "cache"),
              "args": [s.params.get("scenario", "cache")] + [a for k, v in s.params.items() if k != "scenario"
                                                              for a in (f"--{k}", v)]} for s in specs]
    manifest = {"name": "synthetic", "fingerprint": "synthetic", "repetitions": max(s.reps for s in specs),
                "duration_ns": duration_ns, "warmup_ns": duration_ns // 2, "grace_ns": 20_000_000_000, "seed": 1,
                "shard": {"index": 0, "total": 1}, "cells": cells,
                "order": [{"cell": s.name, "repetition": r} for r in range(max(x.reps for x in specs))
                          for s in specs if r < s.reps]}
    for name, doc in (("matrix.json", manifest), ("environment.json", ENVIRONMENT)):
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)


def cache_params(strategy, placement, hold, rate="1000", hook="start", **extra):
    """The axes of an issue-14 `cache` cell in the cell id's order."""
    params = {"strategy": strategy, "hook": hook, "filter": "global", "check": "rwlock", "invalidator": "mremap",
              "target": "cache", "rate": rate, "hold": hold, "placement": placement}
    params.update(extra)
    return params


# The demo: invented medians shaped like the trade the threads argue about (docs/reading-a-report.md
# shows its Answer). (p50 ns, p99/p50, CPU ns per collision, co-runner progress during waits).
_DEMO = {
    ("alone", "0"): {"busy": (40e3, 2, 38e3, None), "spin": (34e3, 2, 35e3, None),
                     "haltpoll": (42e3, 2, 30e3, None), "block": (85e3, 2, 9e3, None)},
    ("alone", "1ms"): {"busy": (1.1e6, 1.5, 1.0e6, None), "spin": (1.05e6, 1.5, 1.0e6, None),
                       "haltpoll": (1.1e6, 1.5, 60e3, None), "block": (1.12e6, 1.5, 12e3, None)},
    ("shared", "0"): {"busy": (60e3, 3, 50e3, 0.5), "spin": (58e3, 3, 55e3, 0.45),
                      "haltpoll": (62e3, 3, 35e3, 0.7), "block": (95e3, 3, 10e3, 0.97)},
    ("shared", "1ms"): {"busy": (4.0e6, 3, 1.9e6, 0.5), "spin": (4.2e6, 3, 2.0e6, 0.05),
                        "haltpoll": (1.4e6, 2, 90e3, 0.9), "block": (1.2e6, 1.5, 15e3, 0.97)},
}


def demo_specs():
    """The demo matrix: block wins where a co-runner shares the CPU and the hold is long, and
    loses on wake-up latency with a short hold; plus one cell of each kind the Answer must name
    but never rank (unsafe, starved, too few runs), a noisy alone cell, a run whose placement
    did not hold and a legacy cell."""
    specs = []
    for (placement, hold), by in _DEMO.items():
        for strategy, (p50, tail, cpu, corunner) in by.items():
            noisy = placement == "alone" and hold == "1ms" and strategy == "haltpoll"
            specs.append(CellSpec(cache_params(strategy, placement, hold), p50=p50, tail=tail, cpu=cpu,
                                  corunner=corunner, noise=0.06 if noisy else 0.015,
                                  held=(1, 1, 0) if (strategy, placement, hold) == ("spin", "alone", "0") else (),
                                  wait_share=0.002 if placement == "alone" else 0.3,
                                  switches=4.0 if placement == "alone" else 900.0))
    for strategy in ("busy", "block"):
        specs.append(CellSpec(cache_params(strategy, "alone", "0", rate="0"), p50=3e6, tail=20, cpu=2.9e6,
                              starved=(0, 2, 0, 1, 0) if strategy == "busy" else ()))
        specs.append(CellSpec(cache_params(strategy, "alone", "100us", hook="end"), p50=120e3, cpu=100e3, unsafe=3))
        specs.append(CellSpec(cache_params(strategy, "shared", "100us"), reps=3, p50=300e3, cpu=200e3, corunner=0.6,
                              wait_share=0.3, switches=900.0))
    specs.append(CellSpec({"strategy": "busy", "hook": "start", "invalidator": "mremap", "co-runner": "on"},
                          p50=1.5e6, cpu=1e6, corunner=0.5))
    return specs


def main(argv):
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: gpc_synth.py OUT_DIR  (writes the synthetic demo matrix; not a measurement)", file=sys.stderr)
        return 2
    if os.path.exists(os.path.join(argv[0], "runs")):
        print(f"gpc_synth.py: {argv[0]} already holds runs/; give a new directory", file=sys.stderr)
        return 2
    write_matrix(argv[0], demo_specs())
    print(f"gpc_synth.py: wrote a synthetic matrix to {argv[0]} (report it with gpc_report.py {argv[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
