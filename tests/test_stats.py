"""The shared statistical rules: lognormal draws with a given mean and cv, percentiles."""
from __future__ import annotations

import random
import statistics

import pytest

from motcua.core.stats import lognormal, lognormal_params, percentile


def test_lognormal_draws_have_the_mean_and_cv_asked_for():
    rng = random.Random(3)
    draws = [lognormal(rng, 20.0, 0.7) for _ in range(200_000)]
    mean = statistics.fmean(draws)
    assert mean == pytest.approx(20.0, rel=0.01)
    assert statistics.pstdev(draws) / mean == pytest.approx(0.7, rel=0.03)
    mu, sigma = lognormal_params(20.0, 0.0)
    assert (sigma, mu) == (0.0, pytest.approx(2.995732, abs=1e-6))  # no spread: always the mean


def test_percentile_interpolates_between_order_statistics():
    assert percentile([4.0, 1.0, 3.0, 2.0, 5.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert percentile([1.0, 2.0], 0.1) == pytest.approx(1.1)
    assert percentile([7.0], 0.9) == 7.0
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], 1.0)
