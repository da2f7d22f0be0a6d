"""Model families, one builder each, and the self-contained forecaster around them.

Adding a family: write ``build_<family>(x, horizon, n_targets, *, **hyperparameters)``
returning a ``(batch, horizon, n_targets)`` tensor (its keyword-only arguments are its
hyperparameters, the ``model.*`` columns in MLflow), add it to ``FAMILIES``, and give it a
parameters block in ``conf/base/parameters_training.yml``. The training pipeline picks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers as kl

from seqcast.errors import ModelConfigError

from .cnn_lstm import build_cnn_lstm
from .layers import FastTimeDistributed, Rescale, RestoreLevel, WindowNormalization
from .lstm import build_lstm


@dataclass(frozen=True)
class Family:
    build: Callable
    nested: bool  # input (batch, n_seq, n_steps, n_features) rather than (batch, lookback, …)


# The best window-local normalisation across the series measured (README, "Accuracy").
DEFAULT_NORMALIZATION = "mean"

FAMILIES: dict[str, Family] = {
    "cnn_lstm": Family(build_cnn_lstm, nested=True),
    "lstm": Family(build_lstm, nested=False),
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise ModelConfigError(
            f"unknown model family {name!r} (params:<namespace>.family); known: "
            f"{sorted(FAMILIES)}"
        )
    return FAMILIES[name]


def input_shape(name: str, spec: dict) -> tuple[int, ...]:
    n_features = len(spec["features"])
    if family(name).nested:
        return (spec["n_seq"], spec["n_steps"], n_features)
    return (spec["lookback"], n_features)


def build_forecaster(
    name: str, spec: dict, hyperparameters: dict, normalization: str = DEFAULT_NORMALIZATION
) -> tuple[keras.Model, keras.Model]:
    """``(trainable, forecaster)`` sharing one set of weights.

    Both take raw history in the family's layout. ``trainable`` outputs standardised targets
    (the loss compares like with like across targets); ``forecaster`` adds the de-scaling, so
    ``forecaster.predict(raw history)`` is in the targets' units and needs nothing else.
    Inside: per-feature standardisation with training statistics, then window-local centring
    (``normalization``), the family's network, and the level restored.
    """
    shape = input_shape(name, spec)
    lookback, n_features = spec["lookback"], len(spec["features"])
    target_index = spec["target_index"]
    mean, std = np.asarray(spec["mean"]), np.asarray(spec["std"])
    history = keras.Input(shape=shape, name="history")
    # Scaling stays float32 under mixed precision: raw values can overflow float16.
    x = kl.Normalization(mean=mean, variance=std**2, dtype="float32", name="standardise")(history)
    x = kl.Reshape((lookback, n_features), dtype="float32")(x)
    centred, level = WindowNormalization(normalization, dtype="float32",
                                         name="window_normalization")(x)
    if family(name).nested:
        centred = kl.Reshape(shape, dtype="float32")(centred)
    out = family(name).build(centred, spec["horizon"], len(target_index), **hyperparameters)
    out = RestoreLevel(target_index, dtype="float32", name="restore_level")(
        [kl.Activation("linear", dtype="float32")(out), level]
    )
    trainable = keras.Model(history, out, name=f"{name}_standardised")
    forecast = Rescale(std[target_index].tolist(), mean[target_index].tolist(), name="to_units")(
        out
    )
    return trainable, keras.Model(history, forecast, name=name)


__all__ = [
    "DEFAULT_NORMALIZATION",
    "FAMILIES",
    "FastTimeDistributed",
    "Rescale",
    "RestoreLevel",
    "WindowNormalization",
    "build_forecaster",
    "family",
    "input_shape",
]
