"""Fit one model family: device, compile, checks, early stopping, resume after a kill.

The training node calls :func:`fit_family`; everything here is plain Python and Keras. The
callbacks that stop on a non-finite loss and keep the resumable state: :mod:`seqcast.callbacks`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import partial

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # no public switch-off

from seqcast.calibration import calibrate
from seqcast.callbacks import EpochLog, NonFiniteError, Progress, StopOnNonFinite
from seqcast.models import (
    DEFAULT_NORMALIZATION,
    DEFAULT_TRANSFORM,
    PinballLoss,
    build_forecaster,
    family,
    series_scales,
)
from seqcast.resume import Backup, fingerprint
from seqcast.spec import WindowSpec
from seqcast.stream import WindowStream
from seqcast.training_checks import TrainingConfigError, check_scaling, check_training
from seqcast.workers import build_before_fit, feed, local_copy, multi_worker, worker_device

logger = logging.getLogger(__name__)


def training_device(across: bool = False) -> tuple[str, tf.distribute.Strategy]:
    """The visible accelerator(s), or the CPU: ``(description, strategy)``; ``across``: the
    workers of ``TF_CONFIG`` (:mod:`seqcast.workers`)."""
    gpus = tf.config.list_physical_devices("GPU")
    if across:
        return worker_device(len(gpus))
    if len(gpus) > 1:
        return f"{len(gpus)} GPUs (MirroredStrategy)", tf.distribute.MirroredStrategy()
    if gpus:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        return f"GPU:0 {name}", tf.distribute.get_strategy()
    return "CPU", tf.distribute.get_strategy()


# Training steps from which XLA's one-off compile (4-14 s per family on 2 cores) pays for its
# faster steps on the CPU; below it plain graph mode finishes first (README, "Models").
XLA_MIN_STEPS = 2000


def use_xla(xla: bool | str, device: str, steps: int) -> bool:
    """``training.xla``: true, false, or ``auto`` — XLA on the CPU for runs of at least
    ``XLA_MIN_STEPS`` training steps (batches per epoch × epochs)."""
    if device != "CPU":
        return False  # a GPU keeps Keras' default: the fused cuDNN LSTM kernels
    if xla == "auto":
        return steps >= XLA_MIN_STEPS
    return bool(xla)


def compile_for(trainable: keras.Model, training: dict, device: str) -> None:
    """Compile with Adam and the configured loss; XLA on the CPU when ``training.xla`` is
    true (``fit_family`` resolves ``auto`` first).

    On the CPU, XLA fuses each LSTM's per-step loop (about 2x the samples/s of plain graph
    mode, ``benchmarks/training.py``) and is deterministic by itself, so op determinism,
    which would refuse XLA, is only needed without it. On a GPU Keras keeps the cuDNN LSTM
    kernels, which XLA would replace.
    """
    xla = training.get("xla", True) is True and device == "CPU"
    if training.get("deterministic", True) and not xla:
        tf.config.experimental.enable_op_determinism()
    elif xla:
        # Op determinism is process-wide: an earlier family trained without XLA would
        # otherwise make Keras refuse XLA for every later one.
        tf_config.disable_op_determinism()
    quantiles = training.get("quantiles")
    trainable.compile(
        optimizer=keras.optimizers.Adam(float(training["learning_rate"])),
        loss=PinballLoss(quantiles) if quantiles else training.get("loss", "mse"),
        jit_compile=True if xla else "auto",
    )


def streams(series: pd.DataFrame, spec: WindowSpec, nested: bool, batch_size: int, seed: int):
    """``(train, validation)`` window streams over the whole panel; training shuffles per
    epoch from ``seed``, so its batches mix series."""
    panel = spec.panel(series)
    values, future = panel.values, spec.future_values(panel)

    def stream(windows, shuffle):
        return WindowStream(
            values, windows, spec.lookback, spec.horizon, spec.target_index,
            batch_size=batch_size, shuffle=shuffle, seed=seed,
            n_seq=spec.geometry.n_seq if nested else None, target_scale=spec.target_scale(),
            future=future,
        )

    return stream(spec.train_windows(), True), stream(spec.validation_windows(), False)


def restore(trainable: keras.Model, saved: dict) -> None:
    """Put the saved model and optimizer variables back (the optimizer is built)."""
    trainable.set_weights(saved["model"])
    variables = trainable.optimizer.variables
    if len(variables) != len(saved["optimizer"]):
        raise TrainingConfigError("the backup's optimizer state does not fit the model")
    for variable, value in zip(variables, saved["optimizer"], strict=True):
        variable.assign(value)


def resume_point(backup: Backup | None, epochs: int, family_name: str) -> dict | None:
    """The saved state of this configuration, if any, checked against ``epochs``."""
    if backup is None:
        return None
    backup.discard_others()
    saved = backup.load()
    if saved is None:
        return None
    done = saved["meta"]["epoch"]
    if epochs < done:
        raise TrainingConfigError(
            f"{family_name}: training.epochs={epochs}, but an interrupted run with the same data "
            f"and parameters already finished {done} epochs ({backup.path}); set "
            f"training.epochs to at least {done} to resume it, or delete that file to start over"
        )
    logger.info("%s: resuming after epoch %d of an interrupted run (%s)", family_name, done,
                backup.path)
    return saved


def check_model(forecaster: keras.Model, sample, family_name: str) -> None:
    """Refuse a model with a non-finite weight or forecast: it must never be saved."""
    bad = [w.path for w in forecaster.weights if not np.isfinite(np.asarray(w)).all()]
    if not bad and np.isfinite(np.asarray(forecaster(sample, training=False))).all():
        return
    raise NonFiniteError(
        f"{family_name}: the trained model has non-finite "
        f"{'weights ' + str(bad[:3]) if bad else 'forecasts'}; no model was kept. Check the "
        "series for extreme values or lower training.learning_rate"
    )


def build_compiled(build: Callable[[], tuple[keras.Model, keras.Model]], training: dict,
                   placement: tuple[str, tf.distribute.Strategy, bool]):
    """``(trainable, forecaster)`` from ``build()``, compiled, the optimizer built so a backup
    can fill it.

    ``placement``: the device, its distribution strategy, and whether to train in mixed
    precision."""
    device, strategy, mixed = placement
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        with strategy.scope():
            trainable, forecaster = build()
            compile_for(trainable, training, device)
            trainable.optimizer.build(trainable.trainable_variables)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return trainable, forecaster


def fit_family(  # noqa: PLR0913  (callbacks: keyword-only, for tuning's pruner)
        series: pd.DataFrame, spec: WindowSpec | dict, family_name: str, model: dict,
        training: dict, *, callbacks: tuple = ()) -> tuple[keras.Model, dict]:
    """Fit one family with early stopping on the validation windows.

    Args:
        series: ``(N, n_features)``, the cleaned series.
        spec: ``window_spec`` (split boundaries and training statistics).
        family_name: a key of ``seqcast.models.FAMILIES``.
        model: the family's hyperparameters (builder keyword arguments).
        training: normalization, transform, loss, quantiles, calibrate, learning_rate,
            batch_size, epochs, patience, seed, mixed_precision, deterministic, xla,
            backup_dir, distribution.
        callbacks: more Keras callbacks, called after the others each epoch (tuning's pruning).

    Returns:
        ``(forecaster, training_record)``: the self-contained model (raw history in,
        forecasts in the targets' units out, ``(batch, horizon, n_targets)``, or ``(…,
        n_quantiles)`` with ``quantiles``, calibrated on the validation windows) and the
        per-epoch losses with the device that trained it. A model with non-finite weights or
        forecasts is refused.
    """
    check_training(training, family_name)
    spec = WindowSpec.from_dict(spec)
    seed, epochs = int(training["seed"]), int(training["epochs"])
    keras.utils.set_random_seed(seed)
    across = multi_worker(training.get("distribution", "auto"))
    device, strategy = training_device(across)
    mixed = bool(training.get("mixed_precision")) and "GPU" in device
    batch_size = int(training["batch_size"])
    if across:  # batch_size stays the global batch: each replica reads its part
        batch_size = math.ceil(batch_size / strategy.num_replicas_in_sync)
    train, validation = streams(series, spec, family(family_name).nested, batch_size, seed)
    check_scaling(train.values, spec, family_name)
    xla = use_xla(training.get("xla", "auto"), device, len(train) * epochs)
    scales = series_scales(train.values, spec, training.get("transform", DEFAULT_TRANSFORM))
    if scales.any_log:
        logger.info("%s: targets in logs for %d of %d series (training.transform=%s)",
                    family_name, int(scales.log.any(axis=1).sum()), spec.n_series,
                    training.get("transform"))
    normalization = training.get("normalization", DEFAULT_NORMALIZATION)
    build = partial(build_forecaster, family_name, spec, model, normalization, scales,
                    quantiles=training.get("quantiles") or ())
    trainable, forecaster = build_compiled(build, {**training, "xla": xla},
                                           (device, strategy, mixed))
    key = fingerprint(train.values, spec, family_name, model, training)
    if across and training.get("backup_dir"):
        logger.info("%s: no resume point across workers (training.backup_dir is ignored)",
                    family_name)
    backup = Backup(training["backup_dir"], key) if training.get("backup_dir") and not across \
        else None
    saved = resume_point(backup, epochs, family_name)
    if saved:
        restore(trainable, saved)
    progress = Progress(int(training["patience"]), backup, key, saved)
    first = saved["meta"]["epoch"] if saved else 0
    logger.info(
        "training %s on %s: %d parameters, %d training / %d validation windows",
        family_name, device, trainable.count_params(), train.n_windows, validation.n_windows,
    )
    if xla and trainable.jit_compile is True and first < epochs:  # Keras may have refused it
        logger.info("compiling %s with XLA, the first epoch takes longer", family_name)
    sample = validation.batch(*validation.windows.locate(np.arange(1)))
    if across:
        build_before_fit(trainable, strategy, sample)
    started = time.perf_counter()
    if first < epochs and not progress.stopped:
        trainable.fit(
            **feed(train, validation, first, epochs, strategy if across else None),
            epochs=epochs, initial_epoch=first,
            verbose=0,  # EpochLog writes one line per epoch through logging instead
            shuffle=False,  # the feed shuffles per (seed, epoch)
            callbacks=[StopOnNonFinite(family_name, float(training["learning_rate"])), progress,
                       EpochLog(family_name, epochs), *callbacks],
        )
    seconds = time.perf_counter() - started
    progress.restore_best()
    if across:
        forecaster = local_copy(build, forecaster, family_name)
    check_model(forecaster, sample[0], family_name)
    if backup is not None:
        backup.remove()  # complete: nothing to resume
    record = summary(progress, trainable, (family_name, device, mixed), seconds,
                     train.n_windows * (len(progress.history["loss"]) - first))
    return forecaster, {**record, **calibrate(forecaster, series, spec,
                                              training.get("calibrate", True))}


def summary(progress: Progress, trainable: keras.Model, run: tuple[str, str, bool],
            seconds: float, windows: int) -> dict:
    """The training record: ``run`` is the family, the device and mixed precision."""
    family_name, device, mixed = run
    losses, val_losses = progress.history["loss"], progress.history["val_loss"]
    record = {
        "family": family_name,
        "loss": losses,
        "val_loss": val_losses,
        "best_epoch": progress.best_epoch + 1,
        "epochs_run": len(losses),
        "device": device,
        "mixed_precision": mixed,
        "parameters": int(trainable.count_params()),
        "seconds": round(seconds, 3),
        "windows_per_second": round(windows / seconds, 1) if seconds > 0 else 0.0,
    }
    logger.info(
        "%s: best val_loss %.4f at epoch %d of %d, %.1fs on %s",
        family_name, progress.best, record["best_epoch"], len(losses), seconds, device,
    )
    return record
