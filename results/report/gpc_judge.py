"""The Answer's rule: does a strategy give "meaningful value" over busy in one condition?

The rule (issue 14; written into the report by gpc_answer.py, explained in
docs/methodology.md): a strategy gives meaningful value in a condition when
  1. it is better than busy on collided-refresh latency, p50 or p99: two-sided Mann-Whitney U
     over the runs with p < 0.01 AND a median at least 10% lower, and
  2. none of collided p50, collided p99, CPU per collision and co-runner progress during waits
     (where measured) is more than 10% worse than busy's, by the ratio of medians.
Part 2 needs no significance: the burden of proof is on the claim of value, so noise can take
a claim away but never make one. A strategy *loses* in a condition when one of the four is
worse by compare's regression rule (p < 0.01 AND more than 10% worse). Cells unsafe by design,
starved (livelock), without a baseline or with too few runs for p < 0.01 are never ranked.
"""
import math

import gpc_ratio as Q
import gpc_results as R
import gpc_stats as S

ALPHA = 0.01       # the significance level of the rule
MARGIN = 0.10      # "by at least 10%" (a gain) and "at most 10% more" (a cost)
CONFIDENCE = 1 - ALPHA  # the ratio interval excludes 1 exactly when p < ALPHA (gpc_ratio)
EPS = 1e-9         # so that "exactly 10%" is not lost to floating point (0.1 + 1e-17)

# (counter, words, better): the four criteria, latency first.
METRICS = (
    ("collided_p50_ns", "collided p50", R.LOWER),
    ("collided_p99_ns", "collided p99", R.LOWER),
    ("cpu_ns_per_collision", "CPU per collision", R.LOWER),
    ("corunner_progress_during_waits", "co-runner progress during waits", R.HIGHER),
)
LATENCY = ("collided_p50_ns", "collided_p99_ns")
WORDS = {m: w for m, w, _ in METRICS}

MEANINGFUL, LOSES, NEITHER, NOT_RANKED = "meaningful value", "loses", "neither", "not ranked"


def run_values(samples, metric):
    """One value per run. Collided-latency values only from runs that had a collision: a run
    without one has no collided latency to compare."""
    out = []
    for s in samples:
        if metric not in s.metrics:
            continue
        if metric.startswith("collided_") and s.metrics.get("collided_refreshes", 1) <= 0:
            continue
        out.append(s.metrics[metric])
    return out


def unsafe_by_design(samples):
    """hook=end breaks the mmu-notifier contract by design (docs/pfncache-model.md), whether or
    not a run happened to catch it; any unsafe_violations also mark a cell."""
    return samples[0].params.get("hook") == "end" or any(s.metrics.get("unsafe_violations", 0) > 0
                                                        for s in samples)


def starved(samples):
    """(refreshes that hit their bound, runs with any): the livelock, per cell."""
    counts = [s.metrics.get("starved_refreshes", 0) for s in samples]
    return sum(counts), sum(1 for c in counts if c > 0)


class Comparison:
    """One metric of a strategy's cell against busy's, over runs."""

    def __init__(self, metric, better, base, other):
        self.metric, self.better = metric, better
        self.n_base, self.n_other = len(base), len(other)
        self.base_median, self.other_median = S.median(base), S.median(other)
        self.ratio = self.other_median / self.base_median if self.base_median > 0 else math.nan
        self.interval = Q.ratio_interval(base, other, CONFIDENCE)
        self.testable = S.min_two_sided_p(len(base), len(other)) < ALPHA
        self.p = S.mann_whitney_p(other, base)
        self.change = S.worse_change(self.base_median, self.other_median, better)  # > 0 = worse

    @property
    def significant(self):
        return self.testable and self.p < ALPHA

    @property
    def gain(self):
        """Significantly better by at least MARGIN."""
        return self.significant and -self.change >= MARGIN - EPS

    @property
    def loss(self):
        """Worse by compare's regression rule: significant and more than MARGIN."""
        return self.significant and self.change > MARGIN + EPS

    @property
    def over_cost(self):
        """The median is more than MARGIN worse (significant or not)."""
        return self.change > MARGIN + EPS


class Judgement:
    """One strategy in one condition against busy."""

    def __init__(self, strategy, condition):
        self.strategy, self.condition = strategy, condition
        self.comparisons = {}   # metric -> Comparison
        self.category = NOT_RANKED
        self.reason = ""        # why not ranked
        self.gains, self.losses, self.over = [], [], []
        self.placement_not_held = 0  # runs of either cell whose scenario said the placement failed


def _compare_all(j, base, other):
    for metric, _, better in METRICS:
        a, b = run_values(base, metric), run_values(other, metric)
        if a and b:
            j.comparisons[metric] = Comparison(metric, better, a, b)


def _why_not_ranked(j, base, other):
    """The reason this judgement cannot rank the strategy, or '' when it can."""
    if other is None:
        return "not measured"
    if unsafe_by_design(other):
        return "unsafe by design"
    if starved(other)[0]:
        return "starved (livelock)"
    if base is None:
        return "no busy cell to compare with"
    if unsafe_by_design(base):
        return "busy is unsafe by design here"
    if starved(base)[0]:
        return "busy starved (livelock) here"
    missing = [WORDS[m] for m in LATENCY + ("cpu_ns_per_collision",) if m not in j.comparisons]
    if dict(j.condition).get("placement") in ("shared", "overcommit") and \
            "corunner_progress_during_waits" not in j.comparisons:
        missing.append(WORDS["corunner_progress_during_waits"])
    if missing:
        return "not recorded: " + ", ".join(missing)
    head = j.comparisons["collided_p50_ns"]
    if not head.testable:
        return (f"too few repetitions ({head.n_other} vs {head.n_base} runs; p < {ALPHA:g} needs "
                f"{S.repetitions_needed(ALPHA)} on each side)")
    return ""


def judge(strategy, condition, base, other):
    """Judge `other` (the strategy's runs) against `base` (busy's runs) in one condition;
    either may be None when that cell was not measured."""
    j = Judgement(strategy, condition)
    if base is not None and other is not None:
        _compare_all(j, base, other)
        j.placement_not_held = sum(1 for s in base + other if s.metrics.get("placement_held", 1) == 0)
    j.reason = _why_not_ranked(j, base, other)
    if j.reason:
        return j
    j.gains = [m for m in LATENCY if j.comparisons[m].gain]
    j.losses = [m for m, c in j.comparisons.items() if c.loss]
    j.over = [m for m, c in j.comparisons.items() if c.over_cost]
    if j.gains and not j.over:
        j.category = MEANINGFUL
    elif j.losses:
        j.category = LOSES
    else:
        j.category = NEITHER
    return j
