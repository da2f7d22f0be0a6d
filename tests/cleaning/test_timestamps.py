"""Time zones, DST switches and future steps: tables exported with other clocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqcast.cleaning import DataValidationError, future_timestamps
from tests.conftest import clean_series

N = 120
PARIS = "Europe/Paris"


def table(stamps) -> pd.DataFrame:
    n = len(stamps)
    return pd.DataFrame({"ts": list(stamps), "load": 10 + np.sin(np.arange(n) / 3),
                         "temp": np.cos(np.arange(n) / 5)})


def windows(window_params) -> dict:
    return {**window_params, "origins": 2, "validation_origins": 2}


def iso(index: pd.DatetimeIndex) -> list[str]:
    return [t.isoformat() for t in index]


def test_one_offset_is_converted_to_utc(data_params, window_params):
    stamps = pd.date_range("2020-01-01", periods=N, freq="D", tz="UTC").tz_convert("Etc/GMT-1")
    series = clean_series(table(iso(stamps)), data_params, windows(window_params))
    assert str(series.index.tz) == "UTC" and series.index[0] == pd.Timestamp("2020-01-01", tz="UTC")
    assert len(series) == N


def test_offsets_changing_at_dst_are_one_regular_clock(data_params, window_params):
    # Hourly across the spring switch: +01:00 until 02:00 local, +02:00 after.
    stamps = pd.date_range("2020-03-28", periods=N, freq="h", tz=PARIS)
    raw = table(iso(stamps))
    series = clean_series(raw, data_params, windows(window_params))
    assert str(series.index.tz) == "UTC" and len(series) == N  # nothing inserted
    assert pd.infer_freq(series.index) == "h"
    local = clean_series(raw, {**data_params, "timezone": PARIS}, windows(window_params))
    assert str(local.index.tz) == PARIS and local.index.equals(stamps.rename("ts"))


def test_local_days_across_dst_need_their_zone(data_params, window_params):
    stamps = pd.date_range("2020-03-01", periods=N, freq="D", tz=PARIS)  # midnights, 2 offsets
    raw = table(iso(stamps))
    with pytest.raises(DataValidationError, match="off the .* grid.*params:data.timezone"):
        clean_series(raw, data_params, windows(window_params))
    series = clean_series(raw, {**data_params, "timezone": PARIS}, windows(window_params))
    assert len(series) == N and series.index[30] == pd.Timestamp("2020-03-31", tz=PARIS)


def test_offsets_and_naive_times_mixed_are_refused(data_params, window_params):
    stamps = iso(pd.date_range("2020-01-01", periods=N, freq="h", tz="UTC"))
    stamps[7] = "2020-01-01 07:00:00"
    match = "column 'ts' mixes timestamps with and without a UTC offset.*'2020-01-01 07:00:00'"
    with pytest.raises(DataValidationError, match=match + " in data row 8"):
        clean_series(table(stamps), data_params, windows(window_params))


@pytest.mark.parametrize(("start", "first"), [
    ("2020-10-24 12:00", "2020-10-25 02:00"),  # autumn: 02:00-02:59 happens twice
    ("2020-03-28 12:00", "2020-03-29 02:00"),  # spring: 02:00-02:59 never happens
])
def test_naive_local_times_at_dst_are_refused(start, first, data_params, window_params):
    stamps = pd.date_range(start, periods=N, freq="h").strftime("%Y-%m-%d %H:%M")
    match = (f"column 'ts' has 1 local time.*repeat or do not exist at a DST switch in "
             f"{PARIS}, first '{first}'")
    with pytest.raises(DataValidationError, match=match):
        clean_series(table(stamps), {**data_params, "timezone": PARIS}, windows(window_params))


def test_naive_local_times_from_a_dst_clock_are_read_in_its_zone(data_params, window_params):
    # A logger on local time skips 02:00 in spring: in its zone that is no gap.
    stamps = pd.date_range("2020-03-28", periods=N, freq="h", tz=PARIS)
    raw = table(stamps.strftime("%Y-%m-%d %H:%M"))
    series = clean_series(raw, {**data_params, "timezone": PARIS}, windows(window_params))
    assert len(series) == N and series.index.equals(stamps.rename("ts"))


def test_naive_times_stay_naive_by_default(raw, data_params, window_params):
    assert clean_series(raw, data_params, window_params).index.tz is None
    utc = clean_series(raw, {**data_params, "timezone": "UTC"}, window_params)
    assert str(utc.index.tz) == "UTC"


def test_unknown_zone_is_refused(raw, data_params, window_params):
    with pytest.raises(DataValidationError, match="params:data.timezone='Paris' is not a time"):
        clean_series(raw, {**data_params, "timezone": "Paris"}, window_params)


def test_future_timestamps_follow_the_configured_rule():
    friday = pd.DatetimeIndex(["2024-03-27", "2024-03-28", "2024-03-29"], name="ts")
    business = future_timestamps(friday, 3, {"frequency": "rows", "step_frequency": "B"})
    assert list(business) == list(pd.to_datetime(["2024-04-01", "2024-04-02", "2024-04-03"]))
    steps = future_timestamps(friday, 3, {"frequency": "rows", "step_frequency": None})
    assert list(steps) == [1, 2, 3]
    daily = future_timestamps(friday, 2, {"frequency": None})
    assert list(daily) == list(pd.to_datetime(["2024-03-30", "2024-03-31"]))
    local = pd.date_range("2020-03-27", periods=3, freq="D", tz=PARIS)
    across = future_timestamps(local, 2, {"frequency": None})  # over the spring switch
    assert list(across) == list(pd.date_range("2020-03-30", periods=2, freq="D", tz=PARIS))
