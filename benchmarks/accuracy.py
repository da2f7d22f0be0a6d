"""Validation MASE of each family × in-model normalisation × series transform, next to naive
and seasonal naive on the same validation origins. Test data is never forecast or scored.

Calls the library functions directly (ingest → make_window_spec → fit_family → predict) with
the defaults of ``conf/base``, then forecasts every series at each of its
``validation_origins`` origins (the blocks of ``horizon`` points just before its test period)
and scores them with ``seqcast.metrics`` as the evaluation pipeline scores test origins (MASE
per series, then the mean over series). With two families or more, the ensemble of each
configuration's models (their median) is scored too. Early stopping also reads the
validation windows, for every configuration alike. Each ``--series`` is a local CSV with
comma-separated ``key=value`` settings; keys left out take ``conf/base/parameters.yml``:

    .venv/bin/python benchmarks/accuracy.py --epochs 20 \\
        --series path=data/01_raw/seattle-weather.csv,name=seattle-weather \\
        --series path=co2.csv,time=date,target=co2,n_seq=4,n_steps=26,horizon=13,season=52

Keys: path (required), name, ids (id columns of a panel, ``+``-separated), time, target,
frequency, features (``+``-separated), calendar (true/false), holidays (a country code),
future (known-future columns, ``+``-separated), max_gap, n_seq, n_steps, horizon, season, origins,
val (validation_origins). ``--set key=value`` overrides a training parameter for every run
(e.g. ``--set loss=mae``). A ``transform`` that logs no series (``auto`` on data it judges
additive or not positive) trains the same model as ``none``: it is not trained again.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from seqcast import metrics
from seqcast.backtest import PREDICT_BATCH, baseline_forecasts
from seqcast.cleaning import ingest
from seqcast.covariates import model_inputs
from seqcast.errors import ModelConfigError
from seqcast.fitting import fit_family
from seqcast.models import (
    ENSEMBLE,
    build_ensemble,
    history_shape,
    model_quantiles,
    series_codes,
    series_scales,
)
from seqcast.spec import WindowSpec, make_window_spec
from seqcast.stream import WindowStream
from seqcast.windows import WindowGeometry

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"
NORMALIZATIONS = ("mean", "last", "seasonal")
TRANSFORMS = ("none", "auto")
FAMILIES = ("cnn_lstm", "lstm")
DATA_KEYS = {"time": "time_column", "target": "targets", "frequency": "frequency",
             "features": "features", "max_gap": "max_gap", "name": "name",
             "ids": "id_columns", "calendar": "calendar", "holidays": "holidays",
             "future": "future_features"}
WINDOW_KEYS = {"n_seq": "n_seq", "n_steps": "n_steps", "horizon": "horizon",
               "season": "season_length", "origins": "origins", "val": "validation_origins"}


def scalar(text: str):
    """``key=value`` value as YAML reads it: 3 → int, 0.001 → float, mae → str."""
    return yaml.safe_load(text)


def series_settings(text: str, base: dict) -> tuple[dict, dict]:
    """``(data, windows)`` params from ``path=…,key=value,…`` over the conf/base defaults."""
    items = dict(item.split("=", 1) for item in text.split(","))
    if "path" not in items:
        raise SystemExit(f"--series {text!r}: path=... is required")
    unknown = set(items) - {"path", *DATA_KEYS, *WINDOW_KEYS}
    if unknown:
        raise SystemExit(f"--series {text!r}: unknown key(s) {sorted(unknown)}")
    data = {**base["data"], "path": items.pop("path"), "name": None}
    windows = dict(base["windows"])
    for key, value in items.items():
        if key in WINDOW_KEYS:
            windows[WINDOW_KEYS[key]] = int(value)
        elif key in ("features", "ids", "future"):
            data[DATA_KEYS[key]] = value.split("+")
        else:
            data[DATA_KEYS[key]] = value if key in ("name", "time") else scalar(value)
    windows["lookback"] = None
    data["name"] = data["name"] or Path(data["path"]).stem
    return data, windows


def validation_origins(spec: WindowSpec) -> np.ndarray:
    """Flat indices of every series' validation origins, ``(n_series, validation_origins)``,
    oldest first: block k forecasts the ``horizon`` points ``k`` blocks before the test
    period, so no forecast reaches a test point."""
    _, test_start = spec.boundaries()
    back = np.arange(spec.geometry.validation_origins, 0, -1) * spec.horizon
    return spec.offsets()[:-1, None] + test_start[:, None] - back - 1


def validation_mase(series: pd.DataFrame, spec: WindowSpec, models: dict) -> dict[str, float]:
    """Mean over series of per-series validation MASE of each model in ``models`` (name →
    forecaster) and of the two baselines, all on the same origins."""
    origins = validation_origins(spec)
    codes = np.repeat(np.arange(spec.n_series), origins.shape[1])
    y = series[spec.targets].to_numpy(np.float64)
    forecasts = forecasts_at(series, spec, models, origins.reshape(-1), codes)
    return origin_mase(y, spec, origins, forecasts)


def forecasts_at(series: pd.DataFrame, spec: WindowSpec, models: dict, flat: np.ndarray,
                 codes: np.ndarray) -> dict[str, np.ndarray]:
    """Both baselines' and each model's point forecasts (a quantile model's median) from the
    flat ``origins`` of the series ``codes``: ``{name: (len(flat), horizon, T)}``."""
    y = series[spec.targets].to_numpy(np.float64)
    forecasts = dict(baseline_forecasts(y, flat, spec))
    panel, starts = spec.panel(series), flat - spec.lookback + 1
    for name, model in models.items():
        nested = len(history_shape(model)) == 3
        stream = WindowStream(panel.values, starts, spec.lookback, spec.horizon,
                              spec.target_index, n_seq=spec.geometry.n_seq if nested else None,
                              future=spec.future_values(panel))
        (x, _, *future), _ = stream.batch(starts, codes)
        known = series_codes(model, spec.series)[codes]
        out, levels = model.predict(model_inputs(model, x, known, *future),
                                    batch_size=PREDICT_BATCH, verbose=0), model_quantiles(model)
        forecasts[name] = out[..., levels.index(0.5)] if levels else out  # the median
    return forecasts


def origin_mase(y: np.ndarray, spec: WindowSpec, origins: np.ndarray,
                forecasts: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean over series of per-series MASE of each forecast ``(n_series × k, horizon, T)``
    made at the flat ``origins`` ``(n_series, k)`` of the targets ``y``."""
    shape = (*origins.shape, spec.horizon, len(spec.targets))
    flat = origins.reshape(-1)
    actual = y[flat[:, None] + np.arange(1, spec.horizon + 1)].reshape(shape)
    scale = metrics.mase_scales(y, spec.offsets(), flat, spec.geometry.season_length)
    scale = scale.reshape(*origins.shape, -1)
    return {name: float(np.nanmean(metrics.series_scores(
        np.asarray(f, np.float64).reshape(shape), actual, scale)["mase"]))
        for name, f in forecasts.items()}


def logged_series(series: pd.DataFrame, spec: WindowSpec, transform: str) -> int | None:
    """How many series ``transform`` takes in logs; None when it refuses the data."""
    try:
        scales = series_scales(spec.panel(series).values, spec, transform)
    except ModelConfigError:
        return None
    return int(scales.log.any(axis=1).sum())


def run_series(data: dict, windows: dict, blocks: dict, grid: tuple, overrides: dict
               ) -> list[dict]:
    # Timestamps as text: an integer column such as 19580329 must not be read as nanoseconds.
    raw = pd.read_csv(data["path"], dtype={data["time_column"]: str})
    series, _ = ingest(raw, data, WindowGeometry.from_params(windows))
    spec = make_window_spec(series, data, windows)
    families, norms, transforms = grid
    logged = {t: logged_series(series, spec, t) for t in transforms}
    models, rows = {}, {}
    for name in families:
        for norm in norms:
            for transform in transforms:
                if logged[transform] is None:
                    continue  # log on a series with a non-positive training value
                label, same = f"{name}/{norm}/{transform}", f"{name}/{norm}/none"
                if logged[transform] == 0 and same in models and transform != "none":
                    models[label] = models[same]  # nothing in logs: the `none` model
                    rows[label] = {**rows[same], "transform": transform}
                    continue
                training = {**blocks[name]["training"], "normalization": norm,
                            "transform": transform, "backup_dir": None, **overrides}
                started = time.perf_counter()
                models[label], record = fit_family(series, spec, name, blocks[name]["model"],
                                                   training)
                rows[label] = {"series": data["name"], "n_series": spec.n_series,
                               "family": name, "normalization": norm, "transform": transform,
                               "logged": logged[transform], "best_epoch": record["best_epoch"],
                               "seconds": round(time.perf_counter() - started, 1)}
    add_ensembles(models, rows, families)
    scores = validation_mase(series, spec, models)
    baselines = {b: scores[b] for b in ("naive", "seasonal_naive")}
    return [{**row, "mase": scores[label], **baselines} for label, row in rows.items()]


def add_ensembles(models: dict, rows: dict, families: list[str]) -> None:
    """The ensemble (median) of the families' models of each configuration, as a family of
    its own: what the training pipeline builds from its members."""
    if len(families) < 2:
        return
    for label in [k for k in rows if k.startswith(f"{families[0]}/")]:
        config = label.split("/", 1)[1]
        members = {f: models.get(f"{f}/{config}") for f in families}
        if all(m is not None for m in members.values()):
            models[f"{ENSEMBLE}/{config}"] = build_ensemble(members)
            rows[f"{ENSEMBLE}/{config}"] = {**rows[label], "family": ENSEMBLE,
                                            "best_epoch": 0, "seconds": 0.0}


def report(table: pd.DataFrame) -> None:
    """The table, then per family × configuration the mean MASE relative to seasonal naive
    and the number of series where the configuration is the family's best."""
    columns = ["series", "n_series", "family", "normalization", "transform", "logged", "mase",
               "naive", "seasonal_naive", "best_epoch", "seconds"]
    print(table[columns].to_string(index=False, float_format="{:.3f}".format))
    table = table.assign(config=table["normalization"] + "/" + table["transform"],
                         rel=table["mase"] / table["seasonal_naive"])
    best = table.groupby(["series", "family"])["mase"].transform("min")
    table["best"] = table["mase"] <= best
    summary = table.groupby(["family", "config"]).agg(
        mean_mase_over_snaive=("rel", "mean"), series_best=("best", "sum"),
        n=("rel", "size"))
    print("\nvalidation MASE / seasonal naive (mean over series), and on how many series the "
          "configuration is the family's best:")
    print(summary.to_string(float_format="{:.3f}".format))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", action="append", required=True, help="path=CSV,key=value,…")
    parser.add_argument("--epochs", type=int, help="override training.epochs")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--normalizations", default=",".join(NORMALIZATIONS))
    parser.add_argument("--transforms", default=",".join(TRANSFORMS))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a training parameter (loss, learning_rate, …)")
    parser.add_argument("--verbose", action="store_true", help="show seqcast's and Keras' logs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:
        import keras  # noqa: PLC0415  (only to silence per-epoch lines)

        keras.utils.disable_interactive_logging()
    base = yaml.safe_load((CONF / "parameters.yml").read_text())
    blocks = yaml.safe_load((CONF / "parameters_training.yml").read_text())
    overrides = {k: scalar(v) for k, v in (item.split("=", 1) for item in args.set)}
    if args.epochs:
        overrides["epochs"] = args.epochs
    transforms = args.transforms.split(",")
    if "none" in transforms:  # trained first, so a transform that logs nothing can reuse it
        transforms.remove("none")
        transforms.insert(0, "none")
    grid = (args.families.split(","), args.normalizations.split(","), transforms)
    rows = []
    for text in args.series:
        data, windows = series_settings(text, base)
        started = time.perf_counter()
        rows += run_series(data, windows, blocks, grid, overrides)
        print(f"done {data['name']} in {time.perf_counter() - started:.0f} s", flush=True)
    if overrides:
        print("training overrides:", overrides)
    report(pd.DataFrame(rows))


if __name__ == "__main__":
    main()
