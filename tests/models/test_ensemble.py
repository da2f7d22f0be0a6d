"""The ensemble: the element-wise median of its members, or their and the baselines' weighted
mean, one model saved and loaded safely."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seqcast.calibration import weigh
from seqcast.errors import ModelConfigError
from seqcast.models import (
    build_ensemble,
    build_forecaster,
    combine,
    history_shape,
    member_names,
    series_codes,
    series_ids,
)
from seqcast.models.combination import simplex_grid, simplex_weights
from seqcast.models.ensemble import ensemble_baselines
from seqcast.spec import make_window_spec
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw, tiny_spec


@pytest.fixture(scope="module")
def members():
    """Three untrained forecasters of both layouts, each with its own random weights."""
    spec = tiny_spec()
    built = {}
    for i, (name, family) in enumerate((("a", "cnn_lstm"), ("b", "lstm"), ("c", "lstm"))):
        keras.utils.set_random_seed(i)
        built[name] = build_forecaster(family, spec, {"units": 4})[1]
    return built


def windows(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(5, 3, (n, 8, 2)).astype(np.float32),
            rng.integers(0, 2, n).astype(np.int32))


def member_forecasts(members, history, codes):
    return np.stack([np.asarray(m.predict([history.reshape(len(codes), *history_shape(m)),
                                          codes], verbose=0)) for m in members.values()])


@pytest.mark.parametrize("count", [2, 3])
def test_the_forecast_is_the_median_of_the_members(members, count):
    chosen = dict(list(members.items())[:count])
    ensemble = build_ensemble(chosen)
    history, codes = windows()
    got = np.asarray(ensemble.predict([history, codes], verbose=0))
    each = member_forecasts(chosen, history, codes)
    assert not np.allclose(each[0], each[1])  # members disagree: the median is not trivial
    np.testing.assert_allclose(got, np.median(each, axis=0), rtol=1e-5, atol=1e-5)
    assert history_shape(ensemble) == (8, 2) and member_names(ensemble) == list(chosen)
    assert series_ids(ensemble) == ["s0", "s1"]
    np.testing.assert_array_equal(series_codes(ensemble, ["s1", "s0"]), [1, 0])


def test_saved_and_loaded_with_safe_mode_forecasts_the_same(members, tmp_path):
    ensemble = build_ensemble(members)
    history, codes = windows(seed=1)
    path = tmp_path / "ensemble.keras"
    ensemble.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(loaded.predict([history, codes], verbose=0)),
                               np.asarray(ensemble.predict([history, codes], verbose=0)),
                               rtol=1e-6)
    assert member_names(loaded) == ["a", "b", "c"]


def test_members_that_cannot_be_combined_are_refused(members):
    with pytest.raises(ModelConfigError, match="at least 2 members"):
        build_ensemble({"a": members["a"]})
    with pytest.raises(ModelConfigError, match="each trained namespace once"):
        combine(["a", "a"], members)
    with pytest.raises(ModelConfigError, match="each trained namespace once"):
        combine(["a", "x"], members)
    other = build_forecaster("lstm", tiny_spec(series=["s0", "s9"]), {"units": 4})[1]
    with pytest.raises(ModelConfigError, match="differ in series"):
        build_ensemble({"a": members["a"], "z": other})


BASELINES = {"naive": 1, "seasonal_naive": 3}  # tiny_spec: season_length 3, horizon 3


def weighted(members, weights):
    """The weighted ensemble of ``members`` and both baselines, with ``weights`` set."""
    ensemble = build_ensemble(members, baselines=BASELINES, target_index=[1])
    ensemble.get_layer("combination").set_weights([np.asarray(weights, np.float32)])
    return ensemble


def test_all_weight_on_a_baseline_forecasts_exactly_that_baseline(members):
    history, codes = windows(seed=2)
    chosen = dict(list(members.items())[:2])
    y = history[..., 1]  # target b
    expected = {"naive": np.repeat(y[:, -1:], 3, axis=1), "seasonal_naive": y[:, -3:]}
    for k, name in enumerate(BASELINES):
        weights = np.eye(4)[2 + k]
        got = np.asarray(weighted(chosen, weights).predict([history, codes], verbose=0))
        np.testing.assert_allclose(got[..., 0], expected[name], rtol=1e-6)


def test_the_forecast_is_the_weighted_mean_and_survives_safe_loading(members, tmp_path):
    chosen = dict(list(members.items())[:2])
    history, codes = windows(seed=3)
    weights = [0.2, 0.3, 0.45, 0.05]
    ensemble = weighted(chosen, weights)
    y = history[..., 1]
    parts = [*member_forecasts(chosen, history, codes),
             np.repeat(y[:, -1:], 3, axis=1)[..., None], y[:, -3:, None]]
    got = np.asarray(ensemble.predict([history, codes], verbose=0))
    mixed = sum(w * p for w, p in zip(weights, parts, strict=True))
    np.testing.assert_allclose(got, mixed, rtol=1e-5, atol=1e-5)
    ensemble.save(tmp_path / "weighted.keras")
    loaded = keras.saving.load_model(tmp_path / "weighted.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(loaded.predict([history, codes], verbose=0)), got,
                               rtol=1e-6)
    assert member_names(loaded) == ["a", "b"]


def test_the_weights_are_the_lowest_error_mix_on_the_grid():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 400, 3, 1))
    np.testing.assert_allclose(simplex_weights(np.stack([a, b, c]), b), [0, 1, 0])
    np.testing.assert_allclose(simplex_weights(np.stack([a, b, c]), 0.3 * a + 0.7 * c),
                               [0.3, 0, 0.7], atol=1e-9)
    assert simplex_grid(4).shape == (1771, 4) and np.allclose(simplex_grid(4).sum(axis=1), 1)


def test_a_baseline_the_window_cannot_compute_is_left_out(caplog):
    assert ensemble_baselines(["naive", "seasonal_naive"], 8, 3) == BASELINES
    assert ensemble_baselines(["naive", "seasonal_naive"], 8, 1) == {"naive": 1}
    assert ensemble_baselines(["naive", "seasonal_naive"], 8, 12) == {"naive": 1}
    assert "seasonal_naive left out" in caplog.text
    with pytest.raises(ModelConfigError, match="naive, seasonal_naive once"):
        ensemble_baselines(["drift"], 8, 3)
    with pytest.raises(ModelConfigError, match="not one of"):
        combine(["a", "b"], {"a": None, "b": None}, "mean")


def test_the_weights_read_validation_windows_only_and_find_the_better_baseline():
    """A weekly pattern: untrained members and the naive forecast lose to the seasonal naive,
    which takes most weight; changing every test-period value changes no weight."""
    series = clean_series(synthetic_raw(), DATA, WINDOWS)
    spec = make_window_spec(series, DATA, WINDOWS)
    keras.utils.set_random_seed(0)
    forecasters = {f: build_forecaster(f, spec, {"units": 4})[1] for f in ("cnn_lstm", "lstm")}

    def weights(data):
        model, record = combine(list(forecasters), forecasters, "weighted",
                                ["naive", "seasonal_naive"], spec)
        assert record["baselines"] == ["naive", "seasonal_naive"]
        return weigh(model, data, spec)["weights"]

    chosen = weights(series)
    assert chosen["seasonal_naive"] >= 0.8 and sum(chosen.values()) == pytest.approx(1)
    changed = series.copy()
    test_points = spec.geometry.test_points
    changed.iloc[-test_points:, changed.columns.get_loc("load")] *= -100
    assert weights(changed) == chosen
