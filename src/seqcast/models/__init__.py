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
import pandas as pd
from keras import layers as kl

from seqcast.errors import ModelConfigError
from seqcast.spec import WindowSpec

from .cnn_lstm import build_cnn_lstm
from .combination import BaselineForecast, WeightedMean
from .ensemble import NAME as ENSEMBLE
from .ensemble import build_ensemble, combine, member_names
from .forecaster import history_shape, series_ids
from .future import KnownFutureInput, known_future_input
from .layers import (
    FastTimeDistributed,
    MemberMedian,
    Rescale,
    RestoreLevel,
    SeriesScaling,
    SeriesTransform,
    WindowNormalization,
)
from .lstm import build_lstm
from .quantiles import (
    Calibration,
    PinballLoss,
    QuantileHead,
    check_quantiles,
    model_quantiles,
    set_calibration,
    uncalibrated,
)
from .transform import TRANSFORMS, SeriesScales, series_scales


@dataclass(frozen=True)
class Family:
    build: Callable
    nested: bool  # input (batch, n_seq, n_steps, n_features) rather than (batch, lookback, …)


# The best window-local normalisation across the series measured (README, "Accuracy").
DEFAULT_NORMALIZATION = "mean"
# No series transform unless asked for (README, "Accuracy").
DEFAULT_TRANSFORM = "none"
# Channels of the learned per-series embedding; 0: none (README, "Panels").
DEFAULT_SERIES_EMBEDDING = 0

FAMILIES: dict[str, Family] = {
    "cnn_lstm": Family(build_cnn_lstm, nested=True),
    "lstm": Family(build_lstm, nested=False),
}

# What is evaluated, tracked, registered and served: the trained families and the ensemble
# of their forecasters (README, "Models"); FAMILIES alone are trained.
MODELS: tuple[str, ...] = (*FAMILIES, ENSEMBLE)


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise ModelConfigError(
            f"unknown model family {name!r} (params:<namespace>.family); known: "
            f"{sorted(FAMILIES)}"
        )
    return FAMILIES[name]


def input_shape(name: str, spec: WindowSpec) -> tuple[int, ...]:
    n_features = len(spec.features)
    if family(name).nested:
        return (spec.geometry.n_seq, spec.geometry.n_steps, n_features)
    return (spec.lookback, n_features)


class UnknownSeriesError(ModelConfigError):
    """The data has series the model was not trained on."""


def series_codes(model: keras.Model, labels) -> np.ndarray:
    """The model's codes of the series ``labels``; refused, by name, for series it has never
    seen (their scaling statistics and embedding would be missing)."""
    known = pd.Index(series_ids(model))
    codes = known.get_indexer([str(label) for label in labels])
    if (codes < 0).any():
        unknown = [str(label) for label, c in zip(labels, codes, strict=True) if c < 0]
        raise UnknownSeriesError(
            f"model {model.name!r} was trained on {len(known)} series and has never seen "
            f"{len(unknown)} of these, e.g. {unknown[:3]}; retrain on data that includes them, "
            "or leave them out (params:forecast.ids)")
    return codes.astype(np.int32)


def _series_features(inputs, spec: WindowSpec, normalization: str, width: int, logged: bool):
    """``history`` (in logs where ``logged``) standardised per series and centred per
    window, with a learned per-series embedding of ``width`` channels appended at every step
    when ``width`` > 0 (``model.series_embedding``). ``inputs``: ``(history, series)``."""
    history, series = inputs
    lookback, n_features = spec.lookback, len(spec.features)
    if logged:
        history = SeriesTransform(spec.n_series, n_features, name="to_log")([history, series])
    x = SeriesScaling(spec.n_series, n_features, ids=spec.series, name="standardise")(
        [history, series])
    x = kl.Reshape((lookback, n_features), dtype="float32")(x)
    centred, level = WindowNormalization(
        normalization, season_length=spec.geometry.season_length, horizon=spec.horizon,
        dtype="float32", name="window_normalization")(x)
    if width:
        embedded = kl.Embedding(spec.n_series, width, name="series_embedding")(series)
        centred = kl.Concatenate(axis=-1, dtype="float32")(
            [centred, kl.RepeatVector(lookback, dtype="float32")(embedded)])
    return centred, level


def _set_scales(trainable: keras.Model, forecaster: keras.Model, spec: WindowSpec,
                scales: SeriesScales) -> None:
    t = spec.target_index
    forecaster.get_layer("standardise").set_weights([scales.mean, scales.std])
    forecaster.get_layer("to_units").set_weights([scales.mean[:, t], scales.std[:, t]])
    if scales.any_log:
        log, floor = scales.log.astype(np.float32), scales.floor
        forecaster.get_layer("to_log").set_weights([log, floor])
        forecaster.get_layer("from_log").set_weights([log[:, t], floor[:, t]])
        trainable.get_layer("to_loss_scale").set_weights(list(spec.target_scale()))
    if model_quantiles(forecaster):
        shift = forecaster.get_layer("calibration").get_weights()[1]
        set_calibration(forecaster, spec.target_scale()[1], shift)


def build_forecaster(name: str, spec: WindowSpec, hyperparameters: dict,  # noqa: PLR0913
                     normalization: str = DEFAULT_NORMALIZATION,
                     scales: SeriesScales | None = None, *,
                     quantiles=()) -> tuple[keras.Model, keras.Model]:
    """``(trainable, forecaster)`` sharing one set of weights.

    Both take ``[history, series]``: raw history in the family's layout and each row's series
    code. ``trainable`` outputs standardised targets (the loss compares like with like
    across series and targets); ``forecaster`` adds the de-scaling, so
    ``forecaster.predict([history, codes])`` is in each series' own units and needs nothing
    else. Inside: the series transform (``scales``, :func:`~seqcast.models.transform.
    series_scales`; none by default), per-series standardisation with each series' training
    statistics, then window-local centring (``normalization``), an optional learned series
    embedding (``hyperparameters["series_embedding"]`` channels, 0: none), the family's
    network, the level (or the seasonal-naive forecast) restored, de-scaling, and the inverse
    transform. With ``quantiles`` (levels including 0.5) the network emits ordered quantiles
    (:class:`~seqcast.models.quantiles.QuantileHead`): ``trainable`` outputs ``(batch,
    horizon, n_quantiles, n_targets)`` for the pinball loss, ``forecaster`` ``(batch,
    horizon, n_targets, n_quantiles)`` through its calibration layer (zero shifts until
    :func:`seqcast.intervals.calibrate` fits them). With a log transform ``trainable`` is the
    forecaster standardised by the raw training statistics, so the loss is on the same scale
    as without it.
    """
    hyperparameters = dict(hyperparameters)
    width = int(hyperparameters.pop("series_embedding", DEFAULT_SERIES_EMBEDDING) or 0)
    if scales is None:
        scales = SeriesScales(np.zeros((spec.n_series, len(spec.features)), bool), None,
                              np.asarray(spec.mean), np.asarray(spec.std))
    shape = input_shape(name, spec)
    target_index = spec.target_index
    history = keras.Input(shape=shape, name="history")
    series = keras.Input(shape=(), dtype="int32", name="series")
    centred, level = _series_features((history, series), spec, normalization, width,
                                      scales.any_log)
    # Known-future columns (seqcast.covariates; none by default) add a third input, ``future``.
    centred, ahead, future = known_future_input(centred, series, spec)
    inputs = [history, series] if future is None else [history, series, future]
    if ahead is not None:
        hyperparameters["future"] = ahead
    if family(name).nested:
        centred = kl.Reshape((*shape[:-1], centred.shape[-1]), dtype="float32")(centred)
    n_series, n_targets = spec.n_series, len(target_index)
    quantiles = check_quantiles(quantiles)
    out = family(name).build(centred, spec.horizon, n_targets * max(len(quantiles), 1),
                             **hyperparameters)
    out = kl.Activation("linear", dtype="float32")(out)
    if quantiles:
        out = QuantileHead(quantiles, n_targets, name="quantile_head")(out)
    out = RestoreLevel(target_index, dtype="float32", name="restore_level")([out, level])
    forecast = SeriesScaling(n_series, n_targets, inverse=True, name="to_units")([out, series])
    if scales.any_log:
        forecast = SeriesTransform(n_series, n_targets, inverse=True, name="from_log")(
            [forecast, series])
        out = SeriesScaling(n_series, n_targets, name="to_loss_scale")([forecast, series])
    if quantiles:
        forecast = kl.Permute((1, 3, 2), dtype="float32", name="targets_then_quantiles")(
            forecast)
        forecast = Calibration(quantiles, n_series, spec.horizon, n_targets,
                               name="calibration")([forecast, series])
    trainable = keras.Model(inputs, out, name=f"{name}_standardised")
    forecaster = keras.Model(inputs, forecast, name=name)
    _set_scales(trainable, forecaster, spec, scales)
    return trainable, forecaster


__all__ = [
    "BaselineForecast",
    "WeightedMean",
    "DEFAULT_NORMALIZATION",
    "FAMILIES",
    "DEFAULT_SERIES_EMBEDDING",
    "DEFAULT_TRANSFORM",
    "ENSEMBLE",
    "FastTimeDistributed",
    "KnownFutureInput",
    "MODELS",
    "MemberMedian",
    "Rescale",
    "RestoreLevel",
    "SeriesScaling",
    "SeriesScales",
    "SeriesTransform",
    "TRANSFORMS",
    "UnknownSeriesError",
    "WindowNormalization",
    "Calibration",
    "PinballLoss",
    "QuantileHead",
    "build_ensemble",
    "build_forecaster",
    "combine",
    "family",
    "history_shape",
    "input_shape",
    "member_names",
    "check_quantiles",
    "model_quantiles",
    "set_calibration",
    "uncalibrated",
    "series_codes",
    "series_ids",
    "series_scales",
]
