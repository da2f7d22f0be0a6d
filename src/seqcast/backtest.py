"""Backtests: forecasts of a trained model and of the baselines at every series' own test
origins, and their scores per series and overall, all on the same origins.

Every series is forecast in one batched ``predict`` per model; the baselines and the MASE
scales are NumPy over the flat panel. Nothing loops over series in Python.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, replace

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from seqcast import intervals, metrics
from seqcast.covariates import model_inputs, takes_future
from seqcast.models import history_shape, model_quantiles, series_codes, uncalibrated
from seqcast.models.combination import BASELINES
from seqcast.spec import WindowSpec
from seqcast.stream import WindowStream

_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ExpectedRetracing(logging.Filter):
    """Drop TensorFlow's warning that ``predict`` traced again. Each model gets its own
    function with a batch-free signature, traced once; TensorFlow counts the traces of every
    model together (one code object), so after five models it would warn of nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(ExpectedRetracing())
PREDICT_BATCH = 4096
SCORES = ("mase", "smape", "rmse", "mae")


def test_origins(spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(origins, codes)``: flat indices of every series' test origins (oldest first within
    a series, ``n_series × origins``) and their series codes."""
    starts, codes = spec.test_starts()
    return spec.geometry.origin_of(starts), codes


def forecast_table(stamps: pd.DatetimeIndex, spec: WindowSpec, origins: np.ndarray,
                   values: tuple[np.ndarray, ...], name: str) -> pd.DataFrame:
    """Long table of model ``name``'s forecasts; ``values`` is ``(forecast, actual)``, each
    ``(len(origins), horizon, n_targets)``, for the flat ``origins`` of :func:`test_origins`,
    optionally followed by ``{column: (len(origins), horizon, n_targets)}`` of quantiles."""
    forecast, actual, *more = values
    n_windows, horizon, n_targets = forecast.shape
    w, h, t = (a.ravel() for a in np.meshgrid(np.arange(n_windows), np.arange(horizon),
                                              np.arange(n_targets), indexing="ij"))
    labels = np.asarray(spec.series, dtype=object)
    return pd.DataFrame({
        "series": labels[w // spec.geometry.origins],
        "timestamp": stamps[origins[w] + h + 1],
        "origin": stamps[origins[w]],
        "model": name,
        "target": np.asarray(spec.targets)[t],
        "step": h + 1,
        "forecast": forecast.reshape(-1).astype(np.float64),
        "actual": actual.reshape(-1),
        **{c: v.reshape(-1).astype(np.float64) for c, v in (more[0] if more else {}).items()},
    })


def _actual(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return y[origins[:, None] + np.arange(1, horizon + 1)]  # (windows, horizon, n_targets)


def predict_at(model: keras.Model, series: pd.DataFrame, spec: WindowSpec,
               starts: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(forecast, actual)`` of the windows at flat ``starts`` of the series ``codes``:
    ``model``'s output in one batched predict, and the windows' targets (float32)."""
    panel = spec.panel(series)
    nested = len(history_shape(model)) == 3
    stream = WindowStream(panel.values, starts, spec.lookback, spec.horizon, spec.target_index,
                          n_seq=spec.geometry.n_seq if nested else None,
                          future=spec.future_values(panel) if takes_future(model) else None)
    (x, _, *future), y = stream.batch(starts, codes)
    return predict(model, x, series_codes(model, spec.series)[codes], *future), y


def predict_windows(model: keras.Model, series: pd.DataFrame, spec: WindowSpec) -> np.ndarray:
    """``model``'s output at every test origin, ``(n_series × origins, horizon, n_targets[,
    n_quantiles])``, in one batched predict."""
    return predict_at(model, series, spec, *spec.test_starts())[0]


def predict(model: keras.Model, history: np.ndarray, codes: np.ndarray,
            future: np.ndarray | None = None) -> np.ndarray:
    """``model``'s forecasts of ``history`` for the series ``codes`` (and the known-future
    columns ``future`` for a model that takes them): up to ``PREDICT_BATCH`` windows in one
    direct call, more through ``predict`` in batches of that size.

    ``predict`` costs tens of ms per call in Keras' own machinery (``benchmarks/backtest.py``);
    the direct call is one ``tf.function`` per model, traced once, with the same forecasts."""
    inputs = model_inputs(model, history, codes, future)
    if len(history) <= PREDICT_BATCH:
        call = _CALLS.get(model)
        if call is None:
            ref = weakref.ref(model)  # the cache must not keep the model alive
            # Any batch size, so one trace per model (calibration and backtests differ)
            signature = [tf.TensorSpec((None, *history_shape(model)), tf.float32),
                         tf.TensorSpec((None,), tf.int32)]
            if takes_future(model):
                signature.append(tf.TensorSpec((None, *model.inputs[2].shape[1:]), tf.float32))
            call = _CALLS[model] = tf.function(lambda *x: ref()(list(x), training=False),
                                               input_signature=signature)
        return np.asarray(call(*inputs))
    return np.asarray(model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0))


def backtest(series: pd.DataFrame, window_spec, model: keras.Model, name: str):
    """Forecast every series at its test origins with the trained model (no refit).

    Returns a long table: ``series, timestamp, origin, model, target, step, forecast,
    actual`` (``n_series × origins × horizon × n_targets`` rows); a quantile model adds its
    quantiles (``q0.1`` …, the median being ``forecast``) and, for the scores, the
    uncalibrated ones (``raw_q0.1`` …).
    """
    spec = WindowSpec.from_dict(window_spec)
    panel = spec.panel(series)
    origins, _ = test_origins(spec)
    y = series[spec.targets].to_numpy(np.float64)  # actuals as read, not float32
    forecast, levels = predict_windows(model, series, spec), model_quantiles(model)
    columns = {}
    if levels:
        raw = predict_windows(uncalibrated(model), series, spec)
        for k, level in enumerate(levels):
            columns[intervals.column(level)] = forecast[..., k]
        columns.update({f"raw_{intervals.column(q)}": raw[..., k] for k, q in enumerate(levels)})
        forecast = forecast[..., levels.index(0.5)]
    return forecast_table(panel.stamps, spec, origins,
                          (forecast, _actual(y, origins, spec.horizon), columns), name)


def baseline_forecasts(y: np.ndarray, origins: np.ndarray, spec: WindowSpec) -> dict:
    """Naive and seasonal-naive forecasts from each flat origin, ``(windows, horizon, T)``."""
    return baselines_at(y, origins, spec.horizon, spec.geometry.season_length)


def baselines_at(y: np.ndarray, origins: np.ndarray, horizon: int, season_length: int) -> dict:
    """Naive and seasonal-naive forecasts of ``horizon`` steps from the flat ``origins`` of
    ``y`` ``(N, T)``: ``{name: (len(origins), horizon, T)}``."""
    steps = np.arange(1, horizon + 1)
    back = season_length * np.ceil(steps / season_length).astype(int)  # its last season
    return {"naive": np.repeat(y[origins][:, None], horizon, axis=1),
            "seasonal_naive": y[origins[:, None] + steps - back]}


def baseline_backtest(series: pd.DataFrame, window_spec, quantiles=()) -> pd.DataFrame:
    """Naive and seasonal-naive forecasts at every series' test origins, in the backtest
    layout; with ``quantiles``, each baseline's quantiles from its own residuals on the
    validation windows (:func:`seqcast.intervals.baseline_quantiles`)."""
    spec = WindowSpec.from_dict(window_spec)
    panel = spec.panel(series)
    y = series[spec.targets].to_numpy(np.float64)
    origins, codes = test_origins(spec)
    actual = _actual(y, origins, spec.horizon)
    forecasts = baseline_forecasts(y, origins, spec)
    columns = {name: {} for name in forecasts}
    starts, v_codes = intervals.validation_sample(spec) if quantiles else ((), ())
    if len(starts):  # none in the retrain gate's spec: no baseline intervals
        at = spec.geometry.origin_of(starts)
        std = spec.target_scale()[1]
        for name, fitted in baseline_forecasts(y, at, spec).items():
            residuals = (_actual(y, at, spec.horizon) - fitted, std[v_codes])
            q = intervals.baseline_quantiles(forecasts[name], residuals, std[codes], quantiles)
            columns[name] = {intervals.column(level): q[..., k]
                             for k, level in enumerate(quantiles)}
    return pd.concat(
        forecast_table(panel.stamps, spec, origins, (f, actual, columns[name]), name)
        for name, f in forecasts.items()
    )


def _arrays(rows: pd.DataFrame, spec: WindowSpec,
            columns=("forecast", "actual")) -> tuple[np.ndarray, ...]:
    """One model's ``columns`` (default ``(forecast, actual)``), each ``(series, origins,
    horizon, n_targets)``."""
    shape = (spec.n_series, spec.geometry.origins, spec.horizon, len(spec.targets))
    if len(rows) != np.prod(shape):
        name = rows["model"].iloc[0]
        raise ValueError(f"backtest of {name!r} has {len(rows)} rows, expected {shape}")
    series = pd.Categorical(rows["series"], categories=spec.series).codes
    target = pd.Categorical(rows["target"], categories=spec.targets).codes
    order = np.lexsort((target, rows["step"].to_numpy(), rows["origin"].to_numpy(), series))
    return tuple(rows[c].to_numpy(np.float64)[order].reshape(shape) for c in columns)


def _interval_scores(rows: pd.DataFrame, spec: WindowSpec, levels: list[float],
                     actual: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Per-series interval scores of one model's rows, if it has every quantile column
    (and coverage before calibration where it has the ``raw_`` ones)."""
    names = [intervals.column(q) for q in levels]
    if not names or rows[names].isna().any().any():
        return {}
    out = {}
    for prefix, suffix in (("", ""), ("raw_", "_raw")):
        if all(prefix + c in rows and rows[prefix + c].notna().all() for c in names):
            q = np.stack(_arrays(rows, spec, [prefix + c for c in names]), axis=-1)
            out.update(intervals.series_interval_scores(q, actual, scale, levels, suffix))
    return out


def evaluate(series: pd.DataFrame, window_spec, *backtests: pd.DataFrame):
    """Score every model and baseline per series and overall, on the same origins.

    Returns ``(metrics, forecasts, by_series)``: the overall figures per model and baseline
    (:func:`seqcast.metrics.overall`, and for each model the share of series where it beats
    seasonal naive), all backtests in one table, and ``series, model, mase, smape, rmse, mae,
    n_origins`` rows.
    """
    spec = WindowSpec.from_dict(window_spec)
    levels = intervals.levels_of(backtests)
    table = pd.concat([*backtests, baseline_backtest(series, spec, levels)], ignore_index=True)
    y = series[spec.targets].to_numpy(np.float64)
    origins, _ = test_origins(spec)
    scale = metrics.mase_scales(y, spec.offsets(), origins, spec.geometry.season_length)
    scale = scale.reshape(spec.n_series, spec.geometry.origins, -1)
    results, per_series = {}, {}
    for name, rows in table.groupby("model", sort=False):
        forecast, actual = _arrays(rows, spec)
        per_series[name] = metrics.series_scores(forecast, actual, scale)
        results[name] = metrics.overall(per_series[name], forecast, actual)
        spread = _interval_scores(rows, spec, levels, actual, scale)
        per_series[name].update(spread)
        results[name].update(intervals.overall_interval_scores(spread))
    benchmark = per_series["seasonal_naive"]["mase"]
    for name, result in results.items():
        if name not in BASELINES:
            mase = per_series[name]["mase"]
            defined = np.isfinite(mase) & np.isfinite(benchmark)
            result["share_beats_seasonal_naive"] = (
                float(np.mean(mase[defined] < benchmark[defined])) if defined.any() else
                float("nan"))
    by_series = pd.concat([pd.DataFrame({"series": spec.series, "model": name,
                                         **{k: scores[k] for k in SCORES},
                                         "n_origins": spec.geometry.origins,
                                         **{k: v for k, v in scores.items()
                                            if k not in SCORES}})
                           for name, scores in per_series.items()], ignore_index=True)
    return results, table, by_series


def context_table(series: pd.DataFrame, spec: WindowSpec) -> pd.DataFrame:
    """What plots draw as the actual: ``series, timestamp, target, actual`` from ``lookback``
    steps before each series' test period to its end."""
    panel = spec.panel(series)
    _, test_start = spec.boundaries()
    first = np.repeat(panel.offsets[:-1] + test_start - spec.lookback, panel.lengths)
    rows = np.flatnonzero(np.arange(len(panel.values)) >= first)
    y = series[spec.targets].to_numpy(np.float64)[rows]
    labels = np.asarray(spec.series, dtype=object)[panel.codes()[rows]]
    return pd.DataFrame({
        "series": np.repeat(labels, len(spec.targets)),
        "timestamp": np.repeat(panel.stamps[rows], len(spec.targets)),
        "target": np.tile(spec.targets, len(rows)),
        "actual": y.reshape(-1),
    })


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of every family and baseline on the same origins: what each family's
    tracking and promotion read."""

    series: pd.DataFrame
    window_spec: WindowSpec
    dataset: str | None  # ``params:data.name``
    metrics: dict
    forecasts: pd.DataFrame
    by_series: pd.DataFrame
    context: pd.DataFrame  # :func:`context_table`
    units: str | None = None  # ``params:data.units``, for the plots' axes


def gate_spec(window_spec) -> WindowSpec:
    """The specification whose test blocks are every series' validation and test blocks:
    ``validation_origins + origins`` origins per series, oldest first, the retrain gate's."""
    spec = WindowSpec.from_dict(window_spec)
    g = spec.geometry
    return replace(spec, geometry=replace(g, origins=g.origins + g.validation_origins,
                                          validation_origins=0))


def score_on_gate(series: pd.DataFrame, window_spec, models: dict[str, keras.Model]) -> dict:
    """Every model's and both baselines' overall scores (:func:`evaluate`'s metrics) on the
    gate origins of :func:`gate_spec`: each model as trained, no refit, all its windows in one
    batched predict; ``{name: scores}`` with ``naive`` and ``seasonal_naive``."""
    spec = gate_spec(window_spec)
    tables = [backtest(series, spec, model, name) for name, model in models.items()]
    return evaluate(series, spec, *tables)[0]
