"""The series transform (``training.transform``: none | log | auto), chosen from training rows.

``log`` takes every target of every series in natural logs inside the model; ``auto`` does so
per series and target where the training rows are all positive and the seasonal swing grows
with the level (:func:`multiplicative`). The choice and the per-series scaling statistics on
the transformed scale become non-trainable weights of the saved model (README, "Models").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqcast.errors import ModelConfigError
from seqcast.spec import WindowSpec, scaling

TRANSFORMS = ("none", "log", "auto")
# auto: log when the per-season level and per-season range correlate at least this much
# over at least MIN_SEASONS complete seasons of training rows.
MIN_CORRELATION = 0.5
MIN_SEASONS = 4


@dataclass(frozen=True)
class SeriesScales:
    """Per series and feature ``(n_series, n_features)``: whether the column is in logs, the
    floor a non-positive value is raised to before the log, and the training mean and std on
    the transformed scale."""

    log: np.ndarray
    floor: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @property
    def any_log(self) -> bool:
        return bool(self.log.any())


def _training_rows(spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, ends)``: each series' first row and the end of its training rows."""
    offsets = spec.offsets()
    validation_start, _ = spec.boundaries()
    return offsets, offsets[:-1] + validation_start


def multiplicative(values: np.ndarray, offsets: np.ndarray, ends: np.ndarray,
                   season_length: int) -> np.ndarray:
    """``(n_series, n_columns)``: the seasonal swing grows with the level — the Pearson
    correlation between the mean and the range (max − min) of each complete season (of
    ``season_length`` rows from the series' start) of the rows ``offsets[i] … ends[i]-1`` is
    at least ``MIN_CORRELATION``, over at least ``MIN_SEASONS`` seasons."""
    n_series, m = len(offsets) - 1, season_length
    if m < 2:
        return np.zeros((n_series, values.shape[1]), bool)
    sizes = np.diff(offsets)
    code = np.repeat(np.arange(n_series), sizes)
    local = np.arange(len(values)) - np.repeat(offsets[:-1], sizes)
    seasons = (ends - offsets[:-1]) // m
    keep = local < np.repeat(seasons * m, sizes)
    frame = pd.DataFrame(values[keep].astype(np.float64))
    grouped = frame.groupby([code[keep], local[keep] // m])
    level, swing = grouped.mean(), grouped.max() - grouped.min()
    by_series = level.index.get_level_values(0)
    moments = [(a * b).groupby(by_series).mean() for a, b in
               ((level, swing), (level, level), (swing, swing))]
    mean_level, mean_swing = level.groupby(by_series).mean(), swing.groupby(by_series).mean()
    cov = moments[0] - mean_level * mean_swing
    var = (moments[1] - mean_level**2) * (moments[2] - mean_swing**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (cov / np.sqrt(var)).reindex(range(n_series)).to_numpy()
    return (r >= MIN_CORRELATION) & (seasons >= MIN_SEASONS)[:, None]


def _smallest(values: np.ndarray, offsets: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per series, the smallest value of each column over its training rows."""
    sizes = np.diff(offsets)
    train = np.arange(len(values)) < np.repeat(ends, sizes)
    masked = np.where(train[:, None], values.astype(np.float64), np.inf)
    return np.minimum.reduceat(masked, offsets[:-1], axis=0)


def series_scales(values: np.ndarray, spec: WindowSpec, transform: str = "none"
                  ) -> SeriesScales:
    """The transform of each series' targets for ``training.transform`` and the scaling
    statistics on that scale, from training rows only (``spec.mean``/``std`` when nothing is
    in logs)."""
    if transform not in TRANSFORMS:
        raise ModelConfigError(
            f"training.transform={transform!r} is not one of {list(TRANSFORMS)}")
    offsets, ends = _training_rows(spec)
    shape = (spec.n_series, len(spec.features))
    targets = np.zeros(shape, bool)
    targets[:, spec.target_index] = True
    smallest = _smallest(values, offsets, ends)
    bad = targets & (smallest <= 0)
    if transform == "log" and bad.any():
        code, column = np.argwhere(bad)[0]
        raise ModelConfigError(
            f"training.transform=log needs positive targets, but {spec.features[column]!r} of "
            f"series {spec.series[code]} reaches {smallest[code, column]:g} in its training "
            "rows; use transform none or auto (auto keeps such series unlogged)")
    log = targets & (smallest > 0)
    if transform == "auto":
        log &= multiplicative(values, offsets, ends, spec.geometry.season_length)
    elif transform == "none":
        log[:] = False
    floor = np.where(log, smallest / 2, 1.0)
    if not log.any():
        return SeriesScales(log, floor, np.asarray(spec.mean), np.asarray(spec.std))
    codes = np.repeat(np.arange(spec.n_series), np.diff(offsets))
    logged = log[codes]
    x = np.where(logged, np.log(np.maximum(values, floor[codes])), values)
    mean, std = scaling(x, offsets, ends, spec.features)
    return SeriesScales(log, floor, mean, std)
