"""Column and value checks of a raw table: which columns, numbers only, finite and in range."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

DUPLICATE_POLICIES = ("error", "keep_last", "mean")
# The saved model stores each feature's variance in float32 (``Normalization``), and the spread
# of a column is at most twice its largest magnitude: beyond this bound training sees inf/NaN.
FLOAT32_SAFE = float(np.sqrt(np.finfo(np.float32).max)) / 2
# "12,5" or "-1.234,5": a number written with a decimal comma.
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(?:[.\s]?\d{3})*,\d+\s*$")


class DataValidationError(SeqcastError, ValueError):
    """The raw data cannot be turned into a regular series."""


def as_list(value: str | list[str] | None) -> list[str]:
    """A column name or a list of them as a list (``None``: empty)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def resolve_columns(raw: pd.DataFrame, data: dict,
                    exclude: list[str] = ()) -> tuple[str, list[str], list[str]]:
    """``(time_column, targets, features)`` from ``params:data``; features default to numerics
    (other than the ``exclude`` columns: a panel's ids)."""
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
            c for c in raw.columns if c != time_column and c not in exclude
            and pd.api.types.is_numeric_dtype(raw[c])
        ]
        features += [t for t in targets if t not in features]
    # Known-future columns are read from series too (seqcast.covariates).
    features += [c for c in as_list(data.get("future_features")) if c not in features]
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


def numeric(raw: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """The columns as float64; a value that is not a number is refused with its row."""
    out = {}
    for column in columns:
        values = raw[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            converted = pd.to_numeric(values, errors="coerce")
            bad = converted.isna() & values.notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                value = values.iloc[row]
                hint = (
                    "the file writes decimals with a comma: set data.decimal=comma (and "
                    "data.sep if its columns are separated by ';')"
                    if isinstance(value, str) and _DECIMAL_COMMA.match(value)
                    else "remove it from params:data.features/targets or encode it as numbers"
                )
                raise DataValidationError(
                    f"{where}: column {column!r} is not numeric (value {value!r} in "
                    f"data row {row + 1}); {hint}"
                )
            values = converted
        out[column] = values.astype("float64")
    return pd.DataFrame(out, copy=False)  # float64 columns stay views of the raw table


def check_range(frame: pd.DataFrame, where: str) -> None:
    """Refuse infinite values and values too large for the model's float32 arithmetic."""
    values = frame.to_numpy()
    with np.errstate(invalid="ignore"):
        outside = np.abs(values) > FLOAT32_SAFE
    if not outside.any():
        return
    row, col = (int(i[0]) for i in np.nonzero(outside))
    column, stamp, value = frame.columns[col], frame.index[row], values[row, col]
    if np.isinf(value):
        raise DataValidationError(
            f"{where}: column {column!r} holds an infinite value at {stamp}; replace it with "
            "a number or leave it empty to be interpolated"
        )
    raise DataValidationError(
        f"{where}: column {column!r} holds {value:g} at {stamp}, beyond ±{FLOAT32_SAFE:.2g}, "
        "the largest magnitude whose variance the model's float32 arithmetic holds; fix the "
        f"value or rescale the column (e.g. express it in millions) ({int(outside.sum())} "
        "value(s) out of range)"
    )


def deduplicate(frame: pd.DataFrame, policy: str, where: str) -> pd.DataFrame:
    """Rows sharing a timestamp: refused, or merged by ``policy`` (logged)."""
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


def check_targets_vary(frame: pd.DataFrame, targets: list[str], where: str) -> None:
    for target in targets:
        if frame[target].nunique() <= 1:
            raise DataValidationError(
                f"{where}: target column {target!r} is constant ({frame[target].iloc[0]}); "
                "scaling and MASE are meaningless for it, choose another target"
            )
