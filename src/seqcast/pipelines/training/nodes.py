"""Train one model family on streamed windows; backtest it at the test origins."""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from seqcast.models import DEFAULT_NORMALIZATION, build_forecaster, family
from seqcast.windows import WindowGeometry, WindowStream

logger = logging.getLogger(__name__)


def training_device() -> tuple[str, tf.distribute.Strategy]:
    """The visible accelerator(s), or the CPU: ``(description, strategy)``."""
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return f"{len(gpus)} GPUs (MirroredStrategy)", tf.distribute.MirroredStrategy()
    if gpus:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        return f"GPU:0 {name}", tf.distribute.get_strategy()
    return "CPU", tf.distribute.get_strategy()


def compile_for(trainable: keras.Model, training: dict, device: str) -> None:
    """Compile with Adam and the configured loss; XLA on the CPU.

    On the CPU, XLA fuses each LSTM's per-step loop (about 2x the samples/s of plain graph
    mode, ``benchmarks/training.py``) and is deterministic by itself, so op determinism,
    which would refuse XLA, is only needed without it. On a GPU Keras keeps the cuDNN LSTM
    kernels, which XLA would replace.
    """
    xla = bool(training.get("xla", True)) and device == "CPU"
    if training.get("deterministic", True) and not xla:
        tf.config.experimental.enable_op_determinism()
    trainable.compile(
        optimizer=keras.optimizers.Adam(float(training["learning_rate"])),
        loss=training.get("loss", "mse"),
        jit_compile=True if xla else "auto",
    )


def _streams(series: pd.DataFrame, spec: dict, nested: bool, batch_size: int, seed: int):
    geometry = WindowGeometry.from_params(spec)
    t = spec["target_index"]
    scale = (np.asarray(spec["mean"])[t], np.asarray(spec["std"])[t])
    values = series[spec["features"]].to_numpy(np.float32)

    def stream(starts, shuffle):
        return WindowStream(
            values, starts, geometry.lookback, geometry.horizon, t, batch_size=batch_size,
            shuffle=shuffle, seed=seed, n_seq=geometry.n_seq if nested else None,
            target_scale=scale,
        )

    n = len(values)
    return stream(geometry.train_starts(n), True), stream(geometry.validation_starts(n), False)


def train_model(
    series: pd.DataFrame, window_spec: dict, family_name: str, model: dict, training: dict
) -> tuple[keras.Model, dict]:
    """Fit one family with early stopping on the validation windows.

    Args:
        series: ``(N, n_features)``, the cleaned series.
        window_spec: split boundaries and training statistics (windowing pipeline).
        family_name: a key of ``seqcast.models.FAMILIES``.
        model: the family's hyperparameters (builder keyword arguments).
        training: normalization, loss, learning_rate, batch_size, epochs, patience, seed,
            mixed_precision, deterministic, xla, backup_dir.

    Returns:
        ``(forecaster, history)``: the self-contained model (raw history in, forecasts in the
        targets' units out, ``(batch, horizon, n_targets)``) and the per-epoch record with
        the device that trained it.
    """
    seed = int(training["seed"])
    keras.utils.set_random_seed(seed)
    device, strategy = training_device()
    mixed = bool(training.get("mixed_precision")) and device != "CPU"
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    train, validation = _streams(
        series, window_spec, family(family_name).nested, int(training["batch_size"]), seed
    )
    try:
        with strategy.scope():
            normalization = training.get("normalization", DEFAULT_NORMALIZATION)
            trainable, forecaster = build_forecaster(family_name, window_spec, model, normalization)
            compile_for(trainable, training, device)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=int(training["patience"]), restore_best_weights=True
        )
    ]
    if training.get("backup_dir"):
        # An interrupted run resumes from its last finished epoch; the backup is removed
        # when fit completes.
        callbacks.append(keras.callbacks.BackupAndRestore(training["backup_dir"]))
    logger.info(
        "training %s on %s: %d parameters, %d training / %d validation windows",
        family_name, device, trainable.count_params(), len(train.starts), len(validation.starts),
    )
    started = time.perf_counter()
    fit = trainable.fit(
        train.dataset(), validation_data=validation.dataset(), epochs=int(training["epochs"]),
        callbacks=callbacks, verbose=2, shuffle=False,  # the stream shuffles per epoch
    )
    seconds = time.perf_counter() - started
    losses = [float(v) for v in fit.history["loss"]]
    val_losses = [float(v) for v in fit.history["val_loss"]]
    history = {
        "family": family_name,
        "loss": losses,
        "val_loss": val_losses,
        "best_epoch": int(np.argmin(val_losses)) + 1,
        "epochs_run": len(losses),
        "device": device,
        "mixed_precision": mixed,
        "parameters": int(trainable.count_params()),
        "seconds": round(seconds, 3),
        "windows_per_second": round(len(train.starts) * len(losses) / seconds, 1),
    }
    logger.info(
        "%s: best val_loss %.4f at epoch %d of %d, %.1fs on %s",
        family_name, min(val_losses), history["best_epoch"], len(losses), seconds, device,
    )
    return forecaster, history


def backtest(series: pd.DataFrame, window_spec: dict, model: keras.Model, label: str):
    """Forecast every test origin with the trained model (no refit).

    Returns a long table: ``timestamp, origin, model, target, step, forecast, actual``
    (``origins × horizon × n_targets`` rows).
    """
    geometry = WindowGeometry.from_params(window_spec)
    values = series[window_spec["features"]].to_numpy(np.float32)
    starts = geometry.test_starts(len(values))
    nested = len(model.input_shape) == 4
    stream = WindowStream(
        values, starts, geometry.lookback, geometry.horizon, window_spec["target_index"],
        batch_size=len(starts), n_seq=geometry.n_seq if nested else None,
    )
    x, actual = stream.batch(starts)
    forecast = np.asarray(model.predict(x, verbose=0))
    return forecast_table(series.index, starts + geometry.lookback - 1, window_spec["targets"],
                          forecast, actual, label)


def forecast_table(index: pd.DatetimeIndex, origins: np.ndarray, targets: list[str],
                   forecast: np.ndarray, actual: np.ndarray, label: str) -> pd.DataFrame:
    """Long table from ``(origins, horizon, n_targets)`` arrays of forecasts and actuals."""
    n_origins, horizon, n_targets = forecast.shape
    o, h, t = np.meshgrid(np.arange(n_origins), np.arange(horizon), np.arange(n_targets),
                          indexing="ij")
    return pd.DataFrame({
        "timestamp": index[origins[o.ravel()] + h.ravel() + 1],
        "origin": index[origins[o.ravel()]],
        "model": label,
        "target": np.asarray(targets)[t.ravel()],
        "step": h.ravel() + 1,
        "forecast": forecast.reshape(-1).astype(np.float64),
        "actual": actual.reshape(-1).astype(np.float64),
    })
