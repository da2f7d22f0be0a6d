"""Each validation rule of the ingestion node: a clear refusal or a logged repair."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from seqcast.cleaning import DataValidationError
from seqcast.windows import WindowConfigError
from tests.conftest import clean_series, run_kedro, synthetic_raw


def clean(raw, data, windows):
    return clean_series(raw, data, windows)


def test_clean_default_shape(raw, data_params, window_params):
    series = clean(raw, data_params, window_params)
    assert list(series.columns) == ["load", "temp"]
    assert isinstance(series.index, pd.DatetimeIndex) and series.index.name == "ts"
    assert len(series) == len(raw) and series.index.is_monotonic_increasing


def test_features_default_to_numeric_columns(raw, data_params, window_params):
    series = clean(raw, {**data_params, "features": None}, window_params)
    assert list(series.columns) == ["load", "temp"]  # `label` is text, `ts` is time


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"time_column": "when"}, "'when'"),
        ({"targets": ["demand"]}, "'demand'"),
        ({"features": ["load", "humidity"]}, "'humidity'"),
    ],
)
def test_missing_column(raw, data_params, window_params, override, expected):
    with pytest.raises(DataValidationError, match=f"test.csv: column.*{expected}.*not found"):
        clean(raw, {**data_params, **override}, window_params)


def test_text_feature_is_refused(raw, data_params, window_params):
    with pytest.raises(DataValidationError, match=r"column 'label' is not numeric \(value 'b'"):
        clean(raw, {**data_params, "features": ["load", "label"]}, window_params)


def test_unparseable_timestamp(raw, data_params, window_params):
    raw.loc[5, "ts"] = "yesterday"
    match = "'ts' has 1 unparseable.*'yesterday' in data row 6"
    with pytest.raises(DataValidationError, match=match):
        clean(raw, data_params, window_params)


def test_unsorted_rows_are_sorted_and_logged(raw, data_params, window_params, caplog):
    shuffled = raw.sample(frac=1.0, random_state=1)
    with caplog.at_level(logging.WARNING):
        series = clean(shuffled, data_params, window_params)
    assert series.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(series, clean(raw, data_params, window_params))
    assert "not in time order" in caplog.text


def test_duplicate_timestamps(raw, data_params, window_params):
    dup = pd.concat([raw.iloc[:10], raw.iloc[[9]].assign(load=100.0), raw.iloc[10:]])
    with pytest.raises(DataValidationError, match="2 rows share a timestamp.*2020-01-10"):
        clean(dup, data_params, window_params)
    last = clean(dup, {**data_params, "duplicates": "keep_last"}, window_params)
    assert last.loc["2020-01-10", "load"] == 100.0 and len(last) == len(raw)
    mean = clean(dup, {**data_params, "duplicates": "mean"}, window_params)
    assert mean.loc["2020-01-10", "load"] == pytest.approx((100.0 + raw.loc[9, "load"]) / 2)
    with pytest.raises(DataValidationError, match="params:data.duplicates='first'"):
        clean(dup, {**data_params, "duplicates": "first"}, window_params)


def test_short_gaps_are_interpolated(raw, data_params, window_params, caplog):
    gappy = raw.drop(index=[20, 21])  # two missing timestamps
    gappy.loc[50, "temp"] = np.nan  # one missing value
    with caplog.at_level(logging.WARNING):
        series = clean(gappy, data_params, window_params)
    assert len(series) == len(raw) and not series.isna().any().any()
    expected = raw.loc[19, "load"] + (raw.loc[22, "load"] - raw.loc[19, "load"]) / 3
    assert series["load"].iloc[20] == pytest.approx(expected)
    midpoint = (raw.loc[49, "temp"] + raw.loc[51, "temp"]) / 2
    assert series["temp"].iloc[50] == pytest.approx(midpoint)
    assert "2 missing timestamp(s)" in caplog.text and "interpolated" in caplog.text


def test_long_gap_is_refused(raw, data_params, window_params):
    match = ("1 gap.*longer than params:data.max_gap=3.*column 'load', has 5 missing step.*"
             "starting 2020-01-31")
    with pytest.raises(DataValidationError, match=match):
        clean(raw.drop(index=range(30, 35)), data_params, window_params)


def test_leading_and_trailing_nan_are_trimmed(raw, data_params, window_params, caplog):
    raw.loc[:2, "temp"] = np.nan
    raw.loc[len(raw) - 1, "load"] = np.nan
    with caplog.at_level(logging.WARNING):
        series = clean(raw, data_params, window_params)
    assert series.index[0] == pd.Timestamp("2020-01-04") and len(series) == len(raw) - 4
    assert "trimmed 3 leading and 1 trailing" in caplog.text


def test_infinite_value_is_refused(raw, data_params, window_params):
    raw.loc[7, "temp"] = np.inf
    with pytest.raises(DataValidationError, match="'temp' holds an infinite value at 2020-01-08"):
        clean(raw, data_params, window_params)


def test_constant_target_is_refused(raw, data_params, window_params):
    raw["load"] = 4.0
    with pytest.raises(DataValidationError, match="target column 'load' is constant"):
        clean(raw, data_params, window_params)


def test_too_short_states_required_and_available(raw, data_params, window_params):
    # lookback 14 + horizon 7 + 4*7 validation + 4*7 test = 77 points needed
    with pytest.raises(WindowConfigError, match="has 60 points after cleaning, but 77 are needed"):
        clean(raw.iloc[:60], data_params, window_params)


def test_lookback_disagreeing_with_nested_layout(raw, data_params, window_params):
    match = r"lookback=32 disagrees with n_seq \* n_steps = 2 \* 7"
    with pytest.raises(WindowConfigError, match=match):
        clean(raw, data_params, {**window_params, "lookback": 32})
    assert len(clean(raw, data_params, {**window_params, "lookback": 14})) == len(raw)


def test_off_grid_timestamp_is_refused(raw, data_params, window_params):
    raw.loc[3, "ts"] = "2020-01-04 06:00"
    with pytest.raises(DataValidationError, match="off the D grid.*2020-01-04 06:00"):
        clean(raw, {**data_params, "frequency": "D"}, window_params)


N_INT = 120
DAYS = pd.date_range("1958-03-29", periods=N_INT, freq="D").strftime("%Y%m%d").astype(int)


@pytest.mark.parametrize(("stamps", "first"), [
    (DAYS, "1958-03-29"),  # yyyymmdd, read from CSV as integers
    (np.arange(1700, 1700 + N_INT), "1700-01-01"),  # bare years
])
def test_integer_timestamps_are_read_as_dates(stamps, first, data_params, window_params):
    raw = pd.DataFrame({"ts": stamps, "load": np.sin(np.arange(N_INT)),
                        "temp": np.cos(np.arange(N_INT))})
    series = clean(raw, data_params, {**window_params, "origins": 2, "validation_origins": 2})
    assert series.index[0] == pd.Timestamp(first) and len(series) == N_INT


def test_frequency_finer_than_the_data_is_refused_before_interpolating(
        raw, data_params, window_params):
    # Daily rows read as hourly: 23 of every 24 steps would be invented.
    match = (r"96% of column 'load' \(9177 of 9577 steps at frequency h\) would be interpolated"
             r".*max_interpolated=0.05.*spaced like frequency 'D', not 'h'.*frequency: D")
    with pytest.raises(DataValidationError, match=match):
        clean(raw, {**data_params, "frequency": "h", "max_gap": 23}, window_params)


def test_interpolated_share_is_a_parameter(raw, data_params, window_params):
    gappy = raw.drop(index=[i for i in range(10, 390, 10)])  # 38 missing days, 9.5%
    with pytest.raises(DataValidationError, match="10% of column 'load'.*fill the missing"):
        clean(gappy, data_params, window_params)
    series = clean(gappy, {**data_params, "max_interpolated": 0.1}, window_params)
    assert len(series) == len(raw)
    with pytest.raises(DataValidationError, match="max_interpolated must be a fraction"):
        clean(raw, {**data_params, "max_interpolated": 5}, window_params)


def test_every_long_gap_is_summarised_with_the_max_gap_that_fits(raw, data_params, window_params):
    gappy = raw.drop(index=[*range(30, 35), *range(100, 106), *range(200, 204)])
    gappy.loc[300:303, "temp"] = np.nan  # a long gap in one column only
    match = (r"4 gap\(s\) longer than params:data.max_gap=3 missing step\(s\); the longest, in "
             r"column 'load', has 6 missing step\(s\) starting 2020-04-10.*max_gap: 6 would accept")
    with pytest.raises(DataValidationError, match=match):
        clean(gappy, data_params, window_params)
    assert len(clean(gappy, {**data_params, "max_gap": 6}, window_params)) == len(raw)


def test_rows_as_steps_invent_nothing(data_params, window_params):
    # Trading days: weekdays less a few exchange holidays.
    days = pd.bdate_range("2023-01-02", periods=260)
    holidays = [days[i] for i in (10, 40, 41, 100, 180)]
    days = days.drop(holidays)
    raw = pd.DataFrame({"ts": days.strftime("%Y-%m-%d"), "load": np.sin(np.arange(len(days))),
                        "temp": np.cos(np.arange(len(days)))})
    with pytest.raises(DataValidationError, match="would be interpolated.*frequency.*or to rows"):
        clean(raw, data_params, window_params)  # weekends and holidays read as gaps
    rows = {**data_params, "frequency": "rows", "step_frequency": "B"}
    series = clean(raw, rows, window_params)
    assert len(series) == len(raw) and series.index.equals(pd.DatetimeIndex(days, name="ts"))
    np.testing.assert_array_equal(series["load"].to_numpy(), raw["load"].to_numpy())
    # The same file on the business-day grid gets every holiday interpolated.
    grid = clean(raw, {**data_params, "frequency": "B"}, window_params)
    assert len(grid) == len(raw) + len(holidays)


def test_decimal_comma_is_named(raw, data_params, window_params):
    raw["load"] = raw["load"].map(lambda v: f"{v:.2f}".replace(".", ","))
    with pytest.raises(DataValidationError, match=r"'load' is not numeric.*set data.decimal=comma"):
        clean(raw, data_params, window_params)


@pytest.mark.parametrize("value", [1e308, -1e308, 1e20])
def test_values_beyond_float32_statistics_are_refused(raw, data_params, window_params, value):
    raw.loc[7, "temp"] = value
    match = re.escape(f"column 'temp' holds {value:g} at 2020-01-08") + ".*float32"
    with pytest.raises(DataValidationError, match=match):
        clean(raw, data_params, window_params)


def test_large_values_within_float32_statistics_pass(raw, data_params, window_params):
    raw["temp"] = raw["temp"] * 1e17  # spread ~1e18: variance ~1e36 still fits float32
    assert clean(raw, data_params, window_params)["temp"].abs().max() > 1e18


def test_length_error_names_every_term(raw, data_params, window_params):
    windows = {**window_params, "season_length": 52}
    match = (r"60 points after cleaning, but 116 are needed: max\(lookback 14 = n_seq 2 \* "
             r"n_steps 7, season_length 52 \+ 1\) = 53 history \+ horizon 7 \+ "
             r"validation_origins 4 \* horizon = 28 \+ origins 4 \* horizon = 28")
    with pytest.raises(WindowConfigError, match=match):
        clean(raw.iloc[:60], data_params, windows)


def test_short_series_error_says_which_validation_origins_fits(data_params):
    defaults = {"n_seq": 4, "n_steps": 7, "lookback": None, "horizon": 7, "season_length": 7,
                "origins": 8, "validation_origins": 16}  # conf/base/parameters.yml
    with pytest.raises(WindowConfigError, match=r"200 points.*203 are needed.*"
                       r"validation_origins: 15 \(the largest that fits\)"):
        clean(synthetic_raw(200), data_params, defaults)
    fitting = {**defaults, "validation_origins": 15}
    assert len(clean(synthetic_raw(200), data_params, fitting)) == 200
    with pytest.raises(WindowConfigError, match=r"validation_origins: 1 and origins: 6"):
        clean(synthetic_raw(90), data_params, defaults)


def test_rows_as_steps_in_a_run(project):
    # Trading days exported with their UTC offset: kept as they are, windowed as consecutive steps.
    days = pd.bdate_range("2023-01-02", periods=300, tz="America/New_York").drop(
        pd.DatetimeIndex(["2023-01-16", "2023-02-20", "2023-04-07"], tz="America/New_York"))
    raw = pd.DataFrame({"ts": [d.isoformat() for d in days],
                        "load": np.sin(np.arange(len(days)) / 4) + 5})
    raw.to_csv(project / "data/01_raw/close.csv", index=False)
    params = {"data": {"path": "data/01_raw/close.csv", "time_column": "ts", "targets": "load",
                       "frequency": "rows", "step_frequency": "B",
                       "timezone": "America/New_York"},
              "windows": {"n_seq": 2}}
    run_kedro(project, ["ingestion", "windowing"], params=params)
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert series.index.equals(days.rename("ts").as_unit(series.index.unit))
    spec = json.loads((project / "data/05_model_input/window_spec.json").read_text())
    assert spec["n_points"] == len(days) and spec["end"] == str(days[-1])
