"""Nodes of the evaluation pipeline; the logic lives in :mod:`seqcast.backtest`,
:mod:`seqcast.plots` and :mod:`seqcast.tracking`."""

from __future__ import annotations

import pandas as pd

from seqcast.backtest import Evaluation, evaluate


def evaluate_all(series: pd.DataFrame, window_spec: dict, data: dict,
                 *backtests: pd.DataFrame) -> tuple[dict, pd.DataFrame, Evaluation]:
    """``(metrics, backtest_forecasts, evaluation)``: every family's and baseline's scores,
    all forecasts in one table, and both bundled with what tracking and promotion read."""
    metrics, forecasts = evaluate(series, window_spec, *backtests)
    return metrics, forecasts, Evaluation(series, window_spec, data.get("name"), metrics,
                                          forecasts)
