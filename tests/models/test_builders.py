"""Builders take their hyperparameters by keyword; MLflow's ``model.*`` columns are those."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seqcast.models import FAMILIES
from seqcast.models.layers import WindowCentre, WindowNormalization
from seqcast.tracking import hyperparameter_names, run_params
from tests.conftest import tiny_spec


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_hyperparameters_are_keyword_only(name):
    x = keras.Input((4, 7, 2) if FAMILIES[name].nested else (28, 2))
    with pytest.raises(TypeError):
        FAMILIES[name].build(x, 7, 1, 8)  # a hyperparameter by position
    assert FAMILIES[name].build(x, 7, 1, units=8).shape == (None, 7, 1)


def test_model_columns_are_every_family_s_keyword_arguments():
    assert hyperparameter_names() == ["dropout", "filters", "kernel_size", "layers",
                                      "pool_size", "series_embedding", "units"]
    spec = tiny_spec(n_seq=4, n_steps=7, horizon=7, season_length=7, origins=8,
                     validation_origins=16)
    params = run_params("lstm", {"model": {"units": 8}, "training": {"epochs": 3}}, spec)
    assert params["model.units"] == 8 and params["model.layers"] == 1
    assert params["model.series_embedding"] == 0 and params["lookback"] == 28
    assert params["model.filters"] == "n/a" and params["training.epochs"] == 3


def test_a_model_saved_with_the_former_layer_name_loads_safely(tmp_path):
    x = keras.Input((5, 2))
    centred, _ = WindowCentre("mean")(x)  # what models saved before the rename hold
    path = tmp_path / "old.keras"
    keras.Model(x, centred).save(path)
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    layer = loaded.layers[1]
    assert isinstance(layer, WindowNormalization) and layer.mode == "mean"
    values = np.arange(10, dtype="float32").reshape(1, 5, 2)
    np.testing.assert_allclose(loaded.predict(values, verbose=0), values - values.mean(1))
