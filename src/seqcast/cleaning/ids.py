"""The series of a long-format table: integer codes sorted by id, and their ids for messages
and the ingestion report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqcast.cleaning import grid
from seqcast.cleaning.checks import DataValidationError


class SeriesIds:
    """Series codes (sorted by id) and their labels for messages and the report."""

    def __init__(self, raw: pd.DataFrame, columns: list[str], where: str):
        keys = raw[columns]
        empty = keys.isna().any(axis=1).to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise DataValidationError(
                f"{where}: id column(s) {columns} empty in data row {row + 1}; every row "
                "needs the id of its series"
            )
        values = keys[columns[0]] if len(columns) == 1 else pd.MultiIndex.from_frame(keys)
        codes, self.uniques = pd.factorize(values, sort=True)
        small = len(self.uniques) < 2**31
        self.codes = codes.astype(np.int32 if small else np.int64, copy=False)
        self.columns = columns

    def __len__(self) -> int:
        return len(self.uniques)

    def value(self, code: int):
        """The id as JSON: a scalar, or ``{column: value}`` for several id columns."""
        value = self.uniques[code]
        if len(self.columns) == 1:
            return value.item() if hasattr(value, "item") else value
        return {c: v.item() if hasattr(v, "item") else v for c, v in zip(self.columns, value,
                                                                        strict=True)}

    def name(self, code: int) -> str:
        value = self.value(code)
        pairs = value.items() if isinstance(value, dict) else [(self.columns[0], value)]
        return "series " + ", ".join(f"{c}={v!r}" for c, v in pairs)

    def frame(self, flat: grid.Flat) -> dict:
        """The id columns of ``flat``'s rows: each kept series' id repeated (no row index)."""
        present = np.flatnonzero(flat.lengths)
        lengths = flat.lengths[present]
        kept = self.uniques[present]
        if len(self.columns) == 1:
            return {self.columns[0]: np.repeat(kept.to_numpy(), lengths)}
        return {c: np.repeat(kept.get_level_values(i).to_numpy(), lengths)
                for i, c in enumerate(self.columns)}
