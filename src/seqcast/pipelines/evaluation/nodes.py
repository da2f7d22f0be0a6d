"""Backtests of every model and baseline at the same origins → metrics and plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from seqcast import metrics
from seqcast.pipelines.training.nodes import forecast_table
from seqcast.windows import WindowGeometry

BASELINES = ("naive", "seasonal_naive")


def _test_origins(series: pd.DataFrame, spec: dict) -> np.ndarray:
    geometry = WindowGeometry.from_params(spec)
    return geometry.test_starts(len(series)) + geometry.lookback - 1


def baseline_backtest(series: pd.DataFrame, window_spec: dict) -> pd.DataFrame:
    """Naive and seasonal-naive forecasts at the test origins, in the backtest layout."""
    y = series[window_spec["targets"]].to_numpy(np.float64)
    horizon, m = window_spec["horizon"], window_spec["season_length"]
    origins = _test_origins(series, window_spec)
    actual = np.stack([y[o + 1 : o + 1 + horizon] for o in origins])
    forecasts = {
        "naive": np.stack([metrics.naive(y[: o + 1], horizon) for o in origins]),
        "seasonal_naive": np.stack(
            [metrics.seasonal_naive(y[: o + 1], horizon, m) for o in origins]
        ),
    }
    return pd.concat(
        forecast_table(series.index, origins, window_spec["targets"], f, actual, name)
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
    origins = _test_origins(series, window_spec)
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


def plot_forecasts(forecasts: pd.DataFrame, series: pd.DataFrame, window_spec: dict):
    """Actual series over the test period and a lookback before it, with every model's and
    baseline's forecast from each origin (first target)."""
    target = window_spec["targets"][0]
    start = window_spec["test_start"] - window_spec["lookback"]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.plot(series.index[start:], series[target].iloc[start:], color="black", lw=1.5,
            label="actual")
    rows = forecasts[forecasts["target"] == target]
    for colour, (name, group) in zip(plt.cm.tab10.colors, rows.groupby("model", sort=False),
                                     strict=False):
        for i, (_, block) in enumerate(group.groupby("origin")):
            ax.plot(block["timestamp"], block["forecast"], color=colour, lw=1,
                    ls="--" if name in BASELINES else "-", label=name if i == 0 else None)
    ax.axvline(pd.Timestamp(window_spec["test_start_at"]), color="grey", lw=0.8)
    ax.set(title=f"{target}: forecasts from {window_spec['origins']} origins",
           ylabel=target)
    ax.legend(ncol=3, fontsize="small")
    fig.tight_layout()
    return fig


def plot_losses(*histories: dict):
    """Training and validation loss per epoch, one panel per model family."""
    fig, axes = plt.subplots(1, len(histories), figsize=(5 * len(histories), 3.5),
                             squeeze=False)
    for ax, history in zip(axes[0], histories, strict=True):
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], label="loss")
        ax.plot(epochs, history["val_loss"], label="val_loss")
        ax.axvline(history["best_epoch"], color="grey", ls=":", label="best")
        ax.set(title=history["family"], xlabel="epoch", yscale="log")
        ax.legend()
    fig.tight_layout()
    return fig
