"""The ensemble: the element-wise median of its members, one model saved and loaded safely."""

from __future__ import annotations

import keras
import numpy as np
import pytest

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
from tests.conftest import tiny_spec


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
