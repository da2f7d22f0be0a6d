"""Custom layers, registered so saved models load with ``safe_mode`` on (no Lambda layers)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqcast.errors import ModelConfigError

PACKAGE = "seqcast"


def seasonal_positions(lookback: int, horizon: int, season_length: int) -> np.ndarray:
    """Window positions (of ``lookback``) of the seasonal-naive forecast's steps ``1 …
    horizon``: step ``h`` repeats the value ``season_length * ceil(h / season_length)`` steps
    before it; ``season_length`` 1 is the naive forecast. Needs ``lookback >= season_length``."""
    steps = np.arange(1, horizon + 1)
    return lookback - 1 + steps - season_length * np.ceil(steps / season_length).astype(int)


@keras.saving.register_keras_serializable(package=PACKAGE)
class FastTimeDistributed(keras.layers.Wrapper):
    """``TimeDistributed`` that folds ``batch × time`` into one axis and calls the layer once.

    Keras 3's ``TimeDistributed`` loops over the time axis in Python; this computes the same
    function (same weights, same parameter count) with one reshape on each side, as Keras 2
    did for built-in layers.
    """

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))
        self.built = True

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])

    def call(self, inputs, training=None):
        steps, inner_shape = inputs.shape[1], tuple(inputs.shape[2:])
        folded = ops.reshape(inputs, (-1, *inner_shape))
        outputs = self.layer(folded, training=training)
        return ops.reshape(outputs, (-1, steps, *tuple(outputs.shape[1:])))


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowNormalization(keras.layers.Layer):
    """Window-local normalisation (``training.normalization``): ``(centred, level)``, the
    window minus its own level per feature, and the reference the network's output is added to.

    ``mode``: ``last`` (the window's last value, as a naive forecast would), ``mean`` (the
    window mean, as RevIN), ``none``, or ``seasonal``: the input is centred on the window mean
    and ``level`` is the seasonal-naive forecast of the window itself, ``(batch, horizon,
    n_features)`` (step ``h`` takes the value ``season_length * ceil(h / season_length)``
    steps before it; the naive forecast for ``season_length`` 1), so a zero network output
    is that baseline. Input and ``centred`` are ``(batch, lookback, n_features)``; ``level``
    is ``(batch, 1, n_features)`` in the other modes.
    """

    MODES = ("last", "mean", "none", "seasonal")

    def __init__(self, mode: str = "last", season_length: int | None = None,
                 horizon: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ModelConfigError(
                f"training.normalization={mode!r} is not one of {list(self.MODES)}"
            )
        if mode == "seasonal" and not (season_length and horizon):
            raise ModelConfigError("normalization 'seasonal' needs season_length and horizon")
        self.mode, self.season_length, self.horizon = mode, season_length, horizon

    def seasonal_steps(self, lookback: int) -> np.ndarray:
        """Window positions of the seasonal-naive forecast's steps ``1 … horizon``."""
        m = self.season_length
        if lookback < m:
            raise ModelConfigError(
                f"training.normalization=seasonal builds the seasonal-naive forecast from the "
                f"window, which needs lookback ({lookback}) >= season_length ({m}); raise "
                "windows.n_seq or windows.n_steps, or use normalization mean or last")
        return seasonal_positions(lookback, self.horizon, m)

    def build(self, input_shape):
        if self.mode == "seasonal":
            self.seasonal_steps(input_shape[1])  # refuse a too-short window at build time
        self.built = True

    def call(self, inputs):
        if self.mode == "last":
            level = inputs[:, -1:, :]
        elif self.mode in ("mean", "seasonal"):
            level = ops.mean(inputs, axis=1, keepdims=True)
        else:
            level = ops.zeros_like(inputs[:, :1, :])
        if self.mode != "seasonal":
            return inputs - level, level
        steps = self.seasonal_steps(inputs.shape[1])
        return inputs - level, ops.take(inputs, steps.tolist(), axis=1)

    def compute_output_shape(self, input_shape):
        steps = self.horizon if self.mode == "seasonal" else 1
        return input_shape, (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "season_length": self.season_length,
                "horizon": self.horizon}


# The layer's former name: models saved under it still load with safe_mode.
@keras.saving.register_keras_serializable(package=PACKAGE, name="WindowCentre")
class WindowCentre(WindowNormalization):
    """Former name of :class:`WindowNormalization`, kept so saved models load."""


@keras.saving.register_keras_serializable(package=PACKAGE)
class RestoreLevel(keras.layers.Layer):
    """Add the targets' window level back: ``(batch, horizon, n_targets)`` out."""

    def __init__(self, target_index: list[int], **kwargs):
        super().__init__(**kwargs)
        self.target_index = list(target_index)

    def call(self, inputs):
        forecast, level = inputs
        level = ops.take(level, self.target_index, axis=-1)
        if len(forecast.shape) == 4:  # quantiles (batch, horizon, n_quantiles, n_targets)
            level = ops.expand_dims(level, 2)
        return forecast + level

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "target_index": self.target_index}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Rescale(keras.layers.Layer):
    """``x * scale + offset`` on the last axis: standardised targets back to their units."""

    def __init__(self, scale: list[float], offset: list[float], **kwargs):
        kwargs.setdefault("dtype", "float32")  # the output stays float32 under mixed precision
        super().__init__(**kwargs)
        self.scale, self.offset = list(scale), list(offset)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        return x * ops.convert_to_tensor(self.scale) + ops.convert_to_tensor(self.offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeriesScaling(keras.layers.Layer):
    """Per-series standardisation with each series' training statistics: ``(x - mean) / std``
    of the row's series, or its inverse (``inverse=True``: standardised targets back to the
    series' own units).

    Inputs ``[x, series]``: ``x`` ``(batch, …, n_columns)``, ``series`` ``(batch,)`` codes.
    The statistics are non-trainable weights, so the saved model carries them; ``ids`` (the
    series label of each code) lets inference map its data's series onto the codes.
    """

    def __init__(self, n_series: int, n_columns: int, inverse: bool = False,
                 ids: list[str] | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # raw values can overflow float16
        super().__init__(**kwargs)
        self.n_series, self.n_columns, self.inverse = int(n_series), int(n_columns), inverse
        self.ids = None if ids is None else [str(i) for i in ids]

    def build(self, input_shape):
        shape = (self.n_series, self.n_columns)
        self.mean = self.add_weight(shape=shape, initializer="zeros", trainable=False,
                                    name="mean")
        self.std = self.add_weight(shape=shape, initializer="ones", trainable=False, name="std")
        self.built = True

    def call(self, inputs):
        x, series = inputs
        x = ops.cast(x, "float32")
        codes = ops.reshape(ops.cast(series, "int32"), (-1,))
        shape = (-1, *([1] * (len(x.shape) - 2)), self.n_columns)
        mean = ops.reshape(ops.take(self.mean, codes, axis=0), shape)
        std = ops.reshape(ops.take(self.std, codes, axis=0), shape)
        return x * std + mean if self.inverse else (x - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "n_series": self.n_series, "n_columns": self.n_columns,
                "inverse": self.inverse, "ids": self.ids}


# Largest log value the inverse transform exponentiates: exp(80) ~ 5.5e34 stays inside float32.
MAX_LOG = 80.0


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeriesTransform(keras.layers.Layer):
    """Per-series log transform (``training.transform``) of the columns flagged for the row's
    series, or its inverse (``inverse=True``: ``exp``); other columns pass unchanged.

    Inputs ``[x, series]`` as :class:`SeriesScaling`. Non-trainable weights: ``log``
    ``(n_series, n_columns)``, 1 where the column is taken in logs, and ``floor``, the value a
    non-positive input is raised to before its log (half the smallest training value), so
    the saved model carries the choice made at training time.
    """

    def __init__(self, n_series: int, n_columns: int, inverse: bool = False, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_series, self.n_columns, self.inverse = int(n_series), int(n_columns), inverse

    def build(self, input_shape):
        shape = (self.n_series, self.n_columns)
        self.log = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="log")
        self.floor = self.add_weight(shape=shape, initializer="ones", trainable=False,
                                     name="floor")
        self.built = True

    def _per_row(self, weight, codes, rank):
        return ops.reshape(ops.take(weight, codes, axis=0),
                           (-1, *([1] * (rank - 2)), self.n_columns))

    def call(self, inputs):
        x, series = inputs
        x = ops.cast(x, "float32")
        codes = ops.reshape(ops.cast(series, "int32"), (-1,))
        flag = self._per_row(self.log, codes, len(x.shape)) > 0.5
        if self.inverse:  # both branches finite, so the gradient of `where` is too
            return ops.where(flag, ops.exp(ops.minimum(x, MAX_LOG)), x)
        floor = self._per_row(self.floor, codes, len(x.shape))
        return ops.where(flag, ops.log(ops.maximum(x, floor)), x)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "n_series": self.n_series, "n_columns": self.n_columns,
                "inverse": self.inverse}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MemberMedian(keras.layers.Layer):
    """The element-wise median of the members' forecasts (a list of same-shaped tensors):
    the middle value for an odd count, the mean of the two middle ones for an even count."""

    def call(self, inputs):
        ordered = ops.sort(ops.stack(inputs, axis=-1), axis=-1)
        k = len(inputs)
        if k % 2:
            return ordered[..., k // 2]
        return (ordered[..., k // 2 - 1] + ordered[..., k // 2]) / 2

    def compute_output_shape(self, input_shape):
        return input_shape[0]
