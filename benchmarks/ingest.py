"""Wall time and peak memory of panel ingestion on a synthetic long-format Parquet file.

10,000 series x 1,000 hourly points (10 M rows) with ragged starts and 1% missing values are
written to a temporary directory; a fresh child process then reads the file as the catalog's
``RawParquetDataset`` does and runs :func:`seqcast.cleaning.ingest` on it, so the figures hold
the ingestion alone (reading included).

Run: ``.venv/bin/python benchmarks/ingest.py`` (full size) or ``--series 500`` (smoke).
A script, not a test: it prints figures and the targets they are judged against.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MB = 1e6
VERDICT = {True: "MET", False: "MISSED"}
DATA = {"path": "panel.parquet", "id_columns": ["series"], "time_column": "ts",
        "targets": ["y"], "features": ["y"], "frequency": None, "max_gap": 3,
        "max_interpolated": 0.05, "duplicates": "error"}
WINDOWS = {"n_seq": 4, "n_steps": 7, "horizon": 7, "season_length": 7, "origins": 8,
           "validation_origins": 16}


def write_panel(path: Path, n_series: int, points: int, seed: int = 0) -> None:
    """Each series starts at its own hour in the first 500 and has ``points`` rows."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 500, n_series)
    series = np.repeat(np.arange(n_series, dtype=np.int64), points)
    step = np.tile(np.arange(points), n_series)
    hours = starts[series] + step
    y = np.sin(hours * 2 * np.pi / 24) + rng.normal(0, 0.3, len(hours)) + series % 7
    y[rng.random(len(y)) < 0.01] = np.nan
    frame = pd.DataFrame({"series": series,
                          "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(hours, "h"),
                          "y": y})
    frame.sample(frac=1.0, random_state=seed).to_parquet(path, index=False)  # unsorted rows


def peak_rss() -> int:
    """This process's peak RSS in bytes. ``VmHWM`` belongs to the process's own memory map;
    ``ru_maxrss`` would carry the parent's peak (the data generation) across fork and exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark measures memory on Linux")


def ingest_child(path: str) -> None:
    """Read and clean the file; print the figures as JSON (run in a fresh process)."""
    import psutil

    from seqcast.cleaning import ingest
    from seqcast.datasets.raw import RawParquetDataset
    from seqcast.windows import WindowGeometry

    base = psutil.Process().memory_info().rss
    start = time.perf_counter()
    raw = RawParquetDataset(path).load()
    read = time.perf_counter() - start
    read_peak = peak_rss()
    data_bytes = int(raw.memory_usage(deep=True).sum())
    panel, report = ingest(raw, DATA, WindowGeometry.from_params(WINDOWS))
    total = time.perf_counter() - start
    peak = peak_rss()
    print(json.dumps({"read_s": read, "total_s": total, "peak": peak, "base": base,
                      "read_peak": read_peak,
                      "data_bytes": data_bytes, "rows_out": len(panel),
                      "kept": report["series_kept"], "dropped": report["dropped"]["count"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ingest_child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.parquet"
        write_panel(path, args.series, args.points)
        print(f"{args.series:,} series x {args.points:,} points = {args.series * args.points:,} "
              f"rows, Parquet {path.stat().st_size / MB:.0f} MB; {platform.machine()}, "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
        done = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True,
                              capture_output=True, text=True)
    f = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = f["peak"] / f["data_bytes"]
    print(f"read {f['read_s']:.1f} s, read + clean {f['total_s']:.1f} s "
          f"(target <= 60 s: {VERDICT[f['total_s'] <= 60]})")
    print(f"data {f['data_bytes'] / MB:.0f} MB in memory; peak RSS {f['peak'] / MB:.0f} MB = "
          f"{ratio:.2f}x the data (target <= 4x: {VERDICT[ratio <= 4]}); interpreter and "
          f"imports alone {f['base'] / MB:.0f} MB, peak while reading {f['read_peak'] / MB:.0f} MB")
    print(f"kept {f['kept']:,} series ({f['rows_out']:,} rows), dropped {f['dropped']}")


if __name__ == "__main__":
    main()
