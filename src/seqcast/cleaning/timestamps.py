"""Timestamps of a raw table: parsing, time zones, the step frequency and future steps.

``params:data.timezone`` decides the clock of the series. ``null`` (the default): timestamps
with a UTC offset are converted to UTC (offsets may change, e.g. across a DST switch), naive
ones are kept as written. A zone name (``UTC``, ``Europe/Paris``): every timestamp ends in that
zone; naive ones are read as its wall-clock time, and one that repeats or does not exist at a
DST switch is refused.
"""

from __future__ import annotations

import logging
import re
import zoneinfo

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from seqcast.cleaning.checks import DataValidationError

logger = logging.getLogger(__name__)

ROWS = "rows"  # params:data.frequency: each row is the next step, calendar holes and all
# A time of day followed by "Z" or a UTC offset ("+01:00", "-0500", "+01").
_OFFSET = re.compile(r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)\s*$")


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _zone(timezone: str | None) -> str | None:
    if timezone is None:
        return None
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise DataValidationError(
            f"params:data.timezone={timezone!r} is not a time zone name; use UTC, a zone such "
            "as Europe/Paris, or null to keep the file's own clock"
        ) from err
    return str(timezone)


def _parse(text: pd.Series, column: str, where: str) -> pd.Series:
    """Parse as written; offsets that differ between rows are brought to UTC."""
    try:
        return pd.to_datetime(text, errors="coerce", format="mixed")
    except ValueError:  # "Mixed timezones detected": several offsets, or offsets and naive
        pass
    has_offset = text.astype("string").str.contains(_OFFSET, na=False).to_numpy()
    if not has_offset.all():
        row = _first(~has_offset & text.notna().to_numpy())
        raise DataValidationError(
            f"{where}: column {column!r} mixes timestamps with and without a UTC offset, first "
            f"without one {text.iloc[row]!r} in data row {row + 1}; export every timestamp "
            "with its offset (or none of them)"
        )
    return pd.to_datetime(text, errors="coerce", format="mixed", utc=True)


def _localize(parsed: pd.Series, text: pd.Series, column: str, zone: str, where: str):
    """Naive wall-clock times read in ``zone``; repeated or vanished DST times refused."""
    local = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    lost = local.isna().to_numpy() & parsed.notna().to_numpy()
    if lost.any():
        row = _first(lost)
        raise DataValidationError(
            f"{where}: column {column!r} has {int(lost.sum())} local time(s) that repeat or do "
            f"not exist at a DST switch in {zone}, first {text.iloc[row]!r} in data row "
            f"{row + 1}; export the times with their UTC offset, or in UTC and set "
            "params:data.timezone: UTC"
        )
    return local


def parse_timestamps(raw: pd.DataFrame, column: str, timezone: str | None,
                     where: str) -> pd.DatetimeIndex:
    """The time column as a DatetimeIndex in the clock ``timezone`` selects (module doc)."""
    zone = _zone(timezone)
    text = raw[column]
    if pd.api.types.is_numeric_dtype(text):
        # CSV readers turn 19580329 or 1958 into integers; as numbers pandas would read them
        # as nanoseconds since 1970, so parse their text instead.
        text = text.astype("string")
    parsed = _parse(text, column, where)
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = _first(bad)
        raise DataValidationError(
            f"{where}: column {column!r} has {int(bad.sum())} unparseable timestamp(s), "
            f"first {text.iloc[row]!r} in data row {row + 1}; fix or remove those rows"
        )
    if parsed.dt.tz is None:
        parsed = parsed if zone is None else _localize(parsed, text, column, zone, where)
    else:
        parsed = parsed.dt.tz_convert(zone or "UTC")
    return pd.DatetimeIndex(parsed, name=column)


def likely_frequency(index: pd.DatetimeIndex):
    """The most common spacing of the timestamps, as an offset (``None``: fewer than 2)."""
    if len(index) < 2:
        return None
    if len(index) >= 3:
        inferred = pd.infer_freq(index)
        if inferred:
            return to_offset(inferred)
    step = pd.Series(index[1:] - index[:-1]).mode().iloc[0]
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        # Calendar days, not multiples of 24 h: a local day across a DST switch lasts 23 or 25 h.
        return to_offset(f"{step.days}D")
    return to_offset(step)


def step_offset(index: pd.DatetimeIndex, frequency: str | None, where: str):
    """``params:data.frequency`` as an offset, inferred from the data when null."""
    if frequency:
        try:
            return to_offset(frequency)
        except ValueError as err:
            raise DataValidationError(
                f"params:data.frequency={frequency!r} is neither a pandas frequency ('D', 'h', "
                f"'30min', 'B', ...) nor {ROWS!r} ({err})"
            ) from err
    offset = likely_frequency(index)
    if offset is None:
        raise DataValidationError(f"{where}: too few rows to infer a frequency")
    logger.info("%s: frequency %s inferred from the timestamps", where, offset.freqstr)
    return offset


def regularise(frame: pd.DataFrame, offset, where: str) -> pd.DataFrame:
    """Reindex on the regular grid of ``offset``; a timestamp off that grid is refused."""
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=offset, name=frame.index.name)
    off_grid = frame.index.difference(grid)
    if len(off_grid):
        likely = likely_frequency(frame.index)
        hint = f" (the data looks like frequency {likely.freqstr!r})" if likely else ""
        if str(frame.index.tz) == "UTC":
            # Local days or hours written with their offsets shift against UTC at DST.
            hint += ", or params:data.timezone to the zone the times were recorded in"
        raise DataValidationError(
            f"{where}: {len(off_grid)} timestamp(s) are off the {offset.freqstr} grid starting "
            f"{frame.index[0]}, first {off_grid[0]}; set params:data.frequency{hint}, or "
            f"data.frequency: {ROWS} to take the rows as consecutive steps, or fix the times"
        )
    if len(grid) > len(frame):
        logger.warning(
            "%s: %d missing timestamp(s) at frequency %s inserted as gaps",
            where, len(grid) - len(frame), offset.freqstr,
        )
    return frame.reindex(grid)


def future_timestamps(index: pd.DatetimeIndex, periods: int, data: dict) -> pd.Index:
    """The ``periods`` steps after the last timestamp of a cleaned series.

    With ``data.frequency: rows`` they follow ``data.step_frequency`` (e.g. ``B``: business
    days), or are step numbers ``1 … periods`` when it is null. Otherwise they follow
    ``data.frequency``, or the frequency of the series when that is null.
    """
    if data.get("frequency") == ROWS:
        frequency = data.get("step_frequency")
        if not frequency:
            return pd.RangeIndex(1, periods + 1, name="step")
    else:
        frequency = data.get("frequency")
    offset = step_offset(index, frequency, data.get("path", "series"))
    # Start one step after the last stamp: a stamp off the offset (a Saturday for "B") still
    # moves forward to the next valid step.
    return pd.date_range(index[-1] + offset, periods=periods, freq=offset, name=index.name)
