"""Missing steps and values: trimmed at the ends, refused when too many or too long, else filled.

Two limits guard what interpolation may invent: ``params:data.max_gap`` (the longest run of
missing steps filled) and ``params:data.max_interpolated`` (the largest share of a column
filled). The share is checked first: a frequency finer than the data's (``h`` on daily data)
shows as a series that is mostly missing, and is refused as such, not as a long gap.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from seqcast.cleaning.checks import DataValidationError
from seqcast.cleaning.timestamps import likely_frequency

logger = logging.getLogger(__name__)


def _runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the runs of True."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return starts, ends - starts


def trim(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Drop leading and trailing rows with a missing value: those are never invented."""
    complete = frame.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataValidationError(f"{where}: no row has a value in every selected column")
    first, last = np.flatnonzero(complete)[[0, -1]]
    if first > 0 or last < len(frame) - 1:
        logger.warning(
            "%s: trimmed %d leading and %d trailing row(s) with missing values",
            where, first, len(frame) - 1 - last,
        )
        frame = frame.iloc[first : last + 1]
    return frame


def check_share(frame: pd.DataFrame, max_share: float, offset, where: str) -> None:
    """Refuse a column whose share of missing values exceeds ``max_share``."""
    shares = frame.isna().mean()
    column = shares.idxmax()
    if shares[column] <= max_share:
        return
    observed = frame.index[frame.notna().any(axis=1).to_numpy()]
    likely = likely_frequency(observed)
    used = "rows" if offset is None else offset.freqstr
    if likely is not None and offset is not None and likely.freqstr != used:
        hint = (f"the timestamps are spaced like frequency {likely.freqstr!r}, not {used!r}: "
                f"set params:data.frequency: {likely.freqstr}")
    else:
        hint = ("fill the missing values upstream, or raise params:data.max_interpolated; "
                "for rows with calendar holes (trading days, shifts) set params:data.frequency "
                "to their calendar (B) or to rows")
    raise DataValidationError(
        f"{where}: {shares[column]:.0%} of column {column!r} ({int(frame[column].isna().sum())} "
        f"of {len(frame)} steps at frequency {used}) would be interpolated, more than "
        f"params:data.max_interpolated={max_share:g}; {hint}"
    )


def check_gaps(frame: pd.DataFrame, max_gap: int, where: str) -> None:
    """Refuse runs of missing steps longer than ``max_gap``, summarising all of them."""
    long_runs = set()  # (start, length): a missing timestamp is one gap, whatever the columns
    longest = None
    for column in frame.columns:
        starts, lengths = _runs(frame[column].isna().to_numpy())
        for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
            if length > max_gap:
                long_runs.add((start, length))
                if longest is None or length > longest[1]:
                    longest = (start, length, column)
    if not long_runs:
        return
    start, length, column = longest
    raise DataValidationError(
        f"{where}: {len(long_runs)} gap(s) longer than params:data.max_gap={max_gap} missing "
        f"step(s); the longest, in column {column!r}, has {length} missing step(s) starting "
        f"{frame.index[start]}. params:data.max_gap: {length} would accept the file; or fill "
        "the gaps upstream, or shorten the series"
    )


def fill(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Linear interpolation inside the series (steps are equally spaced), logged per column."""
    for column in frame.columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            _, lengths = _runs(missing)
            logger.warning(
                "%s: column %r: interpolated %d missing value(s) in %d gap(s) of at most %d "
                "step(s)", where, column, int(missing.sum()), len(lengths), int(lengths.max()),
            )
    return frame.interpolate(method="linear", limit_area="inside")
