"""The forecaster's known-future input (:mod:`seqcast.covariates`): the ``future`` input,
scaled, split into its lookback rows (read beside the history) and its horizon rows (handed
to the family's builder as ``future``)."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers as kl

from seqcast.covariates import KnownFuture

from .layers import PACKAGE, SeriesScaling


@keras.saving.register_keras_serializable(package=PACKAGE)
class KnownFutureInput(SeriesScaling):
    """``[future, series]`` → ``(past, ahead)``: the known-future columns standardised with
    their series' training statistics (generated encodings pass with mean 0, std 1), cut
    into the ``lookback`` rows and the horizon rows after them.

    ``known`` (:meth:`KnownFuture.to_dict`) is in the config, so inference rebuilds the
    same columns from the saved model alone; the statistics are non-trainable weights.
    """

    def __init__(self, lookback: int, n_series: int, known: dict, **kwargs):
        kwargs.pop("n_columns", None)  # a saved config's: it follows from ``known``
        super().__init__(n_series, len(KnownFuture.from_dict(known).names), **kwargs)
        self.lookback, self.known = int(lookback), dict(known)

    def call(self, inputs):
        scaled = super().call(inputs)
        return scaled[:, : self.lookback], scaled[:, self.lookback :]

    def compute_output_shape(self, input_shape):
        batch, width, n = input_shape[0]
        return (batch, self.lookback, n), (batch, width - self.lookback, n)

    def get_config(self):
        return {**super().get_config(), "lookback": self.lookback, "known": self.known}


def future_statistics(spec) -> tuple[np.ndarray, np.ndarray]:
    """Per-series ``(mean, std)`` of the known-future columns: the user columns' training
    statistics from ``spec``, 0 and 1 for the generated encodings."""
    known = spec.known
    n_generated = len(known.generated)
    index = [spec.features.index(c) for c in known.columns]
    mean = np.zeros((spec.n_series, n_generated + len(index)), np.float32)
    std = np.ones_like(mean)
    mean[:, n_generated:] = np.asarray(spec.mean)[:, index]
    std[:, n_generated:] = np.asarray(spec.std)[:, index]
    return mean, std


def known_future_input(centred, series, spec):
    """``(centred, ahead, future)``: ``centred`` with the lookback's known-future columns
    appended at every step, the horizon's ``(batch, horizon, n_future)`` and the ``future``
    input; ``(centred, None, None)`` when ``spec`` has no known-future columns."""
    known = spec.known
    if not known:
        return centred, None, None
    width = spec.lookback + spec.horizon
    future = keras.Input(shape=(width, len(known.names)), name="future")
    layer = KnownFutureInput(spec.lookback, spec.n_series, known.to_dict(), name="known_future")
    past, ahead = layer([future, series])
    layer.set_weights(list(future_statistics(spec)))
    centred = kl.Concatenate(axis=-1, dtype="float32")([centred, past])
    return centred, ahead, future
