#!/usr/bin/python3
"""The shape of `gpcbench run` results, before and after a refactor (issue 13).

For each case below it runs `gpcbench run ...`, and reduces the result to its shape: the
exit code (the verdict), the record name and label, the names of the record's fields and
counters and of its histograms, the top-level context keys and every key under
context.run (nested objects flattened, "pinning.vcpus"). Values are not compared: they are
measurements.

  result_keys.py generate GPCBENCH DIR   writes DIR/<case>.keys.json for every case that
                                         runs here (the goldens, from the old binary)
  result_keys.py check GPCBENCH DIR CASE runs one case with GPCBENCH and compares it with
                                         DIR/<case>.keys.json; exit 0 same, 1 different,
                                         77 skipped (the reason is printed)
  result_keys.py cases                   lists the case names

Counters whose presence depends on the machine, not on the code, are left out of the
comparison (MACHINE_DEPENDENT); `kvm_<stat>` counters come from the running kernel's
binary-stats list, so only whether there are any is compared.
"""
import json
import os
import subprocess
import sys
import tempfile

# name -> (arguments after `gpcbench run`, needs a usable /dev/kvm)
CASES = {
    "cache-host": (["cache", "--reader", "host"], False),
    "cache-host-end-corunner": (
        ["cache", "--reader", "host", "--hook", "end", "--co-runner"],
        False),
    "cache-host-two-invalidators": (
        ["cache", "--reader", "host", "--invalidator", "mremap,zap", "--target", "neighbour", "--rate", "2000",
         "--overcommit", "--strategy", "haltpoll", "--check", "lockless"], False),
    "cache-host-bug": (["cache", "--reader", "host", "--bug", "inner-continue"], False),
    "cache-usage-error": (["cache", "--reader", "host", "--strategy", "sometimes"], False),
    "cache-host-alone": (
        ["cache", "--reader", "host", "--placement", "alone", "--rate", "1000", "--hold", "10us"], False),
    "pvclock-usage-error": (["pvclock", "--rate=-5", "--invalidator", "mremap"], False),
    "xen-evtchn-usage-error": (["xen-evtchn", "--range-size", "40000", "--invalidator", "mremap"], False),
    "pvclock": (["pvclock", "--vcpus", "2"], True),
    "pvclock-invalidator": (["pvclock", "--invalidator", "mremap", "--rate", "1000"], True),
    "xen-evtchn": (["xen-evtchn", "--vcpus", "2"], True),
    "xen-evtchn-invalidator": (["xen-evtchn", "--invalidator", "mremap", "--rate", "1000"], True),
}
DURATION = "300ms"
TIMEOUT_S = 120  # a 300 ms run plus setup; generous for a loaded 2-core machine

# Present only where perf_event counts them (harness/perf): not a property of the code.
MACHINE_DEPENDENT = {"thread_cycles_per_op", "context_switches_per_op", "thread_task_clock_ns_per_op"}
# Present only when the run had waits of that kind (issue 14's collided/uncollided split): a
# 300 ms run may have none of one side. Not a property of the code either.
MACHINE_DEPENDENT |= {"collided_p50_ns", "collided_p99_ns", "cpu_ns_per_collision", "uncollided_p50_ns",
                      "uncollided_p99_ns", "corunner_progress_during_waits"}
SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE


def flatten(obj, prefix=""):
    keys = []
    for k, v in obj.items():
        keys.append(prefix + k)
        if isinstance(v, dict):
            keys.extend(flatten(v, prefix + k + "."))
    return keys


def record_shape(entry, histograms):
    fields = set()
    kvm_stats = False
    for k in entry:
        if k in MACHINE_DEPENDENT:
            continue
        if k.startswith("kvm_"):
            kvm_stats = True
            continue
        fields.add(k)
    instance = "{}#{}".format(entry["name"], entry.get("repetition_index", 0))
    return {"name": entry["name"], "label": entry.get("label", ""), "fields": sorted(fields),
            "kvm_stat_counters": kvm_stats, "histograms": sorted(histograms.get(instance, {}).keys())}


def run_case(binary, name):
    args, _ = CASES[name]
    with tempfile.TemporaryDirectory(prefix="gpc-result-keys-") as tmp:
        path = os.path.join(tmp, "result.json")
        cmd = [binary, "run"] + args + ["--duration", DURATION, "--quiet", "--json", path]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        shape = {"case": name, "args": args, "exit_code": proc.returncode}
        if os.path.exists(path):
            with open(path) as f:
                result = json.load(f)
            context = result["context"]
            histograms = context.get("gpcbench_histograms", {})
            shape["context_keys"] = sorted(context.keys())
            shape["run_keys"] = sorted(flatten(context.get("run", {})))
            shape["records"] = [record_shape(b, histograms) for b in result["benchmarks"]]
        last_line = (proc.stderr.strip().splitlines() or [""])[-1]
        return shape, last_line


def cannot_run(exit_code, last_line):
    # UnavailableError (exit 2): the machine lacks something, e.g. /dev/kvm or Xen emulation.
    return exit_code == 2 and "cannot run" in last_line


def generate(binary, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, (_, needs_kvm) in CASES.items():
        shape, last_line = run_case(binary, name)
        if needs_kvm and cannot_run(shape["exit_code"], last_line):
            print("{}: not generated, it cannot run here: {}".format(name, last_line))
            continue
        with open(os.path.join(out_dir, name + ".keys.json"), "w") as f:
            json.dump(shape, f, indent=1, sort_keys=True)
            f.write("\n")
        print("{}: exit {}".format(name, shape["exit_code"]))
    return 0


def differences(want, got):
    out = []
    for key in ("exit_code", "context_keys", "run_keys"):
        if want.get(key) != got.get(key):
            w, g = want.get(key), got.get(key)
            if isinstance(w, list) and isinstance(g, list):
                out.append("{}: missing {} extra {}".format(key, sorted(set(w) - set(g)), sorted(set(g) - set(w))))
            else:
                out.append("{}: golden {} now {}".format(key, w, g))
    want_records, got_records = want.get("records", []), got.get("records", [])
    if len(want_records) != len(got_records):
        out.append("records: golden {} now {}".format(len(want_records), len(got_records)))
    for w, g in zip(want_records, got_records):
        for key in ("name", "label", "kvm_stat_counters", "histograms"):
            if w[key] != g[key]:
                out.append("record {}: golden {!r} now {!r}".format(key, w[key], g[key]))
        if w["fields"] != g["fields"]:
            out.append("record fields/counters: missing {} extra {}".format(
                sorted(set(w["fields"]) - set(g["fields"])), sorted(set(g["fields"]) - set(w["fields"]))))
    return out


def check(binary, golden_dir, name):
    golden = os.path.join(golden_dir, name + ".keys.json")
    shape, last_line = run_case(binary, name)
    if not os.path.exists(golden):
        if cannot_run(shape["exit_code"], last_line):
            print("SKIP {}: cannot run here ({}); its golden needs a machine where it runs".format(name, last_line))
        else:
            print("SKIP {}: no golden {} (the old binary could not run it where the goldens were made); "
                  "see {}/README.md to make one".format(name, golden, golden_dir))
        return SKIP_EXIT
    with open(golden) as f:
        want = json.load(f)
    diff = differences(want, shape)
    if diff:
        print("{}: the result's shape changed against {}:".format(name, golden))
        for line in diff:
            print("  " + line)
        print("  (last stderr line: {})".format(last_line))
        return 1
    print("{}: same exit code ({}), record names, labels, counters and context keys".format(name, shape["exit_code"]))
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "cases":
        print("\n".join(CASES))
        return 0
    if len(argv) == 4 and argv[1] == "generate":
        return generate(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "check" and argv[4] in CASES:
        return check(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
