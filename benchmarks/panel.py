"""One global model per family on a synthetic panel: windows/s and peak RSS of one epoch.

The panel: ``--series`` series (10,000) of ``--length`` points (1,000), ragged starts, each
with its own level, scale and weekly season, in long format as ingestion leaves it. Each
family trains one epoch (plus its validation pass) on the CPU through ``fit_family``, the
training node's own path, with the project's parameters and ``--batch-size``.

Run: ``.venv/bin/python benchmarks/panel.py`` (full size) or ``--series 200`` (smoke).
A script, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from windowing import MB, PeakRSS

from seqcast.fitting import fit_family
from seqcast.spec import make_window_spec

ROOT = Path(__file__).resolve().parents[1]


def synthetic_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Long format (``item, date, y``): ragged starts (the first 0-99 points missing)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(1, 1000, (n_series, 1))
    season = np.sin(2 * np.pi * (t + rng.integers(0, 7, (n_series, 1))) / 7)
    y = level * (1 + 0.2 * season + 0.05 * rng.standard_normal((n_series, length)))
    keep = t >= rng.integers(0, 100, (n_series, 1))
    items = np.repeat(np.arange(n_series), length)[keep.ravel()]
    dates = np.tile(pd.date_range("2020-01-01", periods=length, freq="D").to_numpy(),
                    n_series)[keep.ravel()]
    return pd.DataFrame({"item": items, "date": dates, "y": y.ravel()[keep.ravel()]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--families", default="cnn_lstm,lstm")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, load avg "
          f"{os.getloadavg()[0]:.1f}")
    data = {"id_columns": ["item"], "time_column": "date", "targets": ["y"]}
    with PeakRSS() as mem:
        series = synthetic_panel(args.series, args.length)
        spec = make_window_spec(series, data, params["windows"])
    data_mb = series["y"].to_numpy().nbytes / MB
    print(f"panel: {spec.n_series:,} series, {spec.n_points:,} points ({data_mb:,.0f} MB as "
          f"float64), {spec.n_train_windows:,} training and {spec.n_validation_windows:,} "
          f"validation windows; spec built at peak +{(mem.peak - mem.base) / MB:,.0f} MB")
    print(f"\n{'family':<10}{'windows/s':>11}{'epoch s':>9}{'val_loss':>10}  peak RSS")
    for name in args.families.split(","):
        block = blocks[name]
        training = {**block["training"], "epochs": 1, "batch_size": args.batch_size,
                    "backup_dir": None}
        with PeakRSS() as mem:
            started = time.perf_counter()
            _, record = fit_family(series, spec, block["family"], block["model"], training)
            seconds = time.perf_counter() - started
        print(f"{name:<10}{spec.n_train_windows / seconds:>11,.0f}{seconds:>9.1f}"
              f"{record['val_loss'][0]:>10.4f}  {mem.peak / MB:,.0f} MB (+"
              f"{(mem.peak - mem.base) / MB:,.0f} MB during training)", flush=True)


if __name__ == "__main__":
    main()
