"""A long-format panel (``params:data.id_columns``) → clean series in long format, and a report.

The file is refused as a whole for what is wrong with the file or the parameters: a missing or
non-numeric column, an unparseable timestamp, an infinite or out-of-range value, a duplicate
timestamp under ``duplicates: error``, a timestamp off the frequency grid. A series is dropped,
logged and listed in the report for what is wrong with that series only: no complete row, too
many values to interpolate, a gap longer than ``max_gap``, too few points for the windows. A
constant target is kept and reported (its MASE is undefined). Errors name the series.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from seqcast.cleaning import checks, grid, timestamps
from seqcast.cleaning.checks import DataValidationError, as_list
from seqcast.cleaning.ids import SeriesIds
from seqcast.windows import WindowGeometry

logger = logging.getLogger(__name__)


def id_columns(data: dict) -> list[str]:
    """``params:data.id_columns`` as a list; empty: the file is one series."""
    return as_list(data.get("id_columns"))


def _read(raw: pd.DataFrame, data: dict, where: str):
    """Columns, ids, values and stamps of the raw table; file-wide refusals."""
    ids = id_columns(data)
    absent = [c for c in ids if c not in raw.columns]
    if absent:
        time = data.get("time_column") or "date"
        raise DataValidationError(
            f"{where}: id column(s) {absent} (params:data.id_columns) not found; the file has "
            f"{list(raw.columns)}. A wide file (one column per series) must be melted to long "
            f"format first, e.g. pandas df.melt(id_vars=[{time!r}], var_name={absent[0]!r}, "
            "value_name='y'), and data.targets set to the value column"
        )
    time_column, targets, features = checks.resolve_columns(raw, data, exclude=ids)
    series = SeriesIds(raw, ids, where)
    values = checks.numeric(raw, features, where).to_numpy(np.float64)
    return time_column, targets, features, series, values, _stamps(raw, time_column, data, where)


def _stamps(raw: pd.DataFrame, column: str, data: dict, where: str) -> pd.DatetimeIndex:
    """The time column; a naive datetime column (Parquet) is taken as it is, without a copy."""
    zone = data.get("timezone")
    if zone is None and raw[column].dtype.kind == "M":  # naive: nothing to parse or convert
        return pd.DatetimeIndex(raw[column].to_numpy(copy=False), name=column, copy=False)
    return timestamps.parse_timestamps(raw, column, zone, where)


def _check_range(flat: grid.Flat, features, index, series: SeriesIds, where: str) -> None:
    with np.errstate(invalid="ignore"):
        outside = np.abs(flat.values) > checks.FLOAT32_SAFE
    if outside.any():
        row = int(np.flatnonzero(outside.any(axis=1))[0])
        one = pd.DataFrame(flat.values[[row]], columns=features, index=index[[row]])
        checks.check_range(one, f"{where}, {series.name(int(flat.codes[row]))}")


def _sorted(flat: grid.Flat, policy: str, series: SeriesIds, zone, where: str) -> grid.Flat:
    order = grid.sort_order(flat)
    if order is not None:
        flat.keep(order)
        del order
    duplicated = grid.duplicated(flat)
    if not duplicated.any():
        return flat
    row = int(np.flatnonzero(duplicated)[0])
    first = f"{series.name(int(flat.codes[row]))} at {flat.timestamp(row, zone)}"
    if policy == "error":
        raise DataValidationError(
            f"{where}: {int(duplicated.sum())} rows share a series and timestamp with another "
            f"row, first {first}; remove them or set params:data.duplicates to keep_last or mean"
        )
    logger.warning("%s: %d rows with duplicate timestamps (first %s) merged by %s",
                   where, int(duplicated.sum()), first, policy)
    return grid.merge_duplicates(flat, policy)


def _offset(flat: grid.Flat, data: dict, zone, where: str):
    """``data.frequency``, else inferred: the calendar frequency of the first of the five
    longest series whose stamps have one (a gap hides it), else the longest's usual step."""
    if data.get("frequency") == timestamps.ROWS:
        return None
    starts, lengths = flat.starts, flat.lengths
    longest = np.argsort(-lengths, kind="stable")[:5]
    indexes = [flat.index(slice(starts[c], starts[c] + lengths[c]), zone) for c in longest]
    if not data.get("frequency"):
        inferred = [pd.infer_freq(i) for i in indexes if len(i) >= 3]
        if any(inferred):
            offset = to_offset(next(f for f in inferred if f))
            logger.info("%s: frequency %s inferred from the timestamps", where, offset.freqstr)
            return offset
    return timestamps.step_offset(indexes[0], data.get("frequency"), where)


def _regular(flat, offset, zone, series: SeriesIds, where: str) -> grid.Flat:
    step_ns = None if offset is None else grid.fixed_step(offset, zone is not None)
    step = None if step_ns is None else flat.step(step_ns)
    steps = grid.positions(flat, offset, step, zone)
    if not steps.on_grid.all():
        off = ~steps.on_grid
        row = int(np.flatnonzero(off)[0])
        raise DataValidationError(
            f"{where}: {int(off.sum())} timestamp(s) are off the {offset.freqstr} grid, "
            f"first {flat.timestamp(row, zone)} in {series.name(int(flat.codes[row]))}; "
            f"set params:data.frequency, or data.frequency: {timestamps.ROWS} to take the rows "
            "as consecutive steps, or fix the times"
        )
    steps.on_grid = None
    observed = len(flat.codes)
    grid.regular(flat, steps, step)
    if len(flat.codes) > observed:
        logger.warning("%s: %d missing timestamp(s) at frequency %s inserted as gaps",
                       where, len(flat.codes) - observed, offset.freqstr)
    return flat


class _Drops:
    """The first reason each series is dropped for, by code."""

    def __init__(self, series: SeriesIds):
        self.series = series
        self.reasons: dict[int, str] = {}
        self.kinds: dict[int, str] = {}

    def add(self, codes: np.ndarray, kind: str, reason) -> None:
        for code in codes.tolist():  # only the series being dropped
            if code not in self.reasons:
                self.reasons[code], self.kinds[code] = reason(code), kind

    def counts(self) -> dict[str, int]:
        kinds = pd.Series(list(self.kinds.values()), dtype=object).value_counts()
        return {k: int(v) for k, v in kinds.items()}

    def keep(self, n_series: int) -> np.ndarray:
        keep = np.ones(n_series, dtype=bool)
        keep[list(self.reasons)] = False
        return keep


def _trim(flat: grid.Flat, drops: _Drops, where: str) -> grid.Flat:
    """Leading and trailing rows with a missing value removed per series."""
    first, last = grid.complete_span(flat)
    drops.add(np.flatnonzero(last < 0), "no complete row",
              lambda c: "no row has a value in every selected column")
    keep = grid.spans(len(flat.codes), first[last >= 0], last[last >= 0])
    if not keep.all():
        logger.warning("%s: trimmed %d leading or trailing row(s) with missing values in %d "
                       "series", where, int((~keep).sum()),
                       len(np.unique(flat.codes[~keep])))
    flat.keep(keep)
    return flat


def _flag(flat: grid.Flat, features, limits: tuple[int, float], drops: _Drops, zone) -> None:
    """Series with too much to interpolate or too long a gap."""
    max_gap, max_share = limits
    lengths = np.maximum(flat.lengths, 1)
    missing = grid.reduce(flat, np.isnan(flat.values).astype(np.int64), np.add, 0)
    shares = missing / lengths[:, None]
    worst = shares.argmax(axis=1)
    drops.add(np.flatnonzero(shares.max(axis=1) > max_share), "too much missing", lambda c: (
        f"{shares[c, worst[c]]:.0%} of column {features[worst[c]]!r} would be interpolated, "
        f"more than params:data.max_interpolated={max_share:g}"))
    length, row, column = grid.longest_gaps(flat)
    drops.add(np.flatnonzero(length > max_gap), "long gap", lambda c: (
        f"a gap of {length[c]} missing step(s) in column {features[column[c]]!r} starting "
        f"{flat.timestamp(row[c], zone)}, longer than params:data.max_gap={max_gap}"))


def _constant_targets(flat: grid.Flat, columns: list[int]) -> np.ndarray:
    """Codes of the kept series with a constant target (column views, no copy of the rows)."""
    constant = np.zeros(flat.n_series, dtype=bool)
    for j in columns:
        column = flat.values[:, j]
        spread = (grid.reduce(flat, column, np.maximum, np.nan)
                  - grid.reduce(flat, column, np.minimum, np.nan))
        constant |= spread == 0
    return np.flatnonzero(constant)


def _report(series: SeriesIds, drops: _Drops, constant: np.ndarray, kept: int) -> dict:
    return {
        "series_in": len(series),
        "series_kept": kept,
        "dropped": {
            "count": len(drops.reasons),
            "by_reason": drops.counts(),
            "series": [{"id": series.value(c), "reason": r}
                       for c, r in sorted(drops.reasons.items())],
        },
        "constant_target": {
            "count": len(constant),
            "ids": [series.value(int(c)) for c in constant],
            "note": "kept for training; MASE is undefined (zero scale) and left out of averages",
        },
    }


def _log_drops(drops: _Drops, n_series: int, where: str) -> None:
    if not drops.reasons:
        return
    shown = sorted(drops.reasons.items())[:5]
    logger.warning("%s: dropped %d of %d series (listed in the ingestion report), e.g. %s",
                   where, len(drops.reasons), n_series,
                   "; ".join(f"{drops.series.name(c)}: {r}" for c, r in shown))
    if len(drops.reasons) == n_series:
        code, reason = shown[0]
        raise DataValidationError(
            f"{where}: no series is left after cleaning: all {n_series} were dropped "
            f"({drops.counts()}); first "
            f"{drops.series.name(code)}: {reason}"
        )


def clean_panel(raw: pd.DataFrame, data: dict, geometry: WindowGeometry,
                limits: tuple[int, float]) -> tuple[pd.DataFrame, dict]:
    """Validate and regularise every series of a long-format table (module doc).

    Returns:
        The panel, one row per (series, timestamp): id columns, time column, features as
        float64, sorted by ids then time; and the report (``series_in``, ``series_kept``,
        ``dropped`` with count, reasons and ids, ``constant_target``).
    """
    where = data.get("path", "raw data")
    time_column, targets, features, series, values, index = _read(raw, data, where)
    zone = index.tz
    flat = grid.Flat(series.codes, index.asi8, values, len(series), index.unit)
    _check_range(flat, features, index, series, where)
    del values, index  # held by ``flat`` until its first reordering frees them
    series.codes = None
    flat = _sorted(flat, data.get("duplicates", "error"), series, zone, where)
    flat = _regular(flat, _offset(flat, data, zone, where), zone, series, where)
    drops = _Drops(series)
    flat = _trim(flat, drops, where)
    _flag(flat, features, limits, drops, zone)
    needed = geometry.required_length()
    drops.add(np.flatnonzero(flat.lengths < needed), "too short", lambda c: (
        f"{flat.lengths[c]} points after cleaning, {needed} needed for one training window, "
        "the validation and the test blocks (see params:windows)"))
    _log_drops(drops, len(series), where)
    flat.keep(drops.keep(len(series))[flat.codes])
    for column, count in zip(features, grid.interpolate(flat), strict=True):
        if count:
            logger.warning("%s: column %r: interpolated %d missing value(s)", where, column, count)
    constant = _constant_targets(flat, [features.index(t) for t in targets])
    if len(constant):
        logger.warning("%s: %d series with a constant target kept (MASE undefined), e.g. %s",
                       where, len(constant), series.name(int(constant[0])))
    stamps = flat.index(slice(None), zone, time_column)
    columns = {f: np.ascontiguousarray(flat.values[:, j]) for j, f in enumerate(features)}
    panel = pd.DataFrame({**series.frame(flat), time_column: stamps, **columns},
                         copy=False)
    kept = int((flat.lengths > 0).sum())
    logger.info("%s: panel of %d series, %d points, features %s, targets %s",
                where, kept, len(panel), features, targets)
    return panel, _report(series, drops, constant, kept)
