"""The "Answer" section at the top of the report: does a waiting strategy give meaningful
value over busy (upstream), condition by condition, in words a maintainer can quote?

Renders into gpc_report's Doc (Markdown and HTML alike). The rule lives in gpc_judge.py, the
ratio interval in gpc_ratio.py, the placement and noise checks in gpc_answer_checks.py.
How to read it: docs/reading-a-report.md; the statistics: docs/methodology.md.
"""
import math

import gpc_answer_checks as K
import gpc_conditions as C
import gpc_judge as J
import gpc_stats as S

RULE = (f"**Meaningful value** (issue 14): in one condition, a strategy is better than busy (upstream) on "
        f"collided-refresh latency, p50 or p99, significantly (two-sided Mann-Whitney U over runs, "
        f"p < {J.ALPHA:g}) and by at least {J.MARGIN:.0%} (ratio of medians <= {1 - J.MARGIN:.2f}), "
        f"**and** none of collided p50, collided p99, CPU per collision and co-runner progress during "
        f"waits (where a co-runner shares the waiter's CPU) is more than {J.MARGIN:.0%} worse than "
        f"busy's by the ratio of medians, significant or not. A strategy **loses** where one of the four is "
        f"worse by compare's rule (p < {J.ALPHA:g} and more than {J.MARGIN:.0%}). Cells unsafe by design "
        f"(hook=end), starved (livelock), or with too few runs for p < {J.ALPHA:g} are named, never ranked. "
        f"The unit of replication is the run (one repetition of a cell), not the refresh.")

RATIO_NOTE = (f"Each ratio is the strategy's median over runs divided by busy's: below 1 is better for latency "
              f"and CPU, above 1 is better for co-runner progress. The interval is the distribution-free "
              f"Hodges-Lehmann interval of the ratio at {J.CONFIDENCE:.0%} (its exact coverage is in the runs "
              f"column); it excludes 1 exactly when p < {J.ALPHA:g}. † marks a ratio of medians outside its "
              f"interval: the runs do not scale busy's by one factor, read that row with care.")


def _ratio_cell(c):
    if c is None:
        return "-"
    ratio = "-" if math.isnan(c.ratio) else f"{c.ratio:.2f}×"
    if c.interval is None:
        return f"{ratio} (no interval: a value <= 0)"
    lo, hi, _ = c.interval
    dagger = "†" if not math.isnan(c.ratio) and not lo - 1e-9 <= c.ratio <= hi + 1e-9 else ""
    return f"{ratio}{dagger} [{lo:.2f}, {hi:.2f}] p={c.p:.2g}"


def _verdict_cell(j):
    words = {J.MEANINGFUL: "**meaningful value**", J.NEITHER: "neither"}
    if j.category == J.NOT_RANKED:
        text = f"not ranked: {j.reason}"
    elif j.category == J.LOSES:
        text = "**loses** (" + ", ".join(J.WORDS[m] for m in j.losses) + ")"
    else:
        text = words[j.category]
    if j.placement_not_held:
        text += f"; placement not held in {j.placement_not_held} run(s)"
    return text


def _collided_share(samples):
    shares = []
    for s in samples:
        total = s.metrics.get("collided_refreshes", 0) + s.metrics.get("uncollided_refreshes", 0)
        if total > 0:
            shares.append(s.metrics.get("collided_refreshes", 0) / total)
    return f"collided: {S.median(shares):.1%} of refreshes" if shares else "collided share not recorded"


def _baseline_row(label, samples, fmt):
    cells = []
    for metric, _, _ in J.METRICS:
        v = J.run_values(samples, metric)
        cells.append(fmt(S.median(v), metric) if v else "-")
    value, runs = K.spread(samples)
    return [label, f"**{C.BASELINE}**", f"{runs}", *cells,
            "-" if math.isnan(value) else f"{value:.1%}", f"baseline ({_collided_share(samples)})"]


def _strategy_row(label, samples, j):
    head = j.comparisons.get("collided_p50_ns")
    runs = f"{head.n_other} vs {head.n_base}" if head else f"{len(samples)}"
    if head and head.interval:
        runs += f" ({head.interval[2]:.1%})"
    value, _ = K.spread(samples)
    return [label, j.strategy, runs, *[_ratio_cell(j.comparisons.get(m)) for m, _, _ in J.METRICS],
            "-" if math.isnan(value) else f"{value:.1%}", _verdict_cell(j)]


def judge_all(answer):
    """{strategy: [Judgement in condition order]} over every condition of the Answer."""
    out = {s: [] for s in answer.strategies()}
    for condition in answer.order:
        by = answer.conditions[condition]
        base = answer.cells.get(by.get(C.BASELINE))
        for strategy in out:
            if strategy in by:  # a condition the strategy was not measured in is not its condition
                out[strategy].append(J.judge(strategy, condition, base, answer.cells[by[strategy]]))
    return out


def _listed(answer, js, detail):
    """' [condition: detail; ...]' for the judgements js, or '' when there are none."""
    items = [answer.label(j.condition) + (f": {detail(j)}" if detail(j) else "") for j in js]
    return " [" + "; ".join(items) + "]" if items else ""


def _ratios(j, metrics):
    return ", ".join(f"{J.WORDS[m]} {j.comparisons[m].ratio:.2f}× busy" for m in metrics)


def _side_gains(judgements):
    """'CPU per collision in 4 and on ...': ranked conditions where a cost criterion is a gain."""
    counts = [(m, sum(1 for j in judgements if j.category != J.NOT_RANKED and m in j.comparisons
                      and j.comparisons[m].gain)) for m in ("cpu_ns_per_collision", "corunner_progress_during_waits")]
    return " and on ".join(f"{J.WORDS[m]} in {n}" for m, n in counts if n)


def sentence(answer, strategy, judgements):
    """One quotable sentence, from the judgements alone. "Most" means more than half of the
    ranked conditions; the alone count answers the case the maintainer named."""
    by = {k: [j for j in judgements if j.category == k] for k in (J.MEANINGFUL, J.LOSES, J.NEITHER, J.NOT_RANKED)}
    unranked = _listed(answer, by[J.NOT_RANKED], lambda j: j.reason)
    ranked = len(judgements) - len(by[J.NOT_RANKED])
    if not ranked:
        return f"**{strategy}** cannot be ranked against busy in any of its {len(judgements)} conditions{unranked}."
    good, losses = by[J.MEANINGFUL], by[J.LOSES]
    most = "most of them" if 2 * len(good) > ranked else "not most of them"
    text = f"**{strategy}** gives meaningful value in {len(good)} of {ranked} ranked conditions ({most})"
    alone = [j for j in judgements if j.category != J.NOT_RANKED and dict(j.condition).get("placement") == "alone"]
    if alone:
        text += f", {sum(1 for j in alone if j.category == J.MEANINGFUL)} of {len(alone)} where the waiter is alone"
    text += _listed(answer, good, lambda j: _ratios(j, j.gains))
    text += f"; it loses in {len(losses) or 'none'}" + _listed(answer, losses, lambda j: _ratios(j, j.losses))
    if by[J.NEITHER]:
        text += f"; neither value nor loss in {len(by[J.NEITHER])}" + _listed(answer, by[J.NEITHER], lambda j: "")
    side = _side_gains(judgements)
    if side:
        text += f". It is significantly better by at least {J.MARGIN:.0%} on {side}"
    if unranked:
        text += f". Not ranked in {len(by[J.NOT_RANKED])}{unranked}"
    return text + "."


def _condition_table(doc, answer, judged, fmt):
    rows = []
    index = {(s, j.condition): j for s, js in judged.items() for j in js}
    for condition in answer.order:
        label = answer.label(condition)
        by = answer.conditions[condition]
        if C.BASELINE in by:
            rows.append(_baseline_row(label, answer.cells[by[C.BASELINE]], fmt))
        for strategy in judged:
            if strategy in by:
                rows.append(_strategy_row(label, answer.cells[by[strategy]], index[(strategy, condition)]))
    doc.table(["condition", "strategy", "runs (CI coverage)"] + [w for _, w, _ in J.METRICS]
              + ["p50 spread", "verdict"], rows)


def _placement_table(doc, answer):
    rows = []
    for ev in K.placement_evidence(answer):
        if not ev.recorded:
            rows.append([ev.placement, ev.cells, ev.runs, "not recorded", "not recorded", "not recorded"])
            continue
        share = (f"{S.median(ev.wait_share):.2%} (max {max(ev.wait_share):.2%})" if ev.wait_share else "-")
        switches = (f"{S.median(ev.switches):.3g} (max {max(ev.switches):.3g})" if ev.switches else "-")
        bad = sum(ev.not_held.values())
        cells = ", ".join(f"`{c}` ({n})" for c, n in sorted(ev.not_held.items()))
        judged = len(ev.judged)
        held = f"{bad} of {judged} runs NOT held: {cells}" if bad else f"held in all {judged} judged runs"
        rows.append([ev.placement, ev.cells, ev.runs, share, switches, held])
    doc.table(["placement", "cells", "runs", "waiter run-queue wait share, median (max)",
               "waiter involuntary switches/s, median (max)", "placement_held"], rows)


def _noise(doc, answer):
    noisy, (largest, where) = K.noisy_cells(answer)
    target = K.ALONE_SPREAD_TARGET
    if noisy:
        doc.alert("warn", f"{len(noisy)} `alone` cell(s) exceed the {target:.0%} target for the run-to-run spread of "
                          "the collided p50; their comparisons are weaker:")
        doc.items([f"`{c}`: spread {v:.1%} over {n} runs" for c, v, n in noisy])
    elif where is not None:
        doc.p(f"Every `alone` cell is within the {target:.0%} spread target (largest: {largest:.1%}, `{where}`).")
    else:
        doc.p("No `alone` cell has collided p50 values: the spread target cannot be checked.")


def _unranked(doc, cells):
    unsafe, starving = K.unranked_cells(cells)
    if starving or unsafe:
        doc.h(3, "Never ranked: starved and unsafe by design")
    if starving:
        doc.alert("warn", "**Starved (livelock)**: refreshes that hit their bound. A liveness finding, kept apart "
                          "from invariant violations; it does not fail a run. These cells are never ranked:")
        doc.table(["cell", "starved refreshes", "runs with any / runs"],
                  [[f"`{c}`", f"{t:g}", f"{r} / {n}"] for c, t, r, n in starving])
    if unsafe:
        doc.alert("warn", "**Unsafe by design**, never ranked (hook=end, or an unsafe-by-design violation was seen): "
              + ", ".join(f"`{c}`" for c in unsafe) + ".")


def answer_section(doc, ds, fmt):
    """Append the Answer section for dataset `ds` to `doc`; `fmt(value, metric)` formats numbers."""
    answer = C.AnswerCells(ds.cells())
    doc.h(2, "Answer: does a waiting strategy give meaningful value over busy (upstream)?")
    if (ds.environment or {}).get("synthetic"):
        doc.alert("warn", "**Synthetic data** from gpc_synth.py, written for tests: not a measurement.")
    if not answer.conditions:
        doc.p("No `cache` cell names a placement (alone, shared, overcommit), so this report cannot answer: run "
              "a matrix with the placement axis (e.g. `gpcbench matrix --preset quick`)."
              + (f" {len(answer.legacy)} legacy cell(s) are in the scenario sections below." if answer.legacy else ""))
        _unranked(doc, ds.cells())
        return
    judged = judge_all(answer)
    if judged:
        doc.items([sentence(answer, s, js) for s, js in judged.items() if js])
    else:
        doc.p("No strategy other than busy was measured: nothing to compare.")
    doc.p(RULE)
    doc.h(3, "Per condition")
    doc.p(RATIO_NOTE + " The busy rows give busy's medians; spread is (max - min) / median of the collided p50 "
          "over runs.")
    _condition_table(doc, answer, judged, fmt)
    doc.h(3, "Did the placement hold?")
    _placement_table(doc, answer)
    doc.h(3, "Noise")
    _noise(doc, answer)
    _unranked(doc, ds.cells())
    if answer.legacy:
        doc.p(f"{len(answer.legacy)} legacy cell(s) without a placement axis (e.g. `{answer.legacy[0]}`) are left "
              "out of the Answer; they are in the scenario sections below.")
