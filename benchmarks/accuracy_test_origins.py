"""Test MASE of every model the evaluation pipeline scores, next to naive, seasonal naive and
Holt-Winters, per series, on the test origins exactly as ``kedro run`` scores them.

Each ``--series`` runs the project's default pipeline (ingestion → windowing → training →
evaluation) in a real Kedro session on a throw-away copy of the project (its ``src``, ``conf``
and ``pyproject.toml``) with its own MLflow store, the series and window settings passed as
runtime parameters, and reads the copy's ``data/08_reporting/metrics.json``: every model the
evaluation adds is in the table. Holt-Winters (statsmodels ``ExponentialSmoothing``, damped
additive trend) is scored here on the same test origins with the same MASE scales:

1. season additive or multiplicative (multiplicative only for positive data), chosen on the
   validation origins: each fitted on the points before the first validation origin, then run
   forward with those parameters to every validation origin; the lower validation MASE wins;
2. the chosen form is fitted again on the points up to the first test origin; at every test
   origin the smoother is re-run over the data up to it with the fitted parameters and initial
   states (``initialization_method="known"``, ``fit(..., optimized=False)``): parameters are
   never refitted per origin, as the networks are trained once.

Initial states are estimated with the parameters when ``season_length`` <= 52 and by
statsmodels' heuristic above (336 seasonal states make the estimation minutes long on 2 cores).

With ``--tune N``, the same project copy then runs ``kedro run --pipelines tune`` (N Optuna
trials per family, ``--tune-timeout`` seconds each at most): the ``tuned`` column is the test
MASE of the tuned family with the lower best validation MASE (chosen on validation only), and
``tuned_family`` names it.

``--series`` takes ``benchmarks/accuracy.py``'s keys plus ``window=`` (one of :data:`RULES`:
the window settings from the series' frequency; explicit keys override) and ``last=`` (keep
the last N points; default ``--max-points``). Data: ``benchmarks/fetch_accuracy_data.py``.

    .venv/bin/python benchmarks/accuracy_test_origins.py \\
        --series path=data/01_raw/seattle-weather.csv,name=seattle-weather,window=D \\
        --series path=co2.csv,time=date,target=co2,max_gap=20,window=W
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml
from accuracy import CONF, origin_mase, series_settings, validation_origins
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from seqcast.backtest import baseline_forecasts, test_origins
from seqcast.models import FAMILIES
from seqcast.spec import WindowSpec

ROOT = CONF.parents[1]
# Window settings per frequency (season, horizon, n_seq, n_steps, origins, validation
# origins), fixed before any test score: the season is the calendar's (a week of half-hours or
# hours, a week of days or trading days, a year of weeks or months); the horizon one day, one
# week, a quarter or half a year; the lookback 2–8 horizons and at least one season (the
# ensemble's seasonal naive reads it from the window). Short monthly and yearly series
# keep 4 + 4 blocks so that training keeps most of the data. Yearly data have no calendar
# season: 11 is the solar cycle of the sunspot series, the only yearly series here.
RULES = {
    "30min": dict(season=336, horizon=48, n_seq=7, n_steps=48, origins=8, val=16),
    "h": dict(season=168, horizon=24, n_seq=4, n_steps=42, origins=8, val=16),
    "D": dict(season=7, horizon=7, n_seq=4, n_steps=7, origins=8, val=16),
    "B": dict(season=5, horizon=5, n_seq=4, n_steps=5, origins=8, val=16),
    "W": dict(season=52, horizon=13, n_seq=4, n_steps=26, origins=8, val=16),
    "MS": dict(season=12, horizon=6, n_seq=2, n_steps=6, origins=4, val=4),
    "YS": dict(season=11, horizon=11, n_seq=2, n_steps=11, origins=4, val=4),
}
ESTIMATED_UP_TO = 52  # longest season whose initial states are estimated with the parameters


def expand(text: str, max_points: int) -> tuple[str, int]:
    """``(series text for accuracy.series_settings, last N points)``: ``window=`` replaced by
    its rule's keys (explicit keys win), ``last=`` taken out."""
    items = dict(item.split("=", 1) for item in text.split(","))
    last = int(items.pop("last", max_points))
    rule = items.pop("window", None)
    if rule is not None and rule not in RULES:
        raise SystemExit(f"--series {text!r}: window={rule} is not one of {sorted(RULES)}")
    items = {**{k: str(v) for k, v in RULES.get(rule, {}).items()}, **items}
    return ",".join(f"{k}={v}" for k, v in items.items()), last


def project_copy(folder: Path) -> Path:
    """A throw-away copy of the project (code, configuration) in ``folder``."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "credentials.yml")
    shutil.copytree(ROOT / "src", folder / "src", ignore=skip)
    shutil.copytree(ROOT / "conf" / "base", folder / "conf" / "base", ignore=skip)
    shutil.copy(ROOT / "conf" / "logging.yml", folder / "conf" / "logging.yml")
    (folder / "conf" / "local").mkdir()
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def runtime_params(data: dict, windows: dict, base: dict, epochs: int | None) -> dict:
    """The parameters that differ from conf/base, nested as ``kedro run --params`` nests
    them (Kedro merges them into the configuration key by key)."""
    params = {"data": {k: v for k, v in data.items() if v != base["data"].get(k)},
              "windows": {k: v for k, v in windows.items() if v != base["windows"].get(k)}}
    if epochs:
        params.update({family: {"training": {"epochs": epochs}} for family in FAMILIES})
    return params


def run_pipeline(project: Path, params: dict, pipeline: str | None = None) -> None:
    """A pipeline (the default one unless named) in a real Kedro session of ``project``, its
    MLflow store and relative outputs inside it."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415  (after the env is set)
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    with contextlib.chdir(project):
        bootstrap_project(project)
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            session.run(pipeline_names=[pipeline] if pipeline else None)
        while mlflow.active_run():  # closed while its store exists, not at interpreter exit
            mlflow.end_run()


def holt_winters(y: np.ndarray, fit_end: int, origins: np.ndarray, horizon: int,
                 season: int, kind: str) -> np.ndarray:
    """Forecasts ``(len(origins), horizon)`` from each origin of one series ``y``, with the
    parameters and initial states fitted once on ``y[:fit_end + 1]``."""
    options = dict(trend="add", damped_trend=True, seasonal=kind, seasonal_periods=season)
    init = "estimated" if season <= ESTIMATED_UP_TO else "heuristic"
    fitted = ExponentialSmoothing(y[:fit_end + 1], initialization_method=init,
                                  **options).fit().params
    known = dict(initialization_method="known", initial_level=fitted["initial_level"],
                 initial_trend=fitted["initial_trend"],
                 initial_seasonal=fitted["initial_seasons"])
    smoothing = {k: fitted[k] for k in ("smoothing_level", "smoothing_trend",
                                         "smoothing_seasonal", "damping_trend")}
    return np.stack([ExponentialSmoothing(y[:origin + 1], **known, **options)
                     .fit(**smoothing, optimized=False).forecast(horizon)
                     for origin in origins])


def holt_winters_at(y: np.ndarray, spec: WindowSpec, origins: np.ndarray, kind: str
                    ) -> np.ndarray:
    """Every series' and target's Holt-Winters forecasts at ``origins`` ``(n_series, k)``,
    fitted before each series' first origin: ``(n_series × k, horizon, T)``."""
    offsets = spec.offsets()
    out = np.empty((origins.size, spec.horizon, len(spec.targets)))
    for code, row in enumerate(origins):
        for t in range(y.shape[1]):
            own = y[offsets[code]:offsets[code + 1], t]
            local = row - offsets[code]
            forecasts = holt_winters(own, local[0], local, spec.horizon,
                                     spec.geometry.season_length, kind)
            out[code * len(row):(code + 1) * len(row), :, t] = forecasts
    return out


def holt_winters_test(series: pd.DataFrame, spec: WindowSpec) -> tuple[str, dict[str, float]]:
    """``(chosen season form, test MASE of Holt-Winters and both baselines)``."""
    y = series[spec.targets].to_numpy(np.float64)
    kinds = ["add", "mul"] if (y > 0).all() else ["add"]
    val = validation_origins(spec)
    scores = origin_mase(y, spec, val, {k: holt_winters_at(y, spec, val, k) for k in kinds})
    kind = min(kinds, key=scores.get)
    flat, _ = test_origins(spec)
    test = flat.reshape(spec.n_series, -1)
    forecasts = {"holt_winters": holt_winters_at(y, spec, test, kind),
                 **baseline_forecasts(y, flat, spec)}
    return kind, origin_mase(y, spec, test, forecasts)


def tuned(project: Path, params: dict, trials: int, timeout: int) -> dict:
    """The tune pipeline on ``project``: the tuned family with the lower best validation MASE,
    its test MASE, and the search's wall time."""
    tuning = {"tuning": {"trials": trials, "timeout": timeout}}
    started = time.perf_counter()
    run_pipeline(project, {**params, **tuning}, "tune")
    seconds = time.perf_counter() - started
    reporting = project / "data" / "08_reporting"
    validation = {family: json.loads((reporting / f"{family}_tuning.json").read_text())
                  ["best_value"] for family in FAMILIES}
    family = min(validation, key=validation.get)
    test = json.loads((reporting / "metrics.json").read_text())[family]["mase"]
    return {"tuned": test, "tuned_family": family, "tune_s": round(seconds)}


def run_series(text: str, base: dict, epochs: int | None, max_points: int,
               tune: tuple[int, int] | None = None) -> dict:
    text, last = expand(text, max_points)
    data, windows = series_settings(text, base)
    with tempfile.TemporaryDirectory(prefix="seqcast-accuracy-") as tmp:
        project = project_copy(Path(tmp))
        raw = pd.read_csv(data["path"], dtype={data["time_column"]: str}).tail(last)
        data["path"] = str(project / "data" / "01_raw" / "series.csv")
        Path(data["path"]).parent.mkdir(parents=True)
        raw.to_csv(data["path"], index=False)
        started = time.perf_counter()
        run_pipeline(project, runtime_params(data, windows, base, epochs))
        pipeline_s = time.perf_counter() - started
        reporting = project / "data"
        scores = json.loads((reporting / "08_reporting" / "metrics.json").read_text())
        search = tuned(project, runtime_params(data, windows, base, epochs), *tune) if tune \
            else {}
        spec = WindowSpec.from_dict(
            json.loads((reporting / "05_model_input" / "window_spec.json").read_text()))
        series = pd.read_parquet(reporting / "02_intermediate" / "series.parquet")
    started = time.perf_counter()
    kind, own = holt_winters_test(series, spec)
    hw_s = time.perf_counter() - started
    for name in ("naive", "seasonal_naive"):  # the same origins and scales as the pipeline's
        if not np.isclose(own[name], scores[name]["mase"], rtol=1e-6):
            raise SystemExit(f"{data['name']}: {name} MASE {own[name]} here, "
                             f"{scores[name]['mase']} in metrics.json: origins differ")
    models = {name: s["mase"] for name, s in scores.items() if isinstance(s, dict)}
    return {"series": data["name"], "points": len(series), "lookback": spec.lookback,
            "horizon": spec.horizon, "season": spec.geometry.season_length, **models,
            "holt_winters": own["holt_winters"], "hw_season": kind,
            **search, "pipeline_s": round(pipeline_s), "hw_s": round(hw_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", action="append", required=True,
                        help="path=CSV,window=RULE,key=value,…")
    parser.add_argument("--epochs", type=int, help="override every family's training.epochs")
    parser.add_argument("--max-points", type=int, default=20_000,
                        help="keep each series' last N points (default 20000)")
    parser.add_argument("--tune", type=int, metavar="TRIALS",
                        help="also run the tune pipeline with TRIALS trials per family")
    parser.add_argument("--tune-timeout", type=int, default=300,
                        help="seconds per family after which no new trial starts (300)")
    args = parser.parse_args()
    tune = (args.tune, args.tune_timeout) if args.tune else None
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    base = yaml.safe_load((CONF / "parameters.yml").read_text())
    rows = []
    for text in args.series:
        rows.append(run_series(text, base, args.epochs, args.max_points, tune))
        print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows).set_index("series")
    scored = [c for c in table.columns if c not in (
        "points", "lookback", "horizon", "season", "hw_season", "tuned_family", "pipeline_s",
        "tune_s", "hw_s")]
    table["best"] = table[scored].astype(float).idxmin(axis=1)
    print("\ntest MASE (lower is better):")
    print(table.to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
