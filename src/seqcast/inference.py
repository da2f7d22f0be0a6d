"""Batch inference: the next ``horizon`` steps of every series from the best available
forecast by recorded gate score: a family's champion, or a baseline when every family loses
to one (:func:`choose`), and why (``served_because``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from seqcast import covariates, intervals, registry
from seqcast.backtest import BASELINES, baselines_at, predict
from seqcast.cleaning import as_list, future_timestamps
from seqcast.models import (
    MODELS,
    UnknownSeriesError,
    check_quantiles,
    history_shape,
    model_quantiles,
    series_codes,
)
from seqcast.panel import Panel
from seqcast.promotion import FLAG
from seqcast.spec import scaling
from seqcast.windows import WindowGeometry, window_view

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """What the forecast serves: a family's champion (``version`` set) or a baseline, and why
    (``forecast.csv``'s ``served_because``)."""

    model: str  # a registered model's name, or ``naive`` / ``seasonal_naive``
    version: ModelVersion | None
    because: str


def gate_record(version: ModelVersion) -> dict[str, float] | None:
    """A version's recorded gate MASE and the baselines' on the same origins; None when it
    was registered before baseline scores were recorded."""
    keys = {"mase": "mase", **{b: f"{b}_mase" for b in BASELINES}}
    if not all(k in version.tags for k in keys.values()):
        return None
    return {name: float(version.tags[k]) for name, k in keys.items()}


def _scores(record: dict) -> str:
    return (f"MASE {record['mase']:.4f} vs naive {record['naive']:.4f}, seasonal_naive "
            f"{record['seasonal_naive']:.4f}")


def forced(namespace: str) -> Served:
    """``params:forecast.namespace``'s champion, served even when it loses (with a warning)."""
    name = registry.model_name(namespace)
    current = registry.champion(name)
    if current is None:
        registry.load_champion(name)  # raises the no-champion error
    because = "params:forecast.namespace"
    if current.tags.get(FLAG):
        record = gate_record(current)
        because += f"; it loses to {current.tags[FLAG]}" + (
            f" ({_scores(record)})" if record else "")
        logger.warning("serving %s version %s as params:forecast.namespace asks, although it "
                       "loses to %s on its gate score", name, current.version, current.tags[FLAG])
    return Served(name, current, because)


def latest_records() -> dict[str, dict]:
    """Each model's (family's or ensemble's) recorded gate scores: its usable champion's,
    else its newest version's."""
    records = {}
    for namespace in MODELS:
        name = registry.model_name(namespace)
        current = registry.champion(name)
        if current is not None and "failed" not in current.tags:
            records[name] = (current, gate_record(current))
        else:
            newest = next(iter(registry.versions(name)), None)
            if newest is not None and gate_record(newest):
                records[name] = (None, gate_record(newest))
    return records


def choose(forecast: dict) -> Served:
    """The configured family's champion, else the best by recorded gate score: the champion
    with the lowest MASE among those that beat both baselines (or were registered before
    baselines were recorded), else the baseline with the lowest recorded MASE."""
    if forecast.get("namespace"):
        return forced(forecast["namespace"])
    records = latest_records()
    winners = {name: (version, record) for name, (version, record) in records.items()
               if version is not None and (record is None or record["mase"] < min(
                   record[b] for b in BASELINES))}
    if winners:
        name = min(winners, key=lambda n: float(winners[n][0].tags.get("mase", "inf")))
        version, record = winners[name]
        because = (f"lowest recorded MASE among champions that beat both baselines "
                   f"({_scores(record)})" if record else
                   "lowest recorded MASE; no baseline scores recorded (retrain to compare)")
        return Served(name, version, because)
    scored = {name: record for name, (_, record) in records.items() if record}
    if not scored:
        raise registry.NoChampionError(
            f"no champion among {[registry.model_name(n) for n in MODELS]}; run the retrain "
            "pipeline first (kedro run --pipelines retrain, or make retrain)")
    baseline = min(BASELINES, key=lambda b: min(r[b] for r in scored.values()))
    because = "every family loses to a baseline on its gate score: " + "; ".join(
        f"{name} {'champion' if records[name][0] else 'newest version (no champion)'} "
        f"{_scores(record)}" for name, record in scored.items())
    logger.warning("serving %s: %s", baseline, because)
    return Served(baseline, None, because)


def champion_for(panel: Panel, data: dict, served: Served):
    """The served champion's ``(model, lookback)``.

    Raises a :class:`~seqcast.errors.SeqcastError` naming model, version, alias and file or
    data when it cannot be loaded, or does not fit the data.
    """
    name, version = served.model, served.version
    model = registry.load_version(name, version.version, registry.CHAMPION)
    described = registry.describe(name, version.version, registry.CHAMPION)
    source = data.get("path", "series")
    trained_on = version.tags.get("features", "").split(",")
    if trained_on != panel.features:
        raise registry.ModelMismatchError(
            f"{source}: the data has features {panel.features} but {described} was "
            f"trained on {trained_on}; align params:data.features or retrain"
        )
    registry.check_fits(model, described, len(panel.features), len(as_list(data["targets"])))
    return model, int(np.prod(history_shape(model)[:-1]))


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


def short_series(panel: Panel, codes: np.ndarray, needed: int, data: dict,
                 served: Served) -> None:
    """Refuse series with fewer than ``needed`` points, naming the first and what is served."""
    short = np.flatnonzero(panel.lengths[codes] < needed)
    if len(short):
        code = codes[short[0]]
        where = data.get("path", "series") + (
            f", series {panel.labels[code]}" if panel.ids.shape[1] else "")
        which = (f" (version {served.version.version}, alias '{registry.CHAMPION}')"
                 if served.version else "")
        raise registry.ModelMismatchError(
            f"{where}: {panel.lengths[code]} points, but {served.model} needs the last "
            f"{needed} to forecast{which}")


def model_forecast(panel: Panel, codes: np.ndarray, served: Served, data: dict,
                   future_table: pd.DataFrame | None = None) -> tuple[np.ndarray, list[float]]:
    """The served champion's forecasts from each series' last ``lookback`` points, in one
    batched predict: ``(len(codes), horizon, n_targets[, n_quantiles])``, and its quantile
    levels. A champion that reads known-future columns gets them for those points and the
    next ``horizon`` steps (the user's columns from ``future_table``)."""
    model, lookback = champion_for(panel, data, served)
    short_series(panel, codes, lookback, data, served)
    try:
        known = series_codes(model, panel.labels[codes])
    except UnknownSeriesError as err:
        raise registry.ModelMismatchError(f"{data.get('path', 'series')}: {err}") from err
    view = window_view(panel.values, lookback)
    history = view[panel.offsets[codes + 1] - lookback].reshape(len(codes),
                                                                 *history_shape(model))
    future = None
    if covariates.takes_future(model):
        known_future = covariates.model_known_future(model)
        stamps = next_stamps(panel, codes, int(model.inputs[2].shape[1]) - lookback, data)
        user = covariates.user_future(future_table, list(known_future.columns), stamps,
                                      panel.id_frame(codes), data)
        future = covariates.forecast_future(panel, codes, known_future, lookback, (stamps, user))
    return predict(model, history, known, future), model_quantiles(model)


def baseline_forecast(series: pd.DataFrame, panel: Panel, codes: np.ndarray, served: Served,
                      params: dict) -> np.ndarray:
    """Naive or seasonal naive from each series' last point, ``params['windows']``' horizon
    and season length; ``params['data']`` names the targets."""
    geometry = WindowGeometry.from_params(params["windows"])
    needed = geometry.season_length if served.model == "seasonal_naive" else 1
    short_series(panel, codes, needed, params["data"], served)
    targets = as_list(params["data"]["targets"])
    y = series[targets].to_numpy(np.float64)  # as read
    ends = panel.offsets[codes + 1] - 1  # the series frame is in the panel's order
    point = baselines_at(y, ends, geometry.horizon, geometry.season_length)[served.model]
    levels = check_quantiles(params.get("forecast", {}).get("quantiles"), "forecast.quantiles")
    if not levels:
        return point
    return baseline_intervals(y, panel, codes, point,
                              (served.model, geometry, levels, targets))


def baseline_intervals(y: np.ndarray, panel: Panel, codes: np.ndarray, point: np.ndarray,
                       baseline: tuple[str, WindowGeometry, list[float], list[str]]) -> np.ndarray:
    """A served baseline's quantiles ``(len(codes), horizon, n_targets, n_quantiles)``: its
    residuals at the origins of each series' last ``validation_origins + origins`` blocks
    (the evaluation's validation and test periods), in units of the series' std, as
    :func:`seqcast.intervals.baseline_quantiles` turns them into levels."""
    name, g, levels, targets = baseline
    blocks = (g.validation_origins + g.origins) * g.horizon
    ends = panel.offsets[codes + 1] - 1
    origins = (ends - g.horizon)[:, None] - np.arange(blocks)[None]  # (series, blocks)
    owner = np.repeat(np.arange(len(codes)), blocks)
    origins = origins.reshape(-1)
    ok = origins - panel.offsets[codes][owner] >= g.season_length - 1  # a full season behind
    origins, owner = origins[ok], owner[ok]
    fitted = baselines_at(y, origins, g.horizon, g.season_length)[name]
    actual = y[origins[:, None] + np.arange(1, g.horizon + 1)]
    # each series' std over all its rows (constant series: 1), as training scales them
    std = scaling(y, panel.offsets, panel.offsets[1:], targets)[1][codes]
    return intervals.baseline_quantiles(point, (actual - fitted, std[owner]), std, levels)


def forecast_next(series: pd.DataFrame, data: dict, forecast: dict,
                  windows: dict, future_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Forecast ``origin+1 … origin+horizon`` of every series (or ``params:forecast.ids``)
    with what :func:`choose` serves: a champion from its last ``lookback`` points in one
    batched predict, or a baseline. ``future_table``: the user's known-future columns for
    the next ``horizon`` steps (the ``future_features`` dataset), for a champion that reads
    them.

    Returns the id columns (for a panel), then ``timestamp, target, forecast, model,
    version, origin, served_because`` rows.
    """
    panel = Panel.from_series(series, data)
    served = choose(forecast)
    codes = chosen(panel, forecast)
    if served.version is not None:
        values, levels = model_forecast(panel, codes, served, data, future_table)
    else:
        values = baseline_forecast(series, panel, codes, served,
                                   {"data": data, "windows": windows, "forecast": forecast})
        levels = check_quantiles(forecast.get("quantiles"), "forecast.quantiles")
    return forecast_frame(panel, codes, (values, levels), served, data)


def forecast_frame(panel: Panel, codes: np.ndarray, forecasts: tuple[np.ndarray, list],
                   served: Served, data: dict) -> pd.DataFrame:
    """The forecast table of ``forecasts``: values ``(len(codes), horizon, n_targets)``, or
    ``(…, n_quantiles)`` with their levels (the median is the forecast)."""
    values, levels = forecasts
    quantiles = {}
    if levels:
        quantiles = {intervals.column(q): values[..., k] for k, q in enumerate(levels)}
        values = values[..., levels.index(0.5)]
    n, horizon, n_targets = values.shape
    targets = as_list(data["targets"])
    stamps = next_stamps(panel, codes, horizon, data)
    rows = np.repeat(np.arange(n), horizon * n_targets)
    table = panel.id_frame(codes).iloc[rows].reset_index(drop=True)
    table["timestamp"] = pd.Series(np.repeat(stamps.reshape(-1), n_targets))  # infers the dtype
    table["target"] = np.tile(targets, n * horizon)
    table["forecast"] = values.reshape(-1).astype(np.float64)
    for name, q in quantiles.items():
        table[name] = q.reshape(-1).astype(np.float64)
    table["model"] = served.model
    table["version"] = pd.array([int(served.version.version) if served.version else None] * len(
        table), dtype="Int64")  # empty for a baseline
    table["origin"] = panel.stamps[panel.offsets[codes + 1] - 1][rows]
    table["served_because"] = served.because
    logger.info("forecast %d steps of %d series with %s%s: %s", horizon, n, served.model,
                f" version {served.version.version}" if served.version else "", served.because)
    return table
