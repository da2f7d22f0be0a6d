"""Streamed windows over a panel stored once: one flat ``(N, n_features)`` array.

A window is a (series, start) pair: ``start`` indexes the flat array and the window's rows
``start … start+lookback+horizon-1`` all belong to that series. :class:`Windows` lists the
windows of a split as runs of consecutive starts, one run per series, so the index costs
three integers per series, not one per window; each batch is one gather from a zero-copy
strided view of the flat array.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from seqcast.windows import WindowConfigError, window_view


@dataclass(frozen=True)
class Windows:
    """Runs of window starts: series ``codes[i]`` has the windows starting at ``first[i]``,
    ``first[i] + 1`` … (``counts[i]`` of them). Position ``p`` counts windows run by run."""

    first: np.ndarray
    counts: np.ndarray
    codes: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "_ends", np.cumsum(self.counts, dtype=np.int64))

    @classmethod
    def runs(cls, first, counts, codes=None) -> Windows:
        """Runs with at least one window (empty runs are left out)."""
        first, counts = np.asarray(first, np.int64), np.asarray(counts, np.int64)
        codes = np.arange(len(first)) if codes is None else np.asarray(codes, np.int64)
        keep = counts > 0
        return cls(first[keep], counts[keep], codes[keep])

    @classmethod
    def of(cls, starts: range | np.ndarray, codes=None) -> Windows:
        """One run for a ``range`` of one series (code 0), one window a run for an array."""
        if isinstance(starts, range):
            if starts.step != 1:
                raise WindowConfigError("a range of window starts must have step 1")
            return cls.runs([starts.start], [len(starts)], [0 if codes is None else codes])
        starts = np.asarray(starts, np.int64)
        codes = np.zeros(len(starts), np.int64) if codes is None else codes
        return cls.runs(starts, np.ones(len(starts), np.int64), codes)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, codes)`` of the windows at ``positions``."""
        run = np.searchsorted(self._ends, positions, side="right")
        offset = positions - (self._ends[run] - self.counts[run])
        return self.first[run] + offset, self.codes[run]

    def span(self) -> tuple[int, int]:
        """Lowest and highest start."""
        return int(self.first.min()), int((self.first + self.counts - 1).max())


class WindowStream:
    """Batches of ``((inputs, series codes), targets)`` cut on the fly from a flat panel.

    ``values`` is ``(N, n_features)`` float32; ``windows`` (:class:`Windows`, a ``range`` or
    an array of starts of one series) picks the windows. Inputs come as ``(batch, lookback,
    n_features)``, or ``(batch, n_seq, n_steps, n_features)`` when ``n_seq`` is given (a free
    reshape); targets as ``(batch, horizon, n_targets)`` from the columns ``target_index``,
    optionally standardised per series with ``target_scale=(mean, std)``, each
    ``(n_series, n_targets)``. With ``future`` (flat ``(N, n_future)`` known-future columns,
    :mod:`seqcast.covariates`) the inputs gain a third, the window's rows of those columns for
    the lookback and the horizon, ``(batch, lookback + horizon, n_future)``: the same rows of
    the same series as the window. With ``shuffle`` every pass reshuffles one int32 order of
    positions from ``seed`` and the pass number, so batches mix series; the only per-window
    memory is those 4 bytes. Training reads the same windows through :meth:`dataset`.
    """

    def __init__(
        self,
        values: np.ndarray,
        windows: Windows | range | np.ndarray,
        lookback: int,
        horizon: int,
        target_index: list[int],
        batch_size: int = 256,
        shuffle: bool = False,
        seed: int = 0,
        n_seq: int | None = None,
        target_scale: tuple[np.ndarray, np.ndarray] | None = None,
        future: np.ndarray | None = None,
    ):
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.windows = windows if isinstance(windows, Windows) else Windows.of(windows)
        if len(self.windows):
            lo, hi = self.windows.span()
            if lo < 0 or hi + lookback + horizon > len(self.values):
                raise WindowConfigError("window starts fall outside the series")
        self.lookback, self.horizon = lookback, horizon
        self.target_index = list(target_index)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.n_seq = n_seq
        self.target_scale = None if target_scale is None else tuple(
            np.atleast_2d(np.asarray(a, np.float32)) for a in target_scale)
        self._view = window_view(self.values, lookback + horizon)
        self.future = None if future is None else np.ascontiguousarray(future, np.float32)
        if self.future is not None and len(self.future) != len(self.values):
            raise WindowConfigError("the known-future columns must have one row per panel row")
        self._future_view = (None if self.future is None
                             else window_view(self.future, lookback + horizon))
        self._passes = 0
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return (len(self.windows) + self.batch_size - 1) // self.batch_size

    @property
    def n_windows(self) -> int:
        return len(self.windows)

    @property
    def n_features(self) -> int:
        return self.values.shape[1]

    def input_shape(self) -> tuple[int, ...]:
        if self.n_seq:
            return (self.n_seq, self.lookback // self.n_seq, self.n_features)
        return (self.lookback, self.n_features)

    def _positions(self) -> np.ndarray | None:
        """This pass's order of window positions (None: in order)."""
        if not self.shuffle:
            return None
        if self._order is None:
            n = len(self.windows)
            self._order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        np.random.default_rng([self.seed, self._passes]).shuffle(self._order)
        self._passes += 1
        return self._order

    def batch(self, starts: np.ndarray, codes: np.ndarray | None = None):
        """One gather: ``((inputs, codes), targets)`` for the windows at flat ``starts`` of the
        series ``codes`` (default: series 0)."""
        starts = np.asarray(starts, np.int64)
        codes = np.zeros(len(starts), np.int64) if codes is None else np.asarray(codes)
        w = self._view[starts].reshape(len(starts), self.lookback + self.horizon, -1)
        x = w[:, : self.lookback]
        y = w[:, self.lookback :, self.target_index]
        if self.target_scale is not None:
            mean, std = self.target_scale
            y = (y - mean[codes][:, None, :]) / std[codes][:, None, :]
        if self.n_seq:
            x = x.reshape(len(starts), *self.input_shape())
        if self.future is None:
            return (x, codes.astype(np.int32)), y
        f = self._future_view[starts].reshape(len(starts), self.lookback + self.horizon, -1)
        return (x, codes.astype(np.int32), f), y

    def __iter__(self) -> Iterator:
        order, n = self._positions(), len(self.windows)
        for i in range(0, n, self.batch_size):
            if order is None:
                positions = np.arange(i, min(i + self.batch_size, n))
            else:
                positions = order[i : i + self.batch_size]
            yield self.batch(*self.windows.locate(positions))

    def dataset(self, first_epoch: int = 0, epochs: int = 1, prefetch: int | None = None,
                shard: tuple[int, int, int] | None = None):
        """Epochs ``first_epoch … epochs-1`` as one ``tf.data.Dataset`` built in TensorFlow.

        The panel is one tensor; each epoch's order of window positions is a stateless
        shuffle keyed by ``(seed, epoch)``, so a resumed run sees the epoch an uninterrupted
        run saw; each batch of positions becomes its windows by one gather inside the graph.
        Nothing runs in Python per batch, so an abandoned iterator (Ctrl-C, early stopping)
        holds no Python thread and cannot block interpreter shutdown. The windows equal
        :meth:`batch`'s; the order differs from iterating the stream in numpy.

        ``shard=(index, count, per_step)``: worker ``index`` of ``count`` reads only its share
        of each epoch's order (:func:`seqcast.workers.share`), the same on every worker.
        """
        import tensorflow as tf

        n, batch_size = len(self.windows), self.batch_size
        picked = None
        if shard is not None:
            from seqcast.workers import share

            picked = tf.constant(share(n, *shard))
        index_dtype = tf.int32 if len(self.values) < 2**31 else tf.int64
        np_index = index_dtype.as_numpy_dtype
        values = tf.constant(self.values)
        ends = tf.constant(np.cumsum(self.windows.counts).astype(np_index))
        first = tf.constant(self.windows.first.astype(np_index))
        counts = tf.constant(self.windows.counts.astype(np_index))
        run_codes = tf.constant(self.windows.codes.astype(np.int32))
        offsets = tf.range(self.lookback + self.horizon, dtype=index_dtype)
        target_index = tf.constant(self.target_index, tf.int32)
        scale = self.target_scale
        layout = (-1, *self.input_shape())
        future = None if self.future is None else tf.constant(self.future)

        # XLA turns the per-element gather into slice copies: ~3x the plain op (benchmark).
        @tf.function(jit_compile=True)
        def gather(starts):
            w = tf.gather(values, starts[:, None] + offsets[None, :])  # (batch, width, F)
            x = tf.reshape(w[:, : self.lookback], layout)
            y = tf.gather(w[:, self.lookback :], target_index, axis=2)
            if future is None:
                return x, y, None
            return x, y, tf.gather(future, starts[:, None] + offsets[None, :])

        def windows(positions):
            run = tf.searchsorted(ends, positions, side="right", out_type=index_dtype)
            starts = tf.gather(first, run) + positions - (tf.gather(ends, run)
                                                          - tf.gather(counts, run))
            codes = tf.gather(run_codes, run)
            x, y, f = gather(starts)
            if scale is not None:  # outside XLA, which would divide by a rounded reciprocal
                y = (y - tf.gather(scale[0], codes)[:, None]) / tf.gather(scale[1], codes)[:, None]
            return ((x, codes) if f is None else (x, codes, f)), y

        def one_epoch(epoch):
            positions = tf.range(n, dtype=index_dtype)
            if self.shuffle:
                seed = tf.stack([tf.constant(self.seed, tf.int64), epoch])
                positions = tf.random.experimental.stateless_shuffle(positions, seed=seed)
            if picked is not None:
                positions = tf.gather(positions, picked)
            # One element per batch: slicing positions one by one costs ~1 µs per window.
            full = length // batch_size * batch_size
            batches = tf.data.Dataset.from_tensor_slices(
                tf.reshape(positions[:full], (-1, batch_size)))
            if full == length:
                return batches
            return batches.concatenate(tf.data.Dataset.from_tensors(positions[full:]))

        length = n if picked is None else len(picked)
        batches_per_epoch = (length + batch_size - 1) // batch_size
        dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
        dataset = dataset.map(windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        # A known length lets Keras count steps instead of running the data dry.
        dataset = dataset.apply(
            tf.data.experimental.assert_cardinality(
                batches_per_epoch * max(epochs - first_epoch, 0))
        )
        return dataset.prefetch(tf.data.AUTOTUNE if prefetch is None else prefetch)
