"""Raw table → ``series`` (and the ingestion report); the rules live in :mod:`seqcast.cleaning`."""

from __future__ import annotations

import pandas as pd

from seqcast.cleaning import ingest
from seqcast.windows import WindowGeometry


def clean_series_with_report(raw: pd.DataFrame, data: dict,
                             windows: dict) -> tuple[pd.DataFrame, dict]:
    """``raw_series`` validated and regularised with ``params:data``, each series long enough
    for ``params:windows``; with the report of series dropped or constant."""
    return ingest(raw, data, WindowGeometry.from_params(windows))
