"""Throughput and memory of seqcast's WindowStream against the tutorial loop and a plain copy,
windows/s of training's tf.data feed against the generator feed it replaced, and a panel case:
100,000 series x 1,000 points, one shuffled pass of 2,000 batches across all of them.

Run: ``.venv/bin/python benchmarks/windowing.py`` (full size) or ``--points 200000
--panel-series 2000`` (smoke).
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

from seqcast.stream import Windows, WindowStream

LOOKBACK, HORIZON = 168, 24
WIDTH = LOOKBACK + HORIZON
MB = 1e6
VERDICT = {True: "MET", False: "MISSED"}


def clocks() -> np.ndarray:
    """Wall time and this thread's CPU time; their gap shows how contended the machine is."""
    return np.array([time.perf_counter(), time.thread_time()])


class PeakRSS:
    """Samples this process's RSS every few ms in a thread, so transient peaks count too."""

    def __init__(self, interval: float = 0.002):
        self.proc, self.interval = psutil.Process(), interval
        self.base = self.peak = self.proc.memory_info().rss
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


def copy_seconds(src: np.ndarray, batch: int, n_batches: int) -> np.ndarray:
    """Time ``n_batches`` copies of ``batch`` rows of ``src`` (cycled) into one fixed block."""
    dst = np.empty((batch, src.shape[1]), dtype=src.dtype)
    blocks = len(src) // batch
    t0 = clocks()
    for i in range(n_batches):
        j = (i % blocks) * batch
        np.copyto(dst, src[j : j + batch])
    return clocks() - t0


def generator_feed(stream: WindowStream):
    """The feed training used before: the numpy stream under ``from_generator``, prefetched.

    Kept here only for comparison: an iterator of it abandoned mid-epoch can deadlock
    interpreter shutdown (its prefetch thread waits for the GIL inside the generator).
    """
    import tensorflow as tf

    signature = ((tf.TensorSpec((None, *stream.input_shape()), tf.float32),
                  tf.TensorSpec((None,), tf.int32)),
                 tf.TensorSpec((None, stream.horizon, len(stream.target_index)), tf.float32))
    dataset = tf.data.Dataset.from_generator(stream.__iter__, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(stream))).prefetch(2)


def feed_seconds(dataset) -> np.ndarray:
    """One full epoch of a ``tf.data`` feed, consumed inside TensorFlow (as ``fit`` pulls it)."""
    import tensorflow as tf

    t0 = clocks()
    # Touch one element of every batch so that every gather really happens.
    dataset.reduce(tf.constant(0.0),
                   lambda acc, b: acc + b[0][0][-1, -1, 0] + b[1][-1, -1, 0])
    return clocks() - t0


def compare_feeds(n: int, bs: int) -> None:
    """Windows/s of the generator feed against the TensorFlow-native ``WindowStream.dataset``."""
    values = np.random.default_rng(0).standard_normal((n, 1), dtype=np.float32)
    stream = WindowStream(values, range(n - WIDTH + 1), LOOKBACK, HORIZON, [0], bs,
                          shuffle=True, seed=0)
    feeds = {"generator (old)": generator_feed(stream), "tf-native (new)": stream.dataset()}
    print(f"\n{'feed, one shuffled epoch':<30}{'windows/s':>13}{'s/epoch':>9}{'(cpu s)':>9}"
          "  ms per batch")
    next(iter(feeds["tf-native (new)"]))  # compile its XLA gather outside the timing
    for name, dataset in feeds.items():
        wall, cpu = feed_seconds(dataset)
        print(f"{name:<30}{stream.n_windows / wall:>13,.0f}{wall:>9.2f}{cpu:>9.2f}"
              f"  {1e3 * wall / len(stream):.2f}")


def panel_case(n_series: int, length: int, bs: int, n_batches: int) -> None:
    """One shuffled pass of ``n_batches`` batches over a panel stored once (flat array plus
    offsets), windows drawn across every series."""
    with PeakRSS() as mem:
        values = np.random.default_rng(0).standard_normal((n_series * length, 1),
                                                          dtype=np.float32)
        first = np.arange(n_series, dtype=np.int64) * length
        windows = Windows.runs(first, np.full(n_series, length - WIDTH + 1))
        stream = WindowStream(values, windows, LOOKBACK, HORIZON, [0], bs, shuffle=True, seed=0)
        t0, acc, seen = clocks(), 0.0, set()
        for i, ((x, codes), y) in enumerate(stream):
            if i == n_batches:
                break
            acc += float(x[-1, -1, 0]) + float(y[-1, -1, 0])
            seen.update(codes[:8].tolist())
        wall, cpu = clocks() - t0
    peak, series_bytes, batch_bytes = mem.peak - mem.base, values.nbytes, bs * WIDTH * 4
    target = 3 * series_bytes + batch_bytes
    print(f"\npanel: {n_series:,} series x {length:,} points = {len(values):,} float32 "
          f"({series_bytes / MB:,.0f} MB), {len(windows):,} windows, {n_batches:,} shuffled "
          f"batches of {bs}: {n_batches * bs / wall:,.0f} windows/s ({wall:.1f} s wall, "
          f"{cpu:.1f} s cpu, incl. the one shuffle of every window's position)")
    print(f"panel peak +{peak / MB:,.1f} MB vs 3 x {series_bytes / MB:,.1f} MB series + "
          f"{batch_bytes / MB:.2f} MB batch = {target / MB:,.1f} MB  {VERDICT[peak <= target]}; "
          f"{len(seen):,} distinct series in the first 8 windows of each batch "
          f"(checksum {acc:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--loop-points", type=int, default=200_000, help="prefix for the loop")
    parser.add_argument("--panel-series", type=int, default=100_000)
    parser.add_argument("--panel-length", type=int, default=1_000)
    parser.add_argument("--panel-batches", type=int, default=2_000)
    parser.add_argument("--feeds", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the tf.data feeds (old generator, new TF-native)")
    args = parser.parse_args()
    n, bs = args.points, args.batch_size
    n_windows = n - WIDTH + 1
    n_batches = -(-n_windows // bs)
    u = platform.uname()
    print(f"machine: {os.cpu_count()} CPUs, processor={platform.processor() or '?'}, {u.system} "
          f"{u.release} {u.machine}, load avg {os.getloadavg()[0]:.1f}; numpy {np.__version__}")
    print(f"series: {n:,} points float32, lookback {LOOKBACK}, horizon {HORIZON}, batch {bs}, "
          f"{n_windows:,} windows, {n_batches:,} batches, shuffled\n")

    # seqcast stream, one epoch. The RSS baseline is taken before the series exists; the
    # shuffle is inside the timed loop because every epoch pays for it.
    with PeakRSS() as mem:
        values = np.random.default_rng(0).standard_normal((n, 1), dtype=np.float32)
        starts = range(n_windows)  # as WindowGeometry.train_starts gives them
        stream = WindowStream(values, starts, LOOKBACK, HORIZON, [0], bs, shuffle=True, seed=0)
        t0, acc = clocks(), 0.0
        for (x, _), y in stream:  # touch one element per batch so every gather really happens
            acc += float(x[-1, -1, 0]) + float(y[-1, -1, 0])
        t_stream = clocks() - t0
    stream_peak = mem.peak - mem.base
    series_bytes, batch_bytes = values.nbytes, bs * WIDTH * 4
    mem_target = 3 * series_bytes + batch_bytes
    index_mb = stream._order.nbytes / MB  # the one per-window array: the shuffled order
    del stream, values, starts

    # Tutorial loop on a prefix, scaled: at full size its arrays would not fit in RAM.
    p = min(args.loop_points, n)
    prefix = np.random.default_rng(1).standard_normal((p, 1), dtype=np.float32)
    with PeakRSS() as loop_mem:
        t0 = clocks()
        lx, _ = split_sequence(prefix, LOOKBACK, HORIZON)
        t_loop = (clocks() - t0) * n_windows / len(lx)  # scaled to a full epoch
    del lx, _

    # Copy ceilings, same bytes per batch: from a cache-resident block of one batch (as
    # specified), and from a 256 MB source that no cache holds (the DRAM bandwidth limit).
    t_cached = copy_seconds(np.ones((bs, WIDTH), np.float32), bs, n_batches)
    t_dram = copy_seconds(np.ones((256_000_000 // (WIDTH * 4), WIDTH), np.float32), bs, n_batches)

    secs = {"stream": t_stream, "loop": t_loop, "cached": t_cached, "dram": t_dram}
    rate = {k: n_windows / v[0] for k, v in secs.items()}  # wall-clock windows/s
    loop_bytes = n_windows * WIDTH * 4  # X and y materialised at full size
    loop_peak, abs_peak = loop_mem.peak - loop_mem.base, mem.peak / MB
    rows = [
        ("seqcast WindowStream", "stream", f"+{stream_peak / MB:,.1f} MB (abs {abs_peak:,.0f})"),
        (f"tutorial loop ({p:,} pts)", "loop",
         f"+{loop_peak / MB:,.1f} MB on prefix; {loop_bytes / MB:,.0f} MB at {n:,} pts"),
        (f"copy, cached {batch_bytes // 1000} KB source", "cached", "two batch blocks"),
        ("copy, 256 MB source (DRAM)", "dram", "256 MB source"),
    ]
    print(f"{'method':<30}{'windows/s':>13}{'s/epoch':>9}{'(cpu s)':>9}  peak memory")
    for name, key, note in rows:
        wall, cpu = secs[key]
        print(f"{name:<30}{rate[key]:>13,.0f}{wall:>9.2f}{cpu:>9.2f}  {note}")

    print(f"\nloop input X alone at {n:,} pts: {n_windows:,} x {LOOKBACK} x 4 B = "
          f"{n_windows * LOOKBACK * 4 / 1e9:.2f} GB")

    # Verdicts use wall time; the CPU-time ratio in brackets is less sensitive to other load.
    def ratio(slow: str, fast: str) -> str:
        wall, cpu = secs[slow] / secs[fast]
        return f"{wall:6.1f}x ({cpu:4.1f}x cpu)"

    s = rate["stream"]
    print(f"{'stream vs loop':<24}{ratio('loop', 'stream')}  target >= 2x  "
          f"{VERDICT[s >= 2 * rate['loop']]}")
    for key in ("cached", "dram"):
        print(f"{f'copy ({key}) vs stream':<24}{ratio('stream', key)}  target <= 3x  "
              f"{VERDICT[s >= rate[key] / 3]}")
    print(f"stream peak +{stream_peak / MB:,.1f} MB vs 3 x {series_bytes / MB:,.1f} MB series + "
          f"{batch_bytes / MB:.2f} MB batch = {mem_target / MB:,.1f} MB  "
          f"{VERDICT[stream_peak <= mem_target]}")
    # One int32 position per window, as many bytes as a univariate float32 series.
    print(f"  of which the shuffled order (int32, reshuffled in place): {index_mb:,.1f} MB")
    print(f"(checksum {acc:.3f})")
    if args.feeds:
        compare_feeds(n, bs)
    if args.panel_series:
        panel_case(args.panel_series, args.panel_length, bs, args.panel_batches)


if __name__ == "__main__":
    main()
