"""The seed's many-to-many LSTM, and its encoder–decoder form when horizon ≠ lookback."""

from __future__ import annotations

from keras import layers as kl

from .layers import FastTimeDistributed


def build_lstm(
    x,
    horizon: int,
    n_targets: int,
    *,
    future=None,
    units: int = 32,
    layers: int = 1,
    dropout: float = 0.0,
):
    """Head for input ``x`` of shape ``(batch, lookback, n_features)``.

    ``horizon == lookback``: stacked ``LSTM(return_sequences=True)`` → per-step ``Dense``.
    Otherwise: encoder LSTM → ``RepeatVector(horizon)`` → decoder LSTM → per-step ``Dense``.
    LSTM arguments stay on the cuDNN path (default activations, no recurrent dropout).
    ``future`` ``(batch, horizon, n_future)``, the horizon's known-future columns, is read by
    the decoder at each output step. Returns ``(batch, horizon, n_targets)``.
    """
    h = x
    if horizon != x.shape[1]:
        for i in range(layers - 1):
            h = kl.LSTM(units, return_sequences=True, name=f"encoder_{i}")(h)
        h = kl.LSTM(units, name="encoder")(h)  # (batch, units)
        h = kl.RepeatVector(horizon)(h)  # (batch, horizon, units)
    if future is not None:
        h = kl.Concatenate(axis=-1, name="decoder_future")([h, future])
        # (batch, horizon, units or n_features + n_future)
    for i in range(layers):
        h = kl.LSTM(units, return_sequences=True, name=f"decoder_{i}")(h)
        # (batch, horizon, units)
        if dropout:
            h = kl.Dropout(dropout)(h)
    dense = kl.Dense(n_targets)
    return FastTimeDistributed(dense, name="time_distributed_dense")(h)  # (batch, horizon, n_t)
