"""Node of the forecast pipeline; the logic: :mod:`seqcast.inference`."""

import pandas as pd

from seqcast import inference
from seqcast.outputs import rounded_forecasts


def forecast_next(series: pd.DataFrame, data: dict, forecast: dict, windows: dict,
                  significant_digits: int | None) -> pd.DataFrame:
    """:func:`seqcast.inference.forecast_next`, its forecasts written with
    ``significant_digits``."""
    return rounded_forecasts(inference.forecast_next(series, data, forecast, windows),
                             significant_digits)
