"""Raw table → ``series``: validated, sorted, regular, gap-repaired or refused.

Every refusal raises :class:`DataValidationError` naming the file, the column or parameter,
the offending value or timestamp, and what to do. Repairs are logged.
"""

from __future__ import annotations

import logging

import pandas as pd

from seqcast.cleaning import checks, gaps, panel, timestamps
from seqcast.cleaning.checks import DataValidationError
from seqcast.windows import WindowGeometry

logger = logging.getLogger(__name__)

DEFAULT_MAX_INTERPOLATED = 0.05


def _limits(data: dict) -> tuple[int, float]:
    max_gap = data.get("max_gap", 0)
    if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
        raise DataValidationError(f"params:data.max_gap must be an integer >= 0, got {max_gap!r}")
    share = data.get("max_interpolated", DEFAULT_MAX_INTERPOLATED)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise DataValidationError(
            f"params:data.max_interpolated must be a fraction between 0 and 1, got {share!r}"
        )
    return max_gap, float(share)


def _in_order(frame: pd.DataFrame, policy: str, where: str) -> pd.DataFrame:
    if not frame.index.is_monotonic_increasing:
        logger.warning("%s: rows were not in time order; sorted %d rows", where, len(frame))
        frame = frame.sort_index(kind="stable")
    return checks.deduplicate(frame, policy, where)


def clean_table(raw: pd.DataFrame, data: dict, geometry: WindowGeometry) -> pd.DataFrame:
    """Validate and regularise the raw table.

    Args:
        raw: the table as read, one row per timestamp (any order).
        data: ``params:data`` (path, time_column, targets, features, frequency, timezone,
            duplicates, max_gap, max_interpolated).
        geometry: the window settings, to refuse a series too short for its windows.

    Returns:
        ``series``: ``(N, n_features)`` float64 with a DatetimeIndex, features in order;
        regular at ``data.frequency``, or one row per step with ``frequency: rows``.
    """
    where = data.get("path", "raw data")
    max_gap, max_share = _limits(data)
    time_column, targets, features = checks.resolve_columns(raw, data)
    frame = checks.numeric(raw, features, where)
    frame.index = timestamps.parse_timestamps(raw, time_column, data.get("timezone"), where)
    checks.check_range(frame, where)
    frame = _in_order(frame, data.get("duplicates", "error"), where)

    offset = None
    if data.get("frequency") != timestamps.ROWS:
        offset = timestamps.step_offset(frame.index, data.get("frequency"), where)
        frame = timestamps.regularise(frame, offset, where)
    frame = gaps.trim(frame, where)
    gaps.check_share(frame, max_share, offset, where)
    gaps.check_gaps(frame, max_gap, where)
    frame = gaps.fill(frame, where)

    checks.check_targets_vary(frame, targets, where)
    geometry.check_length(len(frame), where)
    logger.info(
        "%s: series of %d points %s … %s, features %s, targets %s",
        where, len(frame), frame.index[0], frame.index[-1], features, targets,
    )
    return frame


def single_report() -> dict:
    """The ingestion report of one series: kept, or refused with an error before this."""
    return {"series_in": 1, "series_kept": 1,
            "dropped": {"count": 0, "by_reason": {}, "series": []},
            "constant_target": {"count": 0, "ids": [], "note": "a constant target is refused"}}


def ingest(raw: pd.DataFrame, data: dict, geometry: WindowGeometry) -> tuple[pd.DataFrame, dict]:
    """``(series, report)``: one series as :func:`clean_table` cleans it, or with
    ``data.id_columns`` a panel in long format (:func:`seqcast.cleaning.panel.clean_panel`)."""
    if not panel.id_columns(data):
        return clean_table(raw, data, geometry), single_report()
    return panel.clean_panel(raw, data, geometry, _limits(data))
