"""Intervals for acceptance rates: Wilson's score interval for one proportion and Newcombe's
hybrid score interval for the difference of two independent proportions.

* E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
  JASA 22 (1927): the score interval, which stays inside [0, 1] and behaves at 0 and n.
* R. G. Newcombe, "Interval estimation for the difference between independent proportions:
  comparison of eleven methods", Statistics in Medicine 17 (1998), method 10: combine the two
  Wilson intervals' distances from their estimates.

Pure functions of counts; no I/O.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval


def wilson(accepted: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for ``accepted`` successes in ``trials``; (0, 1) when none."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= accepted <= trials:
        raise ValueError(f"accepted ({accepted}) must lie between 0 and trials ({trials})")
    p = accepted / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # At 0 or n successes one end is exactly 0 or 1; rounding must not move it.
    low = 0.0 if accepted == 0 else max(0.0, centre - half)
    high = 1.0 if accepted == trials else min(1.0, centre + half)
    return low, high


def newcombe_difference(
    accepted_a: int, trials_a: int, accepted_b: int, trials_b: int, z: float = Z_95
) -> tuple[float, float, float]:
    """(p_a - p_b, low, high): Newcombe's hybrid score interval for the difference."""
    p_a = accepted_a / trials_a if trials_a else 0.0
    p_b = accepted_b / trials_b if trials_b else 0.0
    low_a, high_a = wilson(accepted_a, trials_a, z)
    low_b, high_b = wilson(accepted_b, trials_b, z)
    difference = p_a - p_b
    low = difference - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return difference, max(-1.0, low), min(1.0, high)


def mean_interval(values: list[float], z: float = Z_95) -> tuple[float, float, float]:
    """(mean, low, high): the normal-approximation interval of a mean (zero width for n < 2)."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0, 0.0
    mean = sum(values) / n
    if n < 2:
        return mean, mean, mean
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return mean, mean - half, mean + half
