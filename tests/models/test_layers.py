"""The fast TimeDistributed computes Keras' function; the forecaster is self-contained."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers as kl

from seqcast.models import FAMILIES, build_forecaster, history_shape, input_shape
from seqcast.models.layers import FastTimeDistributed, WindowNormalization
from tests.conftest import tiny_spec


@pytest.mark.parametrize(
    ("make_inner", "shape"),
    [
        (lambda: kl.Conv1D(4, 3, activation="relu"), (3, 7, 2)),
        (lambda: kl.MaxPooling1D(2), (3, 6, 4)),
        (kl.Flatten, (3, 3, 4)),
        (lambda: kl.Dense(5), (6, 8)),
    ],
)
def test_fast_time_distributed_equals_keras(make_inner, shape):
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype("float32")
    ours = keras.Sequential([keras.Input(shape), FastTimeDistributed(make_inner())])
    theirs = keras.Sequential([keras.Input(shape), kl.TimeDistributed(make_inner())])
    theirs.set_weights(ours.get_weights())
    assert ours.count_params() == theirs.count_params()
    assert ours.output_shape == theirs.output_shape
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["last", "mean", "none"])
def test_window_centre(mode):
    x = np.arange(24, dtype="float32").reshape(2, 4, 3)
    centred, level = (np.asarray(a) for a in WindowNormalization(mode)(x))
    expected = {"last": x[:, -1:], "mean": x.mean(axis=1, keepdims=True),
                "none": np.zeros((2, 1, 3))}[mode]
    np.testing.assert_allclose(level, expected)
    np.testing.assert_allclose(centred + level, x)


SPEC = tiny_spec()  # two series: target b scaled by (mean, std) -5, 4 and 100, 10
CODES = np.array([0, 1, 0, 1, 1], np.int32)


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("embedding", [0, 3])
def test_forecaster_saves_and_loads_in_safe_mode(name, embedding, tmp_path):
    trainable, forecaster = build_forecaster(name, SPEC, {"units": 4,
                                                          "series_embedding": embedding})
    assert history_shape(forecaster) == input_shape(name, SPEC)
    x = np.random.default_rng(1).normal(size=(5, *input_shape(name, SPEC))).astype("float32")
    y = forecaster.predict([x, CODES], verbose=0)
    assert y.shape == (5, 3, 1)
    # the forecaster is the trainable model de-scaled to each series' own target units
    scale = np.where(CODES == 0, 4.0, 10.0)[:, None, None]
    offset = np.where(CODES == 0, -5.0, 100.0)[:, None, None]
    np.testing.assert_allclose(y, trainable.predict([x, CODES], verbose=0) * scale + offset,
                               rtol=1e-5, atol=1e-4)
    forecaster.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(loaded.predict([x, CODES], verbose=0), y, rtol=1e-6)
    assert loaded.get_layer("standardise").ids == ["s0", "s1"]
    assert ("series_embedding" in [layer.name for layer in loaded.layers]) == bool(embedding)


def test_last_value_normalisation_makes_forecasts_level_equivariant():
    """With `last`, shifting the whole target history shifts the forecast by the same amount."""
    _, forecaster = build_forecaster("lstm", SPEC, {"units": 4}, normalization="last")
    x = np.random.default_rng(2).normal(size=(3, 8, 2)).astype("float32")
    shifted = x.copy()
    shifted[..., 1] += 100.0
    codes = np.array([0, 1, 1], np.int32)
    np.testing.assert_allclose(forecaster.predict([shifted, codes], verbose=0),
                               forecaster.predict([x, codes], verbose=0) + 100.0, rtol=1e-4,
                               atol=1e-3)


def test_cnn_lstm_rejects_a_kernel_longer_than_a_subsequence():
    with pytest.raises(ValueError, match="kernel_size=5.*n_steps=4"):
        build_forecaster("cnn_lstm", SPEC, {"kernel_size": 5})


def test_lstm_many_to_many_when_horizon_equals_lookback():
    spec = tiny_spec(horizon=8)
    _, forecaster = build_forecaster("lstm", spec, {"units": 4})
    names = [layer.name for layer in forecaster.layers]
    assert "encoder" not in names and "decoder_0" in names
    assert forecaster.output_shape == (None, 8, 1)


def test_direct_predict_equals_keras_predict():
    """backtest.predict's direct call gives Keras' predict's forecasts, exactly, also on a
    second call (its cached function) and for a batch of another size."""
    from seqcast.backtest import predict

    _, forecaster = build_forecaster("lstm", SPEC, {"units": 4})
    x = np.random.default_rng(3).normal(size=(5, *input_shape("lstm", SPEC))).astype("float32")
    for n in (5, 5, 3):
        np.testing.assert_array_equal(predict(forecaster, x[:n], CODES[:n]),
                                      forecaster.predict([x[:n], CODES[:n]], verbose=0))
