"""Checks before any training work: the family's training settings, and data or scaling
statistics that float32 training cannot represent."""

from __future__ import annotations

import math

import keras
import numpy as np

from seqcast.callbacks import NonFiniteError
from seqcast.errors import SeqcastError
from seqcast.models import check_quantiles
from seqcast.spec import WindowSpec

FLOAT32_MAX = float(np.finfo(np.float32).max)


class TrainingConfigError(SeqcastError, ValueError):
    """A training parameter is invalid, or does not fit the saved resume point."""


def check_training(training: dict, family_name: str) -> None:
    """Refuse settings that cannot train, before any work: counts, the seed, the learning
    rate, the loss and the XLA switch (a typo would otherwise end deep inside Keras)."""
    where = f"params:{family_name}.training"
    fix = "set it in conf/base/parameters_training.yml or with --params"
    for key, low in (("epochs", 1), ("batch_size", 1), ("patience", 0), ("seed", 0)):
        value = training.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise TrainingConfigError(
                f"{where}.{key} must be an integer >= {low}, got {value!r}; {fix}")
    rate = training.get("learning_rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
        raise TrainingConfigError(
            f"{where}.learning_rate must be a positive number, got {rate!r}; {fix}")
    try:
        keras.losses.get(training.get("loss", "mse"))
    except (ValueError, TypeError) as err:
        raise TrainingConfigError(
            f"{where}.loss={training.get('loss')!r} is not a Keras loss (e.g. mse, mae, huber); "
            f"{fix}") from err
    check_quantiles(training.get("quantiles"), f"{where}.quantiles")
    if training.get("calibrate", True) not in (True, False):
        raise TrainingConfigError(
            f"{where}.calibrate must be true or false, got {training.get('calibrate')!r}; {fix}")
    if training.get("xla", "auto") not in (True, False, "auto"):
        raise TrainingConfigError(
            f"{where}.xla must be true, false or auto, got {training.get('xla')!r}; {fix}")


def check_scaling(values: np.ndarray, spec: WindowSpec, family_name: str) -> None:
    """Refuse data or scaling statistics that float32 training cannot represent."""
    for name, stats in (("mean", np.asarray(spec.mean)), ("std", np.asarray(spec.std))):
        squared = stats * stats if name == "std" else np.abs(stats)  # divided by the variance
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~np.isfinite(stats) | ~(squared <= FLOAT32_MAX) | (
                (stats <= 0) if name == "std" else False)
        if bad.any():
            code, column = np.argwhere(bad)[0]
            raise NonFiniteError(
                f"{family_name}: the training {name} of feature {spec.features[column]!r} in "
                f"series {spec.series[code]} is {float(stats[code, column])!r}, which float32 "
                "training cannot use; check the series for extreme or constant values and "
                "re-run the ingestion and windowing pipelines"
            )
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        code = int(np.searchsorted(spec.offsets(), row, side="right") - 1)
        raise NonFiniteError(
            f"{family_name}: feature {spec.features[col]!r} in series {spec.series[code]} at "
            f"row {row - spec.offsets()[code]} does not fit float32 (|value| > 3.4e38 or NaN); "
            "fix the series and re-run ingestion"
        )
