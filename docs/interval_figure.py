"""Make ``docs/forecast-interval.png``: the best model's test forecasts with their calibrated
interval on the default data, as ``kedro run --config conf/intervals.yml`` left them.

Run from the project root::

    .venv/bin/kedro run --config conf/intervals.yml
    .venv/bin/python docs/interval_figure.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from seqcast.backtest import context_table
from seqcast.plots import plot_series_grid
from seqcast.spec import WindowSpec

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "forecast-interval.png"


def main() -> None:
    data = ROOT / "data"
    metrics = json.loads((data / "08_reporting" / "metrics.json").read_text())
    with_intervals = [m for m in metrics if "coverage_80_raw" in metrics[m]]
    if not with_intervals:
        raise SystemExit("metrics.json has no model with an 80% interval: run "
                         "`kedro run --config conf/intervals.yml` first")
    best = min(with_intervals, key=lambda m: metrics[m]["mase"])
    forecasts = pd.read_csv(data / "07_model_output" / "backtest_forecasts.csv",
                            parse_dates=["timestamp", "origin"])
    series = pd.read_parquet(data / "02_intermediate" / "series.parquet")
    spec = WindowSpec.from_dict(json.loads(
        (data / "05_model_input" / "window_spec.json").read_text()))
    by_series = pd.read_parquet(data / "08_reporting" / "metrics_by_series.parquet")
    shown = forecasts[forecasts["model"].isin([best, "naive"])]
    figure = plot_series_grid(shown, context_table(series, spec), by_series, best, units="°C")
    figure.savefig(OUT, dpi=80)
    print(f"{OUT.relative_to(ROOT)}: {best}, 80% interval coverage "
          f"{metrics[best]['coverage_80']:.2f} on the test origins")


if __name__ == "__main__":
    main()
