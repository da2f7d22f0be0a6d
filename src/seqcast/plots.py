"""Figures of a run: forecasts against the actual series, and the training losses."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from seqcast.backtest import BASELINES


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
