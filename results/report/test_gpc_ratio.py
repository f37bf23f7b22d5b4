"""Tests of the Answer's ratio interval (gpc_ratio.py): the exact U distribution, the coverage
it claims, and its agreement with the Mann-Whitney test the significance verdict uses."""
import itertools
import math
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_ratio as Q  # noqa: E402
import gpc_stats as S  # noqa: E402


def brute_force_u_counts(m, n):
    """U = number of (x, y) pairs with y ranked above x, over every placement of the m x ranks."""
    counts = [0] * (m * n + 1)
    for xs in itertools.combinations(range(m + n), m):
        ys = [i for i in range(m + n) if i not in xs]
        counts[sum(1 for x in xs for y in ys if y > x)] += 1
    return counts


class UDistribution(unittest.TestCase):
    def test_counts_match_enumeration(self):
        for m, n in ((1, 1), (2, 3), (3, 3), (4, 6), (5, 5), (6, 2)):
            self.assertEqual(list(Q._u_counts(m, n)), brute_force_u_counts(m, n), (m, n))

    def test_rank_and_coverage_for_five_runs_each(self):
        # P(U <= 0) = 1/252, P(U <= 2) = 4/252 for 5 vs 5.
        self.assertEqual(Q.shift_rank(5, 5, 0.99), (1, 1 - 2 / 252))
        self.assertEqual(Q.shift_rank(5, 5, 0.95), (3, 1 - 8 / 252))

    def test_too_few_runs_give_the_widest_interval_with_its_true_coverage(self):
        k, coverage = Q.shift_rank(3, 3, 0.99)
        self.assertEqual(k, 1)
        self.assertAlmostEqual(coverage, 0.9)

    def test_normal_approximation_is_close_to_exact_where_they_meet(self):
        m = n = 60
        exact = Q._lower_tail(m, n, 1500)
        saved, Q.EXACT_LIMIT = Q.EXACT_LIMIT, 0
        try:
            approx = Q._lower_tail(m, n, 1500)
        finally:
            Q.EXACT_LIMIT = saved
        self.assertAlmostEqual(exact, approx, delta=0.005)


class RatioInterval(unittest.TestCase):
    def test_interval_excludes_one_exactly_when_the_test_rejects(self):
        rng = random.Random(7)
        for trial in range(300):
            m, n = rng.choice(((5, 5), (6, 4), (7, 7), (5, 8), (3, 3)))
            factor = rng.choice((1.0, 1.1, 1.5, 2.0))
            base = [rng.lognormvariate(0, 0.2) for _ in range(m)]
            other = [factor * rng.lognormvariate(0, 0.2) for _ in range(n)]
            for alpha in (0.01, 0.05):
                lo, hi, coverage = Q.ratio_interval(base, other, 1 - alpha)
                if S.min_two_sided_p(m, n) < alpha:
                    self.assertGreaterEqual(coverage, 1 - alpha)
                # The interval's level is 1 - coverage (alpha itself when reachable).
                excludes = hi < 1 or lo > 1
                self.assertEqual(excludes, S.mann_whitney_p(other, base) <= 1 - coverage + 1e-12,
                                 (trial, alpha, base, other))

    def test_coverage_of_a_known_factor_is_what_it_claims(self):
        rng = random.Random(11)
        hits, trials = 0, 3000
        _, claimed = Q.shift_rank(5, 5, 0.95)
        for _ in range(trials):
            base = [rng.lognormvariate(0, 0.3) for _ in range(5)]
            other = [1.7 * rng.lognormvariate(0, 0.3) for _ in range(5)]
            lo, hi, _ = Q.ratio_interval(base, other, 0.95)
            hits += lo <= 1.7 <= hi
        se = math.sqrt(claimed * (1 - claimed) / trials)
        self.assertAlmostEqual(hits / trials, claimed, delta=4 * se)

    def test_scaled_copy_is_inside_the_interval(self):
        base = [100, 120, 90, 110, 105]
        other = [2 * x for x in base]
        lo, hi, _ = Q.ratio_interval(base, other, 0.99)
        self.assertLess(lo, 2.0)
        self.assertGreater(hi, 2.0)

    def test_non_positive_values_have_no_interval(self):
        self.assertIsNone(Q.ratio_interval([0, 1, 2], [1, 2, 3], 0.99))
        self.assertIsNone(Q.ratio_interval([], [1, 2, 3], 0.99))


if __name__ == "__main__":
    unittest.main()
