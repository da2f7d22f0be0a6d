"""Nodes of the training pipeline; the logic lives in :mod:`seqcast.fitting` and
:mod:`seqcast.backtest`."""

from __future__ import annotations

import keras
import pandas as pd

from seqcast.backtest import backtest
from seqcast.calibration import calibrate, weigh
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


def ensemble_model(series: pd.DataFrame, window_spec: dict, members: list[str],  # noqa: PLR0913, PLR0917
                   combination: str, baselines: list[str], calibrated: bool,
                   *forecasters: keras.Model) -> tuple[keras.Model, dict]:
    """``(forecaster, record)`` of the ensemble (``params:ensemble``); ``forecasters``: every
    family's, in ``FAMILIES`` order. See :func:`seqcast.models.combine`; a weighted
    ensemble's weights are fitted on the validation windows, then its intervals calibrated
    there unless ``calibrated`` is false (``ensemble.calibrate``)."""
    spec = WindowSpec.from_dict(window_spec)
    model, record = combine(members, dict(zip(FAMILIES, forecasters, strict=True)),
                            combination, baselines, spec)
    record.update(weigh(model, series, spec))
    return model, {**record, **calibrate(model, series, spec, calibrated)}
