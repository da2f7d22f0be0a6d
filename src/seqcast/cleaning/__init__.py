"""Raw tables exported by other tools → a clean ``series`` (library; knows nothing of Kedro)."""

from seqcast.cleaning.checks import DataValidationError, as_list
from seqcast.cleaning.panel import clean_panel, id_columns
from seqcast.cleaning.table import clean_table, ingest
from seqcast.cleaning.timestamps import future_timestamps

__all__ = ["DataValidationError", "as_list", "clean_panel", "clean_table", "future_timestamps",
           "id_columns", "ingest"]
