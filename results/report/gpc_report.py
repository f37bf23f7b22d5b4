#!/usr/bin/python3
"""`gpcbench report DIR`: DIR/report.md (plots in DIR/report-files/) and DIR/report.html
(self-contained, plots embedded as base64 PNG) from a matrix result directory.
How to read it: docs/reading-a-report.md. The statistics: docs/methodology.md."""
import base64
import html
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_signals  # noqa: E402

if __name__ == "__main__":
    gpc_signals.hold()  # before the slow imports: a stop signal now ends in exit 130/143, no traceback

import gpc_deps  # noqa: E402

gpc_deps.require("numpy", "scipy", "matplotlib")

import gpc_answer  # noqa: E402
import gpc_calibration  # noqa: E402
import gpc_output as O  # noqa: E402
import gpc_plots as P  # noqa: E402
import gpc_results as R  # noqa: E402
import gpc_stats as S  # noqa: E402

ALPHA = 0.01
FILES_DIR = "report-files"  # the Markdown's plots, next to report.md
NOISY_SPREAD = 0.20  # (max - min) / median above this makes a cell "noisy"

SCENARIO_INTRO = {
    "cache": "Layer E, the embedded pfn cache: a userspace model of KVM's gfn_to_pfn_cache and its "
             "MMU-notifier state, with the waiting strategy (busy retry, spin, halt-poll, block), the "
             "invalidation hook (range start or range end) and the other design choices as policies. "
             "Invalidators do real memory operations on the guest memory behind the cache. The waiter is "
             "the thread that refreshes the cache; latency is the time of one refresh.",
    "pvclock": "Layer K, the running kernel: a minimal /dev/kvm guest rewrites MSR_KVM_SYSTEM_TIME_NEW so "
               "the kernel updates the pvclock page through vcpu->arch.pv_time, its pfn cache; host threads "
               "invalidate the memory behind it. Latency is the guest-observed update time. This layer "
               "measures the kernel as built; it cannot change its strategy.",
}

CRITERIA = [  # (title, metric candidates, better)
    ("waiter latency (p50)", ("p50_ns", "real_time"), R.LOWER),
    ("waiter tail latency (p99)", ("p99_ns",), R.LOWER),
    ("waiter CPU per operation", ("cpu_ns_per_op", "cpu_time"), R.LOWER),
    ("co-runner progress", ("corunner_progress",), R.HIGHER),
]


def fmt(value, metric=""):
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "-"
    if "_ns" in metric or metric in ("real_time", "cpu_time"):
        for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {unit}"
        return f"{value:.3g} ns"
    if metric == "corunner_progress":
        return f"{value:.3f}"
    return f"{value:.3g}"


class Doc:
    """One document model rendered to Markdown and to HTML."""

    def __init__(self):
        self.blocks = []

    def h(self, level, text):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def alert(self, kind, text):
        self.blocks.append(("alert", kind, text))

    def items(self, items):
        self.blocks.append(("list", items))

    def table(self, header, rows):
        self.blocks.append(("table", header, rows))

    def img(self, name, png, caption):
        self.blocks.append(("img", name, png, caption))

    def plots(self):
        """[(file name, PNG bytes)] of every image, for the files directory of the Markdown."""
        return [(b[1], b[2]) for b in self.blocks if b[0] == "img"]

    def markdown(self, files_dir):
        """The Markdown text; images link to files_dir/<name> (written by write_report)."""
        out = []
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                out += ["#" * b[1] + " " + b[2], ""]
            elif kind == "p":
                out += [b[1], ""]
            elif kind == "alert":
                tag = {"fail": "**FAIL**", "warn": "**WARNING**", "ok": "**OK**"}[b[1]]
                out += [f"> {tag}: {b[2]}", ""]
            elif kind == "list":
                out += [f"- {i}" for i in b[1]] + [""]
            elif kind == "table":
                out.append("| " + " | ".join(b[1]) + " |")
                out.append("|" + "---|" * len(b[1]))
                out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in b[2]]
                out.append("")
            elif kind == "img":
                out += [f"![{b[3]}]({os.path.basename(files_dir)}/{b[1]})", "", f"*{b[3]}*", ""]
        return "\n".join(out)

    @staticmethod
    def _inline(text):
        t = html.escape(text)
        t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
        t = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)
        return t

    def html(self, title):
        out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>",
               "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
               "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}",
               "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}th{background:#f0f0f0}",
               ".fail{background:#fdd;border-left:6px solid #c00;padding:.6em 1em;margin:.6em 0}",
               ".warn{background:#fff3cd;border-left:6px solid #e0a800;padding:.6em 1em;margin:.6em 0}",
               ".ok{background:#e6f4ea;border-left:6px solid #2e7d32;padding:.6em 1em;margin:.6em 0}",
               "code{background:#f4f4f4;padding:0 3px}figure{margin:1em 0}figcaption{font-size:13px;color:#555}",
               "</style></head><body>"]
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                out.append(f"<h{b[1]}>{self._inline(b[2])}</h{b[1]}>")
            elif kind == "p":
                out.append(f"<p>{self._inline(b[1])}</p>")
            elif kind == "alert":
                label = {"fail": "FAIL", "warn": "WARNING", "ok": "OK"}[b[1]]
                out.append(f"<div class='{b[1]}'><strong>{label}</strong>: {self._inline(b[2])}</div>")
            elif kind == "list":
                out.append("<ul>" + "".join(f"<li>{self._inline(i)}</li>" for i in b[1]) + "</ul>")
            elif kind == "table":
                out.append("<table><tr>" + "".join(f"<th>{self._inline(h)}</th>" for h in b[1]) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{self._inline(str(c))}</td>" for c in row) + "</tr>"
                        for row in b[2]]
                out.append("</table>")
            elif kind == "img":
                data = base64.b64encode(b[2]).decode("ascii")
                out.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(b[3])}'>"
                           f"<figcaption>{self._inline(b[3])}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out)


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        yield prefix, text if len(text) <= 100 else text[:97] + "..."


class Scenario:
    """The cells of one scenario, split into the compared axis and the groups it is compared in."""

    def __init__(self, name, cells):
        self.name = name
        self.cells = cells  # cell -> [Sample]
        params = {c: s[0].params for c, s in cells.items()}
        keys = sorted({k for p in params.values() for k in p})
        varying = [k for k in keys if len({p.get(k, "(default)") for p in params.values()}) > 1]
        self.primary = ["strategy"] if "strategy" in varying else varying
        self.group_axes = [k for k in varying if k not in self.primary]
        self.label = {c: "/".join(f"{k}:{p.get(k, 'default')}" if len(self.primary) > 1 or k != "strategy"
                                  else p.get(k, "-") for k in self.primary) or c
                      for c, p in params.items()}
        self.groups = {}
        for c, p in sorted(params.items()):
            key = ", ".join(f"{k}:{p.get(k, 'default')}" for k in self.group_axes) or "all cells"
            self.groups.setdefault(key, []).append(c)

    def values(self, cell, metric):
        return [s.metrics[metric] for s in self.cells[cell] if metric in s.metrics]

    def metric(self, candidates):
        for m in candidates:
            if any(self.values(c, m) for c in self.cells):
                return m
        return None


def verdict_rows(sc):
    rows = []
    for group, cells in sc.groups.items():
        if len(cells) < 2:
            continue
        for title, candidates, better in CRITERIA:
            metric = sc.metric(candidates)
            if metric is None:
                continue
            ranked = [(S.median(sc.values(c, metric)), c) for c in cells if sc.values(c, metric)]
            ranked.sort(reverse=(better == R.HIGHER))
            if len(ranked) < 2:
                continue
            (best_med, best), (second_med, second) = ranked[0], ranked[1]
            a, b = sc.values(best, metric), sc.values(second, metric)
            lo, hi, cov = S.median_ci(a)
            if S.min_two_sided_p(len(a), len(b)) >= ALPHA:
                sig = f"untestable (n={len(a)} vs {len(b)}; need {S.repetitions_needed(ALPHA)})"
            else:
                p = S.mann_whitney_p(a, b)
                sig = f"**yes** (p={p:.2g})" if p < ALPHA else f"no, a tie (p={p:.2g})"
            rows.append([group, title, f"**{sc.label[best]}**", fmt(best_med, metric),
                         f"[{fmt(lo, metric)}, {fmt(hi, metric)}] ({cov * 100:.1f}%)",
                         sc.label[second], fmt(second_med, metric), sig])
    return rows


def cell_rows(sc):
    rows = []
    lat = sc.metric(("p50_ns", "real_time"))
    cpu = sc.metric(("cpu_ns_per_op", "cpu_time"))
    for group, cells in sc.groups.items():
        for c in cells:
            def med_ci(metric):
                v = sc.values(c, metric) if metric else []
                if not v:
                    return "-"
                lo, hi, _ = S.median_ci(v)
                return f"{fmt(S.median(v), metric)} [{fmt(lo, metric)}, {fmt(hi, metric)}]"
            spread = S.relative_spread(sc.values(c, lat)) if lat else math.nan
            viol = sum(sc.values(c, "violations"))
            unsafe = sum(sc.values(c, "unsafe_violations"))
            rows.append([f"`{c}`", len(sc.cells[c]), med_ci(lat), med_ci("p99_ns"), med_ci(cpu),
                         med_ci("ops_per_s"), med_ci("retries_per_op"), med_ci("corunner_progress"),
                         "-" if math.isnan(spread) else f"{spread * 100:.1f}%",
                         f"{viol:g}" + (f" (+{unsafe:g} unsafe by design)" if unsafe else "")])
    return rows


def findings(doc, ds, scenarios):
    total = len(ds.samples)
    bad = [(s.cell, s.repetition, s.metrics["violations"]) for s in ds.samples if s.metrics.get("violations", 0) > 0]
    unsafe = {}
    for s in ds.samples:
        if s.metrics.get("unsafe_violations", 0) > 0:
            unsafe.setdefault(s.cell, []).append(s.metrics["unsafe_violations"])
    failed = [f for f in ds.failures if f.get("status") in ("failed", "timeout")]
    unavailable = {}
    for f in ds.failures:
        if f.get("status") == "unavailable":
            unavailable.setdefault(f.get("cell", "?"), f.get("detail", "").strip().splitlines()[-1:] or [""])
    if bad:
        doc.alert("fail", f"{len(bad)} run(s) reported **unexpected invariant violations** (stale use, lost "
                          "event, torn read, time going backwards): these are bugs in the code under test.")
        doc.table(["cell", "repetition", "violations"], [[f"`{c}`", r, f"{v:g}"] for c, r, v in bad])
    if unsafe:
        doc.alert("warn", "**Unsafe by design**: these combinations break an invariant because of their design "
                          "(for example invalidating only in `invalidate_range_end` lets a user write through the "
                          "old mapping after `invalidate_range_start` returned). They are measured and shown, not "
                          "hidden; do not adopt them without fixing that.")
        doc.table(["cell", "runs with findings", "violations per run (median)", "total"],
                  [[f"`{c}`", len(v), fmt(S.median(v)), f"{sum(v):g}"] for c, v in sorted(unsafe.items())])
    if failed:
        doc.alert("fail", f"{len(failed)} run(s) failed or timed out (a timeout means the run did not end within "
                          "its bound: a hung thread or vCPU). Their output is in `logs/`.")
        doc.table(["cell", "repetition", "status", "detail"],
                  [[f"`{f.get('cell')}`", f.get("repetition"), f.get("status"),
                    " ".join(str(f.get("detail", "")).split())[:160]] for f in failed])
    if unavailable:
        doc.alert("warn", "Some cells cannot run on this machine and are missing from the results:")
        doc.table(["cell", "reason"], [[f"`{c}`", " ".join(r[0].split())[:160]] for c, r in sorted(unavailable.items())])
    noisy = []
    for sc in scenarios:
        lat = sc.metric(("p50_ns", "real_time"))
        for c in sc.cells:
            spread = S.relative_spread(sc.values(c, lat)) if lat else math.nan
            if not math.isnan(spread) and spread > NOISY_SPREAD:
                noisy.append(f"`{c}`: p50 spread {spread * 100:.0f}% across repetitions")
    if noisy:
        doc.alert("warn", f"{len(noisy)} cell(s) vary by more than {NOISY_SPREAD * 100:.0f}% between repetitions; "
                          "their comparisons are weak. See docs/regress-check.md for getting stable numbers.")
        doc.items(noisy[:20])
    if ds.interrupted:
        doc.alert("warn", f"{len(ds.interrupted)} repetition(s) are labelled \"interrupted\" (stopped by Ctrl-C, "
                          "so their numbers cover part of a run) and are left out of every table and plot:")
        doc.items([f"`{s.cell}` repetition {s.repetition}" for s in ds.interrupted[:20]])
    if not bad and not failed:
        doc.alert("ok", f"No unexpected invariant violations and no failed runs in {total} measured runs.")


def scenario_section(doc, sc, files_prefix):
    doc.h(2, f"Scenario `{sc.name}`")
    doc.p(SCENARIO_INTRO.get(sc.name, ""))
    compared = " and ".join(sc.primary) or "cell"
    doc.p(f"{len(sc.cells)} cells; compared axis: **{compared}**"
          + (f"; compared separately for each {', '.join(sc.group_axes)}" if sc.group_axes else "") + ".")
    rows = verdict_rows(sc)
    if rows:
        doc.h(3, "Verdict")
        doc.p(f"For each comparison group and criterion: the best {compared} by the median over repetitions, its "
              "distribution-free confidence interval for the median (with its exact coverage), the runner-up, and "
              f"whether best and runner-up differ significantly (two-sided Mann-Whitney U, p < {ALPHA}). "
              "\"A tie\" means the data cannot tell them apart.")
        doc.table(["group", "criterion", "best", "median", "CI of median (coverage)", "runner-up",
                   "runner-up median", "significant?"], rows)
    for gi, (group, cells) in enumerate(sc.groups.items()):
        curves = []
        for c in cells:
            merged = {}
            for s in sc.cells[c]:
                for upper, n in s.histograms.get("latency", []):
                    merged[upper] = merged.get(upper, 0) + n
            if merged:
                curves.append((sc.label[c], sorted(merged.items())))
        if curves:
            doc.img(f"{files_prefix}-cdf-{gi}.png",
                    P.latency_cdf(f"{sc.name}: waiter latency CDF ({group}), all repetitions merged", curves),
                    f"Waiter latency CDF, {sc.name}, {group}. Left and steep is better; the right tail is the "
                    "worst operations.")
    cpu = sc.metric(("cpu_ns_per_op", "cpu_time"))
    lat = sc.metric(("p50_ns", "real_time"))
    if cpu and lat:
        points = []
        for gi, (group, cells) in enumerate(sc.groups.items()):
            for c in cells:
                cv, lv, p99 = sc.values(c, cpu), sc.values(c, lat), sc.values(c, "p99_ns")
                if not cv or not lv:
                    continue
                clo, chi, _ = S.median_ci(cv)
                lo, hi, _ = S.median_ci(lv)
                label = sc.label[c] + (f" ({group})" if len(sc.groups) > 1 else "")
                points.append((label, sc.label[c], gi, S.median(cv), (clo, chi), S.median(lv), (lo, hi),
                               S.median(p99) if p99 else None))
        if points:
            doc.img(f"{files_prefix}-tradeoff.png",
                    P.tradeoff(f"{sc.name}: latency vs CPU burned per operation", points, cpu.replace("_", " ")),
                    "The trade-off: each point is a cell (median over repetitions, bars = CI of the median). "
                    "Down-left is better on both; a strategy that is lower but further right buys latency with CPU.")
    if sc.metric(("corunner_progress",)):
        charts = {}  # one chart for the scenario, or one per group when it would be too tall
        many = len(sc.cells) > 40
        for group, cells in sc.groups.items():
            for c in cells:
                v = sc.values(c, "corunner_progress")
                if v:
                    lo, hi, _ = S.median_ci(v)
                    suffix = f" ({group})" if len(sc.groups) > 1 and not many else ""
                    charts.setdefault(group if many else "", []).append((sc.label[c] + suffix, S.median(v), (lo, hi)))
        for ci, (group, bars) in enumerate(charts.items()):
            doc.img(f"{files_prefix}-corunner-{ci}.png",
                    P.corunner(f"{sc.name}: co-runner progress" + (f" ({group})" if group else ""), bars),
                    "Progress of a co-runner thread sharing the waiter's CPU, relative to running alone. "
                    "1.0 = the waiter cost it nothing; spinning strategies push it down.")
    doc.h(3, "All cells")
    doc.p("Median over repetitions [confidence interval of the median]. Spread = (max - min) / median of the "
          "p50 latency across repetitions: the run-to-run noise of the cell.")
    doc.table(["cell", "reps", "p50 latency", "p99 latency", "CPU/op", "ops/s", "retries/op",
               "co-runner", "spread", "violations"], cell_rows(sc))


def build(ds):
    doc = Doc()
    m = ds.manifest or {}
    name = m.get("name", os.path.basename(os.path.abspath(ds.origin)))
    doc.h(1, f"gpcbench report: {name}")
    if m.get("mixed_environment"):  # `matrix --merge --allow-mixed` (docs/matrix-format.md)
        doc.alert("warn", "**Mixed environments**: shards that ran in different environments were merged with "
                  "--allow-mixed, so numbers across cells may not be comparable: " +
                  "; ".join(f"`{d.get('field')}` {d.get('first')} vs {d.get('other')}" for d in m["mixed_environment"]))
    doc.p("Measurements of KVM's gfn_to_pfn_cache (the \"pfn cache\" of virt/kvm/pfncache.c): how long a cache "
          "refresh waits while MMU-notifier invalidations are in progress, the CPU the waiting burns, and what it "
          "costs a thread sharing the CPU. Each cell is one combination of parameters, run several times in a "
          "randomized interleaved order; numbers are medians over those repetitions. Reading guide: "
          "docs/reading-a-report.md; statistics: docs/methodology.md.")
    gpc_answer.answer_section(doc, ds, fmt)  # first: the verdict a maintainer asked for (issue 14)
    doc.h(2, "Findings")
    scenarios = []
    by_scenario = {}
    for cell, samples in ds.cells().items():
        by_scenario.setdefault(samples[0].scenario, {})[cell] = samples
    for sname in sorted(by_scenario):
        scenarios.append(Scenario(sname, by_scenario[sname]))
    findings(doc, ds, scenarios)
    gpc_calibration.report_section(doc, ds)  # every full report carries the fidelity line
    for i, sc in enumerate(scenarios):
        scenario_section(doc, sc, f"{i}-{re.sub(r'[^A-Za-z0-9]', '_', sc.name)}")
    doc.h(2, "How this was measured")
    reps = sorted({len(v) for v in ds.cells().values()})
    items = [f"{len(ds.cells())} cells, {len(ds.samples)} measured runs; repetitions per cell: "
             f"{', '.join(map(str, reps))}."]
    if m:
        items.append(f"Matrix `{name}`: {m.get('repetitions')} repetitions of {m.get('duration_ns', 0) / 1e9:g} s, "
                     f"a {m.get('warmup_ns', 0) / 1e9:g} s warm-up run per cell (discarded), seed {m.get('seed')}, "
                     f"cells in a seeded random order within each repetition round (the order is in matrix.json).")
        if m.get("merged_from"):
            items.append(f"Merged from {len(m['merged_from'])} shards.")
    preempt = ((ds.environment or {}).get("kernel") or {}).get("preempt") or {}
    if preempt:  # busy stands for hva_to_pfn_retry's cond_resched() under this model
        items.append(f"Kernel preemption model: {preempt.get('model', 'unknown')} (from {preempt.get('source', '?')}); "
                     f"the busy strategy's numbers stand for cond_resched(), which here "
                     f"{preempt.get('cond_resched', 'is unknown')}.")
    items.append("Confidence intervals are order-statistic intervals for the median; with 5 repetitions the "
                 "best available is [min, max] at 93.75% coverage (shown per row).")
    doc.items(items)
    doc.h(2, "Environment")
    doc.table(["key", "value"], [[f"`{k}`", v] for k, v in flatten(ds.environment or {})])
    return doc, name


def check_outputs(directory):
    """Before any work: the report's paths can be written and replace only regular files."""
    for name in ("report.md", "report.html"):
        O.check_target(os.path.join(directory, name), "the report")
    files_dir = os.path.join(directory, FILES_DIR)
    if os.path.lexists(files_dir) and (os.path.islink(files_dir) or not os.path.isdir(files_dir)):
        raise O.OutputError(f"{files_dir} exists and is not a directory; move it away (the report puts its "
                            f"plots there)")
    try:
        old_plots = [n for n in os.listdir(files_dir) if n.endswith(".png")] if os.path.isdir(files_dir) else []
    except OSError as e:
        raise O.OutputError(f"cannot list {files_dir}: {e.strerror}; make it readable and writable") from e
    for name in old_plots:
        O.check_target(os.path.join(files_dir, name), "the report's plot")


def _remove_stale_plots(files_dir, keep):
    """Plots of an earlier report of this directory that the new one no longer has."""
    try:
        for name in os.listdir(files_dir):
            path = os.path.join(files_dir, name)
            if name.endswith(".png") and path not in keep and os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)
    except OSError:
        pass  # the new report is complete; a stale plot it does not link to is harmless


def write_report(doc, name, directory):
    """report.md, its plots and report.html, all or nothing (gpc_output.Batch)."""
    files_dir = os.path.join(directory, FILES_DIR)
    created = not os.path.isdir(files_dir)
    try:
        if created:
            try:
                os.mkdir(files_dir)
            except OSError as e:
                raise O.OutputError(f"cannot create {files_dir}: {e.strerror}; make {directory} writable") from e
        with O.Batch() as out:
            for png_name, png in doc.plots():
                out.add(os.path.join(files_dir, png_name), png)
            out.add(os.path.join(directory, "report.md"), doc.markdown(files_dir))
            out.add(os.path.join(directory, "report.html"), doc.html(f"gpcbench report: {name}"))
            out.commit()
    except BaseException:
        if created:
            try:
                os.rmdir(files_dir)  # ours and empty: the temporaries are gone
            except OSError:
                pass
        raise
    _remove_stale_plots(files_dir, set(out.committed))


def main(argv):
    if len(argv) != 1:
        print("usage: gpc_report.py DIR", file=sys.stderr)
        return 2
    directory = argv[0]
    if not os.path.isdir(directory):
        print(f"gpcbench report: unusable input: {directory} is not a directory; pass the --out directory of "
              f"`gpcbench matrix`", file=sys.stderr)
        return 2
    try:
        check_outputs(directory)
        ds = R.load(directory)
        doc, name = build(ds)
        write_report(doc, name, directory)
    except R.InputError as e:
        print(f"gpcbench report: unusable input: {e}", file=sys.stderr)
        return 2
    except O.OutputError as e:
        print(f"gpcbench report: {e}", file=sys.stderr)
        return 2
    print(f"report: wrote {os.path.join(directory, 'report.md')} and {os.path.join(directory, 'report.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(gpc_signals.run("gpcbench report", main, sys.argv[1:]))
