"""Backtests: forecasts of a trained model and of the baselines at every series' own test
origins, and their scores per series and overall, all on the same origins.

Every series is forecast in one batched ``predict`` per model; the baselines and the MASE
scales are NumPy over the flat panel. Nothing loops over series in Python.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from seqcast import metrics
from seqcast.covariates import model_inputs, takes_future
from seqcast.errors import SeqcastError
from seqcast.models import history_shape, series_codes
from seqcast.spec import WindowSpec
from seqcast.stream import WindowStream

_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
BASELINES = ("naive", "seasonal_naive")
PREDICT_BATCH = 4096
SCORES = ("mase", "smape", "rmse", "mae")


def test_origins(spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(origins, codes)``: flat indices of every series' test origins (oldest first within
    a series, ``n_series × origins``) and their series codes."""
    starts, codes = spec.test_starts()
    return spec.geometry.origin_of(starts), codes


def forecast_table(stamps: pd.DatetimeIndex, spec: WindowSpec, origins: np.ndarray,
                   values: tuple[np.ndarray, np.ndarray], name: str) -> pd.DataFrame:
    """Long table of model ``name``'s forecasts; ``values`` is ``(forecast, actual)``, each
    ``(len(origins), horizon, n_targets)``, for the flat ``origins`` of :func:`test_origins`."""
    forecast, actual = values
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
    })


class OutputsConfigError(SeqcastError, ValueError):
    """``params:outputs`` holds a value the CSV outputs cannot use."""


def round_significant(values: np.ndarray, digits: int | None) -> np.ndarray:
    """``values`` (float64) rounded to ``digits`` significant digits; ``None``: unchanged.

    Scaling by an exact power of ten (up to 1e22) and back is correctly rounded, so each
    result is the float64 nearest its rounded decimal and is written with at most ``digits``
    digits; the rare values beyond that range go through decimal text instead.
    """
    values = np.asarray(values, dtype=np.float64)
    if digits is None:
        return values
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise OutputsConfigError(
            f"outputs.significant_digits is {digits!r}: give a whole number of at least 1 "
            "(e.g. 6), or null to write forecasts at full precision")
    out = values.copy()
    scaled = np.isfinite(values) & (values != 0)
    shift = np.zeros(values.shape, dtype=np.int64)
    shift[scaled] = digits - 1 - np.floor(np.log10(np.abs(values[scaled]))).astype(np.int64)
    up, down = scaled & (shift >= 0) & (shift <= 22), scaled & (shift < 0) & (shift >= -22)
    power = 10.0 ** np.abs(shift)
    out[up] = np.round(values[up] * power[up]) / power[up]
    out[down] = np.round(values[down] / power[down]) * power[down]
    rest = scaled & ~up & ~down
    out[rest] = [float(f"{v:.{digits}g}") for v in values[rest]]
    return out


def rounded_forecasts(table: pd.DataFrame, digits: int | None) -> pd.DataFrame:
    """``table`` with its ``forecast`` column rounded to ``digits`` significant digits, for
    the files people read; the actuals stay as read, and scores use the full precision."""
    if digits is None:
        return table
    return table.assign(forecast=round_significant(table["forecast"].to_numpy(), digits))


def _actual(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return y[origins[:, None] + np.arange(1, horizon + 1)]  # (windows, horizon, n_targets)


def predict_windows(model: keras.Model, series: pd.DataFrame, spec: WindowSpec) -> np.ndarray:
    """``model``'s forecasts at every test origin, ``(n_series × origins, horizon,
    n_targets)``, in one batched predict."""
    panel = spec.panel(series)
    starts, codes = spec.test_starts()
    nested = len(history_shape(model)) == 3
    stream = WindowStream(panel.values, starts, spec.lookback, spec.horizon, spec.target_index,
                          n_seq=spec.geometry.n_seq if nested else None,
                          future=spec.future_values(panel) if takes_future(model) else None)
    (x, _, *future), _ = stream.batch(starts, codes)
    return predict(model, x, series_codes(model, spec.series)[codes], *future)


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
            call = _CALLS[model] = tf.function(lambda *x: ref()(list(x), training=False),
                                               reduce_retracing=True)
        return np.asarray(call(*inputs))
    return np.asarray(model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0))


def backtest(series: pd.DataFrame, window_spec, model: keras.Model, name: str):
    """Forecast every series at its test origins with the trained model (no refit).

    Returns a long table: ``series, timestamp, origin, model, target, step, forecast,
    actual`` (``n_series × origins × horizon × n_targets`` rows).
    """
    spec = WindowSpec.from_dict(window_spec)
    panel = spec.panel(series)
    origins, _ = test_origins(spec)
    y = series[spec.targets].to_numpy(np.float64)  # actuals as read, not float32
    forecast = predict_windows(model, series, spec)
    return forecast_table(panel.stamps, spec, origins,
                          (forecast, _actual(y, origins, spec.horizon)), name)


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


def baseline_backtest(series: pd.DataFrame, window_spec) -> pd.DataFrame:
    """Naive and seasonal-naive forecasts at every series' test origins, in the backtest
    layout."""
    spec = WindowSpec.from_dict(window_spec)
    panel = spec.panel(series)
    y = series[spec.targets].to_numpy(np.float64)
    origins, _ = test_origins(spec)
    actual = _actual(y, origins, spec.horizon)
    return pd.concat(
        forecast_table(panel.stamps, spec, origins, (f, actual), name)
        for name, f in baseline_forecasts(y, origins, spec).items()
    )


def _arrays(rows: pd.DataFrame, spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """One model's rows as ``(forecast, actual)`` ``(series, origins, horizon, n_targets)``."""
    shape = (spec.n_series, spec.geometry.origins, spec.horizon, len(spec.targets))
    if len(rows) != np.prod(shape):
        name = rows["model"].iloc[0]
        raise ValueError(f"backtest of {name!r} has {len(rows)} rows, expected {shape}")
    series = pd.Categorical(rows["series"], categories=spec.series).codes
    target = pd.Categorical(rows["target"], categories=spec.targets).codes
    order = np.lexsort((target, rows["step"].to_numpy(), rows["origin"].to_numpy(), series))
    return tuple(rows[c].to_numpy(np.float64)[order].reshape(shape)
                 for c in ("forecast", "actual"))


def evaluate(series: pd.DataFrame, window_spec, *backtests: pd.DataFrame):
    """Score every model and baseline per series and overall, on the same origins.

    Returns ``(metrics, forecasts, by_series)``: the overall figures per model and baseline
    (:func:`seqcast.metrics.overall`, and for each model the share of series where it beats
    seasonal naive), all backtests in one table, and ``series, model, mase, smape, rmse, mae,
    n_origins`` rows.
    """
    spec = WindowSpec.from_dict(window_spec)
    table = pd.concat([*backtests, baseline_backtest(series, spec)], ignore_index=True)
    y = series[spec.targets].to_numpy(np.float64)
    origins, _ = test_origins(spec)
    scale = metrics.mase_scales(y, spec.offsets(), origins, spec.geometry.season_length)
    scale = scale.reshape(spec.n_series, spec.geometry.origins, -1)
    results, per_series = {}, {}
    for name, rows in table.groupby("model", sort=False):
        forecast, actual = _arrays(rows, spec)
        per_series[name] = metrics.series_scores(forecast, actual, scale)
        results[name] = metrics.overall(per_series[name], forecast, actual)
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
                                         "n_origins": spec.geometry.origins})
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
