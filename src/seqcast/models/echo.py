"""The seed's three echo models, a worked example (``kedro run --pipelines echo``): learn to
repeat a short sequence.

Sequence ``s`` of length n (0.0 0.2 0.4 0.6 0.8):
- one-to-one: ``LSTM(n)`` + ``Dense(1)`` on ``(n samples, 1 step, 1 feature)``;
- many-to-one: ``LSTM(n)`` + ``Dense(n)`` on ``(1, n, 1)``, the whole sequence as one vector;
- many-to-many: ``LSTM(n, return_sequences=True)`` + ``TimeDistributed(Dense(1))`` on
  ``(1, n, 1)``, one output per step.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers as kl

from .layers import FastTimeDistributed


def echo_models(sequence: list[float]) -> dict[str, tuple[keras.Model, np.ndarray, np.ndarray]]:
    """``{name: (model, x, y)}`` for the three layouts of the seed."""
    s = np.asarray(sequence, dtype=np.float32)
    n = len(s)

    def model(shape, *layers, name):
        inputs = keras.Input(shape=shape)
        h = inputs
        for layer in layers:
            h = layer(h)
        return keras.Model(inputs, h, name=name)

    return {
        "one_to_one": (
            model((1, 1), kl.LSTM(n), kl.Dense(1), name="one_to_one"),  # (n,1,1) → (n,1)
            s.reshape(n, 1, 1), s.reshape(n, 1),
        ),
        "many_to_one": (
            model((n, 1), kl.LSTM(n), kl.Dense(n), name="many_to_one"),  # (1,n,1) → (1,n)
            s.reshape(1, n, 1), s.reshape(1, n),
        ),
        "many_to_many": (
            model((n, 1), kl.LSTM(n, return_sequences=True),  # (1,n,1) → (1,n,n)
                  FastTimeDistributed(kl.Dense(1)), name="many_to_many"),  # → (1,n,1)
            s.reshape(1, n, 1), s.reshape(1, n, 1),
        ),
    }


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
