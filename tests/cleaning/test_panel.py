"""Panels in long format (``data.id_columns``): every ingestion rule per series, a report of
the series dropped, and errors that name the series."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from seqcast.cleaning import DataValidationError
from seqcast.datasets.raw import RawParquetDataset
from tests.conftest import DATA, WINDOWS, clean_series_with_report, run_kedro, synthetic_raw

PANEL = {**DATA, "id_columns": "id"}
# WINDOWS need 77 points: lookback 14 + horizon 7 + 4 * 7 validation + 4 * 7 test.


def long_table(spans: dict[str, tuple[str, int]], seed: int = 0) -> pd.DataFrame:
    """One block of rows per series ``id: (first day, points)``, rows shuffled."""
    blocks = []
    for i, (name, (start, points)) in enumerate(spans.items()):
        block = synthetic_raw(points, seed=seed + i)
        block["ts"] = pd.date_range(start, periods=points, freq="D").strftime("%Y-%m-%d")
        blocks.append(block.assign(id=name)[["id", "ts", "load", "temp", "label"]])
    return pd.concat(blocks, ignore_index=True)


def ingest(raw: pd.DataFrame, data: dict | None = None):
    return clean_series_with_report(raw.sample(frac=1.0, random_state=0), data or PANEL,
                                    dict(WINDOWS))


def rows(panel: pd.DataFrame, name: str) -> pd.DataFrame:
    return panel[panel["id"] == name].set_index("ts")


def test_ragged_panel_is_regular_per_series():
    raw = long_table({"b": ("2020-01-15", 90), "a": ("2020-01-01", 100), "c": ("2020-02-01", 80)})
    raw = raw.drop(index=[20, 21])  # two missing days in series b, filled inside b
    panel, report = ingest(raw)
    assert list(panel.columns) == ["id", "ts", "load", "temp"]
    assert (panel.dtypes[["load", "temp"]] == "float64").all() and not panel.isna().any().any()
    assert panel["id"].tolist() == ["a"] * 100 + ["b"] * 90 + ["c"] * 80
    for name, start, points in [("a", "2020-01-01", 100), ("b", "2020-01-15", 90),
                                ("c", "2020-02-01", 80)]:
        expected = pd.date_range(start, periods=points, freq="D", name="ts")
        assert rows(panel, name).index.equals(expected.as_unit(panel["ts"].dt.unit))
    b = raw[raw["id"] == "b"].set_index("ts")["load"]
    assert rows(panel, "b")["load"].iloc[20] == pytest.approx(
        b.iloc[19] + (b.iloc[20] - b.iloc[19]) / 3)  # the 3 steps from day 19 to 22 of b
    assert report["series_in"] == 3 and report["series_kept"] == 3
    assert report["dropped"]["count"] == 0


def test_leading_and_trailing_nan_are_trimmed_per_series(caplog):
    raw = long_table({"a": ("2020-01-01", 100), "b": ("2020-01-01", 100)})
    raw.loc[[0, 1], "temp"] = np.nan  # a's first two days
    raw.loc[199, "load"] = np.nan  # b's last day
    with caplog.at_level(logging.WARNING):
        panel, _ = ingest(raw)
    a, b = rows(panel, "a"), rows(panel, "b")
    assert a.index[0] == pd.Timestamp("2020-01-03") and len(a) == 98
    assert b.index[0] == pd.Timestamp("2020-01-01") and len(b) == 99
    assert "trimmed 3 leading or trailing row(s) with missing values in 2 series" in caplog.text


def test_short_series_is_dropped_logged_and_reported(caplog):
    raw = long_table({"a": ("2020-01-01", 100), "short": ("2020-01-01", 50),
                      "b": ("2020-03-01", 80)})
    with caplog.at_level(logging.WARNING):
        panel, report = ingest(raw)
    assert sorted(panel["id"].unique()) == ["a", "b"]
    assert report["series_kept"] == 2
    assert report["dropped"]["count"] == 1 and report["dropped"]["by_reason"] == {"too short": 1}
    [dropped] = report["dropped"]["series"]
    assert dropped["id"] == "short" and dropped["reason"].startswith(
        "50 points after cleaning, 77 needed")
    assert "dropped 1 of 3 series" in caplog.text and "series id='short'" in caplog.text


def test_series_with_a_long_gap_is_dropped_with_its_reason():
    raw = long_table({"a": ("2020-01-01", 100), "gappy": ("2020-01-01", 100)})
    panel, report = ingest(raw.drop(index=range(130, 135)))  # gappy's days 31-35
    assert panel["id"].unique().tolist() == ["a"]
    [dropped] = report["dropped"]["series"]
    assert dropped == {"id": "gappy", "reason": "a gap of 5 missing step(s) in column 'load' "
                       "starting 2020-01-31 00:00:00, longer than params:data.max_gap=3"}
    _, kept = ingest(raw.drop(index=range(130, 135)), {**PANEL, "max_gap": 5})
    assert kept["series_kept"] == 2


def test_nothing_left_is_refused():
    raw = long_table({"a": ("2020-01-01", 60), "b": ("2020-01-01", 40)})
    match = (r"test.csv: no series is left after cleaning: all 2 were dropped "
             r"\(\{'too short': 2\}\); first series id='a': 60 points after cleaning, 77 needed")
    with pytest.raises(DataValidationError, match=match):
        ingest(raw)


def test_constant_target_is_kept_and_reported():
    raw = long_table({"a": ("2020-01-01", 100), "flat": ("2020-01-01", 100)})
    raw.loc[raw["id"] == "flat", "load"] = 4.0
    panel, report = ingest(raw)
    assert (rows(panel, "flat")["load"] == 4.0).all() and len(rows(panel, "flat")) == 100
    assert report["constant_target"]["count"] == 1
    assert report["constant_target"]["ids"] == ["flat"]
    assert "MASE is undefined" in report["constant_target"]["note"]


def _inf(raw):
    raw.loc[107, "temp"] = np.inf


def _duplicate(raw):
    raw.loc[len(raw)] = raw.loc[110]


def _off_grid(raw):
    raw.loc[112, "ts"] = "2020-01-13 12:00"


def _text(raw):
    raw.loc[105, "load"] = "n/a"


@pytest.mark.parametrize(("spoil", "match"), [
    (_inf, "test.csv, series id='b': column 'temp' holds an infinite value at 2020-01-08"),
    (_duplicate, "2 rows share a series and timestamp with another row, first series id='b' "
                 "at 2020-01-11"),
    (_off_grid, "1 timestamp.*off the D grid, first 2020-01-13 12:00:00 in series id='b'"),
    (_text, r"column 'load' is not numeric \(value 'n/a' in data row 106\)"),
])
def test_bad_values_refuse_the_file_naming_the_series(spoil, match):
    raw = long_table({"a": ("2020-01-01", 100), "b": ("2020-01-01", 100)})
    raw = raw.astype({"load": object}) if spoil is _text else raw
    spoil(raw)
    with pytest.raises(DataValidationError, match=match):
        clean_series_with_report(raw, PANEL, dict(WINDOWS))


def test_several_id_columns_and_ids_kept_out_of_features():
    raw = long_table({"a": ("2020-01-01", 80), "b": ("2020-01-01", 80), "c": ("2020-01-01", 50)})
    raw["store"] = raw["id"].map({"a": 2, "b": 1, "c": 1})  # numeric ids: not features
    raw["item"] = raw["id"].map({"a": 7, "b": 7, "c": 8})
    data = {**PANEL, "id_columns": ["store", "item"], "features": None}
    panel, report = ingest(raw.drop(columns="id"), data)
    assert list(panel.columns) == ["store", "item", "ts", "load", "temp"]
    assert panel["store"].tolist() == [1] * 80 + [2] * 80  # sorted by ids, then time
    [dropped] = report["dropped"]["series"]
    assert dropped["id"] == {"store": 1, "item": 8}


def test_wide_file_is_refused_with_how_to_melt():
    wide = synthetic_raw(100)[["ts", "load", "temp"]]  # one column per series
    match = (r"id column\(s\) \['id'\] \(params:data.id_columns\) not found.*wide file.*"
             r"melt.*df.melt\(id_vars=\['ts'\], var_name='id', value_name='y'\)")
    with pytest.raises(DataValidationError, match=match):
        clean_series_with_report(wide, PANEL, dict(WINDOWS))


def test_panel_in_a_kedro_run(project):
    raw = long_table({"a": ("2020-01-01", 100), "b": ("2020-02-01", 90),
                      "short": ("2020-01-01", 30)})
    raw.to_csv(project / "data/01_raw/panel.csv", index=False)
    params = {"data": {"path": "data/01_raw/panel.csv", "id_columns": "id", "time_column": "ts",
                       "targets": "load", "features": ["load", "temp"]},
              "windows": dict(WINDOWS)}
    run_kedro(project, ["ingestion"], params=params)
    panel = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert panel.groupby("id").size().to_dict() == {"a": 100, "b": 90}
    report = json.loads((project / "data/02_intermediate/ingestion_report.json").read_text())
    assert report["dropped"]["series"][0]["id"] == "short"
    run_kedro(project, ["windowing"], params=params)
    spec = json.loads((project / "data/05_model_input/window_spec.json").read_text())
    assert spec["series"] == ["a", "b"] and spec["lengths"] == [100, 90]


def test_parquet_panel_on_a_calendar_grid(tmp_path):
    # Month starts: a calendar offset, one grid shared by the series; stamps stay datetime64.
    months = {"a": pd.date_range("2010-01-01", periods=100, freq="MS"),
              "b": pd.date_range("2012-06-01", periods=90, freq="MS")}
    raw = pd.concat([pd.DataFrame({"id": k, "ts": v, "load": np.sin(np.arange(len(v))),
                                   "temp": 1.0 + np.arange(len(v)) % 3})
                     for k, v in months.items()], ignore_index=True)
    raw = raw.drop(index=[40]).iloc[::-1]  # a missing month in a, rows in reverse order
    raw.to_parquet(tmp_path / "panel.parquet", index=False)
    loaded = RawParquetDataset(str(tmp_path / "panel.parquet")).load()
    panel, report = clean_series_with_report(loaded, PANEL, dict(WINDOWS))
    assert rows(panel, "a").index.equals(months["a"].rename("ts").as_unit(panel["ts"].dt.unit))
    assert rows(panel, "b").index[0] == pd.Timestamp("2012-06-01") and report["series_kept"] == 2
    assert rows(panel, "a")["load"].iloc[40] == pytest.approx(
        (np.sin(39) + np.sin(41)) / 2)  # interpolated inside a


def test_duplicates_merged_per_series():
    raw = long_table({"a": ("2020-01-01", 100), "b": ("2020-01-01", 100)})
    raw = pd.concat([raw, raw.iloc[[110]].assign(load=100.0)], ignore_index=True)  # b, day 11
    panel, _ = ingest(raw, {**PANEL, "duplicates": "keep_last"})
    assert rows(panel, "b").loc["2020-01-11", "load"] == 100.0
    assert rows(panel, "a").loc["2020-01-11", "load"] == raw.loc[10, "load"]


def test_missing_parquet_file_names_the_parameter(tmp_path):
    with pytest.raises(DataValidationError, match=r"no such file; set data.path"):
        RawParquetDataset(str(tmp_path / "absent.parquet")).load()
