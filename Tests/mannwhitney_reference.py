#!/usr/bin/env python3
"""Reference p-values for Tests/ResultsTests/MannWhitneyTests.swift, computed with SciPy.

Usage: python3 Tests/mannwhitney_reference.py

Prints, for each synthetic case, U of the first sample, the two-sided p-value of
scipy.stats.mannwhitneyu(x, y, alternative="two-sided") with its default method="auto" (what
Google Benchmark's compare.py calls), and the method auto chose. The samples are made by the same
formula as in the Swift test, term for term, so both sides compute the same doubles: the quantiles
(i + 1/2)/n of a timing-like distribution, 1 ms times (1 + 0.05 * Exp(1)), scaled by a shift.
"""
import math

import scipy
import scipy.stats


def base(n, shift=1.0):
    return [1e-3 * (1 + 0.05 * -math.log(1 - (i + 0.5) / n)) * shift for i in range(n)]


def auto_method(x, y):
    ties = len(set(x + y)) < len(x) + len(y)
    return "normal" if (len(x) > 8 and len(y) > 8) or ties else "exact"


CASES = [
    ("identical", base(12), base(12)),
    ("interleaved", base(20)[0::2], base(20)[1::2]),
    ("shift10-small", base(5), base(5, 1.1)),
    ("shift10-medium", base(9), base(12, 1.1)),
    ("shift1-huge", base(4000), base(4000, 1.01)),
    ("exact-unequal", base(7), base(200, 1.05)),
    ("ties", [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5]),
    ("ties-small", [1, 2, 2, 3], [2, 3, 4, 5, 5]),
]

if __name__ == "__main__":
    print(f"scipy {scipy.__version__}")
    for name, x, y in CASES:
        r = scipy.stats.mannwhitneyu(x, y, alternative="two-sided")
        print(f"{name:16s} m={len(x):5d} n={len(y):5d} U={float(r.statistic):.1f} p={float(r.pvalue)!r} method={auto_method(x, y)}")
