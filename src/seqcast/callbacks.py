"""Keras callbacks of :func:`seqcast.fitting.fit_family`: stop on a non-finite loss, and keep
the losses, the early-stopping state and a backup after every epoch."""

from __future__ import annotations

import math
import socket

import keras
import numpy as np

from seqcast.errors import SeqcastError
from seqcast.resume import Backup


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
