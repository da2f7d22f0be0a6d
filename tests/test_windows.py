"""Window geometry (no leakage) and the streamed windows (equal to slices of the series)."""

from __future__ import annotations

import numpy as np
import pytest

from seqcast.stream import WindowStream
from seqcast.windows import WindowGeometry, window_view

GEOMETRY = WindowGeometry(n_seq=3, n_steps=4, horizon=5, season_length=7, origins=3,
                          validation_origins=2)


def test_splits_follow_the_design():
    n = 200
    validation_start, test_start = GEOMETRY.boundaries(n)
    assert test_start == n - 3 * 5 and validation_start == test_start - 2 * 5
    train = GEOMETRY.train_starts(n)
    # the last training target ends just before validation; no target of a training window
    # falls in validation or test
    assert train[-1] + 12 + 5 - 1 == validation_start - 1
    val = np.asarray(GEOMETRY.validation_starts(n))
    assert (val + 12 >= validation_start).all() and (val + 12 + 5 <= test_start).all()
    test = GEOMETRY.test_starts(n)
    # block k forecasts points N-k*H … N-k*H+H-1 from everything before them
    assert list(test + 12) == [n - k * 5 for k in (3, 2, 1)]


def test_stream_windows_equal_slices_of_the_series():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(100, 3)).astype(np.float32)
    starts = np.array([0, 17, 50, 83])
    stream = WindowStream(values, starts, lookback=12, horizon=5, target_index=[2, 0],
                          batch_size=3)
    xs, ys = zip(*stream, strict=True)
    x, y = np.concatenate([x for x, _ in xs]), np.concatenate(ys)
    assert x.shape == (4, 12, 3) and y.shape == (4, 5, 2)
    for i, s in enumerate(starts):
        np.testing.assert_array_equal(x[i], values[s : s + 12])
        np.testing.assert_array_equal(y[i], values[s + 12 : s + 17][:, [2, 0]])


def test_nested_and_flat_layouts_agree():
    values = np.arange(300, dtype=np.float32).reshape(100, 3)
    starts = np.arange(0, 80, 7)
    flat = WindowStream(values, starts, 12, 5, [0], batch_size=64)
    nested = WindowStream(values, starts, 12, 5, [0], batch_size=64, n_seq=3)
    ((xf, _), yf), ((xn, _), yn) = next(iter(flat)), next(iter(nested))
    assert xn.shape == (len(starts), 3, 4, 3)
    np.testing.assert_array_equal(xn.reshape(xf.shape), xf)
    # subsequence j, step t is lookback step j*n_steps + t
    np.testing.assert_array_equal(xn[:, 2, 1], xf[:, 9])
    np.testing.assert_array_equal(yf, yn)


def test_shuffle_is_a_seeded_permutation_per_pass():
    values = np.arange(200, dtype=np.float32).reshape(200, 1)
    stream = WindowStream(values, range(150), 10, 5, [0], batch_size=32, shuffle=True, seed=3)
    first = np.concatenate([x[:, 0, 0] for (x, _), _ in stream])
    second = np.concatenate([x[:, 0, 0] for (x, _), _ in stream])
    assert sorted(first) == list(range(150)) and sorted(second) == list(range(150))
    assert not np.array_equal(first, second)
    again = WindowStream(values, np.arange(150), 10, 5, [0], batch_size=32, shuffle=True, seed=3)
    np.testing.assert_array_equal(first, np.concatenate([x[:, 0, 0] for (x, _), _ in again]))


def test_window_view_does_not_copy_the_series():
    values = np.zeros((1000, 2), dtype=np.float32)
    view = window_view(values, 50)
    assert view.shape == (951, 100) and np.shares_memory(view, values)


def _starts_of(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The start of each window, from its first row (``values`` rows are all distinct)."""
    first = x.reshape(len(x), -1, values.shape[1])[:, 0]
    return np.array([np.flatnonzero((values == row).all(axis=1))[0] for row in first])


@pytest.mark.parametrize("starts", [range(3, 70), np.array([5, 0, 17, 50, 83, 41])])
@pytest.mark.parametrize("n_seq", [None, 3])
def test_tf_feed_cuts_the_windows_batch_cuts(starts, n_seq):
    values = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    stream = WindowStream(values, starts, 12, 5, [2, 0], batch_size=8, shuffle=True, seed=3,
                          n_seq=n_seq, target_scale=(np.array([1.0, 2.0]), np.array([2.0, 3.0])))
    batches = [(x.numpy(), y.numpy()) for (x, _), y in stream.dataset(0, 2)]
    assert len(batches) == 2 * len(stream)
    per_epoch = (batches[: len(stream)], batches[len(stream) :])
    epochs = [np.concatenate([_starts_of(x, values) for x, _ in part]) for part in per_epoch]
    for order in epochs:  # each epoch: every window once, in a shuffled order
        assert sorted(order) == sorted(starts) and list(order) != sorted(starts)
    assert list(epochs[0]) != list(epochs[1])
    for x, y in batches:  # bit for bit what the numpy gather gives
        (expected_x, _), expected_y = stream.batch(_starts_of(x, values))
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(y, expected_y)


def test_tf_feed_order_depends_on_seed_and_epoch_only():
    values = np.arange(400, dtype=np.float32).reshape(200, 2)

    def order(seed, first, epochs):
        stream = WindowStream(values, range(150), 10, 5, [0], batch_size=32, shuffle=True,
                              seed=seed)
        return np.concatenate([x[:, 0, 0] for (x, _), _ in stream.dataset(first, epochs)]) / 2

    both = order(3, 0, 2)
    np.testing.assert_array_equal(order(3, 1, 2), both[150:])  # a resumed epoch 2
    np.testing.assert_array_equal(order(3, 0, 1), both[:150])
    assert not np.array_equal(order(4, 0, 1), both[:150])


def test_tf_feed_has_no_python_in_its_graph():
    """No generator, no py_function: nothing that needs the GIL while TensorFlow iterates."""
    import tensorflow as tf
    from tensorflow.python.data.ops.options import ExternalStatePolicy

    stream = WindowStream(np.zeros((50, 2), np.float32), range(21), 6, 3, [0], batch_size=4,
                          shuffle=True, n_seq=2, target_scale=(np.ones(1), np.ones(1)))
    # A private but stable serialiser: the graph tf.data runs, with its map functions.
    serialized = stream.dataset(0, 2)._as_serialized_graph(
        external_state_policy=ExternalStatePolicy.WARN)
    graph = tf.compat.v1.GraphDef.FromString(serialized.numpy())
    ops = {n.op for n in graph.node} | {n.op for f in graph.library.function for n in f.node_def}
    assert "GatherV2" in ops and "StatelessShuffle" in ops
    assert not ops & {"PyFunc", "PyFuncStateless", "EagerPyFunc", "GeneratorDataset"}


def test_tf_feed_in_order_without_shuffle():
    values = np.arange(100, dtype=np.float32).reshape(50, 2)
    stream = WindowStream(values, np.arange(10), 6, 3, [1], batch_size=4,
                          target_scale=(np.array([1.0]), np.array([2.0])), n_seq=2)
    (x, _), y = next(iter(stream.dataset()))
    assert tuple(x.shape) == (4, 2, 3, 2) and tuple(y.shape) == (4, 3, 1)
    np.testing.assert_allclose(y.numpy()[0, :, 0], (values[6:9, 1] - 1.0) / 2.0)
    assert stream.dataset().cardinality() == len(stream) == 3


def test_starts_outside_the_series_are_refused():
    with pytest.raises(ValueError, match="outside the series"):
        WindowStream(np.zeros((20, 1), np.float32), np.array([10]), 8, 5, [0])
