"""The window specification: what the windowing pipeline hands every later stage.

``window_spec.json`` holds :meth:`WindowSpec.to_dict`; every stage reads it back with
:meth:`WindowSpec.from_dict` instead of picking keys out of the dict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from seqcast.cleaning import as_list
from seqcast.windows import WindowConfigError, WindowGeometry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowSpec:
    """Geometry, columns, split boundaries (indices and timestamps) and training-only
    scaling statistics of one series."""

    geometry: WindowGeometry
    features: list[str]
    targets: list[str]
    target_index: list[int]
    n_points: int
    start: str
    end: str
    frequency: str | None
    validation_start: int
    test_start: int
    validation_start_at: str
    test_start_at: str
    origins_at: list[str]
    n_train_windows: int
    n_validation_windows: int
    mean: list[float]
    std: list[float]

    def to_dict(self) -> dict:
        """The JSON form (``window_spec.json``): the geometry's keys, then every field."""
        rest = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "geometry"}
        return {**self.geometry.to_params(), **rest}

    @classmethod
    def from_dict(cls, spec: dict) -> WindowSpec:
        names = [f.name for f in fields(cls) if f.name != "geometry"]
        missing = [n for n in names if n not in spec]
        if missing:
            raise WindowConfigError(
                f"window_spec lacks {missing}; re-run the windowing pipeline"
            )
        return cls(WindowGeometry.from_params(spec), **{n: spec[n] for n in names})

    @property
    def lookback(self) -> int:
        return self.geometry.lookback


def _scaling(training: np.ndarray, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
    mean, std = training.mean(axis=0), training.std(axis=0)
    constant = [f for f, s in zip(features, std, strict=True) if s == 0]
    if constant:
        logger.warning("features %s are constant over the training rows; scaled by 1", constant)
    return mean, np.where(std == 0, 1.0, std)


def _targets(data: dict, features: list[str]) -> list[str]:
    targets = as_list(data["targets"])
    missing = [t for t in targets if t not in features]
    if missing:
        raise WindowConfigError(
            f"params:data.targets {missing} are not columns of series {features}; "
            "re-run the ingestion pipeline with the same parameters"
        )
    return targets


def make_window_spec(series: pd.DataFrame, data: dict, windows: dict) -> WindowSpec:
    """Split boundaries, training-only scaling statistics and shapes of ``series``
    (``(N, n_features)`` with a regular DatetimeIndex) for ``params:windows``."""
    geometry = WindowGeometry.from_params(windows)
    n_points = len(series)
    geometry.check_length(n_points, "series")
    features = list(series.columns)
    targets = _targets(data, features)
    validation_start, test_start = geometry.boundaries(n_points)
    mean, std = _scaling(series.iloc[:validation_start].to_numpy(dtype=np.float64), features)
    index = series.index
    origins = geometry.origin_of(geometry.test_starts(n_points))
    spec = WindowSpec(
        geometry=geometry, features=features, targets=targets,
        target_index=[features.index(t) for t in targets], n_points=n_points,
        start=str(index[0]), end=str(index[-1]),
        frequency=pd.infer_freq(index) if n_points >= 3 else None,
        validation_start=int(validation_start), test_start=int(test_start),
        validation_start_at=str(index[validation_start]),
        test_start_at=str(index[test_start]), origins_at=[str(index[o]) for o in origins],
        n_train_windows=len(geometry.train_starts(n_points)),
        n_validation_windows=len(geometry.validation_starts(n_points)),
        mean=mean.tolist(), std=std.tolist(),
    )
    logger.info(
        "windows: lookback %d = %d x %d, horizon %d; %d training and %d validation windows; "
        "test %s … %s in %d origins",
        geometry.lookback, geometry.n_seq, geometry.n_steps, geometry.horizon,
        spec.n_train_windows, spec.n_validation_windows, spec.test_start_at, spec.end,
        geometry.origins,
    )
    return spec
