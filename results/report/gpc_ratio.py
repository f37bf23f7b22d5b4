"""How much one cell differs from another, as a ratio with a distribution-free interval.

The Answer section compares each strategy with busy (upstream) per condition. The unit is the
run: one value per repetition of a cell (docs/methodology.md, "The Answer's statistics").

The interval is the Hodges-Lehmann / Moses interval of a location shift, taken on log values
so that a shift is a ratio: with x the busy runs and y the strategy's runs, the m*n pairwise
log ratios log(y_j) - log(x_i), sorted, give [D_(k), D_(mn+1-k)], where k comes from the exact
null distribution of the Mann-Whitney U statistic (Bauer 1972, "Constructing confidence sets
using rank statistics", JASA 67:687; Hollander & Wolfe, Nonparametric Statistical Methods,
chapter 4). It assumes no distribution, only that the strategy scales busy's run-to-run
distribution by a factor. At confidence 1 - alpha it excludes 1 exactly when the two-sided
exact Mann-Whitney test rejects at alpha (for data without ties), so the interval and the
significance verdict never disagree.
"""
import functools
import math

from scipy import stats

EXACT_LIMIT = 200  # m + n up to this: exact U distribution (a polynomial of degree m*n)


@functools.lru_cache(maxsize=64)
def _u_counts(m, n):
    """Number of the C(m+n, m) rank arrangements giving U = 0..m*n: the coefficients of the
    Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)."""
    poly = [1] + [0] * (m * n)
    degree = 0
    for i in range(1, m + 1):
        shift = n + i
        degree += n
        for d in range(degree, shift - 1, -1):  # multiply by (1 - q^(n+i))
            poly[d] -= poly[d - shift]
        for d in range(i, degree + 1):  # divide by (1 - q^i): exact, a running sum with stride i
            poly[d] += poly[d - i]
    return tuple(poly)


def _lower_tail(m, n, u):
    """P(U <= u) under the null hypothesis, exact for small samples, else normal."""
    if u < 0:
        return 0.0
    if m + n <= EXACT_LIMIT:
        counts = _u_counts(m, n)
        return sum(counts[: u + 1]) / math.comb(m + n, m)
    mean, sd = m * n / 2.0, math.sqrt(m * n * (m + n + 1) / 12.0)
    return float(stats.norm.cdf((u + 0.5 - mean) / sd))


def shift_rank(m, n, confidence):
    """(k, coverage): the largest k whose interval [D_(k), D_(mn+1-k)] has exact coverage
    1 - 2 P(U <= k-1) >= confidence. When even k = 1 (all pairwise ratios) falls short, k = 1
    with its true coverage, never a falsely labelled interval (as gpc_stats.median_ci does)."""
    best_k, best_cov = 1, 1.0 - 2.0 * _lower_tail(m, n, 0)
    for k in range(2, m * n // 2 + 1):
        coverage = 1.0 - 2.0 * _lower_tail(m, n, k - 1)
        if coverage < confidence:
            break
        best_k, best_cov = k, coverage
    return best_k, best_cov


def ratio_interval(base, other, confidence):
    """(low, high, coverage) for the factor by which `other` scales `base`, or None when a
    value is not positive (a ratio of logs needs positive values) or a side is empty."""
    if not base or not other or min(base) <= 0 or min(other) <= 0:
        return None
    diffs = sorted(math.log(y) - math.log(x) for x in base for y in other)
    k, coverage = shift_rank(len(base), len(other), confidence)
    return math.exp(diffs[k - 1]), math.exp(diffs[len(diffs) - k]), coverage

