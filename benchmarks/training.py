"""Training samples/s: seqcast's path (build_forecaster + WindowStream) against the seed's way.

Seed's way: the same layers with Keras' own ``TimeDistributed``, one global z-score on numpy
arrays, windows materialised by a Python loop, ``model.fit(x, y, shuffle=True)``. Both run
under train_model's settings (seed, op determinism), batch size and hyperparameters of
``conf/base/parameters_training.yml``; one warm-up epoch (graph tracing) is not timed.

Run: ``.venv/bin/python benchmarks/training.py`` or, quick, ``--epochs 1 --sizes default``.
A script, not a test: it prints figures and the targets they are judged against.
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

from seqcast.models import build_forecaster, family
from seqcast.pipelines.ingestion.nodes import clean_series
from seqcast.pipelines.training.nodes import _streams, training_device
from seqcast.pipelines.windowing.nodes import make_window_spec
from seqcast.windows import WindowGeometry

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC_WINDOWS = {"n_seq": 12, "n_steps": 14, "horizon": 24, "lookback": None,
                     "season_length": 24, "origins": 4, "validation_origins": 4}


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def timed_fit(model, training: dict, x, epochs: int, y=None, shuffle: bool = False) -> float:
    """Seconds for ``epochs`` epochs after one untimed warm-up epoch, in one ``fit``."""
    model.compile(optimizer=keras.optimizers.Adam(float(training["learning_rate"])),
                  loss=training["loss"])
    timer = EpochTimer()
    model.fit(x, y, batch_size=None if y is None else int(training["batch_size"]),
              epochs=1 + epochs, shuffle=shuffle, verbose=0, callbacks=[timer])
    return sum(timer.seconds[1:])


def seed_model(name: str, spec: dict, hp: dict) -> keras.Model:
    """The seed's network: same layers, Keras ``TimeDistributed``, no in-model scaling."""
    n_f, n_t, horizon = len(spec["features"]), len(spec["target_index"]), spec["horizon"]
    if name == "cnn_lstm":
        x = keras.Input((spec["n_seq"], spec["n_steps"], n_f))
        h = kl.TimeDistributed(kl.Conv1D(hp["filters"], hp["kernel_size"], activation="relu"))(x)
        h = kl.TimeDistributed(kl.MaxPooling1D(hp["pool_size"]))(h)
        h = kl.TimeDistributed(kl.Flatten())(h)
        h = kl.Dense(horizon * n_t)(kl.LSTM(hp["units"])(h))
        return keras.Model(x, kl.Reshape((horizon, n_t))(h))
    assert hp.get("layers", 1) == 1 and spec["lookback"] != horizon, "seed form: enc-dec"
    x = keras.Input((spec["lookback"], n_f))
    h = kl.RepeatVector(horizon)(kl.LSTM(hp["units"])(x))
    h = kl.LSTM(hp["units"], return_sequences=True)(h)
    return keras.Model(x, kl.TimeDistributed(kl.Dense(n_t))(h))


def seed_windows(series: pd.DataFrame, spec: dict, nested: bool):
    """Global z-score, then the ``split_sequence`` loop over the training windows."""
    z = (series[spec["features"]].to_numpy(np.float32) - np.float32(spec["mean"])) / np.float32(
        spec["std"])
    geometry, t = WindowGeometry.from_params(spec), spec["target_index"]
    lookback, horizon = geometry.lookback, geometry.horizon
    xs, ys = [], []
    for i in geometry.train_starts(len(z)):
        xs.append(z[i : i + lookback])
        ys.append(z[i + lookback : i + lookback + horizon, t])
    x, y = np.array(xs), np.array(ys)
    if nested:
        x = x.reshape(len(x), geometry.n_seq, geometry.n_steps, -1)
    return x, y


def synthetic(points: int, n_features: int) -> pd.DataFrame:
    """Hourly daily + weekly seasonality with noise; feature 0 is the target ``y``."""
    rng, t = np.random.default_rng(0), np.arange(points)
    cols = {f"x{k}": np.sin(2 * np.pi * (t + 5 * k) / 24) + 0.5 * np.sin(2 * np.pi * t / 168)
            + 0.3 * rng.standard_normal(points) for k in range(n_features)}
    frame = pd.DataFrame(cols).rename(columns={"x0": "y"})
    return frame.assign(time=pd.date_range("2020-01-01", periods=points, freq="h").astype(str))


def load_size(size: str, params: dict, points: int, n_features: int):
    if size == "default":
        data = {**params["data"], "path": str(ROOT / "data/01_raw/seattle-weather.csv")}
        windows, raw = params["windows"], pd.read_csv(data["path"], dtype={"date": str})
    else:
        data = {"path": "synthetic", "time_column": "time", "targets": ["y"], "features": None,
                "frequency": None, "duplicates": "error", "max_gap": 0}
        windows, raw = SYNTHETIC_WINDOWS, synthetic(points, n_features)
    series = clean_series(raw, data, windows)
    return series, make_window_spec(series, data, windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after 1 warm-up")
    parser.add_argument("--sizes", default="default,nseq12")
    parser.add_argument("--families", default="cnn_lstm,lstm")
    parser.add_argument("--points", type=int, default=20_000, help="synthetic series length")
    parser.add_argument("--features", type=int, default=2, help="synthetic series features")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())

    device, _ = training_device()
    gpu = device != "CPU"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} usable cores ({os.cpu_count()} CPUs), {platform.machine()}, "
          f"load avg {os.getloadavg()[0]:.2f}; TF {tf.__version__}, Keras {keras.__version__}")
    print(f"device: {device}; GPU used: {'yes' if gpu else 'no'}; cuDNN LSTM kernels: "
          + ("possible (default LSTM args); not verified here" if gpu else "n/a on CPU"))
    print(f"{args.epochs} timed epochs after 1 warm-up; train_model settings (seed, op "
          "determinism); seed's window loop time excluded from its samples/s\n")

    rows = []
    for size in args.sizes.split(","):
        series, spec = load_size(size, params, args.points, args.features)
        print(f"[{size}] {len(series)} points x {len(spec['features'])} features, n_seq "
              f"{spec['n_seq']}, n_steps {spec['n_steps']}, horizon {spec['horizon']}, "
              f"{spec['n_train_windows']} training windows", flush=True)
        for name in args.families.split(","):
            model, training = blocks[name]["model"], blocks[name]["training"]
            seed, bs, nested = int(training["seed"]), int(training["batch_size"]), \
                family(name).nested
            keras.utils.set_random_seed(seed)
            tf.config.experimental.enable_op_determinism()  # as train_model (deterministic)
            train, _ = _streams(series, spec, nested, bs, seed)
            trainable, _ = build_forecaster(name, spec, model, training["normalization"])
            n = len(train.starts)
            ours = n * args.epochs / timed_fit(trainable, training, train.dataset(), args.epochs)
            keras.utils.set_random_seed(seed)
            started = time.perf_counter()
            x, y = seed_windows(series, spec, nested)
            loop = time.perf_counter() - started
            assert len(x) == n and x.shape[1:] == train.input_shape(), (x.shape, n)
            theirs = n * args.epochs / timed_fit(
                seed_model(name, spec, model), training, x, args.epochs, y, shuffle=True)
            rows.append((size, name, ours, theirs, loop))
            print(f"  {name}: seqcast {ours:,.0f}/s, seed {theirs:,.0f}/s, seed window loop "
                  f"{loop * 1e3:.1f} ms", flush=True)

    print(f"\n{'size':<9}{'family':<10}{'seqcast/s':>11}{'seed/s':>10}{'ratio':>7}"
          f"{'loop ms':>9}  target")
    for size, name, ours, theirs, loop in rows:
        need = 2.0 if size == "nseq12" else 1.0
        verdict = "MET" if ours / theirs >= need else "MISSED"
        print(f"{size:<9}{name:<10}{ours:>11,.0f}{theirs:>10,.0f}{ours / theirs:>7.2f}"
              f"{loop * 1e3:>9.1f}  >= {need:.0f}x {verdict}")
    print(f"load avg after: {os.getloadavg()[0]:.2f} (above {cores} means shared CPU: noisy)")


if __name__ == "__main__":
    main()
