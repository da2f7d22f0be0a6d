"""The CSV files people read (``backtest_forecasts.csv``, ``forecast.csv``): forecasts and
their quantiles rounded to ``outputs.significant_digits``; scores use the full precision."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqcast.errors import SeqcastError
from seqcast.intervals import is_quantile_column


class OutputsConfigError(SeqcastError, ValueError):
    """``params:outputs`` holds a value the CSV outputs cannot use."""


def round_significant(values: np.ndarray, digits: int | None) -> np.ndarray:
    """``values`` (float64) rounded to ``digits`` significant digits; ``None``: unchanged.

    Scaling by an exact power of ten (up to 1e22) and back is correctly rounded, so each
    result is the float64 nearest its rounded decimal and is written with at most ``digits``
    digits; the rare values beyond that range go through decimal text instead.
    """
    values = np.asarray(values, dtype=np.float64)
    if digits is None:
        return values
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise OutputsConfigError(
            f"outputs.significant_digits is {digits!r}: give a whole number of at least 1 "
            "(e.g. 6), or null to write forecasts at full precision")
    out = values.copy()
    scaled = np.isfinite(values) & (values != 0)
    shift = np.zeros(values.shape, dtype=np.int64)
    shift[scaled] = digits - 1 - np.floor(np.log10(np.abs(values[scaled]))).astype(np.int64)
    up, down = scaled & (shift >= 0) & (shift <= 22), scaled & (shift < 0) & (shift >= -22)
    power = 10.0 ** np.abs(shift)
    out[up] = np.round(values[up] * power[up]) / power[up]
    out[down] = np.round(values[down] / power[down]) * power[down]
    rest = scaled & ~up & ~down
    out[rest] = [float(f"{v:.{digits}g}") for v in values[rest]]
    return out


def rounded_forecasts(table: pd.DataFrame, digits: int | None) -> pd.DataFrame:
    """``table`` as written: its forecast and quantile columns (``q0.1`` …) rounded to
    ``digits`` significant digits, the uncalibrated quantiles (``raw_q…``, read by the
    scores only) left out; the actuals stay as read."""
    table = table.drop(columns=[c for c in table.columns if c.startswith("raw_q")])
    if digits is None:
        return table
    rounded = [c for c in table.columns if c == "forecast" or is_quantile_column(c)]
    return table.assign(**{c: round_significant(table[c].to_numpy(), digits) for c in rounded})

