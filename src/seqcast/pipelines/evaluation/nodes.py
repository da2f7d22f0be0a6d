"""Nodes of the evaluation pipeline; the logic lives in :mod:`seqcast.backtest`,
:mod:`seqcast.plots` and :mod:`seqcast.tracking`."""

from __future__ import annotations

import pandas as pd

from seqcast.backtest import Evaluation, context_table, evaluate
from seqcast.outputs import rounded_forecasts
from seqcast.plots import plot_mase_ratios, plot_series_grid
from seqcast.spec import WindowSpec


def evaluate_all(series: pd.DataFrame, window_spec: dict, data: dict,
                 significant_digits: int | None,
                 *backtests: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame, Evaluation]:
    """``(metrics, backtest_forecasts, metrics_by_series, evaluation)``: every family's and
    baseline's scores overall and per series, all forecasts in one table (written with
    ``significant_digits``), and all of it bundled, at full precision, with what tracking,
    plots and promotion read."""
    spec = WindowSpec.from_dict(window_spec)
    metrics, forecasts, by_series = evaluate(series, spec, *backtests)
    evaluation = Evaluation(series, spec, data.get("name"), metrics, forecasts, by_series,
                            context_table(series, spec), data.get("units"))
    return (metrics, rounded_forecasts(forecasts, significant_digits), by_series,
            evaluation)


def plot_evaluation(evaluation: Evaluation):
    """``(forecast_plot, mase_ratio_plot)``: a few series' forecasts by the model with the
    lowest MASE, and every model's per-series MASE ratios to seasonal naive."""
    models = [m for m in evaluation.metrics if m not in ("naive", "seasonal_naive")]
    best = min(models, key=lambda m: evaluation.metrics[m]["mase"])
    return (plot_series_grid(evaluation.forecasts, evaluation.context, evaluation.by_series,
                             best, units=evaluation.units),
            plot_mase_ratios(evaluation.by_series, models))
