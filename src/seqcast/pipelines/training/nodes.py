"""Nodes of the training pipeline; the logic lives in :mod:`seqcast.fitting` and
:mod:`seqcast.backtest`."""

from __future__ import annotations

import keras
import pandas as pd

from seqcast.backtest import backtest
from seqcast.calibration import calibrate
from seqcast.fitting import fit_family
from seqcast.models import FAMILIES, combine
from seqcast.spec import WindowSpec


def train_model(series: pd.DataFrame, window_spec: dict, family_name: str, model: dict,
                training: dict) -> tuple[keras.Model, dict]:
    """``(forecaster, training_record)``: see :func:`seqcast.fitting.fit_family`."""
    return fit_family(series, window_spec, family_name, model, training)


def backtest_model(series: pd.DataFrame, window_spec: dict, forecaster: keras.Model,
                   namespace: str) -> pd.DataFrame:
    """The family's forecasts at the test origins: see :func:`seqcast.backtest.backtest`."""
    return backtest(series, window_spec, forecaster, namespace)


def ensemble_model(series: pd.DataFrame, window_spec: dict, members: list[str],  # noqa: PLR0913
                   calibrated: bool, *forecasters: keras.Model) -> tuple[keras.Model, dict]:
    """``(forecaster, record)`` of the ensemble; ``forecasters``: every family's, in
    ``FAMILIES`` order. See :func:`seqcast.models.combine`; its intervals are calibrated on
    the validation windows unless ``calibrated`` is false (``ensemble.calibrate``)."""
    model, record = combine(members, dict(zip(FAMILIES, forecasters, strict=True)))
    spec = WindowSpec.from_dict(window_spec)
    return model, {**record, **calibrate(model, series, spec, calibrated)}
