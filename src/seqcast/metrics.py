"""Forecast accuracy and the baselines, as the README defines them (pure numpy)."""

from __future__ import annotations

import numpy as np


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last observed value repeated: ``(horizon, …)`` from ``history (T, …)``."""
    return np.repeat(history[-1:], horizon, axis=0)


def seasonal_naive(history: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Step ``h`` (1-based) takes the value ``season_length`` steps earlier, reusing the last
    observed season when ``h > season_length``."""
    if len(history) < season_length:
        raise ValueError(
            f"seasonal naive needs {season_length} observed points, got {len(history)}"
        )
    steps = np.arange(1, horizon + 1)
    back = season_length * np.ceil(steps / season_length).astype(int)
    return history[len(history) - 1 + steps - back]


def mase_scale(history: np.ndarray, season_length: int) -> np.ndarray:
    """Mean ``|y[t] - y[t-m]|`` over all observed points (per column)."""
    if len(history) <= season_length:
        raise ValueError(f"MASE needs more than {season_length} observed points")
    return np.mean(np.abs(history[season_length:] - history[:-season_length]), axis=0)


def scores(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    """MASE, sMAPE (%), RMSE and MAE of forecasts ``(origins, horizon, n_targets)``.

    ``scale`` is ``(origins, n_targets)``: the MASE denominator at each origin. MASE is the
    mean over origins (and targets) of the origin's MAE / its scale; the others pool all
    forecast points.
    """
    error = forecast - actual
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(error) / ((np.abs(forecast) + np.abs(actual)) / 2)
    ratio = np.where((forecast == 0) & (actual == 0), 0.0, ratio)  # 0/0: a perfect forecast
    mae_at_origin = np.mean(np.abs(error), axis=1)  # (origins, n_targets)
    return {
        "mase": float(np.mean(mae_at_origin / scale)),
        "smape": float(100 * np.mean(ratio)),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
    }
