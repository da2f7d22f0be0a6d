"""Metrics and baselines against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from seqcast import metrics


def test_baselines():
    history = np.array([1.0, 2, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(metrics.naive(history, 3), [7, 7, 7])
    # season 3: the last season is 5 6 7, repeated
    np.testing.assert_array_equal(metrics.seasonal_naive(history, 5, 3), [5, 6, 7, 5, 6])


def test_scores_by_hand():
    history = np.array([[1.0], [3.0], [2.0], [4.0]])
    scale = metrics.mase_scale(history, 1)  # |3-1|, |2-3|, |4-2| → mean 5/3
    assert scale == pytest.approx([5 / 3])
    forecast = np.array([[[2.0], [4.0]]])  # one origin, horizon 2, one target
    actual = np.array([[[1.0], [4.0]]])
    s = metrics.scores(forecast, actual, scale.reshape(1, 1))
    assert s["mae"] == pytest.approx(0.5)
    assert s["rmse"] == pytest.approx(np.sqrt(0.5))
    assert s["mase"] == pytest.approx(0.5 / (5 / 3))
    # sMAPE: mean(2|F-A|/(|F|+|A|)) = mean(2/3, 0) in percent
    assert s["smape"] == pytest.approx(100 * (2 / 3) / 2)


def test_mase_is_the_mean_over_origins():
    forecast = np.zeros((2, 1, 1))
    actual = np.array([[[1.0]], [[4.0]]])
    s = metrics.scores(forecast, actual, np.array([[1.0], [2.0]]))
    assert s["mase"] == pytest.approx((1 / 1 + 4 / 2) / 2)


def test_smape_of_zero_forecast_of_zero_is_zero():
    s = metrics.scores(np.zeros((1, 2, 1)), np.zeros((1, 2, 1)), np.ones((1, 1)))
    assert s["smape"] == 0.0 and s["mase"] == 0.0
