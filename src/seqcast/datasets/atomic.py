"""Kedro-datasets' file datasets, saved atomically: a reader sees the old file or the new one.

Each dataset writes to a hidden temporary file in the target's folder, flushes it to disk and
renames it over the target (``os.replace``, atomic on one filesystem). A save that fails or is
killed leaves the previous file as it was and no temporary file behind (a ``kill -9`` may leave
one ``.<name>.tmp-<pid>-…`` file, never a partial target). Object stores (``s3://`` …) replace
whole objects anyway: there the save goes straight through.

Use them in the catalog as ``type: seqcast.datasets.atomic.ParquetDataset`` (also inside
kedro-mlflow's ``MlflowArtifactDataset``, which logs the final file).
"""

from __future__ import annotations

import os
import secrets
from pathlib import PurePosixPath
from typing import Any

import pandas as pd
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset


class AtomicSave:
    """Mixin for a kedro-datasets file dataset that writes through ``_get_save_path()``."""

    _temporary: PurePosixPath | None = None

    def _get_save_path(self) -> PurePosixPath:
        if self._temporary is not None:
            return self._temporary
        return super()._get_save_path()

    def _write(self, data: Any) -> None:
        save = super().save
        unwrapped = getattr(save, "__wrapped__", None)  # Kedro's logging wraps ours already
        if unwrapped is None:
            save(data)
        else:
            unwrapped(self, data)

    def save(self, data: Any) -> None:
        if self._protocol != "file" or self._version is not None:
            self._write(data)  # versioned saves write a new path; object stores whole objects
            return
        final = super()._get_save_path()
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._temporary = final.parent / f".{final.stem}.tmp-{token}{final.suffix}"
        try:
            self._write(data)
            with open(self._temporary, "rb") as written:
                os.fsync(written.fileno())
            os.replace(self._temporary, final)
        finally:
            if os.path.exists(self._temporary):
                os.remove(self._temporary)
            self._temporary = None


class ParquetDataset(AtomicSave, _ParquetDataset):
    """``pandas.ParquetDataset``, saved atomically."""


class CSVDataset(AtomicSave, _CSVDataset):
    """``pandas.CSVDataset``, saved atomically."""


class OptionalCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` that loads an empty table when its file does not exist: an
    input needed only by some configurations (the forecast's known-future file)."""

    def load(self):
        if not self._exists():
            return pd.DataFrame()
        return super().load()


class JSONDataset(AtomicSave, _JSONDataset):
    """``json.JSONDataset``, saved atomically."""


class MatplotlibDataset(AtomicSave, _MatplotlibDataset):
    """``matplotlib.MatplotlibDataset`` for one figure, saved atomically."""
