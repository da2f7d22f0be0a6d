"""The test-origin accuracy benchmark's Holt-Winters: fitted once, never reading past an origin."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("statsmodels")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from accuracy_test_origins import RULES, expand, holt_winters  # noqa: E402
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402


def monthly(n: int = 120) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    return 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)


@pytest.mark.parametrize("kind", ["add", "mul"])
def test_rerun_at_the_fit_origin_is_the_fit(kind):
    y = monthly()
    fit = ExponentialSmoothing(y[:97], trend="add", damped_trend=True, seasonal=kind,
                               seasonal_periods=12, initialization_method="estimated").fit()
    rerun = holt_winters(y, 96, np.array([96]), 6, 12, kind)
    np.testing.assert_allclose(rerun[0], fit.forecast(6), rtol=1e-6)


def test_forecasts_read_nothing_after_their_origin():
    y = monthly()
    changed = y.copy()
    changed[103:] += 50  # after the second origin
    origins = np.array([96, 102, 108])
    first, second = (holt_winters(v, 96, origins, 6, 12, "add") for v in (y, changed))
    np.testing.assert_allclose(first[:2], second[:2])
    assert not np.allclose(first[2], second[2])


def test_window_rule_keys_and_overrides():
    text, last = expand("path=x.csv,window=MS,origins=6,last=100", 20_000)
    items = dict(item.split("=") for item in text.split(","))
    assert items["season"] == str(RULES["MS"]["season"]) and items["origins"] == "6"
    assert last == 100 and "window" not in items
    with pytest.raises(SystemExit, match="window=Q"):
        expand("path=x.csv,window=Q", 20_000)
