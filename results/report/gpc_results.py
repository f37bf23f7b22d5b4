"""Reading gpcbench result directories and files (Google Benchmark JSON schema).

A matrix directory holds runs/<cell>.rep<k>.json (one file per cell and repetition),
failures/*.json, matrix.json and environment.json (docs/matrix-format.md). A plain
directory or a single file of Google Benchmark JSON works too: every benchmark entry of
run_type "iteration" is one sample of its cell (the benchmark name).
"""
import glob
import os

import gpc_schema as Schema

LOWER, HIGHER, INFO = "lower", "higher", "info"

# The counters of CONTRACTS.md and which direction is better.
DIRECTIONS = {
    "real_time": LOWER, "cpu_time": LOWER,
    "p50_ns": LOWER, "p90_ns": LOWER, "p99_ns": LOWER, "p999_ns": LOWER, "max_ns": LOWER,
    "mean_ns": LOWER, "ops_per_s": HIGHER, "retries_per_op": LOWER, "hva_to_pfn_per_op": LOWER,
    "cpu_ns_per_op": LOWER, "context_switches_per_op": LOWER, "corunner_progress": HIGHER,
    # Issue 14: refreshes that collided with an invalidation apart from the others. Placement
    # evidence (waiter_runqueue_wait_share, ...) stays info; starved_refreshes has its own rule
    # in compare (gpc_starvation.py), so it is not judged here.
    "collided_p50_ns": LOWER, "collided_p99_ns": LOWER, "uncollided_p50_ns": LOWER,
    "uncollided_p99_ns": LOWER, "cpu_ns_per_collision": LOWER, "corunner_progress_during_waits": HIGHER,
}
DESCRIPTIONS = {
    "real_time": "mean waiter latency per op (Google Benchmark real_time)",
    "cpu_time": "waiter CPU per op (Google Benchmark cpu_time)",
    "p50_ns": "median waiter latency", "p90_ns": "p90 waiter latency", "p99_ns": "p99 waiter latency",
    "p999_ns": "p99.9 waiter latency", "max_ns": "worst waiter latency", "mean_ns": "mean waiter latency",
    "ops_per_s": "refreshes/updates per second", "retries_per_op": "refresh retries per refresh",
    "hva_to_pfn_per_op": "resolver calls per refresh", "cpu_ns_per_op": "waiter CPU ns per op",
    "context_switches_per_op": "waiter context switches per op",
    "corunner_progress": "co-runner progress (1.0 = unharmed)",
    "violations": "unexpected invariant violations", "unsafe_violations": "unsafe-by-design violations",
    "collided_p50_ns": "median latency of refreshes that found an invalidation in progress",
    "collided_p99_ns": "p99 latency of refreshes that found an invalidation in progress",
    "uncollided_p50_ns": "median latency of the other refreshes",
    "uncollided_p99_ns": "p99 latency of the other refreshes",
    "cpu_ns_per_collision": "waiter CPU ns per collided refresh",
    "corunner_progress_during_waits": "co-runner progress inside the waiter's collided waits (1.0 = unharmed)",
    "starved_refreshes": "refreshes that hit their bound: starved (livelock)",
}
METADATA_FILES = {"environment.json", "matrix.json", "status.json"}


def direction(metric):
    """lower/higher/info for a metric name (kvm_*, inval_* and unknown counters are info)."""
    return DIRECTIONS.get(metric, INFO)


InputError = Schema.InputError  # raised by every check; the message names the file and the field
INTERRUPTED = "interrupted"  # the label `run` gives a repetition stopped by Ctrl-C/SIGTERM


class Sample:
    """One repetition of one cell: its metrics and latency histograms."""

    def __init__(self, cell, repetition, metrics, histograms, context, path, label=""):
        self.cell = cell
        self.label = label  # Google Benchmark's label: "interrupted", "unsafe by design (hook=end)", ...
        self.repetition = repetition
        self.metrics = metrics
        self.histograms = histograms  # name -> [(bucket upper bound ns, count), ...]
        self.context = context
        self.path = path

    @property
    def scenario(self):
        return self.cell.split("/", 1)[0]

    @property
    def params(self):
        """Axis -> value, from the benchmark name ("cache/strategy:block/hook:end")."""
        out = {}
        for part in self.cell.split("/")[1:]:
            key, _, value = part.partition(":")
            out[key] = value
        return out


class Dataset:
    def __init__(self, origin):
        self.origin = origin
        self.samples = []        # [Sample]
        self.interrupted = []    # [Sample] labelled "interrupted": not used as samples (issue 15 item 5)
        self.failures = []       # failure records of runs that produced no usable result
        self.manifest = None     # matrix.json
        self.environment = None  # environment.json

    def cells(self):
        out = {}
        for s in self.samples:
            out.setdefault(s.cell, []).append(s)
        for samples in out.values():
            samples.sort(key=lambda s: s.repetition)
        return out

    def values(self, cell, metric):
        return [s.metrics[metric] for s in self.cells().get(cell, []) if metric in s.metrics]


_TIME_SCALE = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_file(path):
    """Samples of one Google Benchmark JSON file. Raises InputError on any defect."""
    context, entries = Schema.check_result(Schema.read_json(path), path, DIRECTIONS)
    histograms = context.get("gpcbench_histograms", {})
    samples = []
    for b in entries:
        scale = _TIME_SCALE[b.get("time_unit", "ns")]
        metrics = {"real_time": float(b["real_time"]) * scale, "cpu_time": float(b["cpu_time"]) * scale}
        for key, value in b.items():
            if key in metrics or key in ("iterations", "repetitions", "repetition_index", "threads",
                                         "family_index", "per_family_instance_index"):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                metrics[key] = float(value)
        rep = int(b.get("repetition_index", 0))
        hist = {}
        for hname, h in histograms.get(f"{b['name']}#{rep}", {}).items():
            hist[hname] = [(int(u), int(n)) for u, n in h.get("buckets", [])]
        samples.append(Sample(b["name"], rep, metrics, hist, context, path, b.get("label", "")))
    return samples


def _read_json(path, check):
    """A metadata file (matrix.json, environment.json, failures/*.json) checked by `check`;
    None when it does not exist. Garbage is an InputError: a dropped failure record would
    turn a failed run into "no regression"."""
    if not os.path.lexists(path):
        return None
    return check(Schema.read_json(path, what=os.path.basename(path)), path)


def _add_samples(ds, samples):
    for s in samples:
        (ds.interrupted if s.label == INTERRUPTED else ds.samples).append(s)


def load(path):
    """A Dataset from a matrix directory, a directory of result files, or one file."""
    if not os.path.exists(path):
        raise InputError(f"{path} does not exist; pass a `gpcbench matrix --out` directory or a result file")
    ds = Dataset(path)
    if not os.path.isdir(path):
        _add_samples(ds, load_file(path))
    else:
        runs = os.path.join(path, "runs")
        if os.path.isdir(runs):
            files = sorted(glob.glob(os.path.join(runs, "*.json")))
        else:
            files = sorted(f for f in glob.glob(os.path.join(path, "*.json"))
                           if os.path.basename(f) not in METADATA_FILES)
        for f in files:
            _add_samples(ds, load_file(f))
        for f in sorted(glob.glob(os.path.join(path, "failures", "*.json"))):
            ds.failures.append(_read_json(f, Schema.check_failure))
        ds.manifest = _read_json(os.path.join(path, "matrix.json"), Schema.check_manifest)
        ds.environment = _read_json(os.path.join(path, "environment.json"), Schema.check_environment)
    if not ds.samples and ds.interrupted:
        raise InputError(f"{path}: all {len(ds.interrupted)} result(s) are labelled \"interrupted\" (runs stopped "
                         f"by Ctrl-C); rerun them")
    if not ds.samples:
        raise InputError(f"{path}: holds no benchmark results (no runs/*.json or *.json with a "
                         f"'benchmarks' array); did the matrix run?")
    if ds.environment is None:
        ds.environment = {k: v for k, v in ds.samples[0].context.items()
                          if k not in ("gpcbench_histograms", "run", "matrix")}
    return ds
