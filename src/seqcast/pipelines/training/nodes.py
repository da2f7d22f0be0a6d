"""Train one model family on streamed windows; backtest it at the test origins."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from seqcast.fitting import fit_family
from seqcast.windows import WindowGeometry, WindowStream


def train_model(
    series: pd.DataFrame, window_spec: dict, family_name: str, model: dict, training: dict
) -> tuple[keras.Model, dict]:
    """Fit one family with early stopping on the validation windows.

    Args:
        series: ``(N, n_features)``, the cleaned series.
        window_spec: split boundaries and training statistics (windowing pipeline).
        family_name: a key of ``seqcast.models.FAMILIES``.
        model: the family's hyperparameters (builder keyword arguments).
        training: normalization, loss, learning_rate, batch_size, epochs, patience, seed,
            mixed_precision, deterministic, xla, backup_dir.

    Returns:
        ``(forecaster, history)``: the self-contained model (raw history in, forecasts in the
        targets' units out, ``(batch, horizon, n_targets)``) and the per-epoch record with
        the device that trained it. A model with non-finite weights or forecasts is refused.
    """
    return fit_family(series, window_spec, family_name, model, training)


def backtest(series: pd.DataFrame, window_spec: dict, model: keras.Model, label: str):
    """Forecast every test origin with the trained model (no refit).

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
    return forecast_table(series.index, starts + geometry.lookback - 1, window_spec["targets"],
                          forecast, actual, label)


def forecast_table(index: pd.DatetimeIndex, origins: np.ndarray, targets: list[str],
                   forecast: np.ndarray, actual: np.ndarray, label: str) -> pd.DataFrame:
    """Long table from ``(origins, horizon, n_targets)`` arrays of forecasts and actuals."""
    n_origins, horizon, n_targets = forecast.shape
    o, h, t = np.meshgrid(np.arange(n_origins), np.arange(horizon), np.arange(n_targets),
                          indexing="ij")
    return pd.DataFrame({
        "timestamp": index[origins[o.ravel()] + h.ravel() + 1],
        "origin": index[origins[o.ravel()]],
        "model": label,
        "target": np.asarray(targets)[t.ravel()],
        "step": h.ravel() + 1,
        "forecast": forecast.reshape(-1).astype(np.float64),
        "actual": actual.reshape(-1).astype(np.float64),
    })
