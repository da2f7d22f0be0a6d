"""Split-conformal calibration of a quantile model on the validation windows (README,
"Intervals"): the shifts :class:`~seqcast.models.quantiles.Calibration` carries."""

from __future__ import annotations

import logging

import keras
import numpy as np

from seqcast.backtest import predict_at
from seqcast.intervals import conformal_shifts, validation_sample
from seqcast.models import model_quantiles, set_calibration
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
