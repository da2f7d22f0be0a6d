"""The window specification: what the windowing pipeline hands every later stage.

``window_spec.json`` holds :meth:`WindowSpec.to_dict`; every stage reads it back with
:meth:`WindowSpec.from_dict`. Each series is split by its own time: its last ``origins``
blocks of ``horizon`` points are its test blocks, the ``validation_origins`` blocks before
them its validation period, the rest its training rows, from which alone its scaling
statistics come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from seqcast import covariates
from seqcast.cleaning import as_list, id_columns
from seqcast.covariates import KnownFuture
from seqcast.panel import Panel
from seqcast.stream import Windows
from seqcast.windows import WindowConfigError, WindowGeometry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowSpec:
    """Geometry, columns, series, per-series lengths and training-only scaling statistics
    (``mean``/``std``: one list of ``n_features`` values per series)."""

    geometry: WindowGeometry
    features: list[str]
    targets: list[str]
    target_index: list[int]
    id_columns: list[str]
    time_column: str
    series: list[str]
    lengths: list[int]
    n_points: int
    start: str
    end: str
    frequency: str | None
    test_start_at: str
    n_train_windows: int
    n_validation_windows: int
    mean: list[list[float]]
    std: list[list[float]]
    # Known-future columns (seqcast.covariates.KnownFuture.to_dict); empty: none.
    known_future: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON form (``window_spec.json``): the geometry's keys, then every field
        (``known_future`` only when there are known-future columns)."""
        rest = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "geometry"}
        if not rest["known_future"]:  # none: the JSON form of specifications before them
            del rest["known_future"]
        return {**self.geometry.to_params(), **rest}

    @classmethod
    def from_dict(cls, spec: dict | WindowSpec) -> WindowSpec:
        if isinstance(spec, WindowSpec):
            return spec
        names = [f.name for f in fields(cls) if f.name != "geometry"]
        # Specifications written before known-future columns existed have none.
        missing = [n for n in names if n not in spec and n != "known_future"]
        if missing:
            raise WindowConfigError(
                f"window_spec lacks {missing}; re-run the windowing pipeline"
            )
        return cls(WindowGeometry.from_params(spec), **{n: spec[n] for n in names if n in spec})

    @property
    def lookback(self) -> int:
        return self.geometry.lookback

    @property
    def horizon(self) -> int:
        return self.geometry.horizon

    @property
    def n_series(self) -> int:
        return len(self.series)

    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    def boundaries(self) -> tuple[np.ndarray, np.ndarray]:
        """Per series, local ``(validation_start, test_start)``."""
        return self.geometry.boundaries(np.asarray(self.lengths, np.int64))

    def train_windows(self) -> Windows:
        """Windows whose targets all lie before their series' validation period."""
        validation_start, _ = self.boundaries()
        count = validation_start - self.lookback - self.horizon + 1
        return Windows.runs(self.offsets()[:-1], count)

    def validation_windows(self) -> Windows:
        """Windows whose targets all lie inside their series' validation period."""
        validation_start, test_start = self.boundaries()
        first = np.maximum(validation_start - self.lookback, 0)
        count = test_start - self.lookback - self.horizon + 1 - first
        return Windows.runs(self.offsets()[:-1] + first, count)

    def test_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, codes)``, ``n_series × origins`` flat starts of the test windows (oldest
        first within each series) and their series codes."""
        local = self.geometry.test_starts(np.asarray(self.lengths, np.int64)[:, None])
        starts = self.offsets()[:-1, None] + local
        codes = np.repeat(np.arange(self.n_series), self.geometry.origins)
        return starts.reshape(-1), codes

    def panel(self, series: pd.DataFrame) -> Panel:
        """``series`` as the panel this specification describes; refused when it differs."""
        panel = Panel.from_series(series, {"id_columns": self.id_columns, "name": self.series[0],
                                           "time_column": self.time_column})
        same = (panel.features == self.features and panel.n_series == self.n_series
                and (panel.labels == np.asarray(self.series, dtype=object)).all()
                and (panel.lengths == np.asarray(self.lengths)).all())
        if not same:
            raise WindowConfigError(
                f"series ({panel.n_series} series, {panel.offsets[-1]} points, features "
                f"{panel.features}) is not the one window_spec describes ({self.n_series} "
                f"series, {self.n_points} points, features {self.features}); re-run the "
                "windowing pipeline after ingestion")
        return panel

    @property
    def known(self) -> KnownFuture:
        return KnownFuture.from_dict(self.known_future)

    def future_values(self, panel: Panel) -> np.ndarray | None:
        """The flat ``(N, n_future)`` known-future columns of ``panel``; None when the
        specification has none."""
        known = self.known
        if not known:
            return None
        return known.values(panel.stamps, panel.column(list(known.columns), np.float32))

    def target_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-series ``(mean, std)`` of the targets, ``(n_series, n_targets)``."""
        t = self.target_index
        return np.asarray(self.mean)[:, t], np.asarray(self.std)[:, t]


def scaling(values: np.ndarray, offsets: np.ndarray, ends: np.ndarray, features: list[str]):
    """Per-series mean and std of the rows ``offsets[i] … ends[i]-1`` (the training rows)."""
    local = np.arange(len(values)) - np.repeat(offsets[:-1], np.diff(offsets))
    train = local < np.repeat(ends - offsets[:-1], np.diff(offsets))
    counts = (ends - offsets[:-1])[:, None].astype(np.float64)
    x = np.where(train[:, None], values.astype(np.float64), 0.0)
    mean = np.add.reduceat(x, offsets[:-1], axis=0) / counts
    x -= np.repeat(mean, np.diff(offsets), axis=0)
    x[~train] = 0.0
    std = np.sqrt(np.add.reduceat(x * x, offsets[:-1], axis=0) / counts)
    constant = std == 0
    if constant.any():
        columns = [f for f, c in zip(features, constant.any(axis=0), strict=True) if c]
        logger.warning("%d series have a feature constant over their training rows (%s); "
                       "scaled by 1", int(constant.any(axis=1).sum()), columns)
    return mean, np.where(constant, 1.0, std)


def _targets(data: dict, features: list[str]) -> list[str]:
    targets = as_list(data["targets"])
    missing = [t for t in targets if t not in features]
    if missing:
        raise WindowConfigError(
            f"params:data.targets {missing} are not columns of series {features}; "
            "re-run the ingestion pipeline with the same parameters"
        )
    return targets


def _longest(panel: Panel) -> pd.DatetimeIndex:
    longest = int(np.argmax(panel.lengths))
    return panel.stamps[panel.offsets[longest]:panel.offsets[longest + 1]]


def _frequency(panel: Panel) -> str | None:
    stamps = _longest(panel)
    return pd.infer_freq(stamps) if len(stamps) >= 3 else None


def _known_future(data: dict, panel: Panel) -> dict:
    known = covariates.from_params(data, _longest(panel), panel.features)
    return known.to_dict() if known else {}


def make_window_spec(series: pd.DataFrame, data: dict, windows: dict) -> WindowSpec:
    """Per-series split boundaries, training-only scaling statistics and shapes of
    ``series`` (one series, or a panel in long format) for ``params:windows``."""
    geometry = WindowGeometry.from_params(windows)
    panel = Panel.from_series(series, data)
    short = np.flatnonzero(panel.lengths < geometry.required_length())
    if len(short):
        geometry.check_length(int(panel.lengths[short[0]]), f"series {panel.labels[short[0]]}")
    targets = _targets(data, panel.features)
    lengths = panel.lengths
    validation_start, test_start = geometry.boundaries(lengths)
    offsets = panel.offsets
    mean, std = scaling(panel.values, offsets, offsets[:-1] + validation_start, panel.features)
    first_test = panel.stamps[offsets[:-1] + test_start]
    spec = WindowSpec(
        geometry=geometry, features=panel.features, targets=targets,
        target_index=[panel.features.index(t) for t in targets], id_columns=id_columns(data),
        time_column=data.get("time_column") or "date",
        series=[str(s) for s in panel.labels], lengths=lengths.tolist(),
        n_points=int(offsets[-1]), start=str(panel.stamps[offsets[:-1]].min()),
        end=str(panel.stamps[offsets[1:] - 1].max()), frequency=_frequency(panel),
        test_start_at=str(first_test.min()), n_train_windows=0, n_validation_windows=0,
        mean=mean.tolist(), std=std.tolist(),
        known_future=_known_future(data, panel),
    )
    spec = replace(spec, n_train_windows=len(spec.train_windows()),
                   n_validation_windows=len(spec.validation_windows()))
    logger.info(
        "windows: %d series, lookback %d = %d x %d, horizon %d; %d training and %d validation "
        "windows; test from %s in %d origins per series",
        spec.n_series, geometry.lookback, geometry.n_seq, geometry.n_steps, geometry.horizon,
        spec.n_train_windows, spec.n_validation_windows, spec.test_start_at, geometry.origins,
    )
    if spec.known:
        logger.info("known-future columns: %s", spec.known.names)
    return spec
