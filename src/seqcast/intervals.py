"""Prediction intervals: split-conformal calibration on the validation windows, baseline
intervals from their own validation residuals, and the interval scores (README, "Intervals").

Residuals are taken in units of each series' training standard deviation, so one shift per
horizon step, target and level serves every series of a panel.
"""

from __future__ import annotations

import numpy as np

from seqcast.spec import WindowSpec

# Validation windows a calibration reads at most (evenly spaced beyond): plenty for the
# quantiles of residuals, and a bounded predict on a panel of thousands of series.
MAX_CALIBRATION_WINDOWS = 50_000


def column(level: float) -> str:
    """The table column of quantile ``level``: ``q0.1``, ``q0.5``, ``q0.9``."""
    return f"q{level:g}"


def is_quantile_column(name: str) -> bool:
    """``q0.1``, ``q0.5`` … (not ``raw_q0.1``)."""
    return name.startswith("q") and name[1:].replace(".", "", 1).isdigit()


def levels_of(tables) -> list[float]:
    """The quantile levels any of the backtest ``tables`` carries, ascending."""
    return sorted({float(c[1:]) for t in tables for c in t.columns if is_quantile_column(c)})


def is_interval_score(key: str) -> bool:
    """A key of :func:`series_interval_scores` (``coverage_80``, ``coverage_80_raw`` …)."""
    return key.startswith(("coverage_", "width_", "msis_", "scaled_pinball"))


def central_pairs(quantiles: list[float]) -> list[tuple[int, int, int]]:
    """``(lower index, upper index, nominal %)`` of every central interval the levels form
    (``0.1`` and ``0.9``: the 80% interval), widest first."""
    pairs = []
    for i, low in enumerate(quantiles):
        for j in range(len(quantiles) - 1, i, -1):
            if low < 0.5 and abs(quantiles[j] - (1 - low)) < 1e-9:
                pairs.append((i, j, round(100 * (1 - 2 * low))))
    return pairs


def conformal_shifts(residuals: np.ndarray, quantiles: list[float]) -> np.ndarray:
    """Split-conformal shifts ``(horizon, n_targets, n_quantiles)`` from ``residuals``
    ``(n, horizon, n_targets, n_quantiles)`` = actual − quantile forecast.

    Level ``τ`` above the median moves by the ``⌈(n+1)τ⌉``-th smallest residual, below it by
    the ``⌊(n+1)τ⌋``-th (the finite-sample quantiles of split conformal prediction, one-sided
    per level), so at least ``τ`` of new actuals fall below it when validation and test
    residuals are exchangeable. The median keeps a zero shift: it is the point forecast.
    """
    n = len(residuals)
    ordered = np.sort(residuals, axis=0)
    shifts = np.zeros(residuals.shape[1:])
    for k, tau in enumerate(quantiles):
        if tau == 0.5:
            continue
        rank = int(np.ceil((n + 1) * tau)) if tau > 0.5 else int(np.floor((n + 1) * tau))
        shifts[..., k] = ordered[min(max(rank, 1), n) - 1, ..., k]
    return shifts


def validation_sample(spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, codes)`` of the validation windows calibration reads (every one, up to
    ``MAX_CALIBRATION_WINDOWS``, evenly spaced beyond)."""
    windows = spec.validation_windows()
    count = len(windows)
    positions = np.unique(np.linspace(0, count - 1, min(count, MAX_CALIBRATION_WINDOWS))
                          .astype(np.int64)) if count else np.zeros(0, np.int64)
    return windows.locate(positions)


def baseline_quantiles(point: np.ndarray, validation: tuple[np.ndarray, np.ndarray],
                       std: np.ndarray, quantiles: list[float]) -> np.ndarray:
    """A baseline's quantiles ``(windows, horizon, n_targets, n_quantiles)``: its ``point``
    forecasts plus the empirical quantiles of its own validation residuals.

    ``validation`` is ``(residuals (n, horizon, n_targets), std of each residual's series
    (n, n_targets))``; ``std`` is the series' std for each row of ``point``."""
    residuals, residual_std = validation
    scaled = (residuals / residual_std[:, None, :])[..., None]
    shifts = conformal_shifts(np.repeat(scaled, len(quantiles), axis=-1), quantiles)
    return point[..., None] + shifts[None] * std[:, None, :, None]


def pinball(quantile_forecast: np.ndarray, actual: np.ndarray,
            quantiles: list[float]) -> np.ndarray:
    """The pinball loss of each level, ``(…, n_quantiles)``, actuals ``(…)``."""
    error = actual[..., None] - quantile_forecast
    levels = np.asarray(quantiles)
    return np.maximum(levels * error, (levels - 1) * error)


def series_interval_scores(quantile_forecast: np.ndarray, actual: np.ndarray,
                           scale: np.ndarray, quantiles: list[float],
                           suffix: str = "") -> dict[str, np.ndarray]:
    """Per-series interval scores of ``(series, origins, horizon, n_targets, n_quantiles)``
    quantile forecasts; ``scale`` ``(series, origins, n_targets)`` is MASE's.

    ``coverage_<p>``: share of actuals inside the central ``p``% interval; ``width_<p>``: its
    mean width (the targets' units); ``msis_<p>``: the M4 competition's scaled interval score
    ``(U − L + 2/α (L − y)⁺ + 2/α (y − U)⁺) / scale``, ``α = 1 − p/100``; ``scaled_pinball``:
    the pinball loss averaged over levels, scaled like MASE (twice it estimates the scaled
    CRPS). ``suffix`` names a variant (``_raw``: before calibration; coverage only)."""
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        per_origin = pinball(quantile_forecast, actual, quantiles).mean(axis=(2, 4)) / scale
        for low, high, percent in central_pairs(quantiles):
            lower, upper = quantile_forecast[..., low], quantile_forecast[..., high]
            out[f"coverage_{percent}{suffix}"] = ((actual >= lower) & (actual <= upper)).mean(
                axis=(1, 2, 3))
            if suffix:
                continue
            alpha = 1 - percent / 100
            penalty = (upper - lower + 2 / alpha * np.maximum(lower - actual, 0)
                       + 2 / alpha * np.maximum(actual - upper, 0))
            out[f"width_{percent}"] = (upper - lower).mean(axis=(1, 2, 3))
            out[f"msis_{percent}"] = (penalty.mean(axis=2) / scale).mean(axis=(1, 2))
    if not suffix:
        out["scaled_pinball"] = per_origin.mean(axis=(1, 2))
    return out


def overall_interval_scores(per_series: dict[str, np.ndarray]) -> dict[str, float]:
    """Overall figures: the mean over series (every series has as many forecast points, so
    coverage and width are those pooled over all points; MSIS and pinball average as MASE)."""
    out = {}
    for key, values in per_series.items():
        finite = values[np.isfinite(values)]
        out[key] = float(finite.mean()) if len(finite) else float("nan")
    return out
