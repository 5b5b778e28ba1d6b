"""The two statistical rules every part of the project shares: lognormal draws and percentiles."""
from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of the log of a lognormal whose own mean and coefficient of variation are given."""
    sigma = math.sqrt(math.log(1 + cv * cv))
    return math.log(mean) - sigma * sigma / 2, sigma


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation of the value itself."""
    return rng.lognormvariate(*lognormal_params(mean, cv))


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (a whole percent), interpolated linearly between order statistics."""
    if len(values) == 1:
        return float(values[0])  # statistics.quantiles wants two points on Python 3.11
    cut = round(share * 100)
    if not 0 < cut < 100:
        raise ValueError("share must lie strictly between 0 and 1")
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]
