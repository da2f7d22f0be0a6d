"""Window geometry, shared by every pipeline.

A window starting at index ``s`` of a series has inputs ``s … s+lookback-1`` and targets
``s+lookback … s+lookback+horizon-1``; its origin is ``s+lookback-1``. The geometry's methods
take a series length, or an array of lengths (one per series of a panel). Windows are never
materialised as an ``N × lookback`` array: :mod:`seqcast.stream` cuts each batch with one
gather from :func:`window_view`, a zero-copy strided view of the flat panel.
"""

from __future__ import annotations

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


