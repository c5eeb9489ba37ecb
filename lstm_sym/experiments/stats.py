"""Summaries over seeds: mean with a 95 % Student-t interval, and the success rate."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["SUCCESS_THRESHOLD", "success_rate", "t_critical_95", "t_interval_95"]

#: A run counts as a success when its held-out accuracy is at least this.
SUCCESS_THRESHOLD = 0.95

# Two-sided 95 % critical values of Student's t, t_{0.975, df}, df = 1 .. 30 (standard tables).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical_95(df: int) -> float:
    """Return ``t_{0.975, df}``: table values up to 30 degrees of freedom, then an expansion.

    Above 30 the first two terms of the Cornish–Fisher expansion around the normal quantile
    1.959964 are used (error below 0.001).
    """
    if df < 1:
        raise ValueError(f"df must be >= 1; got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def t_interval_95(values: Sequence[float]) -> tuple[float, float]:
    """Mean ± ``t_{0.975, n−1} · s / √n``, clipped to [0, 1] (the range of an accuracy).

    Parameters
    ----------
    values : sequence of float
        One accuracy per seed, at least two.

    Returns
    -------
    low, high : float
        The interval; of zero width when every value is the same.
    """
    n = len(values)
    if n < 2:
        raise ValueError(f"a t-interval needs at least two values; got {n}")
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_critical_95(n - 1) * math.sqrt(variance / n)
    return max(0.0, mean - half), min(1.0, mean + half)


def success_rate(values: Sequence[float], threshold: float = SUCCESS_THRESHOLD) -> float:
    """Fraction of ``values`` that are at least ``threshold``."""
    if not values:
        raise ValueError("success_rate needs at least one value")
    return sum(1 for v in values if v >= threshold) / len(values)
