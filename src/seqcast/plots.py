"""Figures of a run: forecasts against the actual series, per-series MASE ratios to the seasonal
naive forecast, and the training losses.

Figures are built on the Agg canvas without pyplot, so nothing is shown and no figure is kept
in pyplot's registry; callers save or log them.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from seqcast.backtest import BASELINES
from seqcast.intervals import central_pairs, column, levels_of

REFERENCE = "seasonal_naive"
# One colour per model or baseline in every figure; black is the actual series.
COLOURS = {"cnn_lstm": "tab:blue", "lstm": "tab:orange", "naive": "tab:gray",
           "seasonal_naive": "tab:green"}
_SPARE = ("tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def model_colour(name: str) -> str:
    """The colour of model or baseline ``name``: fixed for the project's families and baselines,
    otherwise one of the spare colours chosen by a checksum of the name (stable across runs,
    unlike ``hash``)."""
    if name in COLOURS:
        return COLOURS[name]
    return _SPARE[zlib.crc32(name.encode()) % len(_SPARE)]


def model_style(name: str) -> dict:
    """Line style of ``name``: its colour, dashed for a baseline."""
    return {"color": model_colour(name), "ls": "--" if name in BASELINES else "-"}


def _figure(**kwargs) -> Figure:
    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def mase_ratios(by_series: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per-series MASE of each of ``models`` over the seasonal naive one's, one column per model,
    indexed by series label (sorted). NaN where either MASE is undefined or the seasonal naive
    one is zero: no ratio to compare."""
    if by_series.duplicated(["series", "model"]).any():
        raise ValueError("metrics_by_series has more than one row per (series, model); "
                         "expected one score per series and model")
    mase = by_series.set_index(["series", "model"])["mase"].unstack("model").sort_index()
    missing = [m for m in (*models, REFERENCE) if m not in mase.columns]
    if missing:
        raise ValueError(f"metrics_by_series has no rows for model(s) {missing}; "
                         f"it has {sorted(mase.columns)}")
    ratios = mase[list(models)].div(mase[REFERENCE], axis=0)
    return ratios.where(np.isfinite(ratios))


def pick_series(by_series: pd.DataFrame, model: str, *, n_random: int = 3,
                seed: int = 0) -> pd.DataFrame:
    """Series to plot for ``model``: ``series, ratio, pick``.

    The best and the worst by the ratio of ``model``'s MASE to the seasonal naive one's (series
    with an undefined ratio are never either), then ``n_random`` of the rest drawn with
    ``numpy.random.default_rng(seed)`` and sorted by label. Ties go to the first label.
    """
    ratio = mase_ratios(by_series, [model])[model]
    defined = ratio.dropna()
    picks = {}
    if len(defined):
        picks[defined.idxmin()] = "best"
        picks.setdefault(defined.idxmax(), "worst")
    rest = ratio.index[~ratio.index.isin(list(picks))]
    drawn = np.random.default_rng(seed).choice(len(rest), size=min(n_random, len(rest)),
                                               replace=False)
    picks.update(dict.fromkeys(rest[np.sort(drawn)], "random"))
    return pd.DataFrame({"series": list(picks), "ratio": ratio[list(picks)].to_numpy(),
                         "pick": list(picks.values())})


def _broken_line(rows: pd.DataFrame, *columns: str) -> tuple[np.ndarray, ...]:
    """One line through every origin's forecast (or each of ``columns``), broken (NaN) where
    the origin changes, so a model is one artist however many origins it has."""
    rows = rows.sort_values(["origin", "timestamp"])
    origin, x = rows["origin"].to_numpy(), rows["timestamp"].to_numpy()
    breaks = np.flatnonzero(origin[1:] != origin[:-1]) + 1
    return (np.insert(x, breaks, x[breaks]),
            *(np.insert(rows[c].to_numpy(np.float64), breaks, np.nan)
              for c in columns or ("forecast",)))


def _band(ax, rows: pd.DataFrame, name: str) -> None:
    """The widest central interval of model ``name``'s quantile columns, if it has them."""
    levels = levels_of([rows])
    pairs = central_pairs(levels)
    if not pairs or rows[[column(q) for q in levels]].isna().any().any():
        return
    low, high, percent = pairs[0]
    x, lower, upper = _broken_line(rows, column(levels[low]), column(levels[high]))
    ax.fill_between(x, lower, upper, color=model_colour(name), alpha=0.18, lw=0,
                    label=f"{name} {percent}% interval")


def _y_label(target: str, units: str | Mapping | None) -> str:
    unit = units.get(target) if isinstance(units, Mapping) else units
    return f"{target} [{unit}]" if unit else target


def _draw_series(ax, actual: pd.DataFrame, rows: pd.DataFrame, ylabel: str,
                 banded: str | None = None) -> None:
    """One series: the actual values (``timestamp, actual``), every model's forecasts and
    the interval of model ``banded``."""
    ax.plot(actual["timestamp"].to_numpy(), actual["actual"].to_numpy(np.float64),
            color="black", lw=1.5, label="actual")
    for name, group in rows.groupby("model", sort=False):
        if name == banded:
            _band(ax, group, name)
        ax.plot(*_broken_line(group), lw=1, label=name, **model_style(name))
    if len(rows):
        ax.axvline(rows["timestamp"].min(), color="grey", lw=0.8, label="test start")
    locator = mdates.AutoDateLocator()  # short date ticks that do not run into each other
    ax.xaxis.set(major_locator=locator, major_formatter=mdates.ConciseDateFormatter(locator))
    ax.set(xlabel="time", ylabel=ylabel)


def _ratio_text(ratio: float) -> str:
    return "undefined (zero MASE scale)" if np.isnan(ratio) else f"{ratio:.2f}"


# Three tables and the model are the data; the rest are keyword-only display options.
def plot_series_grid(  # noqa: PLR0913
    forecasts: pd.DataFrame, context: pd.DataFrame, by_series: pd.DataFrame, model: str, *,
    n_random: int = 3, seed: int = 0, units: str | Mapping | None = None,
) -> Figure:
    """Forecasts against the actual series for a few series chosen by :func:`pick_series`.

    Args:
        forecasts: backtest forecasts ``series, timestamp, origin, model, target, step,
            forecast, actual``; every model and baseline in it is drawn.
        context: actual values ``series, timestamp, target, actual`` from a lookback before each
            series' first test origin to its end.
        by_series: per-series scores ``series, model, mase, ...``.
        model: the model whose MASE ratio to the seasonal naive one picks the series, and
            whose widest central interval is drawn as a band (quantile columns ``q0.1`` …).
        units: the targets' units (one string, or ``{target: units}``), shown on the y axis.

    Only the first target (the first in ``forecasts``) is drawn.
    """
    target = forecasts["target"].iloc[0]
    picks = pick_series(by_series, model, n_random=n_random, seed=seed)
    rows = forecasts[forecasts["series"].isin(picks["series"]) & (forecasts["target"] == target)]
    actual = context[context["series"].isin(picks["series"]) & (context["target"] == target)]
    rows_of, actual_of = dict(tuple(rows.groupby("series"))), dict(tuple(actual.groupby("series")))
    single = by_series["series"].nunique() == 1
    ncols = 1 if len(picks) < 3 else 2
    nrows = -(-len(picks) // ncols)
    fig = _figure(figsize=(12, 4.5) if single else (7 * ncols, 3.2 * nrows + 0.8))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    empty = pd.DataFrame(columns=["timestamp", "actual", "origin", "forecast", "model"])
    for ax, (label, ratio, pick) in zip(axes, picks.itertuples(index=False), strict=False):
        _draw_series(ax, actual_of.get(label, empty), rows_of.get(label, empty),
                     _y_label(target, units), banded=model)
        ax.set_title(f"{label}: MASE ratio {_ratio_text(ratio)}"
                     + ("" if single else f" ({pick})"), fontsize="medium")
    for ax in axes[len(picks):]:
        ax.set_visible(False)
    origins = rows.groupby("series")["origin"].nunique().max() if len(rows) else 0
    fig.suptitle(f"{target}: forecasts from {origins} test origins; MASE ratio of {model} "
                 "to seasonal naive (below 1: better)")
    handles = {}
    for ax in axes[:len(picks)]:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)  # one legend entry per model across panels
    fig.legend(list(handles.values()), list(handles), loc="outside lower center",
               ncol=min(len(handles), 7), fontsize="small")
    return fig


def plot_mase_ratios(by_series: pd.DataFrame, models: list[str], *, bins: int = 30) -> Figure:
    """Histogram of the per-series ratio of each model's MASE to the seasonal naive one's.

    Series with an undefined ratio (zero MASE scale, e.g. a constant series) are left out and
    counted in the legend. The x axis is logarithmic when every ratio is positive, so that 0.5
    and 2 lie equally far from 1.
    """
    models = list(models)
    ratios = mase_ratios(by_series, models)
    values = ratios.to_numpy(np.float64)
    defined = values[np.isfinite(values)]
    log = defined.size > 0 and bool((defined > 0).all())
    lo, hi = (defined.min(), defined.max()) if defined.size else (0.5, 2.0)
    lo, hi = min(lo, 1.0), max(hi, 1.0)  # the bins reach the reference line
    edges = (np.geomspace(lo / 1.05, hi * 1.05, bins + 1) if log
             else np.linspace(lo - 0.05, hi + 0.05, bins + 1))
    fig = _figure(figsize=(8, 5))
    ax = fig.subplots()
    for name in models:
        column = ratios[name].dropna().to_numpy()
        left_out = len(ratios) - len(column)
        ax.hist(column, bins=edges, alpha=0.5, color=model_colour(name),
                label=f"{name}: {len(column)} series"
                + (f", {left_out} left out (undefined MASE)" if left_out else ""))
    ax.axvline(1.0, color=model_colour(REFERENCE), ls="--", lw=1.2, label="seasonal naive")
    if log:
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)
    ax.set(xlabel="MASE / seasonal naive MASE (below 1: better)", ylabel="series",
           title=f"Per-series MASE ratio to seasonal naive, {len(ratios)} series")
    fig.legend(loc="outside lower center", fontsize="small")
    return fig


def _plain_log_ticks(axis) -> None:
    plain = FuncFormatter(lambda value, _: f"{value:g}")  # 0.5, 1, 2 rather than 5e-1
    axis.set(major_formatter=plain, minor_formatter=plain)


def plot_losses(*histories: dict) -> Figure:
    """Training and validation loss per epoch, one panel per model family; the title names the
    loss (``loss_name`` in the history, else "loss")."""
    fig = _figure(figsize=(5 * len(histories), 3.5))
    axes = fig.subplots(1, len(histories), squeeze=False)[0]
    for ax, history in zip(axes, histories, strict=True):
        name = history.get("namespace", history["family"])
        loss_name = history.get("loss_name", "loss")
        epochs = np.arange(1, len(history["loss"]) + 1)
        colour = model_colour(name)
        ax.plot(epochs, history["loss"], color=colour, label="training")
        ax.plot(epochs, history["val_loss"], color=colour, ls=":", label="validation")
        ax.axvline(history["best_epoch"], color="grey", ls="--", lw=0.8,
                   label=f"best epoch ({history['best_epoch']})")
        ax.set(title=f"{name}: {loss_name}", xlabel="epoch", ylabel="loss (log scale)",
               yscale="log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _plain_log_ticks(ax.yaxis)
        ax.legend(fontsize="small")
    return fig
