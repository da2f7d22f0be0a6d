"""Node of the forecast pipeline; the logic: :mod:`seqcast.inference`."""

import pandas as pd

from seqcast import inference
from seqcast.outputs import rounded_forecasts


def forecast_next(  # noqa: PLR0913, PLR0917  (one argument per Kedro input)
        series: pd.DataFrame, data: dict, forecast: dict, windows: dict,
        significant_digits: int | None, future: pd.DataFrame) -> pd.DataFrame:
    """:func:`seqcast.inference.forecast_next` (``future``: the known-future columns' next
    values), its forecasts written with ``significant_digits``."""
    return rounded_forecasts(inference.forecast_next(series, data, forecast, windows, future),
                             significant_digits)
