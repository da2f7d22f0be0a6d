"""Backtests: forecasts of a trained model and of the baselines at the test origins, and
their scores, all on the same origins."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from seqcast import metrics
from seqcast.windows import WindowGeometry, WindowStream

BASELINES = ("naive", "seasonal_naive")


def test_origins(n_points: int, window_spec: dict) -> np.ndarray:
    """Indices of the test origins of a series of ``n_points``, oldest first."""
    geometry = WindowGeometry.from_params(window_spec)
    return geometry.origin_of(geometry.test_starts(n_points))


def forecast_table(index: pd.DatetimeIndex, origins: np.ndarray, targets: list[str],
                   values: tuple[np.ndarray, np.ndarray], name: str) -> pd.DataFrame:
    """Long table of model ``name``'s forecasts from ``values``, ``(forecast, actual)``
    arrays of shape ``(origins, horizon, n_targets)``."""
    forecast, actual = values
    n_origins, horizon, n_targets = forecast.shape
    o, h, t = np.meshgrid(np.arange(n_origins), np.arange(horizon), np.arange(n_targets),
                          indexing="ij")
    return pd.DataFrame({
        "timestamp": index[origins[o.ravel()] + h.ravel() + 1],
        "origin": index[origins[o.ravel()]],
        "model": name,
        "target": np.asarray(targets)[t.ravel()],
        "step": h.ravel() + 1,
        "forecast": forecast.reshape(-1).astype(np.float64),
        "actual": actual.reshape(-1).astype(np.float64),
    })


def backtest(series: pd.DataFrame, window_spec: dict, model: keras.Model, name: str):
    """Forecast every test origin with the trained model (no refit), as model ``name``.

    Returns a long table: ``timestamp, origin, model, target, step, forecast, actual``
    (``origins × horizon × n_targets`` rows).
    """
    geometry = WindowGeometry.from_params(window_spec)
    values = series[window_spec["features"]].to_numpy(np.float32)
    starts = geometry.test_starts(len(values))
    nested = len(model.input_shape) == 4
    stream = WindowStream(
        values, starts, geometry.lookback, geometry.horizon, window_spec["target_index"],
        batch_size=len(starts), n_seq=geometry.n_seq if nested else None,
    )
    x, actual = stream.batch(starts)
    forecast = np.asarray(model.predict(x, verbose=0))
    return forecast_table(series.index, geometry.origin_of(starts), window_spec["targets"],
                          (forecast, actual), name)


def baseline_backtest(series: pd.DataFrame, window_spec: dict) -> pd.DataFrame:
    """Naive and seasonal-naive forecasts at the test origins, in the backtest layout."""
    y = series[window_spec["targets"]].to_numpy(np.float64)
    horizon, m = window_spec["horizon"], window_spec["season_length"]
    origins = test_origins(len(series), window_spec)
    actual = np.stack([y[o + 1 : o + 1 + horizon] for o in origins])
    forecasts = {
        "naive": np.stack([metrics.naive(y[: o + 1], horizon) for o in origins]),
        "seasonal_naive": np.stack(
            [metrics.seasonal_naive(y[: o + 1], horizon, m) for o in origins]
        ),
    }
    return pd.concat(
        forecast_table(series.index, origins, window_spec["targets"], (f, actual), name)
        for name, f in forecasts.items()
    )


def evaluate(series: pd.DataFrame, window_spec: dict, *backtests: pd.DataFrame):
    """Score every model and baseline on the same origins.

    Args:
        series: the cleaned series (for the MASE scale at each origin).
        window_spec: horizon, season_length, targets.
        *backtests: long tables (``timestamp, origin, model, target, step, forecast,
            actual``), one per model family.

    Returns:
        ``(metrics, forecasts)``: ``{name: {mase, smape, rmse, mae}}`` for each model and
        baseline, and all backtests in one table.
    """
    table = pd.concat([*backtests, baseline_backtest(series, window_spec)], ignore_index=True)
    y = series[window_spec["targets"]].to_numpy(np.float64)
    m = window_spec["season_length"]
    origins = test_origins(len(series), window_spec)
    scale = np.stack([metrics.mase_scale(y[: o + 1], m) for o in origins])
    shape = (len(origins), window_spec["horizon"], len(window_spec["targets"]))
    results = {}
    for name, group in table.groupby("model", sort=False):
        rows = group.sort_values(["origin", "step", "target"], key=_target_order(window_spec))
        if len(rows) != np.prod(shape):
            raise ValueError(f"backtest of {name!r} has {len(rows)} rows, expected {shape}")
        results[name] = metrics.scores(
            rows["forecast"].to_numpy().reshape(shape), rows["actual"].to_numpy().reshape(shape),
            scale,
        )
    return results, table


def _target_order(spec: dict):
    order = {t: i for i, t in enumerate(spec["targets"])}
    return lambda col: col.map(order) if col.name == "target" else col


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of every family and baseline on the same origins: what each family's
    tracking and promotion read."""

    series: pd.DataFrame
    window_spec: dict
    dataset: str | None  # ``params:data.name``
    metrics: dict
    forecasts: pd.DataFrame
