"""compare's starvation rule: a rise in starved refreshes is a regression.

A starved refresh is one that hit its bound: the livelock of hva_to_pfn_retry() under a stream
of invalidations (BRIEF.md section 1). It is a liveness finding, kept apart from invariant
violations, and it does not fail a run. Between two result sets it is judged by its own rule,
not by the Mann-Whitney + threshold rule of the timings:

    a cell regressed when NEW's starved refreshes per run (total / runs) exceed BASE's.

No threshold and no test, because a starved refresh is a vCPU stuck for the whole bound: one
is a finding, and per-run counts are mostly zero, where a rank test has no power (5 vs 5 runs
need every NEW run above every BASE run for p < 0.01). Per run, so that sets with different
numbers of repetitions compare fairly. A cell that starved in BASE too is livelock-prone:
rerun it before bisecting (docs/methodology.md).
"""

METRIC = "starved_refreshes"
RULE = ("starvation: a cell whose starved refreshes per run (total / runs) rose from BASE to NEW is a "
        "regression, with no threshold and no test (a starved refresh is a liveness failure)")


def _per_run(samples):
    total = sum(s.metrics.get(METRIC, 0) for s in samples)
    return total, len(samples)


def changes(base_cells, new_cells, common):
    """[(cell, base_total, base_runs, new_total, new_runs, verdict)] for every common cell that
    starved in BASE or NEW; verdict is 'regression', 'unchanged' or 'lower'."""
    out = []
    for cell in common:
        (bt, bn), (nt, nn) = _per_run(base_cells[cell]), _per_run(new_cells[cell])
        if bt == 0 and nt == 0:
            continue
        base_rate, new_rate = bt / bn, nt / nn
        verdict = "regression" if new_rate > base_rate else ("lower" if new_rate < base_rate else "unchanged")
        out.append((cell, bt, bn, nt, nn, verdict))
    return out


def regressions(rows):
    return [r for r in rows if r[5] == "regression"]


def markdown(rows):
    """The compare output's starvation table (empty when no common cell starved)."""
    if not rows:
        return []
    out = ["## Starved (livelock)", "", f"Rule: {RULE}.", "",
           "| cell | BASE starved / runs | NEW starved / runs | verdict |", "|---|---|---|---|"]
    out += [f"| `{c}` | {bt:g} / {bn} | {nt:g} / {nn} | {'**regression**' if v == 'regression' else v} |"
            for c, bt, bn, nt, nn, v in rows]
    return out + [""]
