"""``series`` → ``window_spec``: the small description every later pipeline windows from.

Only the series and this specification pass between pipelines; the windows themselves are
cut on the fly (:class:`seqcast.windows.WindowStream`). The logic: :mod:`seqcast.spec`.
"""

from __future__ import annotations

import pandas as pd

from seqcast.spec import make_window_spec


def window_spec(series: pd.DataFrame, data: dict, windows: dict) -> dict:
    """The JSON form of :func:`seqcast.spec.make_window_spec` (``window_spec.json``)."""
    return make_window_spec(series, data, windows).to_dict()
