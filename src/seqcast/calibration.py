"""What a model learns from the validation windows after training: the split-conformal shifts
of a quantile model (README, "Intervals"), carried by
:class:`~seqcast.models.quantiles.Calibration`, and the weights of the weighted ensemble
(README, "Models"), carried by :class:`~seqcast.models.combination.WeightedMean`."""

from __future__ import annotations

import logging

import keras
import numpy as np

from seqcast.backtest import predict_at
from seqcast.intervals import conformal_shifts, validation_sample
from seqcast.models import model_quantiles, set_calibration
from seqcast.models.combination import simplex_weights
from seqcast.spec import WindowSpec

logger = logging.getLogger(__name__)


def calibrate(model: keras.Model, series, spec: WindowSpec, enabled: bool = True) -> dict:
    """Fit ``model``'s calibration on the validation windows (every series, as trained);
    ``enabled`` false (``training.calibrate``) keeps zero shifts. Returns what was done, for
    the training record. A point-forecast model is left as it is."""
    quantiles = model_quantiles(model)
    if not quantiles:
        return {}
    std = spec.target_scale()[1]
    shift = np.zeros((spec.horizon, len(spec.targets), len(quantiles)))
    starts, codes = validation_sample(spec)
    if enabled and len(starts):
        set_calibration(model, std, shift)
        raw, actual = predict_at(model, series, spec, starts, codes)
        scale = std[codes][:, None, :, None]
        shift = conformal_shifts((actual[..., None] - raw) / scale, quantiles)
    set_calibration(model, std, shift)
    logger.info("%s: intervals %s on %d validation windows", model.name,
                "calibrated" if enabled and len(starts) else "not calibrated", len(starts))
    return {"quantiles": quantiles, "calibrated": bool(enabled and len(starts)),
            "calibration_windows": int(len(starts))}


def weigh(model: keras.Model, series, spec: WindowSpec) -> dict:
    """Fit the weighted ensemble's weights (its ``combination`` layer) on the validation
    windows: the grid weighting with the lowest mean absolute error of the point forecast, in
    units of each series' training std. Returns ``{"weights": {member: weight}}`` for the
    training record; a model without the layer is left as it is."""
    if "combination" not in [layer.name for layer in model.layers]:
        return {}
    layer = model.get_layer("combination")
    starts, codes = validation_sample(spec)
    if not len(starts):
        logger.warning("%s: no validation windows; equal weights kept", model.name)
        equal = layer.get_weights()[0]
        return {"weights": dict(zip(layer.names, map(float, equal), strict=True))}
    parts = keras.Model(model.inputs, list(layer.input), name=f"{model.name}_members")
    forecasts, actual = predict_at(parts, series, spec, starts, codes)
    quantiles = model_quantiles(model)
    if quantiles:  # the point forecast: the median level
        forecasts = forecasts[..., quantiles.index(0.5)]
    scale = spec.target_scale()[1][codes][:, None, :]
    weights = simplex_weights(forecasts / scale, actual / scale)
    layer.set_weights([weights.astype(np.float32)])
    chosen = {name: round(float(w), 4) for name, w in zip(layer.names, weights, strict=True)}
    logger.info("%s: weights %s on %d validation windows", model.name, chosen, len(starts))
    return {"weights": chosen}
