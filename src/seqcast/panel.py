"""The ``series`` dataset as a panel: every series' rows in one flat array, and offsets.

A one-series file (``params:data.id_columns`` null) is a panel of one, labelled
``params:data.name``. Series are in the dataset's order (ingestion sorts by id, then time);
series ``i`` holds the flat rows ``offsets[i] … offsets[i+1]-1``. Nothing here loops over
series in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqcast.cleaning import as_list, id_columns
from seqcast.errors import SeqcastError


def label_of(ids: pd.DataFrame) -> np.ndarray:
    """One string per row: the id values joined by ``/``."""
    columns = [ids[c].astype(str).to_numpy(dtype=object) for c in ids.columns]
    if len(columns) == 1:
        return columns[0]
    return np.array(["/".join(parts) for parts in zip(*columns, strict=True)], dtype=object)


@dataclass
class Panel:
    """Every series of ``series``: ``values (N, n_features)`` float32 and ``offsets``
    (``n_series + 1``); ``stamps`` the flat timestamps; ``labels`` one string per series;
    ``ids`` the id columns per series (empty for a one-series file)."""

    values: np.ndarray
    offsets: np.ndarray
    stamps: pd.DatetimeIndex
    labels: np.ndarray
    ids: pd.DataFrame
    features: list[str]

    @classmethod
    def from_series(cls, series: pd.DataFrame, data: dict) -> Panel:
        columns = id_columns(data)
        if not columns:
            features = list(series.columns)
            label = data.get("name") or "series"
            return cls(series.to_numpy(np.float32), np.array([0, len(series)], np.int64),
                       pd.DatetimeIndex(series.index), np.array([label], dtype=object),
                       pd.DataFrame(index=range(1)), features)
        time_column = data.get("time_column") or "date"
        missing = [c for c in [*columns, time_column] if c not in series.columns]
        if missing:
            raise SeqcastError(
                f"series lacks column(s) {missing} named by params:data; re-run the ingestion "
                "pipeline with the same parameters")
        keys = series[columns]
        changed = np.ones(len(series), dtype=bool)
        changed[1:] = (keys.iloc[1:].to_numpy() != keys.iloc[:-1].to_numpy()).any(axis=1)
        starts = np.flatnonzero(changed)
        features = [c for c in series.columns if c not in (*columns, time_column)]
        ids = keys.iloc[starts].reset_index(drop=True)
        return cls(series[features].to_numpy(np.float32),
                   np.append(starts, len(series)).astype(np.int64),
                   pd.DatetimeIndex(series[time_column]), label_of(ids), ids, features)

    @property
    def n_series(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def codes(self) -> np.ndarray:
        """The series code of every flat row."""
        return np.repeat(np.arange(self.n_series), self.lengths)

    def column(self, names: list[str] | str, dtype=np.float64) -> np.ndarray:
        """Flat ``(N, len(names))`` columns, in ``dtype``."""
        return self.values[:, [self.features.index(n) for n in as_list(names)]].astype(dtype)

    def code_of(self, labels) -> np.ndarray:
        """Series codes of ``labels``; a label not in the panel is refused by name."""
        index = pd.Index(self.labels)
        codes = index.get_indexer(list(labels))
        if (codes < 0).any():
            unknown = [label for label, c in zip(labels, codes, strict=True) if c < 0]
            raise SeqcastError(
                f"series {unknown[:5]} ({len(unknown)} in all) are not in the data; the panel "
                f"has {self.n_series} series, e.g. {list(self.labels[:3])}")
        return codes

    def id_frame(self, codes: np.ndarray) -> pd.DataFrame:
        """The id columns of series ``codes`` (one row each); none for a one-series file."""
        return self.ids.iloc[codes].reset_index(drop=True)
