"""The statistics of report and compare (docs/methodology.md).

Samples are per-repetition values of one metric of one cell (typically 5). Nothing here
assumes normality: medians with distribution-free order-statistic confidence intervals,
and the Mann-Whitney U test for differences.
"""
import itertools
import math

from scipy import stats


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def median_ci(values, confidence=0.95):
    """(low, high, coverage): the order-statistic interval [x_(j), x_(n+1-j)] for the median
    with the narrowest j whose exact binomial coverage is >= confidence. With few samples
    no interval reaches it (5 samples: [min, max] covers 93.75%); then [min, max] and its
    true coverage are returned, never a falsely labelled interval."""
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0.0
    best = (v[0], v[-1], 1.0 - 2.0 * stats.binom.cdf(0, n, 0.5))
    for j in range(1, n // 2 + 1):
        coverage = 1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5)
        if coverage < confidence:
            break
        best = (v[j - 1], v[n - j], coverage)
    return best


def min_two_sided_p(n1, n2):
    """The smallest p an exact two-sided Mann-Whitney U test can give with n1 vs n2 samples."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))


def repetitions_needed(alpha):
    """Smallest n with n vs n samples able to reach p < alpha (two-sided, exact)."""
    n = 1
    while min_two_sided_p(n, n) >= alpha:
        n += 1
    return n


def mann_whitney_p(a, b, exact_limit=20000):
    """Two-sided Mann-Whitney U p-value. With up to `exact_limit` ways to split the pooled
    samples (5 vs 5: 252) the p-value is exact by enumerating every split of the midranks, which
    stays exact with ties (bucketed latency percentiles tie often, and scipy's exact method
    assumes no ties). Larger samples use scipy's normal approximation with tie correction.
    Identical constant samples give 1.0."""
    if not a or not b:
        return math.nan
    if len(set(a) | set(b)) == 1:
        return 1.0
    n1, n = len(a), len(a) + len(b)
    if math.comb(n, n1) > exact_limit:
        return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic").pvalue)
    ranks = stats.rankdata(list(a) + list(b))
    expected = n1 * (n + 1) / 2.0
    observed = abs(sum(ranks[:n1]) - expected)
    extreme = total = 0
    for split in itertools.combinations(range(n), n1):
        total += 1
        if abs(sum(ranks[i] for i in split) - expected) >= observed - 1e-9:
            extreme += 1
    return extreme / total


def relative_spread(values):
    """(max - min) / median: the run-to-run spread of a cell, as a fraction."""
    m = median(values)
    if not values or m == 0 or math.isnan(m):
        return math.nan
    return (max(values) - min(values)) / abs(m)


def worse_change(base_median, new_median, better):
    """Relative change of the median in the worse direction (> 0 = worse), for better in
    {'lower', 'higher'}. A base of 0 that became worse counts as an infinite change."""
    delta = new_median - base_median if better == "lower" else base_median - new_median
    if base_median == 0:
        return 0.0 if delta <= 0 else math.inf
    return delta / abs(base_median)
