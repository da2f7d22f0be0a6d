"""The seed's CNN-LSTM: a 1-D convolution per subsequence, then an LSTM across subsequences."""

from __future__ import annotations

from keras import layers as kl

from seqcast.errors import ModelConfigError

from .layers import FastTimeDistributed


def build_cnn_lstm(
    x,
    horizon: int,
    n_targets: int,
    *,
    future=None,
    filters: int = 32,
    kernel_size: int = 3,
    pool_size: int = 2,
    units: int = 32,
    dropout: float = 0.0,
):
    """Head for input ``x`` of shape ``(batch, n_seq, n_steps, n_features)``.

    ``future`` ``(batch, horizon, n_future)``, the horizon's known-future columns, reaches
    the head flattened beside the LSTM's summary. Returns ``(batch, horizon, n_targets)``.
    """
    n_steps = x.shape[2]
    if kernel_size > n_steps or (n_steps - kernel_size + 1) < pool_size:
        raise ModelConfigError(
            f"cnn_lstm: kernel_size={kernel_size} and pool_size={pool_size} do not fit "
            f"n_steps={n_steps}; need n_steps - kernel_size + 1 >= pool_size. Lower "
            "cnn_lstm.model.kernel_size or pool_size, or raise windows.n_steps"
        )
    conv = kl.Conv1D(filters, kernel_size, activation="relu")
    h = FastTimeDistributed(conv, name="time_distributed_conv1d")(x)
    # (batch, n_seq, n_steps - kernel_size + 1, filters)
    h = FastTimeDistributed(kl.MaxPooling1D(pool_size), name="time_distributed_pool")(h)
    # (batch, n_seq, (n_steps - kernel_size + 1) // pool_size, filters)
    h = FastTimeDistributed(kl.Flatten(), name="time_distributed_flatten")(h)
    # (batch, n_seq, pooled_steps * filters)
    h = kl.LSTM(units, name="lstm")(h)  # (batch, units)
    if dropout:
        h = kl.Dropout(dropout)(h)
    if future is not None:
        h = kl.Concatenate(name="head_future")([h, kl.Flatten()(future)])
        # (batch, units + horizon * n_future)
    h = kl.Dense(horizon * n_targets, name="head")(h)  # (batch, horizon * n_targets)
    return kl.Reshape((horizon, n_targets))(h)  # (batch, horizon, n_targets)



