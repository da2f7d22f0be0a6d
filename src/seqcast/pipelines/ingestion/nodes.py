"""Raw table → ``series``; the rules live in :mod:`seqcast.cleaning`."""

from __future__ import annotations

import pandas as pd

from seqcast.cleaning import clean_table
from seqcast.windows import WindowGeometry


def clean_series(raw: pd.DataFrame, data: dict, windows: dict) -> pd.DataFrame:
    """``raw_series`` validated and regularised with ``params:data``; long enough for
    ``params:windows``."""
    return clean_table(raw, data, WindowGeometry.from_params(windows))
