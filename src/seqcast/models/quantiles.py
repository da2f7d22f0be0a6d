"""Quantile forecasts inside the model: an ordered head, the pinball loss, and the calibration
layer that carries the split-conformal adjustment (``training.quantiles``,
``training.calibrate``; README, "Intervals")."""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops

from seqcast.errors import ModelConfigError

from .layers import PACKAGE


def check_quantiles(quantiles, where: str = "training.quantiles") -> list[float]:
    """The levels, ascending, strictly inside (0, 1) and including the median 0.5 (the point
    forecast); ``[]``: point forecasts only."""
    levels = [float(q) for q in (quantiles or [])]
    if not levels:
        return []
    if (sorted(set(levels)) != levels or not all(0 < q < 1 for q in levels)
            or 0.5 not in levels):
        raise ModelConfigError(
            f"{where}={list(quantiles)}: give distinct levels in increasing order, each "
            "between 0 and 1, including 0.5 (the median is the point forecast), e.g. "
            "[0.1, 0.5, 0.9]; or [] for point forecasts only")
    return levels


@keras.saving.register_keras_serializable(package=PACKAGE)
class QuantileHead(keras.layers.Layer):
    """``(batch, horizon, n_quantiles * n_targets)`` → ordered quantiles ``(batch, horizon,
    n_quantiles, n_targets)``.

    The median is the raw output at its position; every other quantile is the median plus
    (above) or minus (below) a cumulative sum of softplus gaps, so the quantiles are strictly
    increasing for any weights: order by construction, not by sorting.
    """

    def __init__(self, quantiles: list[float], n_targets: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.quantiles, self.n_targets = check_quantiles(quantiles), int(n_targets)

    def call(self, inputs):
        q, middle = len(self.quantiles), self.quantiles.index(0.5)
        raw = ops.reshape(ops.cast(inputs, "float32"), (-1, inputs.shape[1], q, self.n_targets))
        median = raw[:, :, middle:middle + 1]
        gaps = ops.softplus(raw)
        above = median + ops.cumsum(gaps[:, :, middle + 1:], axis=2)
        below = median - ops.flip(ops.cumsum(ops.flip(gaps[:, :, :middle], axis=2), axis=2),
                                  axis=2)
        return ops.concatenate([below, median, above], axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], len(self.quantiles), self.n_targets)

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles, "n_targets": self.n_targets}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Calibration(keras.layers.Layer):
    """Quantile forecasts ``(batch, horizon, n_targets, n_quantiles)`` in the targets' units,
    each moved by its split-conformal shift (weights ``shift`` ``(horizon, n_targets,
    n_quantiles)``, in units of each series' training standard deviation ``std``
    ``(n_series, n_targets)``), then kept in order.

    Zero shifts (the state before calibration, or with ``training.calibrate: false``) leave
    the forecasts unchanged; the median (the point forecast) never moves. Inputs ``[forecast,
    series]``; the saved model carries the levels (``quantiles``) and the shifts, so
    inference needs nothing else.
    """

    def __init__(self, quantiles: list[float], n_series: int, horizon: int, n_targets: int,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.quantiles = check_quantiles(quantiles)
        self.n_series, self.horizon, self.n_targets = int(n_series), int(horizon), int(n_targets)

    def build(self, input_shape):
        self.std = self.add_weight(shape=(self.n_series, self.n_targets), initializer="ones",
                                   trainable=False, name="std")
        self.shift = self.add_weight(shape=(self.horizon, self.n_targets, len(self.quantiles)),
                                     initializer="zeros", trainable=False, name="shift")
        self.built = True

    def call(self, inputs):
        forecast, series = inputs
        codes = ops.reshape(ops.cast(series, "int32"), (-1,))
        std = ops.reshape(ops.take(self.std, codes, axis=0), (-1, 1, self.n_targets, 1))
        middle = self.quantiles.index(0.5)
        fixed = np.ones(len(self.quantiles), np.float32)
        fixed[middle] = 0.0  # the median is the point forecast: never moved
        moved = ops.cast(forecast, "float32") + self.shift[None] * fixed * std
        # Shifts fitted per level could cross where intervals narrow; each level is held
        # between the median and its inner neighbour.
        levels = [moved[..., k] for k in range(len(self.quantiles))]
        for k in range(middle + 1, len(levels)):
            levels[k] = ops.maximum(levels[k], levels[k - 1])
        for k in range(middle - 1, -1, -1):
            levels[k] = ops.minimum(levels[k], levels[k + 1])
        return ops.stack(levels, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles, "n_series": self.n_series,
                "horizon": self.horizon, "n_targets": self.n_targets}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PinballLoss(keras.losses.Loss):
    """The pinball (quantile) loss averaged over levels: targets ``(batch, horizon,
    n_targets)`` against quantiles ``(batch, horizon, n_quantiles, n_targets)``."""

    def __init__(self, quantiles: list[float], name: str = "pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = check_quantiles(quantiles)

    def call(self, y_true, y_pred):
        levels = ops.reshape(ops.convert_to_tensor(self.quantiles, "float32"), (1, 1, -1, 1))
        error = ops.expand_dims(ops.cast(y_true, "float32"), 2) - ops.cast(y_pred, "float32")
        return ops.mean(ops.maximum(levels * error, (levels - 1) * error), axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles}


def model_quantiles(model: keras.Model) -> list[float]:
    """The quantile levels a forecaster (or an ensemble) emits; ``[]`` for point forecasts."""
    names = [layer.name for layer in model.layers]
    return list(model.get_layer("calibration").quantiles) if "calibration" in names else []


_RAW: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def uncalibrated(model: keras.Model) -> keras.Model:
    """The same model without its calibration: the raw quantiles (shares the weights; one
    per model, so its compiled predict is reused)."""
    if model not in _RAW:
        layer = model.get_layer("calibration")
        _RAW[model] = keras.Model(model.inputs, layer.input[0], name=f"{model.name}_raw")
    return _RAW[model]


def set_calibration(model: keras.Model, std: np.ndarray, shift: np.ndarray) -> None:
    model.get_layer("calibration").set_weights([np.asarray(std, np.float32),
                                                np.asarray(shift, np.float32)])
