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
    ratio = _smape_ratio(forecast, actual)
    mae_at_origin = np.mean(np.abs(error), axis=1)  # (origins, n_targets)
    return {
        "mase": float(np.mean(mae_at_origin / scale)),
        "smape": float(100 * np.mean(ratio)),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
    }


def mase_scales(y: np.ndarray, offsets: np.ndarray, origins: np.ndarray,
                season_length: int) -> np.ndarray:
    """:func:`mase_scale` of every series' history up to each of its origins, at once.

    ``y`` is the flat ``(N, n_targets)`` panel, ``offsets`` its series boundaries,
    ``origins`` flat indices; returns ``(len(origins), n_targets)``.
    """
    m = season_length
    local = np.arange(len(y)) - np.repeat(offsets[:-1], np.diff(offsets))
    change = np.zeros_like(y)
    change[m:] = np.abs(y[m:] - y[:-m])
    change[local < m] = 0.0  # never across a series boundary
    total = np.concatenate([np.zeros((1, y.shape[1])), np.cumsum(change, axis=0)])
    first = np.repeat(offsets[:-1], np.diff(offsets))[origins]  # each origin's series start
    count = origins - first - m + 1
    if (count < 1).any():
        raise ValueError(f"MASE needs more than {m} observed points before every origin")
    return (total[origins + 1] - total[first + m]) / count[:, None]


def series_scores(forecast: np.ndarray, actual: np.ndarray,
                  scale: np.ndarray) -> dict[str, np.ndarray]:
    """Per-series MASE, sMAPE, RMSE and MAE of ``(series, origins, horizon, n_targets)``
    forecasts; ``scale`` is ``(series, origins, n_targets)``. A series whose scale is zero at
    an origin (a constant history) has an undefined MASE: NaN."""
    error = forecast - actual
    ratio = _smape_ratio(forecast, actual)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.mean(np.abs(error), axis=2) / scale  # (series, origins, n_targets)
    mase = np.where((scale > 0).all(axis=(1, 2)), scaled.mean(axis=(1, 2)), np.nan)
    return {
        "mase": mase,
        "smape": 100 * ratio.mean(axis=(1, 2, 3)),
        "rmse": np.sqrt(np.mean(error**2, axis=(1, 2, 3))),
        "mae": np.mean(np.abs(error), axis=(1, 2, 3)),
    }


def _smape_ratio(forecast: np.ndarray, actual: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(forecast - actual) / ((np.abs(forecast) + np.abs(actual)) / 2)
    return np.where((forecast == 0) & (actual == 0), 0.0, ratio)  # 0/0: a perfect forecast


def overall(per_series: dict[str, np.ndarray], forecast: np.ndarray,
            actual: np.ndarray) -> dict[str, float]:
    """The overall figures: mean and median over series of per-series MASE (undefined ones
    left out, and counted), and sMAPE, RMSE and MAE pooled over every forecast point."""
    mase = per_series["mase"]
    defined = mase[np.isfinite(mase)]
    error = forecast - actual
    return {
        "mase": float(defined.mean()) if len(defined) else float("nan"),
        "mase_median": float(np.median(defined)) if len(defined) else float("nan"),
        "smape": float(100 * np.mean(_smape_ratio(forecast, actual))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "n_series": int(len(mase)),
        "n_series_mase_undefined": int(len(mase) - len(defined)),
    }
