"""Raw files as other tools export them: dialects, encodings, repeated column names."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from seqcast.cleaning import DataValidationError
from seqcast.datasets.raw import RawCSVDataset
from tests.conftest import run_kedro, synthetic_raw

ROWS = "ts;load;temp\n2020-01-01;12,5;3,25\n2020-01-02;13,5;-1,5\n"


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_dialect_by_name(tmp_path):
    path = write(tmp_path / "eu.csv", ROWS)
    frame = RawCSVDataset(filepath=path, load_args={"sep": "semicolon", "decimal": "comma"}).load()
    assert list(frame.columns) == ["ts", "load", "temp"]
    assert frame["load"].tolist() == [12.5, 13.5] and frame["temp"].tolist() == [3.25, -1.5]


def test_other_separator_names_the_option(tmp_path):
    path = write(tmp_path / "eu.csv", ROWS)
    with pytest.raises(DataValidationError, match=r"eu.csv: .*looks semicolon-separated; set "
                       r"data.sep=semicolon"):
        RawCSVDataset(filepath=path).load()


def test_undecodable_file_names_the_encoding_option(tmp_path):
    path = write(tmp_path / "fr.csv", "ts,débit,temp\n2020-01-01,1,2\n", encoding="cp1252")
    with pytest.raises(DataValidationError, match=r"fr.csv: not readable as utf-8-sig.*set "
                       r"data.encoding"):
        RawCSVDataset(filepath=path, load_args={"encoding": "utf-8-sig"}).load()
    frame = RawCSVDataset(filepath=path, load_args={"encoding": "cp1252"}).load()
    assert list(frame.columns) == ["ts", "débit", "temp"]


def test_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = write(tmp_path / "excel.csv", "\ufeffts,load\n2020-01-01,1\n")
    frame = RawCSVDataset(filepath=path, load_args={"encoding": "utf-8-sig"}).load()
    assert list(frame.columns) == ["ts", "load"]


def test_repeated_column_name_is_refused(tmp_path):
    path = write(tmp_path / "twice.csv", "ts,load,temp,load\n2020-01-01,1,2,3\n")
    with pytest.raises(DataValidationError, match=r"twice.csv: column name\(s\) \['load'\] "
                       r"appear more than once"):
        RawCSVDataset(filepath=path).load()
    trailing = write(tmp_path / "trailing.csv", "ts,load,,\n2020-01-01,1,,\n")
    assert list(RawCSVDataset(filepath=trailing).load().columns[:2]) == ["ts", "load"]


def test_ragged_rows_name_the_separator_option(tmp_path):
    path = write(tmp_path / "ragged.csv", "ts,load\n2020-01-01,1\n2020-01-02,1,2,3\n")
    with pytest.raises(DataValidationError, match=r"ragged.csv: not a comma-separated table.*"
                       r"set data.sep"):
        RawCSVDataset(filepath=path).load()


def test_missing_or_empty_file_says_so(tmp_path):
    with pytest.raises(DataValidationError, match=r"gone.csv: no such file; set data.path"):
        RawCSVDataset(filepath=str(tmp_path / "gone.csv")).load()
    with pytest.raises(DataValidationError, match=r"empty.csv: the file is empty"):
        RawCSVDataset(filepath=write(tmp_path / "empty.csv", "")).load()


def european(project, name: str = "eu.csv"):
    raw = synthetic_raw()
    raw.to_csv(project / "data/01_raw" / name, index=False, sep=";", decimal=",")
    return raw


PLANT = {"time_column": "ts", "targets": "load", "name": "plant"}


def test_dialect_through_runtime_params(project):
    raw = european(project)
    params = {"data": {"path": "data/01_raw/eu.csv", **PLANT}, "windows": {"n_seq": 2}}
    with pytest.raises(DatasetError, match="raw_series: .*set data.sep=semicolon") as info:
        run_kedro(project, ["ingestion"], params=params)
    assert isinstance(info.value.__cause__, DataValidationError)  # a known, expected failure
    assert not (project / "data/02_intermediate/series.parquet").exists()
    params["data"].update(sep="semicolon", decimal="comma")
    run_kedro(project, ["ingestion"], params=params)
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert series["load"].to_numpy() == pytest.approx(raw["load"].to_numpy())


def test_dialect_through_an_environment(project):
    raw = european(project)
    env = project / "conf/eu"
    env.mkdir()
    (env / "globals.yml").write_text(
        'raw_path: data/01_raw/eu.csv\ncsv_sep: ";"\ncsv_decimal: ","\n'
    )
    run_kedro(project, ["ingestion"], env="eu", params={"data": PLANT, "windows": {"n_seq": 2}})
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert series["temp"].to_numpy() == pytest.approx(raw["temp"].to_numpy())


def test_repeated_column_is_refused_in_a_run(project):
    raw = synthetic_raw()
    raw["load2"] = raw["load"]
    raw.to_csv(project / "data/01_raw/twice.csv", index=False, header=[*raw.columns[:-1], "temp"])
    params = {"data": {"path": "data/01_raw/twice.csv", **PLANT, "features": None}}
    with pytest.raises(DatasetError, match=r"\['temp'\] appear more than once"):
        run_kedro(project, ["ingestion"], params=params)
    assert not (project / "data/02_intermediate/series.parquet").exists()
