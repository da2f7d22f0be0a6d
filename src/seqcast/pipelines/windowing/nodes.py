"""``series`` → ``window_spec``: the small description every later pipeline windows from.

Only the series and this specification pass between pipelines; the windows themselves are
cut on the fly (:class:`seqcast.windows.WindowStream`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from seqcast.cleaning import as_list, refuse_panel
from seqcast.windows import WindowConfigError, WindowGeometry

logger = logging.getLogger(__name__)


def make_window_spec(series: pd.DataFrame, data: dict, windows: dict) -> dict:
    """Split boundaries, training-only scaling statistics and shapes.

    Args:
        series: ``(N, n_features)`` with a regular DatetimeIndex.
        data: ``params:data`` (targets).
        windows: ``params:windows``.

    Returns:
        A JSON-able dict: geometry, ``features``, ``targets``, ``target_index``,
        ``n_points``, ``validation_start``/``test_start`` (indices) with their timestamps,
        ``origins_at`` (the test origins' timestamps), ``frequency``, and ``mean``/``std``
        per feature from training rows only.
    """
    refuse_panel(data)
    geometry = WindowGeometry.from_params(windows)
    n_points = len(series)
    geometry.check_length(n_points, "series")
    features = list(series.columns)
    targets = as_list(data["targets"])
    missing = [t for t in targets if t not in features]
    if missing:
        raise WindowConfigError(
            f"params:data.targets {missing} are not columns of series {features}; "
            "re-run the ingestion pipeline with the same parameters"
        )
    validation_start, test_start = geometry.boundaries(n_points)
    training = series.iloc[:validation_start].to_numpy(dtype=np.float64)
    mean, std = training.mean(axis=0), training.std(axis=0)
    constant = [f for f, s in zip(features, std, strict=True) if s == 0]
    if constant:
        logger.warning("features %s are constant over the training rows; scaled by 1", constant)
    std = np.where(std == 0, 1.0, std)
    index = series.index
    frequency = pd.infer_freq(index) if n_points >= 3 else None
    origins = geometry.test_starts(n_points) + geometry.lookback - 1
    spec = {
        **geometry.to_params(),
        "features": features,
        "targets": targets,
        "target_index": [features.index(t) for t in targets],
        "n_points": n_points,
        "start": str(index[0]),
        "end": str(index[-1]),
        "frequency": frequency,
        "validation_start": int(validation_start),
        "test_start": int(test_start),
        "validation_start_at": str(index[validation_start]),
        "test_start_at": str(index[test_start]),
        "origins_at": [str(index[o]) for o in origins],
        "n_train_windows": len(geometry.train_starts(n_points)),
        "n_validation_windows": len(geometry.validation_starts(n_points)),
        "mean": mean.tolist(),
        "std": std.tolist(),
    }
    logger.info(
        "windows: lookback %d = %d x %d, horizon %d; %d training and %d validation windows; "
        "test %s … %s in %d origins",
        geometry.lookback, geometry.n_seq, geometry.n_steps, geometry.horizon,
        spec["n_train_windows"], spec["n_validation_windows"], spec["test_start_at"],
        spec["end"], geometry.origins,
    )
    return spec
