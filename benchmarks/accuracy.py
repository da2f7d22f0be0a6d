"""Test-period MASE of each family × in-model normalization, next to naive and seasonal naive.

Calls the library functions directly (clean_table → make_window_spec → fit_family →
backtest → evaluate) with the defaults of ``conf/base``. Each ``--series`` is a local CSV with
comma-separated ``key=value`` settings; keys left out take ``conf/base/parameters.yml``:

    .venv/bin/python benchmarks/accuracy.py \\
        --series path=data/01_raw/seattle-weather.csv,name=seattle-weather \\
        --series path=/tmp/co2.csv,time=date,target=co2,n_seq=4,n_steps=26,horizon=13,season=52

Keys: path (required), name, time, target, frequency, features (``+``-separated), max_gap,
n_seq, n_steps, horizon, season, origins, val (validation_origins). ``--set key=value``
overrides a training parameter for every run (e.g. ``--set loss=mae``).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
import yaml

from seqcast.backtest import BASELINES, backtest, evaluate
from seqcast.cleaning import clean_table
from seqcast.fitting import fit_family
from seqcast.spec import make_window_spec
from seqcast.windows import WindowGeometry

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"
NORMALIZATIONS = ("none", "mean", "last")
FAMILIES = ("cnn_lstm", "lstm")
DATA_KEYS = {"time": "time_column", "target": "targets", "frequency": "frequency",
             "features": "features", "max_gap": "max_gap", "name": "name"}
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
        elif key == "features":
            data["features"] = value.split("+")
        else:
            data[DATA_KEYS[key]] = value if key in ("name", "time") else scalar(value)
    windows["lookback"] = None
    data["name"] = data["name"] or Path(data["path"]).stem
    return data, windows


def run_series(data: dict, windows: dict, blocks: dict, families, norms, overrides) -> list[dict]:
    # Timestamps as text: an integer column such as 19580329 must not be read as nanoseconds.
    raw = pd.read_csv(data["path"], dtype={data["time_column"]: str})
    series = clean_table(raw, data, WindowGeometry.from_params(windows))
    spec = make_window_spec(series, data, windows).to_dict()
    backtests, seconds = [], {}
    for name in families:
        for norm in norms:
            training = {**blocks[name]["training"], "normalization": norm, "backup_dir": None,
                        **overrides}
            started = time.perf_counter()
            model, record = fit_family(series, spec, name, blocks[name]["model"], training)
            seconds[f"{name}/{norm}"] = (time.perf_counter() - started, record["best_epoch"])
            backtests.append(backtest(series, spec, model, f"{name}/{norm}"))
    scores, _, _ = evaluate(series, spec, *backtests)
    base = {b: scores[b]["mase"] for b in BASELINES}
    rows = []
    for label, (secs, best) in seconds.items():
        name, norm = label.split("/")
        rows.append({"series": data["name"], "points": len(series), "family": name,
                     "normalization": norm, "mase": scores[label]["mase"], **base,
                     "best_epoch": best, "seconds": round(secs, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", action="append", required=True, help="path=CSV,key=value,…")
    parser.add_argument("--epochs", type=int, help="override training.epochs")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--normalizations", default=",".join(NORMALIZATIONS))
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
    families, norms = args.families.split(","), args.normalizations.split(",")
    rows = []
    for text in args.series:
        data, windows = series_settings(text, base)
        rows += run_series(data, windows, blocks, families, norms, overrides)
        print(f"done {data['name']}", flush=True)
    table = pd.DataFrame(rows)
    table["beats_snaive"] = table["mase"] < table["seasonal_naive"]
    if overrides:
        print("training overrides:", overrides)
    print(table.to_string(index=False, float_format="{:.3f}".format))
    print("\nmean MASE / MASE relative to seasonal naive, by family × normalization:")
    table["rel"] = table["mase"] / table["seasonal_naive"]
    print(table.pivot_table(index="family", columns="normalization", values=["mase", "rel"])
          .to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
