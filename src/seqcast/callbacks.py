"""Keras callbacks of :func:`seqcast.fitting.fit_family`: stop on a non-finite loss, keep
the losses, the early-stopping state and a backup after every epoch, and log one line per epoch."""

from __future__ import annotations

import logging
import math
import socket
import time

import keras
import numpy as np

from seqcast.errors import SeqcastError
from seqcast.resume import Backup

logger = logging.getLogger(__name__)


class NonFiniteError(SeqcastError, ArithmeticError):
    """Training data, statistics, losses or weights that are NaN or infinite."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Raise at the first batch whose loss is NaN or infinite (Keras' TerminateOnNaN only stops)."""

    def __init__(self, family_name: str, learning_rate: float):
        super().__init__()
        self.family_name, self.learning_rate, self.epoch = family_name, learning_rate, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.check("training loss", (logs or {}).get("loss", 0.0), f", batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self.check("validation loss", (logs or {}).get("val_loss", 0.0), "")

    def check(self, what: str, value, where: str) -> None:
        if not math.isfinite(float(value)):
            raise NonFiniteError(
                f"{self.family_name}: the {what} became {float(value)} at epoch "
                f"{self.epoch + 1}{where}; no model was kept. Check the series for extreme "
                "values and the scaling statistics in window_spec, or lower "
                f"training.learning_rate (now {self.learning_rate})"
            )


class Progress(keras.callbacks.Callback):
    """Loss history, early stopping with best weights, and a backup after every epoch.

    Owns all the state a resumed run needs, so that a run killed at any epoch and resumed
    ends as the uninterrupted run would: same history, best epoch and best weights.
    """

    def __init__(self, patience: int, backup: Backup | None, key: str, saved: dict | None):
        super().__init__()
        self.patience, self.backup, self.key = patience, backup, key
        meta = saved["meta"] if saved else {}
        self.history = meta.get("history", {"loss": [], "val_loss": []})
        self.best = meta.get("best", math.inf)
        self.best_epoch, self.wait = meta.get("best_epoch", -1), meta.get("wait", 0)
        self.stopped = meta.get("stopped", False)
        self.best_weights = (saved["best"] or None) if saved else None

    def on_epoch_end(self, epoch, logs=None):
        for key in ("loss", "val_loss"):
            self.history[key].append(float(logs[key]))
        current = self.history["val_loss"][-1]
        if current < self.best:
            self.best, self.best_epoch, self.wait = current, epoch, 0
            self.best_weights = self.model.get_weights()
        else:  # as keras.callbacks.EarlyStopping(restore_best_weights=True)
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped = self.model.stop_training = True
        if self.backup is not None:
            self.save(epoch + 1)

    def save(self, epochs_done: int) -> None:
        meta = {"fingerprint": self.key, "epoch": epochs_done, "history": self.history,
                "best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped": self.stopped, "host": socket.gethostname()}
        optimizer = [np.asarray(v) for v in self.model.optimizer.variables]
        self.backup.save(meta, model=self.model.get_weights(), optimizer=optimizer,
                         best=self.best_weights or [])

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def duration(seconds: float) -> str:
    """``4.2s``, ``3m05s``, ``1h02m``: short enough for a log line."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


class EpochLog(keras.callbacks.Callback):
    """One log line per epoch: losses, the family's elapsed time and its ETA.

    The ETA is the epochs left times the mean epoch time, an upper bound ("at most") since
    early stopping may end the family sooner. The first epoch of a process carries the one-off
    tracing (and XLA compile), so the mean leaves it out. Put it after :class:`Progress`,
    whose early stop it reports.
    """

    def __init__(self, family_name: str, epochs: int):
        super().__init__()
        self.family_name, self.epochs = family_name, epochs
        self.started = self.epoch_started = 0.0
        self.times: list[float] = []

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.times.append(now - self.epoch_started)
        logs = logs or {}
        left = self.epochs - (epoch + 1)
        if self.model.stop_training:
            outlook = "stopping early: val_loss has not improved"
        elif left == 0:
            outlook = "last epoch"
        elif len(self.times) == 1:
            outlook = "ETA from the next epoch on (this one includes the set-up)"
        else:
            timed = self.times[1:]
            outlook = f"ETA at most {duration(left * sum(timed) / len(timed))}"
        logger.info("%s epoch %d/%d: loss %.4f, val_loss %.4f, elapsed %s, %s",
                    self.family_name, epoch + 1, self.epochs, logs.get("loss", math.nan),
                    logs.get("val_loss", math.nan), duration(now - self.started), outlook)
