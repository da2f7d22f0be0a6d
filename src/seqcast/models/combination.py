"""The weighted ensemble's parts: the baselines computed inside the model from its raw history,
the weighted mean of every member's forecast, and the search for its weights.

Forecast combination: the naive and seasonal-naive forecasts sit beside the trained families,
and non-negative weights summing to one, chosen on the validation windows, say how much of each
the ensemble takes. All weight on a baseline *is* that baseline, so the ensemble only moves away
from one where the validation windows say the networks add to it (README, "Models").
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
from keras import ops

from .layers import PACKAGE, seasonal_positions

BASELINES = ("naive", "seasonal_naive")  # the evaluation's, in its order
# Grid steps per unit weight: 1/20 for up to four members (1,771 candidate weightings), 1/10
# beyond (6 members: 3,003), so the search stays a few seconds on 200,000 validation points.
FINE, COARSE, FINE_UP_TO = 20, 10, 4
MAX_POINTS = 200_000  # validation points the search reads at most (evenly spaced beyond)


@keras.saving.register_keras_serializable(package=PACKAGE)
class BaselineForecast(keras.layers.Layer):
    """A baseline's forecast of the targets from the raw history ``(batch, lookback,
    n_features)``: step ``h`` repeats the value ``season_length * ceil(h / season_length)``
    steps before it (``season_length`` 1: the naive forecast, the last value). Out:
    ``(batch, horizon, n_targets)``, or with ``n_quantiles`` the same value at every level,
    ``(batch, horizon, n_targets, n_quantiles)``, the members' quantile layout."""

    def __init__(self, season_length: int, horizon: int, target_index: list[int],
                 n_quantiles: int = 0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.season_length, self.horizon = int(season_length), int(horizon)
        self.target_index, self.n_quantiles = list(target_index), int(n_quantiles)

    def call(self, history):
        steps = seasonal_positions(history.shape[1], self.horizon, self.season_length)
        out = ops.take(ops.take(ops.cast(history, "float32"), steps.tolist(), axis=1),
                       self.target_index, axis=-1)
        if self.n_quantiles:
            out = ops.repeat(ops.expand_dims(out, -1), self.n_quantiles, axis=-1)
        return out

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.horizon, len(self.target_index))
        return (*shape, self.n_quantiles) if self.n_quantiles else shape

    def get_config(self):
        return {**super().get_config(), "season_length": self.season_length,
                "horizon": self.horizon, "target_index": self.target_index,
                "n_quantiles": self.n_quantiles}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightedMean(keras.layers.Layer):
    """``Σ wᵢ · forecastᵢ`` over same-shaped member forecasts, ``names`` in input order; the
    weights are a non-trainable weight (equal until :func:`seqcast.calibration.weigh` sets
    them), so the saved model carries them."""

    def __init__(self, names: list[str], **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.names = list(names)

    def build(self, input_shape):
        self.combination = self.add_weight(
            shape=(len(self.names),), initializer=keras.initializers.Constant(
                1 / len(self.names)), trainable=False, name="combination")
        self.built = True

    def call(self, inputs):
        stacked = ops.stack([ops.cast(x, "float32") for x in inputs], axis=-1)
        return ops.sum(stacked * self.combination, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "names": self.names}


def baseline_season(name: str, season_length: int) -> int:
    """The season length of baseline ``name`` (``naive``: 1)."""
    return 1 if name == "naive" else season_length


def simplex_grid(n_members: int) -> np.ndarray:
    """Every weighting of ``n_members`` on the grid (non-negative, summing to one),
    ``(candidates, n_members)``; the single-member corners first."""
    steps = FINE if n_members <= FINE_UP_TO else COARSE
    rows = []
    for bars in itertools.combinations(range(steps + n_members - 1), n_members - 1):
        edges = np.diff([-1, *bars, steps + n_members - 1]) - 1  # stars and bars
        rows.append(edges)
    grid = np.asarray(rows, np.float64) / steps
    corner = (grid == 1).any(axis=1)
    return np.concatenate([grid[corner], grid[~corner]])


def simplex_weights(forecasts: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The weighting of the grid with the lowest mean absolute error of
    ``Σ wᵢ · forecasts[i]`` against ``actual``; ``forecasts`` ``(n_members, …)``, ``actual``
    ``(…)``, both in comparable units (each series' residuals divided by its scale). Ties go
    to the earlier candidate: a single member before a mix."""
    members = forecasts.reshape(len(forecasts), -1)
    target = actual.reshape(-1)
    keep = np.isfinite(target) & np.isfinite(members).all(axis=0)
    members, target = members[:, keep], target[keep]
    if members.shape[1] > MAX_POINTS:
        pick = np.linspace(0, members.shape[1] - 1, MAX_POINTS).astype(np.int64)
        members, target = members[:, pick], target[pick]
    grid = simplex_grid(len(forecasts))
    errors = np.concatenate([np.abs(chunk @ members - target).mean(axis=1)
                             for chunk in np.array_split(grid, max(1, len(grid) // 64))])
    return grid[int(np.argmin(errors))]
