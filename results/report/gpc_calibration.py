#!/usr/bin/python3
"""Calibration: the model (layer E: `run cache` with busy, hook=start, filter=global) beside
the kernel (layer K: `run pvclock`) under the same invalidator stream (type, rate, hold,
target), from recorded result files. docs/kernel-evidence.md explains the comparison;
docs/methodology.md what a large gap means for trusting layer E.

Per stream it gives the ratio model/kernel of the refresh-latency medians over runs (p50 and
p99, each with an interval), retries and resolves per refresh where both sides have them, the
invalidation bracket on each side, and the fidelity line "the model's busy is within X% of the
kernel's at p50 on this machine".

`gpc_calibration.py DIR [DIR ...]` prints it (exit 2 on unusable input); `gpcbench report`
adds it to every full report (report_section)."""
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_signals  # noqa: E402

if __name__ == "__main__":
    gpc_signals.hold()  # run by `gpcbench calibrate`: a stop signal ends in 130/143, no traceback

import gpc_results as R  # noqa: E402
import gpc_stats as S  # noqa: E402

MODEL_POLICY = {"strategy": "busy", "hook": "start", "filter": "global"}
NEEDS_KVM = ("needs a machine with /dev/kvm: this result set has no layer-K `pvclock` run with an "
             "invalidator; run `gpcbench calibrate --out DIR` there")

_RATE_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}
_HOLD_UNIT = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9}


def parse_rate(text):
    """Hz from a --rate value ("0", "2000", "2k", "1.5M", or a number)."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kKmM]?)\s*(?:hz|Hz)?\s*", str(text))
    return float(m.group(1)) * _RATE_SUFFIX[m.group(2)] if m else math.nan


def parse_hold_ns(text):
    """ns from a --hold value ("0", "50us", "1ms", or a number of ns)."""
    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ns|us|µs|ms|s|m)?\s*", str(text))
    return int(round(float(m.group(1)) * _HOLD_UNIT[m.group(2) or "ns"])) if m else -1


def stream_of(sample):
    """(side, stream) of one sample: side "kernel", "model" or None; stream =
    (invalidator, target, rate Hz, hold ns). `gpcbench calibrate` stamps both into
    context.calibration; other result sets are read from context.run."""
    cal = sample.context.get("calibration") or {}
    if cal.get("side") in ("kernel", "model") and isinstance(cal.get("stream"), dict):
        st = cal["stream"]
        return cal["side"], (st.get("invalidator"), st.get("target"), float(st.get("rate_hz", 0)),
                             int(st.get("hold_ns", 0)))
    run = sample.context.get("run") or {}
    if sample.scenario == "pvclock" and run.get("invalidators"):
        types = run["invalidators"]
        return "kernel", (",".join(types), run.get("target", "cache"), float(run.get("rate_hz", 0)),
                          int(run.get("hold_ns", 0)))
    if sample.scenario == "cache" and all(run.get(k, v) == v for k, v in MODEL_POLICY.items()):
        if run.get("bug", "none") != "none" or run.get("writers", 1) != 1:
            return None, None
        return "model", (run.get("invalidator"), run.get("target", "cache"), parse_rate(run.get("rate", 0)),
                         parse_hold_ns(run.get("hold", 0)))
    return None, None


def _summary(values):
    lo, hi, cov = S.median_ci(values)
    return {"median": S.median(values), "lo": lo, "hi": hi, "coverage": cov, "n": len(values)}


def ratio(model_values, kernel_values):
    """Ratio of medians model/kernel with an interval from the two medians' intervals,
    [lo_m / hi_k, hi_m / lo_k]: it holds the true ratio whenever both intervals hold their
    medians, so its coverage is at least the product of theirs (independent runs)."""
    m, k = _summary(model_values), _summary(kernel_values)
    if not model_values or not kernel_values or k["median"] <= 0 or k["lo"] <= 0:
        return None
    return {"ratio": m["median"] / k["median"], "lo": m["lo"] / k["hi"], "hi": m["hi"] / k["lo"],
            "coverage": m["coverage"] * k["coverage"], "model": m, "kernel": k}


def kernel_latency_metric(kernel_samples):
    """The kernel's refresh latency: the kprobe's (ktrace_refresh_*) where every kernel run
    has it, else the guest-observed pvclock update latency, which adds the guest's wrmsr exit
    and KVM's update work around the refresh (an upper bound)."""
    if kernel_samples and all("ktrace_refresh_p50_ns" in s.metrics for s in kernel_samples):
        return "ktrace_refresh_", "kernel refresh latency (kprobe on the refresh)"
    return "", "guest-observed pvclock update latency (no kprobe here: an upper bound on the refresh)"


def _values(samples, metric):
    return [s.metrics[metric] for s in samples if metric in s.metrics]


def calibrate(samples):
    """One dict per stream that has kernel runs, sorted by stream."""
    sides = {}
    for s in samples:
        side, stream = stream_of(s)
        if side:
            sides.setdefault(stream, {"kernel": [], "model": []})[side].append(s)
    out = []
    for stream in sorted(sides, key=str):
        kernel, model = sides[stream]["kernel"], sides[stream]["model"]
        if not kernel:
            continue
        prefix, kernel_what = kernel_latency_metric(kernel)
        entry = {"stream": stream, "kernel_runs": len(kernel), "model_runs": len(model), "kernel_what": kernel_what}
        for q in ("p50", "p99"):
            entry[q] = ratio(_values(model, f"{q}_ns"), _values(kernel, f"{prefix}{q}_ns"))
        entry["bracket"] = {side: _summary(_values(ss, "inval_p50_ns")) if _values(ss, "inval_p50_ns") else None
                            for side, ss in (("kernel", kernel), ("model", model))}
        entry["per_refresh"] = {}
        for what, model_metric, kernel_metric in (("retries", "retries_per_op", "ktrace_retries_per_refresh"),
                                                  ("resolves", "hva_to_pfn_per_op", "ktrace_resolves_per_refresh")):
            mv, kv = _values(model, model_metric), _values(kernel, kernel_metric)
            entry["per_refresh"][what] = (S.median(mv) if mv else None, S.median(kv) if kv else None)
        out.append(entry)
    return out


def stream_text(stream):
    inv, target, rate, hold = stream
    rate_text = "free-running" if not rate else f"{rate:g} Hz"
    return f"{inv} on {target}, {rate_text}, hold {hold / 1e3:g} µs"


def fidelity_line(entry):
    r = entry["p50"]
    if r is None:
        return (f"{stream_text(entry['stream'])}: no matching layer-E run (cache, busy, hook=start, filter=global, "
                f"same stream): no fidelity figure")
    gap = abs(r["ratio"] - 1.0) * 100
    return (f"the model's busy is within {gap:.0f}% of the kernel's at p50 on this machine "
            f"({stream_text(entry['stream'])}; model/kernel = {r['ratio']:.2f}, "
            f"interval [{r['lo']:.2f}, {r['hi']:.2f}] at >= {r['coverage'] * 100:.0f}%; kernel side: "
            f"{entry['kernel_what']})")


def fidelity_lines(samples):
    entries = calibrate(samples)
    return [fidelity_line(e) for e in entries] if entries else [f"Model fidelity: {NEEDS_KVM}."]


def _ns(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v:.3g} ns"


def _ratio_cell(r):
    if r is None:
        return "-"
    return (f"{r['ratio']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] (>= {r['coverage'] * 100:.0f}%; "
            f"model {_ns(r['model']['median'])}, kernel {_ns(r['kernel']['median'])})")


def table_rows(entries):
    rows = []
    for e in entries:
        b = e["bracket"]
        per = e["per_refresh"]

        def pair(what):
            m, k = per[what]
            return "-" if m is None or k is None else f"model {m:.3g}, kernel {k:.3g}"
        rows.append([stream_text(e["stream"]), f"{e['model_runs']} / {e['kernel_runs']}", _ratio_cell(e["p50"]),
                     _ratio_cell(e["p99"]), pair("retries"), pair("resolves"),
                     f"model {_ns(b['model']['median']) if b['model'] else '-'}, "
                     f"kernel {_ns(b['kernel']['median']) if b['kernel'] else '-'}"])
    return rows


HEADER = ["stream", "runs (model / kernel)", "p50 ratio model/kernel", "p99 ratio model/kernel",
          "retries per refresh", "resolves per refresh", "invalidation bracket p50 (median)"]


def report_section(doc, ds):
    """The report's "Model fidelity" section: always present, the fidelity line first."""
    entries = calibrate(ds.samples)
    doc.h(2, "Model fidelity (calibration against the kernel)")
    if not entries:
        doc.p(f"Model fidelity: {NEEDS_KVM}.")
        return
    doc.items([fidelity_line(e) for e in entries])
    doc.p("Ratios are model/kernel of the medians over runs; the interval is built from both medians' "
          "order-statistic intervals and holds with at least the coverage shown. Retries/resolves appear where "
          "both sides count them (the kernel needs a probe inside its retry loop). The bracket is "
          "the invalidator's measured operation plus hold on each side. docs/kernel-evidence.md; what a large gap "
          "means: docs/methodology.md.")
    doc.table(HEADER, table_rows(entries))


def main(argv):
    if not argv:
        print("usage: gpc_calibration.py DIR_OR_FILE [...]  (result files of `gpcbench calibrate --out` or a "
              "matrix)", file=sys.stderr)
        return 2
    samples = []
    try:
        for path in argv:
            samples.extend(R.load(path).samples)
    except R.InputError as e:
        print(f"gpcbench calibrate: unusable input: {e}", file=sys.stderr)
        return 2
    entries = calibrate(samples)
    if not entries:
        print(f"Model fidelity: {NEEDS_KVM}.")
        return 2
    for e in entries:
        print(fidelity_line(e))
        for h, cell in zip(HEADER[1:], table_rows([e])[0][1:]):
            print(f"  {h}: {cell}")
    return 0


if __name__ == "__main__":
    sys.exit(gpc_signals.run("gpcbench calibrate", main, sys.argv[1:]))
