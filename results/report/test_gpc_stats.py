"""Unit tests of the statistics and loading behind report/compare (run by CTest, label matrix)."""
import json
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scipy import stats  # noqa: E402

import gpc_compare as C  # noqa: E402
import gpc_results as R  # noqa: E402
import gpc_stats as S  # noqa: E402


class Stats(unittest.TestCase):
    def test_exact_p_matches_scipy_without_ties(self):
        for a, b in (([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), ([1, 3, 5, 7, 9, 11], [2, 4, 6, 8, 10, 13]),
                     ([3, 1, 4, 1.5, 9], [2, 6, 5, 3.5, 5.8, 9.7])):
            want = stats.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue
            self.assertAlmostEqual(S.mann_whitney_p(a, b), want, places=12)

    def test_ties_inside_samples_keep_separated_samples_significant(self):
        # Bucketed percentiles tie; complete separation of 5 vs 5 is still p = 2/252.
        self.assertAlmostEqual(S.mann_whitney_p([1, 1, 2, 2, 3], [5, 5, 6, 7, 7]), 2 / 252)
        self.assertEqual(S.mann_whitney_p([4, 4, 4], [4, 4, 4]), 1.0)

    def test_minimum_repetitions_for_p_below_001(self):
        self.assertEqual(S.repetitions_needed(0.01), 5)
        self.assertGreaterEqual(S.min_two_sided_p(4, 4), 0.01)
        self.assertLess(S.min_two_sided_p(5, 5), 0.01)

    def test_median_ci_reports_its_true_coverage(self):
        lo, hi, cov = S.median_ci([5, 1, 4, 2, 3])
        self.assertEqual((lo, hi), (1, 5))
        self.assertAlmostEqual(cov, 0.9375)
        lo, hi, cov = S.median_ci(list(range(20)))
        self.assertGreaterEqual(cov, 0.95)
        self.assertLess(hi - lo, 19)

    def test_worse_change_follows_the_better_direction(self):
        self.assertAlmostEqual(S.worse_change(100, 120, "lower"), 0.2)
        self.assertAlmostEqual(S.worse_change(100, 80, "higher"), 0.2)
        self.assertLess(S.worse_change(100, 80, "lower"), 0)
        self.assertTrue(math.isinf(S.worse_change(0, 1, "lower")))


def write_result(path, name, rep, p50, violations=0):
    doc = {"context": {"host_name": "h"}, "benchmarks": [{
        "name": name, "run_type": "iteration", "repetitions": 5, "repetition_index": rep, "iterations": 10,
        "real_time": p50, "cpu_time": 100.0, "time_unit": "ns", "p50_ns": p50, "violations": violations,
        "inval_ops": 1000.0 * (rep + 1)}]}
    with open(path, "w") as f:
        json.dump(doc, f)


class Compare(unittest.TestCase):
    def make(self, root, scale=1.0, reps=5, violation_rep=None):
        os.makedirs(os.path.join(root, "runs"))
        for cell in ("cache/strategy:block", "cache/strategy:spin"):
            for r in range(reps):
                p50 = (1000 + 10 * r) * (scale if "block" in cell else 1.0)
                write_result(os.path.join(root, "runs", f"{cell.replace('/', '.').replace(':', '-')}.rep{r}.json"), cell, r, p50,
                             1 if r == violation_rep else 0)
        return R.load(root)

    def test_doubling_is_a_regression_named_by_cell_and_metric(self):
        with tempfile.TemporaryDirectory() as d:
            v = C.compare(self.make(d + "/a"), self.make(d + "/b", scale=2), 0.10, 0.01)
            regressed = {(c, m) for c, m, *_ in v.regressions}
            self.assertIn(("cache/strategy:block", "p50_ns"), regressed)
            self.assertIn(("cache/strategy:block", "real_time"), regressed)
            self.assertFalse(any(c == "cache/strategy:spin" for c, _ in regressed))
            self.assertFalse(any(m == "inval_ops" for _, m in regressed))  # info, never a regression

    def test_small_significant_change_below_threshold_passes(self):
        with tempfile.TemporaryDirectory() as d:
            v = C.compare(self.make(d + "/a"), self.make(d + "/b", scale=1.05), 0.10, 0.01)
            self.assertEqual(v.regressions, [])

    def test_violation_and_too_few_reps(self):
        with tempfile.TemporaryDirectory() as d:
            v = C.compare(self.make(d + "/a"), self.make(d + "/b", violation_rep=2), 0.10, 0.01)
            self.assertEqual(len(v.violations), 2)
            v = C.compare(self.make(d + "/c", reps=4), self.make(d + "/e", reps=4), 0.10, 0.01)
            self.assertEqual(len(v.too_few), 2)
            self.assertEqual(C.main([d + "/c", d + "/e"]), 2)

    def test_truncated_file_is_an_input_error_naming_it(self):
        with tempfile.TemporaryDirectory() as d:
            self.make(d + "/a")
            path = os.path.join(d, "a", "runs", "cache.strategy-block.rep0.json")
            with open(path, "w") as f:
                f.write('{"benchmarks": [')
            with self.assertRaises(R.InputError) as e:
                R.load(d + "/a")
            self.assertIn("truncated", str(e.exception))
            self.assertIn(path, str(e.exception))


class Deps(unittest.TestCase):
    def test_missing_module_exits_2_naming_the_debian_package(self):
        import gpc_deps
        with self.assertRaises(SystemExit) as e:
            gpc_deps.require("gpc_no_such_module")
        self.assertEqual(e.exception.code, 2)


if __name__ == "__main__":
    unittest.main()
