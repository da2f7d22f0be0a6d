"""A ragged panel: per-series splits, windows that never cross a series, per-series scaling
from training rows only, and a batched backtest equal to a slow per-series reference."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from seqcast import metrics
from seqcast.backtest import backtest, baseline_backtest, evaluate
from seqcast.fitting import fit_family
from seqcast.spec import make_window_spec
from seqcast.stream import WindowStream
from tests.conftest import clean_series

DATA = {"path": "panel.csv", "id_columns": ["store", "item"], "time_column": "ts",
        "targets": ["y"], "max_gap": 3}
WINDOWS = {"n_seq": 2, "n_steps": 4, "horizon": 3, "season_length": 4, "origins": 2,
           "validation_origins": 2}
# (start day, length, scale): ragged starts and ends, scales 1e-2 … 1e3, one constant series
SHAPES = [(0, 60, 1.0), (9, 45, 1000.0), (3, 52, 0.01), (5, 40, 0.0)]
TRAINING = {"learning_rate": 0.01, "batch_size": 16, "epochs": 2, "patience": 2, "seed": 0}


def panel_raw(shapes=SHAPES, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for i, (start, n, scale) in enumerate(shapes):
        t = np.arange(n)
        y = scale * (5 + np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.1, n)) + (3 if not scale
                                                                                else 0)
        stamps = pd.date_range("2021-01-01", periods=n, freq="D") + pd.Timedelta(days=start)
        frames.append(pd.DataFrame({"store": f"s{i % 2}", "item": i, "ts": stamps.astype(str),
                                    "y": y}))
    return pd.concat(frames[::-1], ignore_index=True)  # any order: ingestion sorts


@pytest.fixture(scope="module")
def panel():
    series = clean_series(panel_raw(), DATA, WINDOWS)
    return series, make_window_spec(series, DATA, WINDOWS)


def test_each_series_is_split_by_its_own_time(panel):
    series, spec = panel
    assert spec.series == ["s0/0", "s0/2", "s1/1", "s1/3"] and spec.lengths == [60, 52, 45, 40]
    starts, codes = spec.test_starts()
    ends = spec.offsets()[1:]
    origins = spec.geometry.origin_of(starts).reshape(4, 2)
    # every series' test blocks are its own last `origins` blocks of `horizon` points
    np.testing.assert_array_equal(origins, (ends[:, None] - np.array([6, 3]) - 1))
    np.testing.assert_array_equal(codes, np.repeat(np.arange(4), 2))


def _flat_rows(stream: WindowStream):
    """Every window of a stream as (first row, last row, code)."""
    out = []
    width = stream.lookback + stream.horizon
    for position in range(stream.n_windows):
        start, code = stream.windows.locate(np.array([position]))
        out.append((int(start[0]), int(start[0]) + width - 1, int(code[0])))
    return np.array(out)


def test_windows_never_cross_a_series_or_reach_its_later_periods(panel):
    _, spec = panel
    offsets = spec.offsets()
    validation_start, test_start = spec.boundaries()
    for windows, limit in ((spec.train_windows(), validation_start),
                           (spec.validation_windows(), test_start)):
        stream = WindowStream(np.zeros((spec.n_points, 1), np.float32), windows, spec.lookback,
                              spec.horizon, [0])
        rows = _flat_rows(stream)
        first, last, code = rows.T
        assert (first >= offsets[code]).all() and (last < offsets[code + 1]).all()
        assert (last < offsets[code] + limit[code]).all()  # no target in a later period
        assert set(code) == {0, 1, 2, 3}


def test_the_tf_feed_gives_each_window_its_series_code(panel):
    series, spec = panel
    values = spec.panel(series).values
    stream = WindowStream(values, spec.train_windows(), spec.lookback, spec.horizon, [0],
                          batch_size=32, shuffle=True, seed=1, target_scale=spec.target_scale())
    codes = spec.panel(series).codes()
    seen, first_codes = 0, None
    for (xt, ct), yt in stream.dataset():
        x, c, y = xt.numpy(), ct.numpy(), yt.numpy()
        if seen == 0:
            first_codes = c
        for i in range(len(x)):
            start = int(np.flatnonzero(values[:, 0] == x[i, 0, 0])[0])
            assert codes[start] == c[i]
            mean, std = spec.target_scale()
            expected = (values[start + spec.lookback:start + spec.lookback + spec.horizon]
                        - mean[c[i]]) / std[c[i]]
            np.testing.assert_allclose(y[i], expected, rtol=1e-5, atol=1e-6)
        seen += len(x)
    assert seen == spec.n_train_windows and len(set(codes)) == 4
    assert len(np.unique(first_codes)) > 1  # one batch mixes series


def test_scaling_comes_from_each_series_training_rows_only(panel):
    series, spec = panel
    _, test_start = spec.boundaries()
    altered = series.copy()
    offsets = spec.offsets()
    rows = np.arange(offsets[2] + test_start[2] - 3, offsets[3])  # validation tail and test
    altered.loc[altered.index[rows], "y"] *= 7.0
    again = make_window_spec(altered, DATA, WINDOWS)
    assert again.mean == spec.mean and again.std == spec.std
    scales = np.asarray(spec.std)[:, 0]
    # codes follow the sorted ids: s0/0 (scale 1), s0/2 (0.01), s1/1 (1000), s1/3 (constant)
    assert scales[2] > 100 * scales[0] > 10_000 * scales[1] and scales[3] == 1.0


def test_a_change_in_one_series_test_period_changes_no_weight_and_no_other_forecast(panel):
    series, spec = panel
    _, test_start = spec.boundaries()
    altered = series.copy()
    offsets = spec.offsets()
    rows = np.arange(offsets[1] + test_start[1], offsets[2])  # series 1's test period only
    altered.loc[altered.index[rows], "y"] += 50.0
    model, _ = fit_family(series, spec, "lstm", {"units": 4}, TRAINING)
    again, _ = fit_family(altered, make_window_spec(altered, DATA, WINDOWS), "lstm",
                          {"units": 4}, TRAINING)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    one, two = backtest(series, spec, model, "m"), backtest(altered, spec, again, "m")
    others = one["series"] != "s0/2"
    np.testing.assert_array_equal(one.loc[others, "forecast"], two.loc[others, "forecast"])
    # the altered series' own later forecasts do see its new history
    assert not np.array_equal(one.loc[~others, "forecast"], two.loc[~others, "forecast"])


def test_batched_backtest_equals_a_slow_per_series_reference(panel):
    series, spec = panel
    keras.utils.set_random_seed(0)
    model, _ = fit_family(series, spec, "cnn_lstm", {"filters": 4, "units": 4,
                                                     "kernel_size": 2, "series_embedding": 2},
                          {**TRAINING, "epochs": 1})
    table = backtest(series, spec, model, "cnn_lstm")
    scores, _, by_series = evaluate(series, spec, table)
    time_column = DATA["time_column"]
    for code, label in enumerate(spec.series):
        store, item = label.split("/")
        one = series[(series["store"] == store) & (series["item"] == int(item))]
        y = one["y"].to_numpy()
        n = len(y)
        for block in range(spec.geometry.origins, 0, -1):
            origin = n - block * spec.horizon - 1
            x = y[origin - spec.lookback + 1:origin + 1].astype(np.float32)
            expected = model.predict([x.reshape(1, 2, 4, 1), np.array([code])], verbose=0)[0]
            rows = table[(table["series"] == label)
                         & (table["origin"] == one[time_column].iloc[origin])]
            np.testing.assert_allclose(rows["forecast"], expected[:, 0], rtol=1e-5, atol=1e-5)
            np.testing.assert_array_equal(rows["actual"], y[origin + 1:origin + 4])
        # MASE against the per-series reference definition, seasonal naive from the library
        origins = [n - b * spec.horizon - 1 for b in range(spec.geometry.origins, 0, -1)]
        forecast = np.stack([metrics.seasonal_naive(y[:o + 1, None], 3, 4) for o in origins])
        actual = np.stack([y[o + 1:o + 4, None] for o in origins])
        scale = np.stack([metrics.mase_scale(y[:o + 1, None], 4) for o in origins])
        row = by_series[(by_series["series"] == label) & (by_series["model"] == "seasonal_naive")]
        if (scale == 0).any():
            assert np.isnan(row["mase"].item())
        else:
            expected = metrics.scores(forecast, actual, scale)["mase"]
            np.testing.assert_allclose(row["mase"].item(), expected)
    assert scores["seasonal_naive"]["n_series_mase_undefined"] == 1
    defined = by_series[by_series["model"] == "cnn_lstm"]["mase"].dropna()
    np.testing.assert_allclose(scores["cnn_lstm"]["mase"], defined.mean())
    assert 0.0 <= scores["cnn_lstm"]["share_beats_seasonal_naive"] <= 1.0
    assert len(baseline_backtest(series, spec)) == 2 * 4 * 2 * 3
