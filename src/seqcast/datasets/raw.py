"""The raw table as exported by another tool: a CSV read with its dialect, refused clearly.

``load_args`` go to ``pandas.read_csv``; ``sep`` and ``decimal`` also take the names ``comma``,
``semicolon``, ``tab``, ``pipe``, ``space``, ``point`` (a command line cannot carry ``,`` or a
tab). A file that clearly uses another dialect, cannot be decoded or repeats a column name is
refused with the option to set.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd
from kedro.io.core import AbstractDataset, DatasetError
from kedro_datasets.pandas import CSVDataset, SQLQueryDataset

from seqcast.cleaning import DataValidationError

NAMED = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "space": " ",
         "point": ".", "dot": "."}
SEPARATORS = (",", ";", "\t", "|")
DIALECT_KEYS = ("sep", "delimiter", "decimal", "encoding", "quotechar", "comment", "skiprows")


class RawTableError(DataValidationError, DatasetError):
    """A raw file that cannot be read as configured (a DatasetError, so Kedro re-raises it
    unwrapped)."""


def _named(args: dict[str, Any]) -> dict[str, Any]:
    return {k: NAMED.get(v, v) if k in ("sep", "delimiter", "decimal") else v
            for k, v in args.items()}


def _shown(char: str) -> str:
    return {v: k for k, v in NAMED.items() if k != "dot"}.get(char, char)


def separator_hint(names: list[str], sep: str) -> str | None:
    """``set data.sep`` advice when the header reads as one column holding another separator."""
    if len(names) != 1:
        return None
    found = [s for s in SEPARATORS if s != sep and s in str(names[0])]
    if not found:
        return None
    best = max(found, key=lambda s: str(names[0]).count(s))
    return (f"its header reads as one column {str(names[0])!r}: the file looks "
            f"{_shown(best)}-separated; set data.sep={_shown(best)}")


class RawCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` for raw input: dialect names, and errors that say what to set.

    Errors name the file and the option: ``data.sep``, ``data.decimal`` or ``data.encoding``
    on the command line (``--params data.sep=semicolon``), or ``csv_sep`` … in the
    environment's ``globals.yml``.
    """

    def _where(self) -> str:
        return str(self._filepath)

    def _read(self, args: dict[str, Any]) -> pd.DataFrame:
        load_path = str(self._get_load_path())
        if self._protocol != "file":
            load_path = f"{self._protocol}://{load_path}"
            args = {**args, "storage_options": self._storage_options}
        return pd.read_csv(load_path, **args)

    def _header(self, args: dict[str, Any]) -> list[str]:
        """The column names as written (pandas renames a repeated ``load`` to ``load.1``)."""
        dialect = {k: args[k] for k in DIALECT_KEYS if k in args}
        header = self._read({**dialect, "header": None, "nrows": 1, "dtype": str,
                             "keep_default_na": False})
        return [] if header.empty else header.iloc[0].tolist()

    def load(self) -> pd.DataFrame:
        args = _named(self._load_args)
        sep = args.get("sep", args.get("delimiter", ","))
        try:
            names = self._header(args)
            frame = self._read(args)
        except UnicodeDecodeError as err:
            raise RawTableError(
                f"{self._where()}: not readable as {args.get('encoding', 'utf-8')} ({err.reason} "
                f"at byte {err.start}); set data.encoding to the file's encoding (spreadsheets "
                "often write cp1252 or latin-1)"
            ) from err
        except (pd.errors.ParserError, csv.Error) as err:
            raise RawTableError(
                f"{self._where()}: not a {_shown(sep)}-separated table ({str(err).strip()}); "
                "set data.sep to the file's separator (comma, semicolon, tab, pipe)"
            ) from err
        except pd.errors.EmptyDataError as err:
            raise RawTableError(f"{self._where()}: the file is empty; point data.path at "
                                "the exported table (or fill this one)") from err
        except FileNotFoundError as err:
            raise RawTableError(
                f"{self._where()}: no such file; set data.path (--params data.path=...) or "
                "raw_path in the environment's globals.yml"
            ) from err
        hint = separator_hint(names, sep)
        if hint:
            raise RawTableError(f"{self._where()}: {hint}")
        # Unnamed (empty) header cells, as trailing separators leave, are no repeated name.
        repeated = sorted({n for n in names if n and names.count(n) > 1})
        if repeated:
            raise RawTableError(
                f"{self._where()}: column name(s) {repeated} appear more than once in the header "
                f"{names}; rename or drop the copies (otherwise one would be read as "
                f"{repeated[0]}.1 and become a feature)"
            )
        return frame


def _fixed_width(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)


def _to_pandas(table, pool) -> pd.DataFrame:
    """The table as pandas with one copy of the data at a time.

    Arrow's allocator (``pool``, which read the file) keeps freed memory for reuse, so a 10 M-row
    file would leave hundreds of MB behind; it is handed back after each step. Each fixed-width
    column is first made one contiguous chunk (the row groups freed one column at a time),
    which pandas then takes without a copy; what must still be converted (nulls become NaN) is
    freed column by column (``self_destruct``). The table's own memory comes from the system
    allocator, so that freeing the table later returns it to the system.
    """
    import pyarrow as pa

    system = pa.system_memory_pool()
    pool.release_unused()  # the reader's decoding buffers
    for i, field in enumerate(table.schema):
        if _fixed_width(field.type) and table.column(i).num_chunks:
            # concat_arrays, not combine_chunks: only it allocates from the pool it is given.
            # No local name holds a column, so that self_destruct can free each one.
            table = table.set_column(
                i, field, pa.concat_arrays(table.column(i).chunks, memory_pool=system))
            pool.release_unused()
    frame = table.to_pandas(memory_pool=system, self_destruct=True, split_blocks=True)
    del table
    pool.release_unused()
    return frame


class RawParquetDataset(AbstractDataset):
    """A raw Parquet table (a long-format panel), read with the least memory pandas allows
    (:func:`_to_pandas`). Read-only."""

    def __init__(self, filepath: str, load_args: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None):
        self._filepath = filepath
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return _to_pandas(pq.read_table(self._filepath, **self._load_args),
                              pa.default_memory_pool())
        except FileNotFoundError as err:
            raise RawTableError(
                f"{self._filepath}: no such file; set data.path (--params data.path=...) or "
                "raw_path in the environment's globals.yml"
            ) from err
        except pa.ArrowInvalid as err:
            raise RawTableError(f"{self._filepath}: not a Parquet file ({err})") from err

    def save(self, data: pd.DataFrame) -> None:
        raise DatasetError(f"{self._filepath}: raw input is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "load_args": self._load_args}


def _first_line(error: BaseException) -> str:
    """The driver's own message, first line (SQLAlchemy appends the statement and a link)."""
    cause = getattr(error, "orig", None) or error.__cause__ or error
    cause = getattr(cause, "orig", None) or cause
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


class RawSQLDataset(SQLQueryDataset):
    """``pandas.SQLQueryDataset`` for raw input: a database that cannot be reached, a query that
    fails or one that returns no rows is refused, naming the database (password hidden) and the
    query. Read-only; ``credentials`` and ``load_args`` (``params``) as in ``SQLQueryDataset``.
    """

    def __init__(self, sql: str | None = None, credentials: dict[str, Any] | None = None,
                 **kwargs: Any):
        if not (credentials or {}).get("con"):
            raise RawTableError(
                "raw_series: its credentials hold no database URL (`con`); set it, e.g. in the "
                "sql environment: export SEQCAST_RAW_DB='postgresql+psycopg://user:…@host/db'"
            )
        super().__init__(sql=sql, credentials=credentials, **kwargs)

    def _where(self) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            database = make_url(self._connection_str).render_as_string(hide_password=True)
        except ArgumentError:
            database = "the database in the credentials' `con`"
        query = " ".join(str(self._load_args.get("sql", self._filepath)).split())
        return f"raw_series query {query[:160]!r} on {database}"

    def load(self) -> pd.DataFrame:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            frame = super().load()
        except DatasetError as err:  # SQLQueryDataset's load wraps what went wrong
            cause = err.__cause__
            if isinstance(cause, SQLAlchemyError):  # unreachable, login refused, a bad URL
                raise RawTableError(
                    f"{self._where()}: cannot connect ({_first_line(cause)}); check that the "
                    "database runs and is reachable, and the `con` URL of raw_series' credentials"
                ) from err
            if isinstance(cause, pd.errors.DatabaseError):  # a missing table or column, bad SQL
                raise RawTableError(
                    f"{self._where()}: the query failed ({_first_line(cause)}); fix the table, "
                    "columns or SQL of raw_series in the environment's catalog.yml"
                ) from err
            raise
        if frame.empty:
            raise RawTableError(
                f"{self._where()}: no rows (query parameters {self._load_args.get('params')}); "
                "check that the table is filled and the time window (data.history) reaches its "
                "rows"
            )
        return frame


class RawParquetFolderDataset(RawParquetDataset):
    """A folder of Parquet part files, or of hive partitions (``day=2024-05-01/…``), read as one
    table, on a local path or an fsspec URL (``s3://…``, ``gs://…``, ``abfs://…``).

    Every file under the folder is read except those whose names start with ``_`` or ``.``
    (``_SUCCESS``); a partition key (``day``) becomes a column (categorical when it is not a
    number). ``credentials`` and ``fs_args`` go to the fsspec filesystem (e.g. ``key``, ``secret``
    for ``s3fs``).
    """

    def __init__(self, filepath: str, load_args: dict[str, Any] | None = None,
                 credentials: dict[str, Any] | None = None, fs_args: dict[str, Any] | None = None,
                 metadata: dict[str, Any] | None = None):
        super().__init__(filepath, load_args, metadata)
        self._storage = {**(fs_args or {}), **(credentials or {})}

    def load(self) -> pd.DataFrame:
        import fsspec
        import pyarrow as pa
        import pyarrow.parquet as pq

        filesystem, path = fsspec.core.url_to_fs(self._filepath, **self._storage)
        if not filesystem.isdir(path):
            raise RawTableError(
                f"{self._filepath}: no such folder; set data.path (--params data.path=...) or "
                "raw_path in the environment's globals.yml to the folder of part files"
            )
        try:
            table = pq.read_table(path, filesystem=filesystem, **self._load_args)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise RawTableError(
                f"{self._filepath}: its part files do not read as one Parquet table ({err}); "
                "every part file must hold the same columns with the same types"
            ) from err
        if table.num_rows == 0:
            raise RawTableError(f"{self._filepath}: the folder holds no rows (no part files?)")
        return _to_pandas(table, pa.default_memory_pool())
