"""Reproduce the seed's echo models: parameter counts and rounded predictions."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from seqcast.models.echo import echo_models


def train_echo_models(echo: dict) -> pd.DataFrame:
    """Train each echo model with Adam/MSE and tabulate it.

    Args:
        echo: ``params:echo`` (sequence, epochs, learning_rate, seed).

    Returns:
        One row per layer and one ``total`` row per model: ``model, layer, params,
        predictions`` (the model's predictions rounded to one decimal, on the total row).
    """
    keras.utils.set_random_seed(int(echo["seed"]))
    rows = []
    for name, (model, x, y) in echo_models(echo["sequence"]).items():
        model.compile(optimizer=keras.optimizers.Adam(echo["learning_rate"]), loss="mse")
        # Each epoch of the seed is one full batch: run them as the steps of a single fit,
        # the same updates without Keras' per-epoch overhead.
        steps = tf.data.Dataset.from_tensors((x, y)).repeat(int(echo["epochs"]))
        model.fit(steps, epochs=1, verbose=0, shuffle=False)
        predictions = np.round(model.predict(x, verbose=0).reshape(-1), 1)
        for layer in model.layers[1:]:
            rows.append({"model": name, "layer": type(layer.layer if hasattr(layer, "layer")
                                                         else layer).__name__,
                         "params": layer.count_params(), "predictions": ""})
        rows.append({"model": name, "layer": "total", "params": model.count_params(),
                     "predictions": " ".join(f"{p:.1f}" for p in predictions)})
    return pd.DataFrame(rows)
