"""Batch inference: the next ``horizon`` steps of every series from the registered champion,
in one batched predict."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from seqcast import registry
from seqcast.cleaning import as_list, future_timestamps
from seqcast.models import FAMILIES, UnknownSeriesError, history_shape, series_codes
from seqcast.panel import Panel
from seqcast.windows import window_view

logger = logging.getLogger(__name__)
PREDICT_BATCH = 4096


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


def champion_for(panel: Panel, data: dict, forecast: dict):
    """The champion to forecast ``panel`` with: ``(model, name, version, lookback)``.

    Raises a :class:`~seqcast.errors.SeqcastError` naming model, version, alias and file or
    data when there is none, it cannot be loaded, or it does not fit the data.
    """
    name = registry.model_name(choose_namespace(forecast))
    model, version = registry.load_champion(name)
    described = registry.describe(name, version.version, registry.CHAMPION)
    source = data.get("path", "series")
    trained_on = version.tags.get("features", "").split(",")
    if trained_on != panel.features:
        raise registry.ModelMismatchError(
            f"{source}: the data has features {panel.features} but {described} was "
            f"trained on {trained_on}; align params:data.features or retrain"
        )
    registry.check_fits(model, described, len(panel.features), len(as_list(data["targets"])))
    return model, name, version, int(np.prod(history_shape(model)[:-1]))


def chosen(panel: Panel, forecast: dict) -> np.ndarray:
    """Codes of the series to forecast: ``params:forecast.ids`` (labels), else all."""
    ids = forecast.get("ids")
    return np.arange(panel.n_series) if not ids else panel.code_of([str(i) for i in ids])


def next_stamps(panel: Panel, codes: np.ndarray, periods: int, data: dict) -> np.ndarray:
    """``(len(codes), periods)`` timestamps after each series' last one (a series may end
    earlier than others), at the frequency of the longest series."""
    lengths = panel.lengths
    longest = int(np.argmax(lengths))
    index = panel.stamps[panel.offsets[longest]:panel.offsets[longest + 1]]
    template = future_timestamps(index, periods, data)
    if not isinstance(template, pd.DatetimeIndex):  # step numbers 1 … periods
        return np.tile(np.asarray(template), (len(codes), 1))
    step = template.freq  # the offset future_timestamps used
    stamps = [panel.stamps[panel.offsets[codes + 1] - 1] + step]
    for _ in range(periods - 1):  # over steps, each vectorised over series
        stamps.append(stamps[-1] + step)
    return np.stack([np.asarray(s) for s in stamps], axis=1)


def forecast_next(series: pd.DataFrame, data: dict, forecast: dict) -> pd.DataFrame:
    """Forecast ``origin+1 … origin+horizon`` of every series (or ``params:forecast.ids``)
    from its last ``lookback`` points, in one batched predict.

    Returns the id columns (for a panel), then ``timestamp, target, forecast, model,
    version, origin`` rows.
    """
    panel = Panel.from_series(series, data)
    model, name, version, lookback = champion_for(panel, data, forecast)
    codes = chosen(panel, forecast)
    short = np.flatnonzero(panel.lengths[codes] < lookback)
    if len(short):
        code = codes[short[0]]
        where = data.get("path", "series") + (
            f", series {panel.labels[code]}" if panel.ids.shape[1] else "")
        raise registry.ModelMismatchError(
            f"{where}: {panel.lengths[code]} points, but {name} needs the last {lookback} to "
            f"forecast (version {version.version}, alias '{registry.CHAMPION}')")
    try:
        known = series_codes(model, panel.labels[codes])
    except UnknownSeriesError as err:
        raise registry.ModelMismatchError(f"{data.get('path', 'series')}: {err}") from err
    view = window_view(panel.values, lookback)
    history = view[panel.offsets[codes + 1] - lookback].reshape(len(codes),
                                                                 *history_shape(model))
    values = np.asarray(model.predict([history, known], batch_size=PREDICT_BATCH, verbose=0))
    return forecast_frame(panel, codes, values, (name, version), data)


def forecast_frame(panel: Panel, codes: np.ndarray, values: np.ndarray, model, data: dict):
    """The forecast table of ``values`` ``(len(codes), horizon, n_targets)``."""
    name, version = model
    n, horizon, n_targets = values.shape
    targets = as_list(data["targets"])
    stamps = next_stamps(panel, codes, horizon, data)
    rows = np.repeat(np.arange(n), horizon * n_targets)
    table = panel.id_frame(codes).iloc[rows].reset_index(drop=True)
    table["timestamp"] = pd.Series(np.repeat(stamps.reshape(-1), n_targets))  # infers the dtype
    table["target"] = np.tile(targets, n * horizon)
    table["forecast"] = values.reshape(-1).astype(np.float64)
    table["model"], table["version"] = name, int(version.version)
    table["origin"] = panel.stamps[panel.offsets[codes + 1] - 1][rows]
    logger.info("forecast %d steps of %d series with %s version %s", horizon, n, name,
                version.version)
    return table
