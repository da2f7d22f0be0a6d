"""Rows as consecutive steps, end to end: nothing invented is trained on, scored or served."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FAST, run_kedro


@pytest.mark.slow
def test_trading_days_are_scored_and_forecast_on_real_rows_only(project):
    # Business days with three exchange holidays missing: on a calendar grid (`frequency: B`)
    # they would be inserted, interpolated and scored.
    holidays = pd.DatetimeIndex(["2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29"])
    days = pd.bdate_range("2023-01-02", periods=320).difference(holidays)
    rng = np.random.default_rng(3)
    raw = pd.DataFrame({"ts": days.strftime("%Y-%m-%d"),
                        "close": 100 + np.cumsum(rng.normal(0, 1, len(days)))})
    raw.to_csv(project / "data/01_raw/close.csv", index=False)
    params = {**FAST,
              "data": {"path": "data/01_raw/close.csv", "time_column": "ts", "targets": "close",
                       "frequency": "rows", "step_frequency": "B", "name": "close"},
              "windows": {"n_seq": 2, "origins": 6, "validation_origins": 6}}
    run_kedro(project, ["retrain"], params=params)
    run_kedro(project, ["forecast"], params=params)

    backtests = pd.read_csv(project / "data/07_model_output/backtest_forecasts.csv",
                            parse_dates=["timestamp", "origin"])
    scored = pd.DatetimeIndex(backtests["timestamp"].unique())
    assert len(scored) == 6 * 7 and scored.isin(days).all()  # every scored point a real row
    assert not scored.isin(holidays).any()
    forecast = pd.read_csv(project / "data/07_model_output/forecast.csv",
                           parse_dates=["timestamp"])
    expected = pd.bdate_range(days[-1], periods=8)[1:]  # the next seven business days
    assert list(forecast["timestamp"]) == list(expected)
