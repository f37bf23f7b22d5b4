"""Tests of the synthetic matrix generator (gpc_synth.py): its files must be what the matrix
writes, or the Answer's tests would test a fiction."""
import json
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_results as R  # noqa: E402
import gpc_synth as G  # noqa: E402

# The issue 14 counters every run of a placement cell carries (docs/matrix-format.md).
CONTRACT = ("collided_refreshes", "uncollided_refreshes", "collided_p50_ns", "collided_p99_ns",
            "uncollided_p50_ns", "uncollided_p99_ns", "cpu_ns_per_collision", "starved_refreshes",
            "waiter_runqueue_wait_share", "waiter_nonvoluntary_switches_per_s", "placement_held",
            "p50_ns", "p99_ns", "violations", "unsafe_violations")


def c_bucket_high(v):
    """harness/common/loglinear.h, gpc_ll_bucket_high(gpc_ll_bucket(v)), line by line."""
    sub_count = 1 << G.SUB_BITS
    if v < sub_count:
        return v
    shift = v.bit_length() - 1 - G.SUB_BITS
    idx = (shift + 1) * sub_count + ((v >> shift) - sub_count)
    shift = idx // sub_count - 1
    low = (sub_count + idx % sub_count) << shift
    return low + (1 << shift) - 1


class Buckets(unittest.TestCase):
    def test_bucket_bounds_match_the_c_layout(self):
        rng = random.Random(3)
        values = list(range(0, 70)) + [2 ** k + d for k in range(5, 40) for d in (-1, 0, 1)]
        values += [rng.randrange(1, 10 ** 10) for _ in range(500)]
        self.assertEqual(list(G.bucket_high(values)), [c_bucket_high(v) for v in values])

    def test_quantile_takes_the_bucket_of_the_ceil_rank(self):
        h = G.Histogram([10, 20, 30, 40, 1000])
        self.assertEqual(h.quantile(0.5), 30.0)
        self.assertEqual(h.quantile(0.99), 1000.0)  # clamped to the max, as histogram.cpp does
        self.assertEqual(h.quantile(0.0), 10.0)


class Matrix(unittest.TestCase):
    def write(self, root):
        specs = [G.CellSpec(G.cache_params("busy", "alone", "0"), reps=3, corunner=1.0),
                 G.CellSpec(G.cache_params("block", "shared", "1ms"), reps=4, corunner=0.9, starved=(0, 2)),
                 G.CellSpec({"strategy": "busy", "hook": "start", "co-runner": "on"}, reps=2, corunner=0.5)]
        G.write_matrix(root, specs)
        return specs

    def test_loads_as_a_matrix_with_the_contract_counters(self):
        with tempfile.TemporaryDirectory() as d:
            specs = self.write(d)
            ds = R.load(d)
            cells = ds.cells()
            self.assertEqual({c: len(s) for c, s in cells.items()}, {s.name: s.reps for s in specs})
            shared = cells[specs[1].name]
            self.assertEqual(shared[0].params["placement"], "shared")
            for s in cells[specs[0].name] + shared:
                for counter in CONTRACT:
                    self.assertIn(counter, s.metrics, counter)
                self.assertEqual(set(s.histograms), {"latency", "latency_collided", "latency_uncollided"})
            self.assertNotIn("corunner_progress_during_waits", cells[specs[0].name][0].metrics)  # alone
            self.assertIn("corunner_progress_during_waits", shared[0].metrics)
            self.assertEqual([s.metrics["starved_refreshes"] for s in shared], [0, 2, 0, 0])
            legacy = cells[specs[2].name][0]
            self.assertNotIn("placement", legacy.params)
            self.assertNotIn("placement_held", legacy.metrics)
            self.assertTrue(ds.environment.get("synthetic"))

    def test_counters_are_the_histograms_percentiles(self):
        with tempfile.TemporaryDirectory() as d:
            specs = self.write(d)
            path = os.path.join(d, "runs", f"{specs[1].slug}.rep1.json")
            with open(path) as f:
                doc = json.load(f)
            bench = doc["benchmarks"][0]
            h = doc["context"]["gpcbench_histograms"][f"{specs[1].name}#1"]["latency_collided"]
            values = sorted(v for upper, n in h["buckets"] for v in [upper] * n)
            median_bucket = values[(len(values) + 1) // 2 - 1]  # the ceil(0.5 * count)-th value
            self.assertEqual(bench["collided_p50_ns"], float(min(max(median_bucket, h["min"]), h["max"])))
            self.assertEqual(bench["collided_refreshes"], h["count"])

    def test_manifest_lists_every_cell_and_run(self):
        with tempfile.TemporaryDirectory() as d:
            specs = self.write(d)
            with open(os.path.join(d, "matrix.json")) as f:
                m = json.load(f)
            self.assertEqual([c["id"] for c in m["cells"]], [s.name for s in specs])
            self.assertEqual(len(m["order"]), sum(s.reps for s in specs))
            self.assertEqual(m["cells"][0]["args"][:3], ["cache", "--strategy", "busy"])

    def test_same_specs_give_the_same_files(self):
        with tempfile.TemporaryDirectory() as d:
            self.write(d + "/a")
            self.write(d + "/b")
            for name in os.listdir(d + "/a/runs"):
                with open(os.path.join(d, "a/runs", name)) as fa, open(os.path.join(d, "b/runs", name)) as fb:
                    self.assertEqual(fa.read(), fb.read(), name)


if __name__ == "__main__":
    unittest.main()
