"""`compare` treats a rise in starved refreshes (the livelock) as a regression (issue 14),
by its own rule (gpc_starvation.py), and does not flag equal starvation."""
import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_compare as C  # noqa: E402
import gpc_results as R  # noqa: E402
import gpc_synth as G  # noqa: E402

STORM = G.cache_params("busy", "alone", "0", rate="0")
QUIET = G.cache_params("block", "alone", "0")


class Starvation(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def matrix(self, name, storm_starved, reps=5):
        root = os.path.join(self.tmp.name, name)
        G.write_matrix(root, [G.CellSpec(STORM, reps=reps, starved=storm_starved), G.CellSpec(QUIET, reps=reps)])
        return root

    def compare(self, base, new):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = C.main([base, new])
        return code, out.getvalue()

    def test_a_rise_in_starvation_is_a_regression(self):
        code, out = self.compare(self.matrix("a", (0, 0, 0, 0, 0)), self.matrix("b", (0, 1, 0, 0, 0)))
        self.assertEqual(code, 1, out)
        name = G.CellSpec(STORM).name
        self.assertIn(f"| `{name}` | 0 / 5 | 1 / 5 | **regression** |", out)
        self.assertIn("Starvation: 1 cell(s) starve more in NEW", out)
        self.assertIn("Rule: starvation: a cell whose starved refreshes per run (total / runs) rose", out)
        self.assertNotIn(G.CellSpec(QUIET).name, out)

    def test_equal_starvation_is_not_flagged(self):
        code, out = self.compare(self.matrix("a", (0, 2, 0, 1, 0)), self.matrix("b", (1, 0, 0, 0, 2)))
        self.assertEqual(code, 0, out)
        self.assertIn("| 3 / 5 | 3 / 5 | unchanged |", out)

    def test_less_starvation_and_the_same_rate_over_more_runs_pass(self):
        code, out = self.compare(self.matrix("a", (0, 2, 0, 1, 0)), self.matrix("b", (0, 1, 0, 0, 0)))
        self.assertEqual(code, 0, out)
        self.assertIn("| lower |", out)
        code, out = self.compare(self.matrix("c", (0, 1, 0, 0, 0)), self.matrix("d", (0, 1, 0, 0, 0, 1, 0, 0, 0, 0),
                                                                               reps=10))
        self.assertEqual(code, 0, out)  # 1 per 5 runs both times

    def test_junit_names_the_starved_cell(self):
        base, new = self.matrix("a", (0, 0, 0, 0, 0)), self.matrix("b", (0, 0, 0, 3, 0))
        junit = os.path.join(self.tmp.name, "j.xml")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(C.main([base, new, "--junit", junit]), 1)
        with open(junit) as f:
            self.assertIn("starved refreshes rose: 0 in 5 runs -&gt; 3 in 5 runs", f.read())


class Directions(unittest.TestCase):
    def test_collided_metrics_are_judged_and_starvation_only_by_its_own_rule(self):
        self.assertEqual(R.direction("collided_p50_ns"), R.LOWER)
        self.assertEqual(R.direction("cpu_ns_per_collision"), R.LOWER)
        self.assertEqual(R.direction("corunner_progress_during_waits"), R.HIGHER)
        self.assertEqual(R.direction("starved_refreshes"), R.INFO)  # never twice: not by Mann-Whitney too
        self.assertEqual(R.direction("waiter_runqueue_wait_share"), R.INFO)


if __name__ == "__main__":
    unittest.main()
