"""How the ensemble should combine, on validation data only: weights fitted on the older half of
each series' validation blocks, every combination scored on the newer half. Test data is never
forecast or scored.

Per ``--series`` (``benchmarks/accuracy_test_origins.py``'s keys, ``window=`` included) both
families train as ``kedro run`` trains them (``fit_family``, ``conf/base``; early stopping reads
all validation windows, as in a run). The weights are fitted as the ensemble fits them
(:func:`seqcast.models.combination.simplex_weights`, errors in units of each series' training
std) on every window whose forecast ends before the newer half; the scores are the
evaluation's MASE at the newer half's block origins, mean over series. Combinations: the
fitted weights, equal weights over the four parts, the two families' median (mean), and the
fitted weights shrunk halfway to equal.

    .venv/bin/python benchmarks/ensemble_weights.py \\
        --series path=data/01_raw/seattle-weather.csv,name=seattle-weather,window=D
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import pandas as pd
import yaml
from accuracy import CONF, forecasts_at, origin_mase, series_settings, validation_origins
from accuracy_test_origins import expand

from seqcast.cleaning import ingest
from seqcast.fitting import fit_family
from seqcast.models.combination import simplex_weights
from seqcast.spec import make_window_spec
from seqcast.windows import WindowGeometry

PARTS = ("cnn_lstm", "lstm", "naive", "seasonal_naive")


def older_windows(spec, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(flat origins, codes)`` of every stride-1 window from the first validation origin
    whose forecast ends before the newer half's first origin."""
    half = origins.shape[1] // 2
    flat, codes = [], []
    for code, row in enumerate(origins):
        span = np.arange(row[0], row[half] - spec.horizon + 1)
        flat.append(span)
        codes.append(np.full(len(span), code))
    return np.concatenate(flat), np.concatenate(codes)


def study(text: str, base: dict, blocks: dict) -> dict:
    """Every combination's MASE on the newer validation half of one series (or panel)."""
    data, windows = series_settings(expand(text, 20_000)[0], base)
    raw = pd.read_csv(data["path"], dtype={data["time_column"]: str})
    series, _ = ingest(raw, data, WindowGeometry.from_params(windows))
    spec = make_window_spec(series, data, windows)
    models = {}
    for name in PARTS[:2]:
        training = {**blocks[name]["training"], "backup_dir": None}
        models[name], _ = fit_family(series, spec, name, blocks[name]["model"], training)
    origins = validation_origins(spec)
    flat, codes = older_windows(spec, origins)
    y = series[spec.targets].to_numpy(np.float64)
    fitted = forecasts_at(series, spec, models, flat, codes)
    scale = spec.target_scale()[1][codes][:, None, :]
    actual = y[flat[:, None] + np.arange(1, spec.horizon + 1)]
    weights = simplex_weights(np.stack([fitted[p] / scale for p in PARTS]), actual / scale)
    newer = origins[:, origins.shape[1] // 2:]
    later = forecasts_at(series, spec, models, newer.reshape(-1),
                         np.repeat(np.arange(spec.n_series), newer.shape[1]))
    equal = np.full(len(PARTS), 1 / len(PARTS))
    mix = {"weighted": weights, "equal": equal, "shrunk": (weights + equal) / 2,
           "median": np.array([0.5, 0.5, 0, 0])}
    for name, w in mix.items():
        later[name] = sum(wi * np.asarray(later[p], np.float64) for wi, p in zip(w, PARTS,
                                                                                strict=True))
    scores = origin_mase(y, spec, newer, later)
    return {"series": data["name"], "windows": len(flat), **{f"w_{p}": w for p, w in
                                                              zip(PARTS, weights, strict=True)},
            **scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", action="append", required=True)
    args = parser.parse_args()
    keras.utils.disable_interactive_logging()
    base = yaml.safe_load((CONF / "parameters.yml").read_text())
    blocks = yaml.safe_load((CONF / "parameters_training.yml").read_text())
    rows, started = [], time.perf_counter()
    for text in args.series:
        rows.append(study(text, base, blocks))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).set_index("series")
    best = table[["naive", "seasonal_naive"]].min(axis=1)
    combos = ["weighted", "equal", "shrunk", "median", "cnn_lstm", "lstm"]
    print("\nnewer-half validation MASE (lower is better):")
    print(table.to_string(float_format="{:.3f}".format))
    print("\nMASE over the better baseline's, mean over series; series where it beats both:")
    for name in combos:
        rel = table[name] / best
        print(f"  {name:<10}{rel.mean():.3f}  {int((rel < 1).sum())}/{len(rel)}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
