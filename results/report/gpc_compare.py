#!/usr/bin/python3
"""`gpcbench compare BASE NEW`: per cell and metric, a regression needs BOTH a two-sided
Mann-Whitney U test over the repetitions with p < alpha (0.01) AND a relative change of the
medians beyond the threshold (10 %) in the metric's worse direction. Any violation in NEW,
and any NEW run that timed out (a hung run breaks the "no hung thread" invariant) or crashed,
fails. A rise in a cell's starved refreshes per run (the livelock) is a regression too,
by its own rule (gpc_starvation.py).

Repetitions labelled "interrupted" (a run stopped by Ctrl-C) are not samples: they are
skipped and listed.

Exit 0: no regression. 1: regression or violation. 2: unusable input (the reason is printed):
a missing, truncated or malformed file (gpc_schema.py names the field), no common cells, too
few repetitions to test, or a --junit path that cannot be written. 130/143: stopped by
SIGINT/SIGTERM.
"""
import argparse
import math
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_signals  # noqa: E402

if __name__ == "__main__":
    gpc_signals.hold()  # before the slow imports: a stop signal now ends in exit 130/143, no traceback

import gpc_deps  # noqa: E402

gpc_deps.require("numpy", "scipy")

import gpc_output as O  # noqa: E402
import gpc_results as R  # noqa: E402
import gpc_stats as S  # noqa: E402
import gpc_starvation as T  # noqa: E402


def fmt(value, metric):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if "_ns" in metric or metric in ("real_time", "cpu_time"):
        for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {unit}"
        return f"{value:.3g} ns"
    return f"{value:.4g}"


def pct(x):
    return "inf" if math.isinf(x) else f"{x * 100:+.1f}%"


class Verdict:
    def __init__(self):
        self.regressions = []   # (cell, metric, base_med, new_med, change, p)
        self.improvements = []  # same shape
        self.violations = []    # (cell, repetition, what)
        self.too_few = []       # (cell, n_base, n_new)
        self.only_base = []
        self.only_new = []
        self.cells = []
        self.starvation = []  # gpc_starvation.changes rows


def compare(base, new, threshold, alpha):
    v = Verdict()
    bc, nc = base.cells(), new.cells()
    v.only_base = sorted(set(bc) - set(nc))
    v.only_new = sorted(set(nc) - set(bc))
    v.cells = sorted(set(bc) & set(nc))
    v.starvation = T.changes(bc, nc, v.cells)
    for cell, samples in sorted(nc.items()):
        for s in samples:
            if s.metrics.get("violations", 0) > 0:
                v.violations.append((cell, s.repetition, f"{s.metrics['violations']:g} unexpected invariant violations"))
    for f in new.failures:
        if f.get("status") == "timeout":
            v.violations.append((f.get("cell", "?"), f.get("repetition", "?"),
                                 "run timed out (hung: it did not end within duration + grace)"))
        elif f.get("status") == "failed":
            detail = " ".join(str(f.get("detail", "")).split())[:120]
            v.violations.append((f.get("cell", "?"), f.get("repetition", "?"), f"run failed: {detail}"))
    for cell in v.cells:
        nb, nn = len(bc[cell]), len(nc[cell])
        if S.min_two_sided_p(nb, nn) >= alpha:
            v.too_few.append((cell, nb, nn))
            continue
        metrics = set().union(*(s.metrics for s in bc[cell])) & set().union(*(s.metrics for s in nc[cell]))
        for metric in sorted(metrics):
            better = R.direction(metric)
            if better == R.INFO:
                continue
            a, b = base.values(cell, metric), new.values(cell, metric)
            if S.min_two_sided_p(len(a), len(b)) >= alpha:
                continue
            p = S.mann_whitney_p(a, b)
            mb, mn = S.median(a), S.median(b)
            change = S.worse_change(mb, mn, better)
            if p < alpha and change > threshold:
                v.regressions.append((cell, metric, mb, mn, change, p))
            elif p < alpha and -change > threshold:
                v.improvements.append((cell, metric, mb, mn, change, p))
    return v


def describe(ds):
    env = ds.environment or {}
    kernel = (env.get("kernel") or {}).get("release", "?")
    return f"`{ds.origin}` (kernel {kernel}, host {env.get('host_name', '?')}, {len(ds.samples)} samples)"


def markdown(v, base, new, threshold, alpha, exit_code):
    out = ["# gpcbench compare", "", f"- BASE: {describe(base)}", f"- NEW: {describe(new)}",
           f"- Rule: regression = two-sided Mann-Whitney U p < {alpha:g} over repetitions AND median "
           f"worse by more than {threshold * 100:g}%; any violation in NEW fails.", f"- Rule: {T.RULE}.", ""]
    verdict = {0: "**OK**: no regression", 1: "**FAIL**: regression or violation",
               2: "**UNUSABLE**: see below"}[exit_code]
    skipped = [(side, s) for side, ds in (("BASE", base), ("NEW", new)) for s in ds.interrupted]
    if skipped:
        out += [f"Skipped: {len(skipped)} repetition(s) labelled \"interrupted\" (runs stopped by Ctrl-C; "
                f"their numbers cover part of a run) are not used as samples.", ""]
    out += [f"Verdict: {verdict} ({len(v.cells)} common cells, {len(v.regressions)} regressed metrics, "
            f"{len(v.violations)} violations).", ""]
    if T.regressions(v.starvation):
        out += [f"Starvation: {len(T.regressions(v.starvation))} cell(s) starve more in NEW (see Starved below).", ""]
    if v.violations:
        out += ["## Violations in NEW", "", "| cell | repetition | what |", "|---|---|---|"]
        out += [f"| `{c}` | {r} | {w} |" for c, r, w in v.violations] + [""]
    if v.regressions:
        out += ["## Regressions", "", "| cell | metric | BASE median | NEW median | change (worse) | p |",
                "|---|---|---|---|---|---|"]
        out += [f"| `{c}` | {m} | {fmt(b, m)} | {fmt(n, m)} | {pct(ch)} | {p:.3g} |"
                for c, m, b, n, ch, p in v.regressions] + [""]
    out += T.markdown(v.starvation)
    if v.improvements:
        out += ["## Improvements", "", "| cell | metric | BASE median | NEW median | change | p |",
                "|---|---|---|---|---|---|"]
        out += [f"| `{c}` | {m} | {fmt(b, m)} | {fmt(n, m)} | {pct(-ch)} better | {p:.3g} |"
                for c, m, b, n, ch, p in v.improvements] + [""]
    if v.too_few:
        need = S.repetitions_needed(alpha)
        out += ["## Not testable: too few repetitions", "",
                f"A two-sided Mann-Whitney U test needs at least {need} repetitions per side to reach "
                f"p < {alpha:g}. Rerun with `repetitions = {need}` or more.", "",
                "| cell | BASE reps | NEW reps |", "|---|---|---|"]
        out += [f"| `{c}` | {a} | {b} |" for c, a, b in v.too_few] + [""]
    if skipped:
        out += ["## Skipped: interrupted repetitions", "", "| side | cell | repetition | file |", "|---|---|---|---|"]
        out += [f"| {side} | `{s.cell}` | {s.repetition} | `{s.path}` |" for side, s in skipped] + [""]
    for title, cells in (("Cells only in BASE (not compared)", v.only_base),
                         ("Cells only in NEW (not compared)", v.only_new)):
        if cells:
            out += [f"## {title}", ""] + [f"- `{c}`" for c in cells] + [""]
    return "\n".join(out)


def junit(v, path, threshold, alpha):
    suite = ET.Element("testsuite", name="gpcbench compare")
    failures = skipped = 0
    for cell in sorted(set(v.cells) | {c for c, _, _ in v.violations}):
        case = ET.SubElement(suite, "testcase", classname=cell.split("/", 1)[0], name=cell)
        problems = [f"{m}: {fmt(b, m)} -> {fmt(n, m)} ({pct(ch)}, p={p:.3g})"
                    for c, m, b, n, ch, p in v.regressions if c == cell]
        problems += [f"violation in repetition {r}: {w}" for c, r, w in v.violations if c == cell]
        problems += [f"starved refreshes rose: {bt:g} in {bn} runs -> {nt:g} in {nn} runs"
                     for c, bt, bn, nt, nn, _ in T.regressions(v.starvation) if c == cell]
        if problems:
            failures += 1
            f = ET.SubElement(case, "failure", message=f"{len(problems)} problem(s); regression rule: "
                              f"p < {alpha:g} and > {threshold * 100:g}% worse")
            f.text = "\n".join(problems)
        elif any(c == cell for c, _, _ in v.too_few):
            skipped += 1
            ET.SubElement(case, "skipped", message="too few repetitions to test")
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    with O.Batch() as out:
        out.add(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
        out.commit()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="gpcbench compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--threshold", type=float, default=10.0, help="percent (default 10)")
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--junit")
    args = ap.parse_args(argv)
    if not (math.isfinite(args.threshold) and 0 <= args.threshold <= 1000):
        ap.error(f"--threshold {args.threshold:g} is not a percentage from 0 to 1000")
    if not (math.isfinite(args.alpha) and 0 < args.alpha <= 0.5):
        ap.error(f"--alpha {args.alpha:g} is not a significance level in (0, 0.5]")
    threshold = args.threshold / 100.0
    try:
        if args.junit is not None:
            O.check_target(args.junit, "--junit")  # before the work, not after it
        base, new = R.load(args.base), R.load(args.new)
    except R.InputError as e:
        print(f"gpcbench compare: unusable input: {e}", file=sys.stderr)
        return 2
    except O.OutputError as e:
        print(f"gpcbench compare: {e}", file=sys.stderr)
        return 2
    v = compare(base, new, threshold, args.alpha)
    if not v.cells and not v.violations:
        print(f"gpcbench compare: unusable input: BASE and NEW have no cell in common (BASE: "
              f"{', '.join(v.only_base[:3])}...; NEW: {', '.join(v.only_new[:3])}...); compare results "
              f"of the same matrix", file=sys.stderr)
        return 2
    if v.violations or v.regressions or T.regressions(v.starvation):
        code = 1
    elif v.too_few:
        code = 2
    else:
        code = 0
    if args.junit is not None:
        try:
            junit(v, args.junit, threshold, args.alpha)
        except O.OutputError as e:
            print(f"gpcbench compare: {e}", file=sys.stderr)
            return 2
    print(markdown(v, base, new, threshold, args.alpha, code))
    if v.too_few and code == 2:
        need = S.repetitions_needed(args.alpha)
        c, a, b = v.too_few[0]
        print(f"gpcbench compare: unusable input: too few repetitions to test {len(v.too_few)} cell(s) "
              f"(e.g. {c}: BASE {a}, NEW {b}); need at least {need} per side for p < {args.alpha:g}",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(gpc_signals.run("gpcbench compare", main, sys.argv[1:]))
