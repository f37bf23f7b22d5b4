"""The shape of the files `gpcbench report` and `gpcbench compare` read, checked before any
number is used (issue 15, item 17).

Every check raises InputError naming the file and the field ("runs/x.json:
benchmarks[0].p50_ns is NaN; ..."), so a garbage file ends in exit 2 with a reason, never in a
traceback or in a verdict computed from nonsense. The rules:
- a result file is UTF-8 JSON (NaN/Infinity, numbers beyond 64 bits, and nesting deeper than
  Python can parse are refused anywhere in it) in Google Benchmark's schema: an object with a
  `benchmarks` array of objects;
- each iteration entry has a non-empty string `name`, finite non-negative `real_time` and
  `cpu_time`, a known `time_unit`, a small non-negative integer `repetition_index` and, if it
  has one, a string `label`;
- a counter that report/compare judge or print (gpc_results.DIRECTIONS and the few listed
  below) is a finite non-negative number when present; other keys are passed over;
- a gpcbench record (one whose file has a `context.run` object) carries the counters every
  gpcbench scenario writes: `violations` and `p50_ns` (harness/scenarios/scenario_record.cpp
  make_record); without them "no violation" would be a guess;
- the latency histograms in `context.gpcbench_histograms` are [[upper_ns, count], ...] of
  non-negative integers;
- failure records, matrix.json and environment.json are JSON objects whose fields that the
  tools read have the right type.
"""
import json
import math
import os
import stat

MAX_FILE_BYTES = 512 << 20  # a result file is kilobytes to a few megabytes; refuse a runaway one
MAX_REPETITION = 1_000_000
INT64_LIMIT = 1 << 63
TIME_UNITS = ("ns", "us", "ms", "s")
# Counters report/compare read besides gpc_results.DIRECTIONS (passed in by the caller).
COUNTED = ("violations", "unsafe_violations", "starved_refreshes", "collided_refreshes",
           "uncollided_refreshes", "retries_per_op", "placement_held")
GPCBENCH_REQUIRED = ("violations", "p50_ns")


class InputError(Exception):
    """The input cannot be used; the message names the file and the problem."""


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40])}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_json(path, what="result file"):
    """The parsed JSON of `path`, a regular UTF-8 file. Raises InputError naming the defect."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what} ({e.strerror})") from e
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: the {what} is not a regular file (a directory, FIFO or device); "
                         f"move it out of the result directory")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: the {what} is {st.st_size} bytes, more than the limit of {MAX_FILE_BYTES} "
                         f"bytes (no gpcbench file is that large); it is not a result file")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what} ({e.strerror})") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: the {what} is not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x}): "
                         f"binary garbage or a damaged copy; rerun the matrix into the same directory "
                         f"to redo it") from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid or truncated JSON at line {e.lineno} column {e.colno} "
                         f"({e.msg}); was the run interrupted? Rerun the matrix into the same "
                         f"directory to redo it") from e
    except (ValueError, RecursionError) as e:  # a 5000-digit integer, or [[[[... too deep
        raise InputError(f"{path}: the {what} is not JSON gpcbench can use ({e})") from e
    _check_numbers(doc, path, "")
    return doc


def _check_numbers(node, path, where):
    """NaN, Infinity and integers beyond 64 bits are refused wherever they are."""
    stack = [(node, where)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{path}: {at or 'the document'} is {value!r}; a number must be finite "
                             f"(NaN and Infinity are not JSON numbers)")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT64_LIMIT:
            raise InputError(f"{path}: {at or 'the document'} is an integer beyond 64 bits; no gpcbench "
                             f"field holds one")


def _object(value, path, where, optional=False):
    if optional and value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{path}: {where} is {_kind(value)}; it must be a JSON object")
    return value


def _string(entry, key, path, where, required=False):
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise InputError(f"{path}: {where}.{key} is {_kind(value)}; it must be a non-empty string")
    return value


def _non_negative(value, path, where):
    if not _is_number(value) or value < 0:
        raise InputError(f"{path}: {where} is {_kind(value)}; it must be a finite number >= 0")
    return value


def _repetition(value, path, where):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REPETITION:
        raise InputError(f"{path}: {where} is {_kind(value)}; it must be an integer from 0 to {MAX_REPETITION}")
    return value


def check_entry(entry, path, where, judged, gpcbench_record):
    """One benchmarks[] element of run_type iteration (aggregates are not checked: not read)."""
    _string(entry, "name", path, where, required=True)
    for key in ("real_time", "cpu_time"):
        if key not in entry:
            raise InputError(f"{path}: {where} lacks {key}; every Google Benchmark entry has name, real_time "
                             f"and cpu_time")
        _non_negative(entry[key], path, f"{where}.{key}")
    unit = entry.get("time_unit", "ns")
    if unit not in TIME_UNITS:
        raise InputError(f"{path}: {where}.time_unit is {_kind(unit)}; it must be one of {', '.join(TIME_UNITS)}")
    _repetition(entry.get("repetition_index"), path, f"{where}.repetition_index")
    _string(entry, "label", path, where)
    for key in sorted(set(judged) | set(COUNTED)):
        if key in entry:
            _non_negative(entry[key], path, f"{where}.{key}")
    if gpcbench_record:
        missing = [k for k in GPCBENCH_REQUIRED if k not in entry]
        if missing:
            raise InputError(f"{path}: {where} (a gpcbench record: its file has context.run) lacks the "
                             f"counter(s) {', '.join(missing)} that every gpcbench run writes; the file is "
                             f"damaged or not from gpcbench: rerun it")


def check_histograms(context, path):
    hists = _object(context.get("gpcbench_histograms"), path, "context.gpcbench_histograms", optional=True)
    for key, per_name in hists.items():
        where = f"context.gpcbench_histograms.{key}"
        for hname, h in _object(per_name, path, where).items():
            buckets = _object(h, path, f"{where}.{hname}").get("buckets", [])
            if not isinstance(buckets, list):
                raise InputError(f"{path}: {where}.{hname}.buckets is {_kind(buckets)}; it must be an array")
            for i, b in enumerate(buckets):
                if not (isinstance(b, list) and len(b) == 2 and all(
                        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in b)):
                    raise InputError(f"{path}: {where}.{hname}.buckets[{i}] is {_kind(b)}; a bucket is "
                                     f"[upper_ns, count], two integers >= 0")


def check_result(doc, path, judged):
    """Checks a parsed result file; returns (context, [iteration entries])."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise InputError(f"{path}: not a Google Benchmark result file (no 'benchmarks' array)")
    context = _object(doc.get("context"), path, "context", optional=True)
    for key in ("run", "calibration", "kernel"):
        if key in context:
            _object(context[key], path, f"context.{key}")
    check_histograms(context, path)
    gpcbench_record = isinstance(context.get("run"), dict)
    entries = []
    for i, entry in enumerate(doc["benchmarks"]):
        where = f"benchmarks[{i}]"
        _object(entry, path, where)
        run_type = entry.get("run_type", "iteration")
        if not isinstance(run_type, str):
            raise InputError(f"{path}: {where}.run_type is {_kind(run_type)}; it must be a string")
        if run_type != "iteration":
            continue
        check_entry(entry, path, where, judged, gpcbench_record)
        entries.append(entry)
    return context, entries


def check_failure(doc, path):
    """failures/*.json: {"status": ..., "cell": ..., "repetition": ..., "detail": ...}."""
    _object(doc, path, "the failure record")
    _string(doc, "status", path, "the failure record", required=True)
    _string(doc, "cell", path, "the failure record")
    return doc


def check_manifest(doc, path):
    """matrix.json: the fields the report prints."""
    _object(doc, path, "matrix.json")
    _string(doc, "name", path, "matrix.json")
    for key in ("duration_ns", "warmup_ns", "repetitions"):
        if key in doc:
            _non_negative(doc[key], path, f"matrix.json {key}")
    if "merged_from" in doc and not isinstance(doc["merged_from"], list):
        raise InputError(f"{path}: merged_from is {_kind(doc['merged_from'])}; it must be an array")
    return doc


def check_environment(doc, path):
    """environment.json: an object; its kernel entry, when present, an object."""
    _object(doc, path, "environment.json")
    if "kernel" in doc:
        kernel = _object(doc["kernel"], path, "environment.json kernel")
        if "preempt" in kernel:
            _object(kernel["preempt"], path, "environment.json kernel.preempt")
    return doc
