"""Window geometry and streamed windows, shared by every pipeline.

A window starting at index ``s`` has inputs ``s … s+lookback-1`` and targets
``s+lookback … s+lookback+horizon-1``; its origin is ``s+lookback-1``. Windows are never
materialised as an ``N × lookback`` array: each batch is one gather from a zero-copy strided
view of the flat series, so memory grows with the series, not with series × lookback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqcast.errors import SeqcastError


class WindowConfigError(SeqcastError, ValueError):
    """A window parameter is missing, inconsistent or does not fit the series."""


@dataclass(frozen=True)
class WindowGeometry:
    """The window settings (``params:windows``), validated."""

    n_seq: int
    n_steps: int
    horizon: int
    season_length: int
    origins: int
    validation_origins: int

    @property
    def lookback(self) -> int:
        return self.n_seq * self.n_steps

    @classmethod
    def from_params(cls, windows: dict) -> WindowGeometry:
        """Build from ``params:windows``; ``lookback`` is optional but must agree."""
        names = ("n_seq", "n_steps", "horizon", "season_length", "origins", "validation_origins")
        missing = [n for n in names if windows.get(n) is None]
        if missing:
            raise WindowConfigError(
                f"params:windows is missing {missing}; see conf/base/parameters.yml"
            )
        values = {}
        for name in names:
            value = windows[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WindowConfigError(
                    f"params:windows.{name} must be a positive integer, got {value!r}"
                )
            values[name] = value
        geometry = cls(**values)
        lookback = windows.get("lookback")
        if lookback is not None and lookback != geometry.lookback:
            raise WindowConfigError(
                f"params:windows.lookback={lookback} disagrees with n_seq * n_steps = "
                f"{geometry.n_seq} * {geometry.n_steps} = {geometry.lookback}; the lookback is cut "
                "into n_seq subsequences of n_steps steps, so set lookback to null or change "
                "n_seq/n_steps so that their product equals it"
            )
        return geometry

    def to_params(self) -> dict:
        return {**asdict(self), "lookback": self.lookback}

    @property
    def test_points(self) -> int:
        return self.origins * self.horizon

    @property
    def validation_points(self) -> int:
        return self.validation_origins * self.horizon

    def required_length(self) -> int:
        """Points needed for one training window, the validation and the test period."""
        return max(self.lookback, self.season_length + 1) + self.horizon + (
            self.validation_points + self.test_points
        )

    def check_length(self, n_points: int, where: str) -> None:
        """Refuse a series too short for the geometry, naming every term of the sum and the
        largest ``validation_origins`` (else ``origins``) that would fit."""
        needed = self.required_length()
        if n_points >= needed:
            return
        history = max(self.lookback, self.season_length + 1)
        spare = n_points - history - self.horizon  # what validation and test may use
        fits_validation = (spare - self.test_points) // self.horizon
        if fits_validation >= 1:
            fix = f"set windows.validation_origins: {fits_validation} (the largest that fits)"
        elif spare // self.horizon >= 2:
            fix = (f"set windows.validation_origins: 1 and origins: {spare // self.horizon - 1} "
                   "(the largest that fit)")
        else:
            fix = "lower n_seq, n_steps, horizon or season_length"
        raise WindowConfigError(
            f"{where}: the series has {n_points} points after cleaning, but {needed} are "
            f"needed: max(lookback {self.lookback} = n_seq {self.n_seq} * n_steps "
            f"{self.n_steps}, season_length {self.season_length} + 1) = {history} history "
            f"+ horizon {self.horizon} + validation_origins {self.validation_origins} * "
            f"horizon = {self.validation_points} + origins {self.origins} * horizon = "
            f"{self.test_points}. Supply a longer series or {fix}"
        )

    def boundaries(self, n_points: int) -> tuple[int, int]:
        """``(validation_start, test_start)``: first index of each period."""
        test_start = n_points - self.test_points
        return test_start - self.validation_points, test_start

    def train_starts(self, n_points: int) -> range:
        """Starts of windows whose targets all lie before the validation period."""
        validation_start, _ = self.boundaries(n_points)
        return range(0, validation_start - self.lookback - self.horizon + 1)

    def validation_starts(self, n_points: int) -> range:
        """Starts of windows whose targets all lie inside the validation period."""
        validation_start, test_start = self.boundaries(n_points)
        first = max(validation_start - self.lookback, 0)
        return range(first, test_start - self.lookback - self.horizon + 1)

    def origin_of(self, starts):
        """The origin (last input index) of the windows starting at ``starts``."""
        return starts + self.lookback - 1

    def test_starts(self, n_points: int) -> np.ndarray:
        """One window per test block k = origins … 1 (see the README), oldest first."""
        blocks = np.arange(self.origins, 0, -1)
        return (n_points - blocks * self.horizon - self.lookback).astype(np.int64)


def window_view(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-copy ``(n_windows, width * n_features)`` view of a C-contiguous ``(N, F)`` array."""
    values = np.ascontiguousarray(values)
    n_features = values.shape[1]
    return sliding_window_view(values.reshape(-1), width * n_features)[::n_features]


class WindowStream:
    """Batches of ``(inputs, targets)`` cut on the fly from a flat series.

    ``values`` is ``(N, n_features)`` float32; ``starts`` (a ``range``, or an array of
    indices) picks the windows. Inputs come as ``(batch, lookback, n_features)``, or
    ``(batch, n_seq, n_steps, n_features)`` when
    ``n_seq`` is given (a free reshape); targets as ``(batch, horizon, n_targets)`` from the
    columns ``target_index``, optionally standardised with ``target_scale=(mean, std)``.
    With ``shuffle`` every pass reshuffles one int32 order in place from ``seed`` and the
    pass number: the only per-window memory is 4 bytes, whatever the lookback. Training
    reads the same windows through :meth:`dataset`, TensorFlow's own feed.
    """

    def __init__(
        self,
        values: np.ndarray,
        starts: range | np.ndarray,
        lookback: int,
        horizon: int,
        target_index: list[int],
        batch_size: int = 256,
        shuffle: bool = False,
        seed: int = 0,
        n_seq: int | None = None,
        target_scale: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.starts = starts if isinstance(starts, range) else np.asarray(starts, np.int64)
        if len(self.starts):
            ends = (self.starts[0], self.starts[-1]) if isinstance(starts, range) else (
                self.starts.min(), self.starts.max())  # a range's ends without iterating it
            lo, hi = min(ends), max(ends)
            if lo < 0 or hi + lookback + horizon > len(self.values):
                raise WindowConfigError("window starts fall outside the series")
        self.lookback, self.horizon = lookback, horizon
        self.target_index = list(target_index)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.n_seq = n_seq
        self.target_scale = (
            None if target_scale is None else tuple(np.asarray(a, np.float32) for a in target_scale)
        )
        self._view = window_view(self.values, lookback + horizon)
        self._passes = 0
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return (len(self.starts) + self.batch_size - 1) // self.batch_size

    @property
    def n_features(self) -> int:
        return self.values.shape[1]

    def input_shape(self) -> tuple[int, ...]:
        if self.n_seq:
            return (self.n_seq, self.lookback // self.n_seq, self.n_features)
        return (self.lookback, self.n_features)

    def _positions(self) -> np.ndarray | None:
        """This pass's order of positions in ``starts`` (None: in order)."""
        if not self.shuffle:
            return None
        if self._order is None:
            n = len(self.starts)
            self._order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        np.random.default_rng([self.seed, self._passes]).shuffle(self._order)
        self._passes += 1
        return self._order

    def _starts_at(self, positions: np.ndarray) -> np.ndarray:
        if isinstance(self.starts, range):
            return positions + self.starts.start
        return self.starts[positions]

    def batch(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One gather: ``(inputs, targets)`` for the windows at ``starts``."""
        w = self._view[starts].reshape(len(starts), self.lookback + self.horizon, -1)
        x = w[:, : self.lookback]
        y = w[:, self.lookback :, self.target_index]
        if self.target_scale is not None:
            y = (y - self.target_scale[0]) / self.target_scale[1]
        if self.n_seq:
            x = x.reshape(len(starts), *self.input_shape())
        return x, y

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order, n = self._positions(), len(self.starts)
        for i in range(0, n, self.batch_size):
            if order is None:
                positions = np.arange(i, min(i + self.batch_size, n))
            else:
                positions = order[i : i + self.batch_size]
            yield self.batch(self._starts_at(positions))

    def dataset(self, first_epoch: int = 0, epochs: int = 1, prefetch: int | None = None):
        """Epochs ``first_epoch … epochs-1`` as one ``tf.data.Dataset`` built in TensorFlow.

        The series is one tensor; each epoch's order of window positions is a stateless
        shuffle keyed by ``(seed, epoch)``, so a resumed run sees the epoch an uninterrupted
        run saw; each batch of starts becomes its windows by one gather inside the graph.
        Nothing runs in Python per batch, so an abandoned iterator (Ctrl-C, early stopping)
        holds no Python thread and cannot block interpreter shutdown. The windows equal
        :meth:`batch`'s; the order differs from iterating the stream in numpy.
        """
        import tensorflow as tf

        n, batch_size = len(self.starts), self.batch_size
        index_dtype = tf.int32 if len(self.values) < 2**31 else tf.int64
        values = tf.constant(self.values)
        if isinstance(self.starts, range):
            base, explicit = self.starts.start, None
        else:
            base, explicit = 0, tf.constant(self.starts.astype(index_dtype.as_numpy_dtype))
        offsets = tf.range(self.lookback + self.horizon, dtype=index_dtype)
        target_index = tf.constant(self.target_index, tf.int32)
        scale = self.target_scale
        layout = (-1, *self.input_shape())

        # XLA turns the per-element gather into slice copies: ~3x the plain op (benchmark).
        @tf.function(jit_compile=True)
        def gather(positions):
            starts = positions + base if explicit is None else tf.gather(explicit, positions)
            w = tf.gather(values, starts[:, None] + offsets[None, :])  # (batch, width, F)
            x = tf.reshape(w[:, : self.lookback], layout)
            return x, tf.gather(w[:, self.lookback :], target_index, axis=2)

        def windows(positions):
            x, y = gather(positions)
            if scale is not None:  # outside XLA, which would divide by a rounded reciprocal
                y = (y - scale[0]) / scale[1]
            return x, y

        def one_epoch(epoch):
            positions = tf.range(n, dtype=index_dtype)
            if self.shuffle:
                seed = tf.stack([tf.constant(self.seed, tf.int64), epoch])
                positions = tf.random.experimental.stateless_shuffle(positions, seed=seed)
            # One element per batch: slicing positions one by one costs ~1 µs per window.
            full = n // batch_size * batch_size
            batches = tf.data.Dataset.from_tensor_slices(
                tf.reshape(positions[:full], (-1, batch_size)))
            if full == n:
                return batches
            return batches.concatenate(tf.data.Dataset.from_tensors(positions[full:]))

        dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
        dataset = dataset.map(windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        # A known length lets Keras count steps instead of running the data dry.
        dataset = dataset.apply(
            tf.data.experimental.assert_cardinality(len(self) * max(epochs - first_epoch, 0))
        )
        return dataset.prefetch(tf.data.AUTOTUNE if prefetch is None else prefetch)
