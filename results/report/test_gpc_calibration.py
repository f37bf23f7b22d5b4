"""Tests of the calibration report (gpc_calibration.py) on recorded result files: synthetic
but written in the schema `gpcbench run --json` writes (context.run as each scenario records
it, counters flattened into the benchmark entry). Run by CTest (labels trace and matrix)."""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_calibration as C  # noqa: E402
import gpc_results as R  # noqa: E402


def pvclock_file(path, p50, p99, rep, stream=("mremap", "cache", 0.0, 0), kprobe=None, calibration=True):
    inv, target, rate, hold = stream
    counters = {"p50_ns": p50, "p99_ns": p99, "violations": 0, "inval_ops": 1000, "inval_p50_ns": 3000.0,
                "ktrace_unmap_hva_range": 1000, "ktrace_invalidations_per_op": 1.0}
    if kprobe:
        counters.update({"ktrace_refresh_p50_ns": kprobe[0], "ktrace_refresh_p99_ns": kprobe[1],
                         "ktrace_resolves_per_refresh": kprobe[2]})
    context = {"run": {"scenario": "pvclock", "invalidators": inv.split(","), "target": target, "rate_hz": rate,
                       "hold_ns": hold, "vcpus": 1}}
    if calibration:
        context["calibration"] = {"side": "kernel", "stream": {"invalidator": inv, "target": target,
                                                               "rate_hz": rate, "hold_ns": hold}}
    _write(path, context, f"pvclock/vcpus:1/invalidator:{inv}/target:{target}", rep, counters)


def cache_file(path, p50, p99, rep, stream=("mremap", "cache", 0.0, 0), strategy="busy", rate_text=None,
               hold_text=None, retries=0.5, resolves=1.5):
    inv, target, rate, hold = stream
    counters = {"p50_ns": p50, "p99_ns": p99, "violations": 0, "retries_per_op": retries,
                "hva_to_pfn_per_op": resolves, "inval_p50_ns": 3500.0}
    run = {"scenario": "cache", "strategy": strategy, "hook": "start", "filter": "global", "check": "rwlock",
           "invalidator": inv, "target": target, "rate": rate_text or f"{rate:g}",
           "hold": hold_text or f"{hold}ns", "writers": 1, "bug": "none"}
    _write(path, {"run": run}, f"cache/strategy:{strategy}/hook:start/filter:global/check:rwlock/"
                               f"invalidator:{inv}/target:{target}", rep, counters)


def _write(path, context, name, rep, counters):
    bench = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
             "repetition_index": rep, "threads": 1, "iterations": 100, "real_time": counters["p50_ns"],
             "cpu_time": counters["p50_ns"], "time_unit": "ns", **counters}
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"context": context, "benchmarks": [bench]}, f)


class Calibration(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def load(self):
        return R.load(self.dir).samples

    def five_each(self, model_p50=(11, 12, 13, 14, 15), kernel_p50=(9, 10, 10, 11, 12), **kw):
        for i, (m, k) in enumerate(zip(model_p50, kernel_p50)):
            cache_file(os.path.join(self.dir, f"model{i}.json"), m * 1000.0, m * 10000.0, i)
            pvclock_file(os.path.join(self.dir, f"kernel{i}.json"), k * 1000.0, k * 20000.0, i, **kw)

    def test_ratio_of_medians_with_its_interval_and_the_fidelity_line(self):
        self.five_each()
        [e] = C.calibrate(self.load())
        self.assertAlmostEqual(e["p50"]["ratio"], 13 / 10)
        self.assertAlmostEqual(e["p50"]["lo"], 11 / 12)  # model's low over kernel's high
        self.assertAlmostEqual(e["p50"]["hi"], 15 / 9)
        self.assertAlmostEqual(e["p50"]["coverage"], 0.9375 ** 2)
        self.assertAlmostEqual(e["p99"]["ratio"], 130 / 200)
        line = C.fidelity_line(e)
        self.assertIn("the model's busy is within 30% of the kernel's at p50 on this machine", line)
        self.assertIn("guest-observed", line)  # no kprobe figures: says what the kernel side is

    def test_the_kernels_kprobe_latency_is_preferred_where_every_run_has_it(self):
        self.five_each(kprobe=(5000.0, 9000.0, 2.0))
        [e] = C.calibrate(self.load())
        self.assertAlmostEqual(e["p50"]["ratio"], 13 / 5)
        self.assertIn("kprobe", e["kernel_what"])
        self.assertEqual(e["per_refresh"]["resolves"], (1.5, 2.0))
        self.assertEqual(e["per_refresh"]["retries"], (0.5, None))  # the kernel does not count retries

    def test_a_model_below_the_kernel_is_a_gap_too(self):
        self.five_each(model_p50=(5, 5, 5, 5, 5), kernel_p50=(10, 10, 10, 10, 10))
        self.assertIn("within 50%", C.fidelity_line(C.calibrate(self.load())[0]))

    def test_streams_pair_only_with_the_same_stream_and_policy(self):
        self.five_each()
        # Another rate on the model side, and a block-strategy run on the same stream: neither pairs.
        cache_file(os.path.join(self.dir, "other_rate.json"), 1e9, 1e9, 0, stream=("mremap", "cache", 2000.0, 0),
                   rate_text="2k")
        cache_file(os.path.join(self.dir, "block.json"), 1e9, 1e9, 0, strategy="block")
        [e] = C.calibrate(self.load())
        self.assertEqual(e["model_runs"], 5)
        self.assertAlmostEqual(e["p50"]["ratio"], 1.3)

    def test_streams_are_read_from_context_run_without_the_calibration_stamp(self):
        for i in range(3):
            pvclock_file(os.path.join(self.dir, f"k{i}.json"), 10000.0, 1e5, i,
                         stream=("zap", "cache", 2000.0, 50000), calibration=False)
            cache_file(os.path.join(self.dir, f"m{i}.json"), 20000.0, 1e5, i, stream=("zap", "cache", 2000.0, 50000),
                       rate_text="2k", hold_text="50us")
        [e] = C.calibrate(self.load())
        self.assertEqual(e["stream"], ("zap", "cache", 2000.0, 50000))
        self.assertAlmostEqual(e["p50"]["ratio"], 2.0)

    def test_kernel_runs_without_a_model_match_say_so(self):
        pvclock_file(os.path.join(self.dir, "k.json"), 10000.0, 1e5, 0)
        lines = C.fidelity_lines(self.load())
        self.assertEqual(len(lines), 1)
        self.assertIn("no matching layer-E run", lines[0])

    def test_without_layer_k_runs_the_line_says_it_needs_kvm(self):
        cache_file(os.path.join(self.dir, "m.json"), 10000.0, 1e5, 0)
        self.assertEqual(C.fidelity_lines(self.load()), [f"Model fidelity: {C.NEEDS_KVM}."])
        self.assertIn("/dev/kvm", C.NEEDS_KVM)

    def test_report_section_always_carries_a_fidelity_line(self):
        class Doc:
            def __init__(self):
                self.text = []

            def h(self, level, text):
                self.text.append(text)

            def p(self, text):
                self.text.append(text)

            def items(self, items):
                self.text.extend(items)

            def table(self, header, rows):
                self.text.append((header, rows))
        cache_file(os.path.join(self.dir, "m.json"), 10000.0, 1e5, 0)
        doc = Doc()
        C.report_section(doc, R.load(self.dir))
        self.assertTrue(any("needs a machine with /dev/kvm" in t for t in doc.text if isinstance(t, str)))
        os.remove(os.path.join(self.dir, "m.json"))
        self.five_each()
        doc = Doc()
        C.report_section(doc, R.load(self.dir))
        self.assertTrue(any("within 30%" in t for t in doc.text if isinstance(t, str)))
        header, rows = [t for t in doc.text if isinstance(t, tuple)][0]
        self.assertEqual(len(rows[0]), len(header))

    def test_main_prints_the_line_and_exits_2_on_unusable_input(self):
        self.five_each()
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(C.main([self.dir]), 0)
        self.assertIn("within 30%", out.getvalue())
        with redirect_stderr(io.StringIO()):
            self.assertEqual(C.main([os.path.join(self.dir, "missing")]), 2)
            self.assertEqual(C.main([]), 2)

    def test_rate_and_hold_texts(self):
        self.assertEqual(C.parse_rate("2k"), 2000.0)
        self.assertEqual(C.parse_rate("1.5M"), 1.5e6)
        self.assertEqual(C.parse_rate(0), 0.0)
        self.assertEqual(C.parse_hold_ns("50us"), 50000)
        self.assertEqual(C.parse_hold_ns("0"), 0)
        self.assertEqual(C.parse_hold_ns("1ms"), 1000000)
        self.assertEqual(C.parse_hold_ns("nonsense"), -1)


if __name__ == "__main__":
    unittest.main()
