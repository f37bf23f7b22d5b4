"""Which cells the Answer section compares, and the conditions they are compared in.

A `cache` cell with a placement axis (cache/strategy:S/.../placement:P[/reader:host],
docs/matrix-format.md) belongs to the Answer. Its *condition* is every axis but the strategy:
placement x hold x rate, and any other axis (hook, filter, target, reader, ...). Cells named the
old way (`/co-runner:on`, `/overcommit:on`, no placement) are *legacy*: they load and keep their
scenario section, but the Answer leaves them out, because without a placement it cannot say
whether the waiter had its CPU to itself, the case the maintainer asked about.
"""
import re

BASELINE = "busy"  # upstream's busy retry with cond_resched() (virt/kvm/pfncache.c, hva_to_pfn_retry)
PLACEMENT_ORDER = ("alone", "shared", "overcommit")
_UNIT_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}


def duration_ns(text):
    """'0', '10us', '1ms', '2s' -> nanoseconds; None when it is not a duration."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s)?\s*", text or "")
    if not m:
        return None
    return float(m.group(1)) * _UNIT_NS[m.group(2) or "ns"]


def is_answer_cell(samples):
    """A strategy-switchable `cache` cell that names its placement."""
    first = samples[0]
    return first.scenario == "cache" and "placement" in first.params and "strategy" in first.params


def condition_of(params):
    """The condition key: every axis but the strategy, in the cell id's order."""
    return tuple((k, v) for k, v in params.items() if k != "strategy")


def _axis_sort_key(axis, value):
    """Comparable 3-tuples: known placements in their order, numbers numerically, then text."""
    if axis == "placement":
        rank = PLACEMENT_ORDER.index(value) if value in PLACEMENT_ORDER else len(PLACEMENT_ORDER)
        return (rank, 0.0, value)
    number = duration_ns(value)  # a hold, or a rate in Hz (a plain number)
    return (0, number, "") if number is not None else (1, 0.0, value)


def condition_sort_key(condition):
    """Placement first (alone, shared, overcommit), then hold and rate numerically, then the rest."""
    d = dict(condition)
    first = [a for a in ("placement", "hold", "rate") if a in d]
    rest = [a for a, _ in condition if a not in first]
    return tuple(_axis_sort_key(a, d[a]) for a in first + rest)


class AnswerCells:
    """The Answer's cells: conditions -> {strategy: cell name}, plus the legacy cells left out."""

    def __init__(self, cells):
        self.cells = cells  # cell name -> [Sample]
        self.conditions = {}
        self.legacy = []
        for name, samples in sorted(cells.items()):
            if samples[0].scenario != "cache":
                continue  # pvclock measures the kernel as built: no strategy to compare
            if not is_answer_cell(samples):
                self.legacy.append(name)
                continue
            params = samples[0].params
            self.conditions.setdefault(condition_of(params), {})[params["strategy"]] = name
        self.order = sorted(self.conditions, key=condition_sort_key)
        self.varying = self._varying_axes()

    def _varying_axes(self):
        axes = {}
        for condition in self.conditions:
            for k, v in condition:
                axes.setdefault(k, set()).add(v)
        return [k for k, values in axes.items() if len(values) > 1]

    def strategies(self):
        """Every strategy but the baseline, in a stable order (upstream's alternatives first)."""
        known = ("spin", "haltpoll", "block")
        found = {s for by in self.conditions.values() for s in by if s != BASELINE}
        return [s for s in known if s in found] + sorted(found - set(known))

    def label(self, condition):
        """Words for a condition: 'alone, hold 1ms, 1000 Hz' plus any other axis that varies."""
        d = dict(condition)
        parts = []
        if "placement" in d:
            parts.append(d["placement"])
        if "hold" in d:
            parts.append(f"hold {d['hold']}")
        if "rate" in d:
            parts.append("storm (rate 0)" if d["rate"] == "0" else f"{d['rate']} Hz")
        for k, v in condition:
            if k not in ("placement", "hold", "rate") and k in self.varying:
                parts.append(f"{k}:{v}")
        return ", ".join(parts)

    def placements(self):
        found = {dict(c).get("placement") for c in self.conditions}
        return sorted(found, key=lambda p: _axis_sort_key("placement", p))
