"""Batch inference: the next ``horizon`` steps from the registered champion."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from seqcast import registry
from seqcast.cleaning import as_list, future_timestamps
from seqcast.models import FAMILIES

logger = logging.getLogger(__name__)


def choose_namespace(forecast: dict) -> str:
    """The configured namespace, else the champion with the lowest recorded MASE."""
    if forecast.get("namespace"):
        return forecast["namespace"]
    recorded = {}
    for namespace in FAMILIES:
        current = registry.champion(registry.model_name(namespace))
        if current is not None:
            recorded[namespace] = float(current.tags.get("mase", "inf"))
    if not recorded:
        raise registry.NoChampionError(
            f"no champion among {[registry.model_name(n) for n in FAMILIES]}; run the retrain "
            "pipeline first (kedro run --pipelines retrain, or make retrain)"
        )
    return min(recorded, key=recorded.get)


def champion_for(series: pd.DataFrame, data: dict, forecast: dict):
    """The champion to forecast ``series`` with: ``(model, name, version, lookback)``.

    Raises a :class:`~seqcast.errors.SeqcastError` naming model, version, alias and file or
    data when there is none, it cannot be loaded, or it does not fit the data.
    """
    name = registry.model_name(choose_namespace(forecast))
    model, version = registry.load_champion(name)
    described = registry.describe(name, version.version, registry.CHAMPION)
    source = data.get("path", "series")
    trained_on = version.tags.get("features", "").split(",")
    if trained_on != list(series.columns):
        raise registry.ModelMismatchError(
            f"{source}: the data has features {list(series.columns)} but {described} was "
            f"trained on {trained_on}; align params:data.features or retrain"
        )
    registry.check_fits(model, described, series.shape[1], len(as_list(data["targets"])))
    lookback = int(np.prod(model.input_shape[1:-1]))
    if len(series) < lookback:
        raise registry.ModelMismatchError(
            f"{source}: {len(series)} points, but {name} needs the last {lookback} to "
            f"forecast (version {version.version}, alias '{registry.CHAMPION}')"
        )
    return model, name, version, lookback


def forecast_next(series: pd.DataFrame, data: dict, forecast: dict) -> pd.DataFrame:
    """Forecast ``origin+1 … origin+horizon`` from the last ``lookback`` points of ``series``.

    Returns ``timestamp, target, forecast, model, version, origin`` rows.
    """
    model, name, version, lookback = champion_for(series, data, forecast)
    shape = model.input_shape[1:]  # (n_seq, n_steps, n_features) or (lookback, n_features)
    history = series.to_numpy(np.float32)[-lookback:].reshape(1, *shape)
    values = np.asarray(model.predict(history, verbose=0))[0]  # (horizon, n_targets)
    steps = future_timestamps(series.index, len(values), data)
    targets = as_list(data["targets"])
    table = pd.DataFrame({
        "timestamp": np.repeat(steps, len(targets)),
        "target": np.tile(targets, len(values)),
        "forecast": values.reshape(-1).astype(np.float64),
    })
    table["model"], table["version"] = name, int(version.version)
    table["origin"] = series.index[-1]
    logger.info("forecast %d steps after %s with %s version %s", len(values),
                series.index[-1], name, version.version)
    return table
