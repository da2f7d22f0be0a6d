"""Raw CSV → ``series``: validated, sorted, regular, gap-repaired or refused.

Every refusal raises :class:`DataValidationError` naming the file, the column or parameter,
the offending value or timestamp, and what to do. Repairs are logged.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from seqcast.errors import SeqcastError
from seqcast.windows import WindowGeometry

logger = logging.getLogger(__name__)

DUPLICATE_POLICIES = ("error", "keep_last", "mean")


class DataValidationError(SeqcastError, ValueError):
    """The raw data cannot be turned into a regular series."""


def as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def resolve_columns(raw: pd.DataFrame, data: dict) -> tuple[str, list[str], list[str]]:
    """``(time_column, targets, features)`` from ``params:data``; features default to numerics."""
    where = data.get("path", "raw data")
    time_column = data.get("time_column")
    targets = as_list(data.get("targets"))
    if not time_column or not targets:
        raise DataValidationError(
            f"{where}: params:data.time_column and params:data.targets must be set "
            f"(columns in the file: {list(raw.columns)})"
        )
    features = as_list(data.get("features"))
    if not features:
        features = [
            c for c in raw.columns if c != time_column and pd.api.types.is_numeric_dtype(raw[c])
        ]
        features += [t for t in targets if t not in features]
    missing = [c for c in [time_column, *targets, *features] if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{where}: column(s) {sorted(set(missing))} not found; the file has "
            f"{list(raw.columns)}. Fix params:data.time_column / targets / features"
        )
    outside = [t for t in targets if t not in features]
    if outside:
        raise DataValidationError(
            f"{where}: target(s) {outside} are not among params:data.features {features}; the "
            "models read the targets' own history, so add them to features"
        )
    return time_column, targets, features


def _numeric(raw: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    out = {}
    for column in columns:
        values = raw[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            converted = pd.to_numeric(values, errors="coerce")
            bad = converted.isna() & values.notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataValidationError(
                    f"{where}: column {column!r} is not numeric (value {values.iloc[row]!r} in "
                    f"data row {row + 1}); remove it from params:data.features/targets or "
                    "encode it as numbers"
                )
            values = converted
        out[column] = values.astype("float64")
    return pd.DataFrame(out)


def _timestamps(raw: pd.DataFrame, time_column: str, where: str) -> pd.DatetimeIndex:
    text = raw[time_column]
    if pd.api.types.is_numeric_dtype(text):
        # CSV readers turn 19580329 or 1958 into integers; as numbers pandas would read them
        # as nanoseconds since 1970, so parse their text instead.
        text = text.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{where}: column {time_column!r} has {int(bad.sum())} unparseable timestamp(s), "
            f"first {text.iloc[row]!r} in data row {row + 1}; fix or remove those rows"
        )
    return pd.DatetimeIndex(parsed, name=time_column)


def _deduplicate(frame: pd.DataFrame, policy: str, where: str) -> pd.DataFrame:
    if policy not in DUPLICATE_POLICIES:
        raise DataValidationError(
            f"params:data.duplicates={policy!r} is not one of {list(DUPLICATE_POLICIES)}"
        )
    duplicated = frame.index.duplicated(keep=False)
    if not duplicated.any():
        return frame
    first = frame.index[duplicated][0]
    if policy == "error":
        raise DataValidationError(
            f"{where}: {int(duplicated.sum())} rows share a timestamp with another row, first "
            f"{first}; remove them or set params:data.duplicates to keep_last or mean"
        )
    grouped = frame.groupby(level=0, sort=True)
    logger.warning(
        "%s: %d rows with duplicate timestamps (first %s) merged by %s",
        where, int(duplicated.sum()), first, policy,
    )
    return grouped.last() if policy == "keep_last" else grouped.mean()


def _frequency(index: pd.DatetimeIndex, frequency: str | None, where: str):
    if frequency:
        try:
            return to_offset(frequency)
        except ValueError as err:
            raise DataValidationError(
                f"params:data.frequency={frequency!r} is not a pandas frequency ({err})"
            ) from err
    inferred = pd.infer_freq(index) if len(index) >= 3 else None
    if inferred:
        return to_offset(inferred)
    # Gaps defeat infer_freq: take the most common spacing, then check the grid below.
    steps = pd.Series(index[1:] - index[:-1])
    if steps.empty:
        raise DataValidationError(f"{where}: too few rows to infer a frequency")
    step = steps.mode().iloc[0]
    logger.info("%s: frequency inferred from the most common spacing: %s", where, step)
    return to_offset(step)


def _regularise(frame: pd.DataFrame, offset, where: str) -> pd.DataFrame:
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=offset, name=frame.index.name)
    off_grid = frame.index.difference(grid)
    if len(off_grid):
        raise DataValidationError(
            f"{where}: {len(off_grid)} timestamp(s) are off the {offset.freqstr} grid starting "
            f"{frame.index[0]}, first {off_grid[0]}; set params:data.frequency or fix the times"
        )
    if len(grid) > len(frame):
        logger.warning(
            "%s: %d missing timestamp(s) at frequency %s inserted as gaps",
            where, len(grid) - len(frame), offset.freqstr,
        )
    return frame.reindex(grid)


def _trim_and_fill(frame: pd.DataFrame, max_gap: int, where: str) -> pd.DataFrame:
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
    for column in frame.columns:
        missing = frame[column].isna().to_numpy()
        if not missing.any():
            continue
        # Runs of consecutive missing values: their starts and lengths.
        edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        if (lengths > max_gap).any():
            k = int(np.flatnonzero(lengths > max_gap)[0])
            raise DataValidationError(
                f"{where}: column {column!r} has a gap of {int(lengths[k])} missing step(s) "
                f"starting {frame.index[starts[k]]}, longer than params:data.max_gap={max_gap}; "
                "fill it upstream, shorten the series, or raise max_gap"
            )
        logger.warning(
            "%s: column %r: interpolated %d missing value(s) in %d gap(s) of at most %d step(s)",
            where, column, int(missing.sum()), len(lengths), int(lengths.max()),
        )
    return frame.interpolate(method="linear", limit_area="inside")


def clean_series(raw: pd.DataFrame, data: dict, windows: dict) -> pd.DataFrame:
    """Validate and regularise the raw table.

    Args:
        raw: the CSV as read, one row per timestamp (any order).
        data: ``params:data`` (path, time_column, targets, features, frequency,
            duplicates, max_gap).
        windows: ``params:windows``, to refuse a series too short for its windows.

    Returns:
        ``series``: ``(N, n_features)`` float64 with a regular DatetimeIndex, features in order.
    """
    where = data.get("path", "raw data")
    max_gap = data.get("max_gap", 0)
    if not isinstance(max_gap, int) or max_gap < 0:
        raise DataValidationError(f"params:data.max_gap must be an integer >= 0, got {max_gap!r}")
    geometry = WindowGeometry.from_params(windows)
    time_column, targets, features = resolve_columns(raw, data)
    frame = _numeric(raw, features, where)
    frame.index = _timestamps(raw, time_column, where)

    infinite = ~np.isfinite(frame.to_numpy()) & frame.notna().to_numpy()
    if infinite.any():
        row, col = (int(i[0]) for i in np.nonzero(infinite))
        raise DataValidationError(
            f"{where}: column {frame.columns[col]!r} holds an infinite value at "
            f"{frame.index[row]}; replace it with a number or leave it empty to be interpolated"
        )
    if not frame.index.is_monotonic_increasing:
        logger.warning("%s: rows were not in time order; sorted %d rows", where, len(frame))
        frame = frame.sort_index(kind="stable")
    frame = _deduplicate(frame, data.get("duplicates", "error"), where)
    frame = _regularise(frame, _frequency(frame.index, data.get("frequency"), where), where)
    frame = _trim_and_fill(frame, max_gap, where)

    for target in targets:
        if frame[target].nunique() <= 1:
            raise DataValidationError(
                f"{where}: target column {target!r} is constant ({frame[target].iloc[0]}); "
                "scaling and MASE are meaningless for it, choose another target"
            )
    geometry.check_length(len(frame), where)
    logger.info(
        "%s: series of %d points %s … %s, features %s, targets %s",
        where, len(frame), frame.index[0], frame.index[-1], features, targets,
    )
    return frame
