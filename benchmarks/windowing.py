"""Throughput and memory of seqcast's WindowStream against the tutorial loop and a plain copy.

Run: ``.venv/bin/python benchmarks/windowing.py`` (full size) or ``--points 200000`` (smoke).
A script, not a test: it prints figures and the targets they are judged against.
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time

import numpy as np
import psutil

from seqcast.windows import WindowStream

LOOKBACK, HORIZON = 168, 24
WIDTH = LOOKBACK + HORIZON
MB = 1e6


class PeakRSS:
    """Samples this process's RSS every few ms in a thread; transient peaks are caught too."""

    def __init__(self, interval: float = 0.002):
        self.proc, self.interval = psutil.Process(), interval
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def split_sequence(seq: np.ndarray, lookback: int, horizon: int):
    """The usual tutorial loop: one Python iteration and two list appends per window."""
    xs, ys = [], []
    for i in range(len(seq)):
        end, out_end = i + lookback, i + lookback + horizon
        if out_end > len(seq):
            break
        xs.append(seq[i:end])
        ys.append(seq[end:out_end])
    return np.array(xs), np.array(ys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--loop-points", type=int, default=200_000, help="prefix for the loop")
    args = parser.parse_args()
    n, bs = args.points, args.batch_size
    n_windows = n - WIDTH + 1
    n_batches = -(-n_windows // bs)

    u = platform.uname()
    print(f"machine: {os.cpu_count()} CPUs, processor={platform.processor() or '?'}, "
          f"{u.system} {u.release} {u.machine}; numpy {np.__version__}")
    print(f"series: {n:,} points float32, lookback {LOOKBACK}, horizon {HORIZON}, "
          f"batch {bs}, {n_windows:,} windows, {n_batches:,} batches, shuffled\n")

    # --- seqcast stream: memory baseline is taken before the series exists. ---
    proc = psutil.Process()
    base = proc.memory_info().rss
    with PeakRSS() as mem:
        rng = np.random.default_rng(0)
        values = rng.standard_normal((n, 1), dtype=np.float32)  # float32 directly, no temp
        stream = WindowStream(values, np.arange(n_windows), LOOKBACK, HORIZON, [0],
                              batch_size=bs, shuffle=True, seed=0)
        t0 = time.perf_counter()
        acc = 0.0
        for x, y in stream:  # one epoch; touching one element per batch keeps the work real
            acc += float(x[-1, -1, 0]) + float(y[-1, -1, 0])
        t_stream = time.perf_counter() - t0
    stream_peak = mem.peak - base
    series_bytes, batch_bytes = values.nbytes, bs * WIDTH * 4
    mem_target = 3 * series_bytes + batch_bytes
    del stream, values

    # --- tutorial loop on a prefix, scaled to windows/s (full size would not fit in RAM). ---
    p = min(args.loop_points, n)
    prefix = np.random.default_rng(1).standard_normal((p, 1), dtype=np.float32)
    loop_base = proc.memory_info().rss
    with PeakRSS() as loop_mem:
        t0 = time.perf_counter()
        lx, ly = split_sequence(prefix, LOOKBACK, HORIZON)
        t_loop = time.perf_counter() - t0
    loop_rate = len(lx) / t_loop
    loop_full_bytes = n_windows * (LOOKBACK + HORIZON) * 4  # X plus y, materialised
    loop_x_bytes = n_windows * LOOKBACK * 4
    del lx, ly

    # --- plain copy of the same bytes per batch: the bandwidth ceiling for any gather. ---
    src = np.ones((bs, WIDTH), dtype=np.float32)
    dst = np.empty_like(src)
    t0 = time.perf_counter()
    for _ in range(n_batches):
        np.copyto(dst, src)
    t_copy = time.perf_counter() - t0

    stream_rate = n_windows / t_stream
    copy_rate = n_windows / t_copy
    rows = [
        ("seqcast WindowStream", stream_rate, f"{stream_peak / MB:,.1f} MB peak increase "
         f"(abs {mem.peak / MB:,.1f} MB)"),
        (f"tutorial loop ({p:,} pts)", loop_rate,
         f"{(loop_mem.peak - loop_base) / MB:,.1f} MB on prefix; full size "
         f"{loop_full_bytes / MB:,.0f} MB"),
        ("np.copyto same bytes", copy_rate, f"{2 * batch_bytes / MB:,.1f} MB (two blocks)"),
    ]
    print(f"{'method':<30}{'windows/s':>14}{'s/epoch':>10}  peak memory")
    for name, rate, memo in rows:
        print(f"{name:<30}{rate:>14,.0f}{n_windows / rate:>10.2f}  {memo}")

    print(f"\nloop input X alone at full size: {n_windows:,} x {LOOKBACK} x 4 B = "
          f"{loop_x_bytes / 1e9:.2f} GB (X+y {loop_full_bytes / 1e9:.2f} GB)")
    ok = stream_rate >= 2 * loop_rate
    print(f"stream / loop      = {stream_rate / loop_rate:6.1f}x  (target >= 2x)      "
          f"{'MET' if ok else 'MISSED'}")
    ok = stream_rate >= copy_rate / 3
    print(f"copy   / stream    = {copy_rate / stream_rate:6.1f}x  (target <= 3x)      "
          f"{'MET' if ok else 'MISSED'}")
    ok = stream_peak <= mem_target
    print(f"stream peak memory = {stream_peak / MB:,.1f} MB vs 3 x {series_bytes / MB:,.1f} MB "
          f"series + {batch_bytes / MB:.2f} MB batch = {mem_target / MB:,.1f} MB  "
          f"{'MET' if ok else 'MISSED'}")
    print(f"(checksum {acc:.3f})")


if __name__ == "__main__":
    main()
