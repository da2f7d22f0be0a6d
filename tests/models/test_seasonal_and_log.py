"""The seasonal-residual normalisation and the in-model log transform (``training.transform``):
a zero network output is the seasonal-naive (or naive) forecast, the log round-trips, ``auto``
chooses from training rows only, and the saved model carries everything."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from seqcast import backtest as bt
from seqcast.backtest import baseline_forecasts, predict_windows
from seqcast.errors import ModelConfigError
from seqcast.fitting import fit_family
from seqcast.models import build_forecaster, series_scales
from seqcast.models.layers import SeriesTransform, WindowNormalization
from seqcast.spec import make_window_spec
from tests.conftest import clean_series

DATA = {"path": "panel.csv", "id_columns": ["id"], "time_column": "ts", "targets": ["y"],
        "max_gap": 3}
WINDOWS = {"n_seq": 2, "n_steps": 4, "horizon": 6, "season_length": 4, "origins": 2,
           "validation_origins": 2}
SMALL = {"cnn_lstm": {"filters": 4, "units": 4}, "lstm": {"units": 4}}


def seasonal(n: int, start: tuple[float, float], swing: float, *, multiplicative: bool,
             seed: int = 0) -> np.ndarray:
    """A series from ``start = (level, trend)`` with a season of 4 whose swing is ``swing``
    (in units, or as a share of the level when ``multiplicative``) plus a little noise."""
    (level, trend), m, t = start, 4, np.arange(n)
    base = level + trend * t
    season = np.sin(2 * np.pi * t / m) + 0.5 * np.cos(2 * np.pi * t / m)
    noise = np.random.default_rng(seed).normal(0, 0.02, n)
    return base * (1 + swing * season + noise) if multiplicative else base + swing * season + (
        level * noise)


def panel(*columns: np.ndarray) -> pd.DataFrame:
    frames = [pd.DataFrame({"id": f"s{i}", "ts": pd.date_range("2021-01-01", periods=len(y),
                                                               freq="D").astype(str),
                            "y": y, "x": np.cos(np.arange(len(y)))})
              for i, y in enumerate(columns)]
    return clean_series(pd.concat(frames, ignore_index=True), DATA, WINDOWS)


@pytest.fixture(scope="module")
def two_scales():
    """Two series of very different scales (about 5 and about 5,000)."""
    series = panel(seasonal(60, (5.0, 0.05), 0.3, multiplicative=True),
                   seasonal(48, (5000.0, 20.0), 800.0, multiplicative=False, seed=1))
    return series, make_window_spec(series, DATA, WINDOWS)


def zeroed(model: keras.Model) -> keras.Model:
    for weight in model.trainable_weights:
        weight.assign(np.zeros(weight.shape, weight.dtype))
    return model


@pytest.mark.parametrize("name", ["cnn_lstm", "lstm"])
@pytest.mark.parametrize("transform", ["none", "log"])
def test_zero_network_forecasts_exactly_seasonal_naive(two_scales, name, transform):
    series, spec = two_scales
    scales = series_scales(spec.panel(series).values, spec, transform)
    _, forecaster = build_forecaster(name, spec, SMALL[name], "seasonal", scales)
    forecast = predict_windows(zeroed(forecaster), series, spec)
    y = series[spec.targets].to_numpy(np.float64)
    expected = baseline_forecasts(y, bt.test_origins(spec)[0], spec)["seasonal_naive"]
    np.testing.assert_allclose(forecast, expected, rtol=2e-6)
    # a horizon longer than the season reuses the last season: not the naive forecast
    assert not np.allclose(forecast, baseline_forecasts(y, bt.test_origins(spec)[0], spec)["naive"])


def test_seasonal_with_season_length_one_is_naive(two_scales):
    series, spec = two_scales
    spec = spec.__class__(**{**spec.__dict__, "geometry": spec.geometry.__class__(
        **{**spec.geometry.__dict__, "season_length": 1})})
    _, forecaster = build_forecaster("lstm", spec, SMALL["lstm"], "seasonal")
    forecast = predict_windows(zeroed(forecaster), series, spec)
    y = series[spec.targets].to_numpy(np.float64)
    np.testing.assert_allclose(forecast, baseline_forecasts(y, bt.test_origins(spec)[0], spec)[
        "naive"], rtol=2e-6)


def test_seasonal_refuses_a_lookback_shorter_than_the_season(two_scales):
    _, spec = two_scales
    short = spec.__class__(**{**spec.__dict__, "geometry": spec.geometry.__class__(
        **{**spec.geometry.__dict__, "season_length": 9})})
    with pytest.raises(ModelConfigError, match=r"lookback \(8\) >= season_length \(9\)"):
        build_forecaster("lstm", short, SMALL["lstm"], "seasonal")


def test_log_transform_round_trips(two_scales):
    series, spec = two_scales
    scales = series_scales(spec.panel(series).values, spec, "log")
    t, f = spec.target_index[0], spec.features.index("x")
    assert scales.log[:, t].all() and not scales.log[:, f].any()
    forward = SeriesTransform(2, 2)
    inverse = SeriesTransform(2, 1, inverse=True)
    forward.build(None)
    inverse.build(None)
    forward.set_weights([scales.log.astype("float32"), scales.floor])
    inverse.set_weights([scales.log[:, [t]].astype("float32"), scales.floor[:, [t]]])
    codes = np.array([0, 1, 1, 0], np.int32)
    level = np.array([5.0, 5000.0])[codes][:, None, None]
    x = (np.random.default_rng(3).uniform(1, 3, (4, 5, 2)) * level).astype("float32")
    logged = np.asarray(forward([x, codes]))
    np.testing.assert_allclose(logged[..., t], np.log(x[..., t]), rtol=1e-6)
    np.testing.assert_array_equal(logged[..., f], x[..., f])  # a feature stays as it is
    np.testing.assert_allclose(np.asarray(inverse([logged[..., [t]], codes])), x[..., [t]],
                               rtol=1e-5)
    # a non-positive value is raised to half the smallest training value, never -inf or NaN
    x[0, 0, t] = -1.0
    assert np.asarray(forward([x, codes]))[0, 0, t] == np.float32(np.log(scales.floor[0, t]))
    # the forecaster with a zero network under `last` gives each window's last value back
    _, forecaster = build_forecaster("lstm", spec, SMALL["lstm"], "last", scales)
    forecast = predict_windows(zeroed(forecaster), series, spec)
    y = series[spec.targets].to_numpy(np.float64)
    np.testing.assert_allclose(forecast, baseline_forecasts(y, bt.test_origins(spec)[0], spec)[
        "naive"], rtol=2e-6)
    # statistics on the log scale, from training rows only
    values = spec.panel(series).values
    train = np.log(values[: spec.boundaries()[0][0], t].astype(np.float64))
    np.testing.assert_allclose(scales.mean[0, t], train.mean(), rtol=1e-6)
    np.testing.assert_allclose(scales.std[0, t], train.std(), rtol=1e-6)


def test_auto_logs_only_a_positive_multiplicative_series():
    multiplicative = seasonal(60, (5.0, 0.3), 0.3, multiplicative=True)
    negative = multiplicative.copy()
    negative[10] = -0.5  # a training row
    series = panel(multiplicative, seasonal(60, (5.0, 0.3), 1.0, multiplicative=False, seed=1),
                   negative)
    spec = make_window_spec(series, DATA, WINDOWS)
    values = spec.panel(series).values
    t = spec.target_index[0]
    assert series_scales(values, spec, "auto").log[:, t].tolist() == [True, False, False]
    assert not series_scales(values, spec, "none").any_log
    with pytest.raises(ModelConfigError, match=r"'y' of series s2 reaches -"):
        series_scales(values, spec, "log")
    with pytest.raises(ModelConfigError, match="training.transform='sqrt'"):
        series_scales(values, spec, "sqrt")


def test_auto_reads_training_rows_only():
    """A test-period value <= 0 cannot change the choice: it is never read."""
    y = seasonal(60, (5.0, 0.3), 0.3, multiplicative=True)
    spec = make_window_spec(panel(y), DATA, WINDOWS)
    changed = y.copy()
    changed[spec.boundaries()[0][0]:] = -1.0  # validation and test periods
    series = panel(changed)
    assert series_scales(spec.panel(series).values, spec, "auto").log[0, spec.target_index[0]]


@pytest.mark.parametrize("normalization", ["seasonal", "mean"])
def test_trained_log_model_loads_in_safe_mode(two_scales, normalization, tmp_path):
    series, spec = two_scales
    training = {"normalization": normalization, "transform": "log", "learning_rate": 0.01,
                "batch_size": 16, "epochs": 2, "patience": 2, "seed": 0, "backup_dir": None}
    forecaster, record = fit_family(series, spec.to_dict(), "lstm", SMALL["lstm"], training)
    assert np.isfinite(record["val_loss"]).all()
    layer = forecaster.get_layer("window_normalization")
    assert (layer.mode, layer.season_length, layer.horizon) == (normalization, 4, 6)
    forecaster.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(predict_windows(loaded, series, spec),
                               predict_windows(forecaster, series, spec), rtol=1e-6)
    assert loaded.get_layer("to_log").get_weights()[0][:, spec.target_index[0]].tolist() == [
        1.0, 1.0]


def test_window_normalization_seasonal_layer_alone():
    x = np.arange(2 * 8 * 1, dtype="float32").reshape(2, 8, 1) ** 2
    layer = WindowNormalization("seasonal", season_length=3, horizon=5)
    centred, level = (np.asarray(a) for a in layer(x))
    # steps 1..5 take positions 5, 6, 7, 5, 6 of the window (m=3: back 3, 3, 3, 6, 6)
    np.testing.assert_array_equal(level, x[:, [5, 6, 7, 5, 6]])
    np.testing.assert_allclose(centred, x - x.mean(axis=1, keepdims=True))
    restored = WindowNormalization.from_config(layer.get_config())
    assert restored.season_length == 3 and restored.horizon == 5
