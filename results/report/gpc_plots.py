"""The report's plots (matplotlib, Agg backend), each returned as PNG bytes."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

MARKERS = "osD^vP*Xh<>"


def _png(fig):
    buf = io.BytesIO()
    # bbox "tight" fits long legends and labels without tight_layout's warnings.
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _ns_axis_label(what):
    return f"{what} (log scale)"


def _ns_tick(value, _pos=None):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= scale:
            return f"{value / scale:g} {unit}"
    return f"{value:g} ns"


def _ns_log_axis(axis):
    axis.set_major_formatter(FuncFormatter(_ns_tick))
    axis.set_minor_formatter(FuncFormatter(lambda v, p: _ns_tick(v) if str(v)[0] in "25" else ""))


def latency_cdf(title, curves):
    """curves: [(label, [(upper_ns, count), ...] merged over repetitions)]."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for i, (label, buckets) in enumerate(curves):
        total = sum(n for _, n in buckets)
        if total == 0:
            continue
        xs, ys, acc = [], [], 0
        for upper, n in sorted(buckets):
            acc += n
            xs.append(max(upper, 1))
            ys.append(acc / total)
        ax.step(xs, ys, where="post", label=f"{label} ({total:,} ops)", linewidth=1.6,
                linestyle="-" if i < 10 else "--")
    ax.set_xscale("log")
    _ns_log_axis(ax.xaxis)
    ax.set_ylim(0, 1.01)
    for q in (0.5, 0.99):
        ax.axhline(q, color="grey", linewidth=0.6, linestyle=":")
        ax.text(ax.get_xlim()[0], q, f" p{int(q * 100)}", va="bottom", fontsize=7, color="grey")
    ax.set_xlabel(_ns_axis_label("waiter latency"))
    ax.set_ylabel("fraction of operations <= x")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower right")
    return _png(fig)


def tradeoff(title, points, cpu_label):
    """points: [(label, color_key, group_index, cpu_median, (cpu_lo, cpu_hi), p50, (lo, hi), p99)]:
    waiter latency against the CPU it burned per operation; down-left is better. One colour
    per color_key (the compared strategy), one marker per group."""
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    keys = sorted({p[1] for p in points})
    for label, key, group, cpu, (clo, chi), p50, (lo, hi), p99 in points:
        color = colors[keys.index(key) % len(colors)]
        marker = MARKERS[group % len(MARKERS)]
        ax.errorbar([cpu], [p50], xerr=[[cpu - clo], [chi - cpu]], yerr=[[p50 - lo], [hi - p50]],
                    fmt=marker, color=color, markersize=7, capsize=2, linewidth=1)
        if p99 is not None:
            ax.plot([cpu, cpu], [p50, p99], color=color, linewidth=0.8, alpha=0.5)
            ax.plot([cpu], [p99], marker=marker, markerfacecolor="none", color=color, markersize=7)
        if len(points) <= 24:  # beyond that, labels overlap into a blot: the legend names colours
            ax.annotate(label, (cpu, p50), textcoords="offset points", xytext=(6, 4), fontsize=7)
    if len(points) > 24:
        for key in keys:
            ax.plot([], [], "o", color=colors[keys.index(key) % len(colors)], label=key)
        ax.legend(fontsize=7, loc="best")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ns_log_axis(ax.xaxis)
    _ns_log_axis(ax.yaxis)
    ax.set_xlabel(_ns_axis_label(cpu_label))
    ax.set_ylabel(_ns_axis_label("waiter latency: p50 filled, p99 hollow"))
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    return _png(fig)


def corunner(title, bars):
    """bars: [(label, median, (lo, hi))]: co-runner progress, 1.0 = as fast as alone."""
    fig, ax = plt.subplots(figsize=(7.5, 0.8 + 0.35 * max(len(bars), 3)))
    ys = list(range(len(bars)))
    med = [b[1] for b in bars]
    err = [[b[1] - b[2][0] for b in bars], [b[2][1] - b[1] for b in bars]]
    ax.barh(ys, med, xerr=err, capsize=3, color="#4c72b0", alpha=0.85)
    ax.set_yticks(ys)
    ax.set_yticklabels([b[0] for b in bars], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, max(1.1, max(med + [0]) * 1.1))
    ax.set_xlabel("co-runner progress (work done / work done alone; 1.0 = unharmed)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="x", alpha=0.25)
    return _png(fig)
