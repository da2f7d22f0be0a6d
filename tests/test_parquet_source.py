"""The raw table from a folder of Parquet part files or hive partitions (`kedro run --env
parquet`), local or at an fsspec URL, read as one table."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pandas as pd
import pytest

from seqcast.datasets.raw import RawParquetFolderDataset, RawTableError
from tests.conftest import ROOT, clean_series, run_kedro

PARTS = "data/01_raw/seattle-weather-parts"


def seattle() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data/01_raw/seattle-weather.csv", parse_dates=["date"])


def write_years(folder: Path, frame: pd.DataFrame) -> None:
    """One part file per year, as a daily export job appends them."""
    folder.mkdir(parents=True, exist_ok=True)
    for year, rows in frame.groupby(frame["date"].dt.year):
        rows.to_parquet(folder / f"part-{year}.parquet", index=False)


@pytest.mark.slow
def test_parquet_env_ingests_the_union_of_part_files(project):
    """`kedro run --env parquet` reads every part file; a part file added later is read by the
    next run, whose series then ends at its last day."""
    weather = seattle()
    write_years(project / PARTS, weather[weather["date"].dt.year < 2015])
    run_kedro(project, ["ingestion"], env="parquet")
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert (str(series.index[0].date()), str(series.index[-1].date())) == ("2012-01-01",
                                                                            "2014-12-31")

    write_years(project / PARTS, weather[weather["date"].dt.year == 2015])
    run_kedro(project, ["ingestion"], env="parquet")
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    from_csv = clean_series(weather.assign(date=weather["date"].astype(str)),
                            {"time_column": "date", "targets": ["temp_max"], "features": None,
                             "path": "seattle-weather.csv"}, {"n_seq": 4, "n_steps": 7,
                            "horizon": 7, "season_length": 7, "origins": 8,
                            "validation_origins": 16})
    assert len(series) == 1461 and str(series.index[-1].date()) == "2015-12-31"
    pd.testing.assert_frame_equal(series, from_csv, check_index_type=False, check_freq=False)


def test_hive_partitions_read_as_one_table(tmp_path):
    """`month=2012-01/part-0.parquet`: every row once, the key a categorical column (so no
    feature when `data.features` is null), files like `_SUCCESS` skipped."""
    weather = seattle()
    for month, rows in weather.groupby(weather["date"].dt.strftime("%Y-%m")):
        (tmp_path / f"month={month}").mkdir()
        rows.to_parquet(tmp_path / f"month={month}" / "part-0.parquet", index=False)
    (tmp_path / "_SUCCESS").write_text("")
    raw = RawParquetFolderDataset(str(tmp_path)).load()
    assert len(raw) == 1461 and raw["month"].dtype == "category"
    assert raw["date"].sort_values().tolist() == weather["date"].tolist()
    assert raw["month"].nunique() == 48


def test_fsspec_url(tmp_path):
    """An fsspec URL (here the in-memory filesystem; s3://, gs://, abfs:// alike)."""
    fs = fsspec.filesystem("memory")
    weather = seattle()
    for year, rows in weather.groupby(weather["date"].dt.year):
        with fs.open(f"/seqcast-test/weather/part-{year}.parquet", "wb") as handle:
            rows.to_parquet(handle, index=False)
    try:
        raw = RawParquetFolderDataset("memory://seqcast-test/weather").load()
    finally:
        fs.rm("/seqcast-test", recursive=True)
    assert len(raw) == 1461 and raw["temp_max"].sum() == pytest.approx(weather["temp_max"].sum())


def test_missing_empty_or_mismatched_folders_are_refused(tmp_path):
    with pytest.raises(RawTableError, match=r"nowhere: no such folder; set data\.path"):
        RawParquetFolderDataset(str(tmp_path / "nowhere")).load()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RawTableError, match="holds no rows"):
        RawParquetFolderDataset(str(tmp_path / "empty")).load()
    parts = tmp_path / "parts"
    parts.mkdir()
    pd.DataFrame({"date": ["2020-01-01"], "load": [1.0]}).to_parquet(parts / "a.parquet")
    pd.DataFrame({"date": ["2020-01-02"], "load": ["high"]}).to_parquet(parts / "b.parquet")
    with pytest.raises(RawTableError, match="same columns with the same types"):
        RawParquetFolderDataset(str(parts)).load()
