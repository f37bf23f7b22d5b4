"""Tests of the Answer's rule (gpc_judge.py) on hand-made runs, where every value is chosen:
the 10% gain and cost margins, significance, and the cells that are never ranked."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_judge as J  # noqa: E402
import gpc_results as R  # noqa: E402

BUSY = [100, 104, 108, 112, 116]  # one value per run; median 108


def scaled(factor, values=BUSY):
    return [factor * v for v in values]


def runs(strategy, p50, p99=None, cpu=None, corunner=None, placement="alone", hook="start", **per_run):
    """Samples of one cell: per-metric lists of one value per run; per_run adds other counters."""
    name = f"cache/strategy:{strategy}/hook:{hook}/rate:1000/hold:0/placement:{placement}"
    metrics = {"collided_p50_ns": p50, "collided_p99_ns": p99 or scaled(3, p50),
               "cpu_ns_per_collision": cpu or BUSY}
    if corunner is not None:
        metrics["corunner_progress_during_waits"] = corunner
    metrics.update(per_run)
    n = len(p50)
    return [R.Sample(name, k, {m: float(v[k]) for m, v in metrics.items() if k < len(v)}, {}, {}, "mem")
            for k in range(n)]


def verdict(other, base=None):
    base = base if base is not None else runs("busy", BUSY)
    return J.judge(other[0].params["strategy"], (("placement", other[0].params["placement"]),), base, other)


class Gain(unittest.TestCase):
    def test_separated_and_ten_percent_faster_is_meaningful_value(self):
        j = verdict(runs("block", scaled(0.80)))
        self.assertEqual(j.category, J.MEANINGFUL)
        self.assertEqual(j.gains, ["collided_p50_ns", "collided_p99_ns"])

    def test_exactly_ten_percent_counts_and_nine_does_not(self):
        tight = [100, 101, 102, 103, 104]  # 0.91x of it is still separated from it
        base = runs("busy", tight)
        self.assertEqual(verdict(runs("block", scaled(0.90, tight), p99=scaled(3, tight)), base).category,
                         J.MEANINGFUL)
        self.assertEqual(verdict(runs("block", scaled(0.91, tight), p99=scaled(3, tight)), base).category,
                         J.NEITHER)

    def test_a_large_gain_that_overlaps_busy_is_not_significant(self):
        overlap = [60, 70, 80, 105, 200]  # median 80 = 0.74x, but not separated: p > 0.01
        j = verdict(runs("block", overlap, p99=scaled(3)))
        self.assertFalse(j.comparisons["collided_p50_ns"].significant)
        self.assertEqual(j.category, J.NEITHER)

    def test_a_tail_gain_alone_is_enough(self):
        j = verdict(runs("spin", BUSY, p99=scaled(3 * 0.7)))
        self.assertEqual((j.category, j.gains), (J.MEANINGFUL, ["collided_p99_ns"]))


class Cost(unittest.TestCase):
    def test_cpu_more_than_ten_percent_higher_takes_the_value_away_even_when_not_significant(self):
        cpu = [100, 125, 124.2, 150, 160]  # median 124.2 = 1.15x busy's 108; overlaps: not significant
        j = verdict(runs("spin", scaled(0.7), cpu=cpu))
        self.assertFalse(j.comparisons["cpu_ns_per_collision"].significant)
        self.assertEqual(j.category, J.NEITHER)

    def test_ten_percent_more_cpu_is_still_allowed(self):
        self.assertEqual(verdict(runs("spin", scaled(0.7), cpu=scaled(1.10))).category, J.MEANINGFUL)

    def test_significantly_less_corunner_progress_is_a_loss(self):
        base = runs("busy", BUSY, corunner=[0.50, 0.51, 0.52, 0.53, 0.54], placement="shared")
        other = runs("spin", scaled(0.7), corunner=[0.05, 0.06, 0.07, 0.08, 0.09], placement="shared")
        j = verdict(other, base)
        self.assertEqual((j.category, j.losses), (J.LOSES, ["corunner_progress_during_waits"]))

    def test_a_slower_tail_is_a_loss_even_with_a_faster_median(self):
        j = verdict(runs("block", scaled(0.7), p99=scaled(3 * 1.5)))
        self.assertEqual((j.category, j.losses), (J.LOSES, ["collided_p99_ns"]))


class NeverRanked(unittest.TestCase):
    def test_too_few_runs_are_not_ranked_even_when_separated(self):
        j = verdict(runs("block", scaled(0.5, BUSY[:4])), runs("busy", BUSY[:4]))
        self.assertEqual(j.category, J.NOT_RANKED)
        self.assertIn("too few repetitions (4 vs 4 runs; p < 0.01 needs 5 on each side)", j.reason)
        self.assertEqual(verdict(runs("block", scaled(0.5, BUSY + [120, 124])), runs("busy", BUSY[:4])).category,
                         J.MEANINGFUL)  # 7 vs 4 can reach p < 0.01

    def test_starved_strategy_and_starved_busy(self):
        j = verdict(runs("block", scaled(0.5), starved_refreshes=[0, 0, 1, 0, 0]))
        self.assertEqual((j.category, j.reason), (J.NOT_RANKED, "starved (livelock)"))
        j = verdict(runs("block", scaled(0.5)), runs("busy", BUSY, starved_refreshes=[0, 3, 0, 0, 0]))
        self.assertEqual((j.category, j.reason), (J.NOT_RANKED, "busy starved (livelock) here"))

    def test_unsafe_by_design_by_hook_or_by_violations(self):
        j = verdict(runs("block", scaled(0.5), hook="end"), runs("busy", BUSY, hook="end"))
        self.assertEqual((j.category, j.reason), (J.NOT_RANKED, "unsafe by design"))
        j = verdict(runs("block", scaled(0.5), unsafe_violations=[0, 2, 0, 0, 0]))
        self.assertEqual(j.reason, "unsafe by design")

    def test_shared_without_corunner_during_waits_cannot_be_judged(self):
        j = verdict(runs("block", scaled(0.5), placement="shared"), runs("busy", BUSY, placement="shared"))
        self.assertEqual(j.reason, "not recorded: co-runner progress during waits")

    def test_no_baseline(self):
        j = J.judge("block", (("placement", "alone"),), None, runs("block", BUSY))
        self.assertEqual(j.reason, "no busy cell to compare with")


class RunValues(unittest.TestCase):
    def test_runs_without_a_collision_have_no_collided_latency(self):
        samples = runs("busy", BUSY, collided_refreshes=[5, 0, 5, 5, 5])
        self.assertEqual(J.run_values(samples, "collided_p50_ns"), [100, 108, 112, 116])
        self.assertEqual(len(J.run_values(samples, "cpu_ns_per_collision")), 5)

    def test_runs_whose_placement_failed_are_counted(self):
        j = verdict(runs("block", scaled(0.8), placement_held=[1, 0, 1, 1, 1]))
        self.assertEqual(j.placement_not_held, 1)


if __name__ == "__main__":
    unittest.main()
