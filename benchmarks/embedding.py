"""Does a learned per-series embedding help the global model? Validation loss by width.

For each panel, family (``cnn_lstm``, ``lstm``: their ``conf/base/parameters_training.yml``
blocks), embedding width (``--widths``, ``model.series_embedding``) and seed (``--seeds``),
one ``fit_family`` run; its training record's best validation loss (the lowest ``val_loss``:
MSE on each series' standardised targets) and seconds. Printed per panel × family × width:
mean and std over seeds, and the width with the lowest mean validation loss. Only validation
windows are scored: the default is chosen on them, never on test data.

Panels:
    ``unemployment``: the shipped ``data/01_raw/unemployment-across-industries.csv`` with
        ``conf/panel``'s data and windows (14 series, monthly);
    ``synthetic``: ``benchmarks/panel.py``'s panel (level, scale and weekly phase differ),
        ``--series`` × ``--length``, ``conf/base`` windows;
    ``shapes``: like ``synthetic`` but the seasonal shape differs too: a third of the series
        weekly, a third with a 3.5-day period, a third without season, under more noise, so
        that a window shows a series' shape only in part.

Run: ``.venv/bin/python benchmarks/embedding.py --series 100 --epochs 3`` (35 min on 2 cores
shared at load average 8). ``--epochs`` caps training.epochs of the synthetic panels, for every
width alike; ``--panels unemployment`` for a quick look. A script, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from panel import synthetic_panel

from seqcast.cleaning import ingest
from seqcast.fitting import fit_family
from seqcast.spec import make_window_spec
from seqcast.windows import WindowGeometry

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("cnn_lstm", "lstm")
PANELS = ("unemployment", "synthetic", "shapes")


def shaped_panel(n_series: int, length: int, seed: int = 1) -> pd.DataFrame:
    """``synthetic_panel`` with three seasonal shapes (period 7, 3.5, none) and 15% noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(1, 1000, (n_series, 1))
    period = np.array([7.0, 3.5, np.inf])[np.arange(n_series) % 3][:, None]
    season = np.sin(2 * np.pi * (t + rng.integers(0, 7, (n_series, 1))) / period)
    y = level * (1 + 0.2 * season + 0.15 * rng.standard_normal((n_series, length)))
    keep = (t >= rng.integers(0, 100, (n_series, 1))).ravel()
    dates = pd.date_range("2020-01-01", periods=length, freq="D").to_numpy()
    return pd.DataFrame({"item": np.repeat(np.arange(n_series), length)[keep],
                         "date": np.tile(dates, n_series)[keep], "y": y.ravel()[keep]})


def load_panel(name: str, args) -> tuple[pd.DataFrame, object]:
    """``(series, spec)`` of one panel."""
    base = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    if name == "unemployment":
        own = yaml.safe_load((ROOT / "conf/panel/parameters.yml").read_text())
        data, windows = {**base["data"], **own["data"]}, {**base["windows"], **own["windows"]}
        data["path"] = ROOT / "data/01_raw/unemployment-across-industries.csv"
        raw = pd.read_csv(data["path"], dtype={data["time_column"]: str})
        series, _ = ingest(raw, data, WindowGeometry.from_params(windows))
        return series, make_window_spec(series, data, windows)
    make = synthetic_panel if name == "synthetic" else shaped_panel
    data = {"id_columns": ["item"], "time_column": "date", "targets": ["y"]}
    series = make(args.series, args.length)
    return series, make_window_spec(series, data, base["windows"])


def capped(panel: str, epochs: int | None) -> dict:
    """Training overrides of ``--epochs`` for the synthetic panels (the shipped one is small
    enough to train as configured): fewer epochs, and XLA on as ``xla: auto`` would have it
    for the configured epochs, so that a capped run computes as the full one would."""
    if not epochs or panel == "unemployment":
        return {}
    return {"epochs": epochs, "xla": True}


def run_panel(name: str, args, blocks: dict) -> list[dict]:
    series, spec = load_panel(name, args)
    print(f"{name}: {spec.n_series} series, {spec.n_train_windows:,} training / "
          f"{spec.n_validation_windows:,} validation windows", flush=True)
    rows = []
    for family_name in args.families.split(","):
        block = blocks[family_name]
        for width in args.widths:
            for seed in args.seeds:
                training = {**block["training"], "seed": seed, "backup_dir": None,
                            **capped(name, args.epochs)}
                started = time.perf_counter()
                _, record = fit_family(series, spec, block["family"],
                                       {**block["model"], "series_embedding": width}, training)
                rows.append({"panel": name, "family": family_name, "width": width, "seed": seed,
                             "val_loss": min(record["val_loss"]),
                             "best_epoch": record["best_epoch"],
                             "seconds": time.perf_counter() - started})
                print("  " + "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in rows[-1].items()), flush=True)
    return rows


def report(table: pd.DataFrame) -> None:
    """Mean and std over seeds per panel × family × width; the best width on validation."""
    keys = ["panel", "family", "width"]
    summary = table.groupby(keys, sort=False).agg(
        val_mean=("val_loss", "mean"), val_std=("val_loss", "std"),
        best_epoch=("best_epoch", "mean"), seconds=("seconds", "mean")).reset_index()
    base = summary[summary["width"] == 0].set_index(["panel", "family"])["val_mean"]
    summary["vs_0"] = summary["val_mean"] / base.reindex(
        pd.MultiIndex.from_frame(summary[["panel", "family"]])).to_numpy() - 1
    print(summary.to_string(index=False, float_format="{:.4f}".format,
                            formatters={"vs_0": "{:+.1%}".format,
                                        "seconds": "{:.1f}".format,
                                        "best_epoch": "{:.1f}".format}))
    print("\nbest width on validation (lowest mean val_loss):")
    for (panel, family_name), group in summary.groupby(["panel", "family"], sort=False):
        best = group.loc[group["val_mean"].idxmin()]
        print(f"  {panel:<13}{family_name:<10}width {int(best['width'])} "
              f"({best['val_mean']:.4f} ± {best['val_std']:.4f}, {best['vs_0']:+.1%} vs 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panels", default=",".join(PANELS))
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--widths", type=int, nargs="+", default=[0, 4, 8])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int,
                        help="cap training.epochs on the synthetic panels (every width)")
    parser.add_argument("--series", type=int, default=300, help="synthetic panels' series")
    parser.add_argument("--length", type=int, default=400, help="synthetic panels' points")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import keras  # noqa: PLC0415  (only to silence per-epoch lines)

    keras.utils.disable_interactive_logging()
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, load avg "
          f"{os.getloadavg()[0]:.1f}; synthetic panels' epochs: {args.epochs or 'conf/base'}",
          flush=True)
    rows = [row for name in args.panels.split(",") for row in run_panel(name, args, blocks)]
    print()
    report(pd.DataFrame(rows))


if __name__ == "__main__":
    main()
