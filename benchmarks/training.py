"""Training samples/s: seqcast's path (build_forecaster + WindowStream) against the seed's way.

Seed's way: the same layers with Keras' own ``TimeDistributed``, one global z-score on numpy
arrays, windows materialised by a Python loop, ``model.fit(x, y, shuffle=True)``. Both: seed,
op determinism, batch size and hyperparameters of ``conf/base``; 1 untimed warm-up epoch.

Then ``fit_family`` on the default data with ``training.xla`` auto, true and false.

Run: ``.venv/bin/python benchmarks/training.py`` (quick: ``--epochs 1 --default-epochs 5
--no-xla-effect``).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
import yaml
from keras import layers as kl

from seqcast.cleaning import clean_table
from seqcast.fitting import compile_for, fit_family, streams, training_device, use_xla
from seqcast.models import build_forecaster, family
from seqcast.spec import WindowSpec, make_window_spec
from seqcast.windows import WindowGeometry

ROOT = Path(__file__).resolve().parents[1]
# Darts' BlockRNNModel (LSTM, PyTorch) on the nseq12 problem, measured separately on a 2-core
# CPU machine: 20,000 points x 2 features, lookback 168, horizon 24, 32 units, batch 64.
REFERENCE = "Darts BlockRNNModel 7,500-7,900 windows/s, measured separately"
SYNTHETIC_WINDOWS = {"n_seq": 12, "n_steps": 14, "horizon": 24, "lookback": None,
                     "season_length": 24, "origins": 4, "validation_origins": 4}


def timed_fit(model, training: dict, x, epochs: int, y=None, steps: int | None = None
              ) -> np.ndarray:
    """``(epochs, 2)``: wall and process CPU seconds per epoch after one untimed warm-up.

    ``model`` comes compiled: seqcast's by ``compile_for`` (as train_model), the seed's with
    Keras' defaults. A dataset ``x`` holds ``1 + epochs`` passes; ``steps`` caps the batches
    an epoch takes from it (default: one pass).
    """
    marks: list[tuple[float, float]] = []  # (wall, CPU) at each epoch's begin and end
    mark = lambda *_: marks.append((time.perf_counter(), time.process_time()))  # noqa: E731
    clock = keras.callbacks.LambdaCallback(on_epoch_begin=mark, on_epoch_end=mark)
    if y is None and steps is None:
        steps = int(x.cardinality()) // (1 + epochs)  # one feed, all epochs
    model.fit(x, y, batch_size=None if y is None else int(training["batch_size"]),
              epochs=1 + epochs, steps_per_epoch=steps, shuffle=y is not None, verbose=0,
              callbacks=[clock])
    return np.diff(np.array(marks).reshape(-1, 2, 2), axis=1)[1:, 0]


def seed_model(name: str, spec: WindowSpec, hp: dict) -> keras.Model:
    """The seed's network: same layers, Keras ``TimeDistributed``, no in-model scaling."""
    n_f, n_t, horizon = len(spec.features), len(spec.target_index), spec.horizon
    if name == "cnn_lstm":
        x = keras.Input((spec.geometry.n_seq, spec.geometry.n_steps, n_f))
        h = kl.TimeDistributed(kl.Conv1D(hp["filters"], hp["kernel_size"], activation="relu"))(x)
        h = kl.TimeDistributed(kl.MaxPooling1D(hp["pool_size"]))(h)
        h = kl.TimeDistributed(kl.Flatten())(h)
        h = kl.Dense(horizon * n_t)(kl.LSTM(hp["units"])(h))
        return keras.Model(x, kl.Reshape((horizon, n_t))(h))
    assert hp.get("layers", 1) == 1 and spec.lookback != horizon, "seed form: enc-dec"
    x = keras.Input((spec.lookback, n_f))
    h = kl.RepeatVector(horizon)(kl.LSTM(hp["units"])(x))
    h = kl.LSTM(hp["units"], return_sequences=True)(h)
    return keras.Model(x, kl.TimeDistributed(kl.Dense(n_t))(h))


def seed_windows(series: pd.DataFrame, spec: WindowSpec, nested: bool):
    """Global z-score, then the ``split_sequence`` loop over the training windows."""
    values, mean, std = (np.asarray(a, np.float32) for a in (
        series[spec.features], spec.mean[0], spec.std[0]))
    z, t, geometry = (values - mean) / std, spec.target_index, spec.geometry
    lookback, horizon, xs, ys = geometry.lookback, geometry.horizon, [], []
    for i in geometry.train_starts(len(z)):
        xs.append(z[i : i + lookback])
        ys.append(z[i + lookback : i + lookback + horizon, t])
    x, y = np.array(xs), np.array(ys)
    if nested:
        x = x.reshape(len(x), geometry.n_seq, geometry.n_steps, -1)
    return x, y


def load_size(size: str, params: dict, points: int, n_features: int):
    """``(series, window_spec)``; nseq12: hourly daily + weekly seasons + noise, target ``y``."""
    if size == "default":
        data = {**params["data"], "path": str(ROOT / "data/01_raw/seattle-weather.csv")}
        windows, raw = params["windows"], pd.read_csv(data["path"], dtype={"date": str})
    else:
        data = {"path": "synthetic", "time_column": "time", "targets": ["y"], "features": None,
                "frequency": None, "duplicates": "error", "max_gap": 0}
        rng, t = np.random.default_rng(0), np.arange(points)
        raw = pd.DataFrame({f"x{k}": np.sin(2 * np.pi * (t + 5 * k) / 24) + 0.3 * rng.normal(
            size=points) + 0.5 * np.sin(2 * np.pi * t / 168) for k in range(n_features)})
        raw = raw.rename(columns={"x0": "y"}).assign(time=pd.date_range(
            "2020-01-01", periods=points, freq="h").astype(str))
        windows = SYNTHETIC_WINDOWS
    series = clean_table(raw, data, WindowGeometry.from_params(windows))
    return series, make_window_spec(series, data, windows)


def xla_effect(params: dict, blocks: dict, families: list[str]) -> None:
    """The training node's fit (``fit_family``: compile, XLA compile, early stopping) on the
    shipped default data with ``training.xla`` auto, true and false, per family."""
    series, spec = load_size("default", params, 0, 0)
    print("\ntraining.xla on the default data (fit_family, configured epochs, early stopping):")
    for name in families:
        cells = []
        for xla in ("auto", True, False):
            training = {**blocks[name]["training"], "xla": xla, "backup_dir": None}
            started = time.perf_counter()
            _, record = fit_family(series, spec.to_dict(), name, blocks[name]["model"], training)
            cells.append(f"{xla}: {time.perf_counter() - started:.1f} s "
                         f"({record['epochs_run']} epochs)")
        print(f"  {name:<10}" + ", ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after 1 warm-up")
    parser.add_argument("--default-epochs", type=int, default=30,
                        help="timed epochs for the default data (1,259 windows: ~0.1 s each)")
    parser.add_argument("--sizes", default="default,nseq12")  # comma-separated subsets
    parser.add_argument("--families", default="cnn_lstm,lstm")
    parser.add_argument("--points", type=int, default=20_000, help="synthetic series length")
    parser.add_argument("--features", type=int, default=2, help="synthetic series features")
    parser.add_argument("--xla-effect", action=argparse.BooleanOptionalAction, default=True,
                        help="also time fit_family on the default data per training.xla")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    device, _ = training_device()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} usable cores ({os.cpu_count()} CPUs), {platform.machine()}, "
          f"load avg {os.getloadavg()[0]:.2f}; TF {tf.__version__}, Keras {keras.__version__}")
    print(f"device: {device}; GPU used: " + ("yes; cuDNN LSTM kernels: possible (default LSTM "
          "args), not verified" if device != "CPU" else "no (CPU); cuDNN LSTM kernels: n/a"))
    mode = "fit_family's compile_for (XLA on the CPU as training.xla chooses)"
    print(f"timed epochs after 1 warm-up: {args.epochs} (nseq12), {args.default_epochs} "
          f"(default); seqcast settings: {mode}; seed's window loop not in its samples/s\n")

    rows = []
    for size in args.sizes.split(","):
        series, spec = load_size(size, params, args.points, args.features)
        epochs = args.default_epochs if size == "default" else args.epochs
        print(f"[{size}] {len(series)} points x {len(spec.features)} features, n_seq "
              f"{spec.geometry.n_seq}, n_steps {spec.geometry.n_steps}, horizon {spec.horizon}, "
              f"{spec.n_train_windows} training windows", flush=True)
        for name in args.families.split(","):
            model, training = blocks[name]["model"], blocks[name]["training"]
            seed, nested = int(training["seed"]), family(name).nested
            keras.utils.set_random_seed(seed)
            train, _ = streams(series, spec, nested, int(training["batch_size"]), seed)
            trainable, _ = build_forecaster(name, spec, model, training["normalization"])
            # XLA as a real run with the configured epochs would choose (training.xla: auto)
            xla = use_xla(training.get("xla", "auto"), device,
                          len(train) * int(training["epochs"]))
            print(f"  {name}: XLA {'on' if xla else 'off'} (training.xla "
                  f"{training.get('xla', 'auto')})", flush=True)
            compile_for(trainable, {**training, "xla": xla}, device)
            n = train.n_windows
            ours = timed_fit(trainable, training, train.dataset(0, 1 + epochs), epochs)
            feed_data = train.dataset()
            next(iter(feed_data))  # its XLA gather compiles once, as in fit's first epoch
            feed = -time.perf_counter()  # the input pipeline alone, one pass, no model
            sum(1 for _ in feed_data)
            feed = n / (feed + time.perf_counter())
            keras.utils.set_random_seed(seed)
            loop = -time.perf_counter()
            x, y = seed_windows(series, spec, nested)
            loop += time.perf_counter()
            assert len(x) == n and x.shape[1:] == train.input_shape(), (x.shape, n)
            seed_net = seed_model(name, spec, model)
            seed_net.compile(optimizer=keras.optimizers.Adam(float(training["learning_rate"])),
                             loss=training["loss"])
            theirs = timed_fit(seed_net, training, x, epochs, y)
            rows.append((size, name, n, ours, theirs, feed, loop))
            print(f"  {name}: {epochs} epochs, wall/CPU s: seqcast {ours.sum(0).round(2)}, "
                  f"seed {theirs.sum(0).round(2)}", flush=True)

    print(f"\n{'size':<8}{'family':<10}{'seqcast/s':>10}{'seed/s':>8}{'ratio':>7}{'best':>6}"
          f"{'cpu':>6}{'feed/s':>9}{'feed%':>6}{'loop ms':>8}  target")
    for size, name, n, ours, theirs, feed, loop in rows:
        fast, slow = n * len(ours) / ours[:, 0].sum(), n * len(theirs) / theirs[:, 0].sum()
        best = theirs[:, 0].min() / ours[:, 0].min()  # fastest epochs: less hurt by sharing
        cpu = theirs[:, 1].sum() / ours[:, 1].sum()  # per CPU-second: other processes aside
        need = 2.0 if size == "nseq12" else 1.0
        verdict = f">= {need:.0f}x {'MET' if fast / slow >= need else 'MISSED'}"
        print(f"{size:<8}{name:<10}{fast:>10,.0f}{slow:>8,.0f}{fast / slow:>7.2f}{best:>6.2f}"
              f"{cpu:>6.2f}{feed:>9,.0f}{100 * fast / feed:>6.1f}{loop * 1e3:>8.1f}  {verdict}")
        if size == "nseq12" and name == "lstm" and args.points == 20_000 and args.features == 2:
            print(f"{'':<18}lstm {fast:,.0f} windows/s ({n * len(ours) / ours[:, 1].sum():,.0f}"
                  f" per CPU-s) vs {REFERENCE}")
    print("ratio: seqcast/seed samples/s, all timed epochs; best: fastest epoch each; cpu: per "
          "process CPU-second\n(robust to other processes); feed/s: WindowStream.dataset() "
          "alone; feed%: its share of a seqcast epoch")
    if args.xla_effect:
        xla_effect(params, blocks, args.families.split(","))
    print(f"load avg after: {os.getloadavg()[0]:.2f} (above {cores}: CPU shared, figures noisy)")


if __name__ == "__main__":
    main()
