"""Quantile forecasts and intervals: order by construction, the pinball loss, split-conformal
calibration, interval scores, and the coverage they reach on a Gaussian AR series."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from seqcast import intervals
from seqcast.backtest import backtest, evaluate
from seqcast.errors import ModelConfigError
from seqcast.fitting import fit_family
from seqcast.models import (
    PinballLoss,
    QuantileHead,
    build_ensemble,
    build_forecaster,
    model_quantiles,
    set_calibration,
    uncalibrated,
)
from seqcast.spec import make_window_spec
from tests.conftest import INTERVALS, ROOT, tiny_spec

LEVELS = [0.05, 0.1, 0.5, 0.9, 0.95]


def _ordered(q: np.ndarray) -> bool:
    return bool((np.diff(q, axis=-1) >= 0).all())


@pytest.mark.parametrize("family", ["cnn_lstm", "lstm"])
def test_quantiles_are_ordered_for_any_weights_and_any_shift(family):
    """Random weights scaled up, and random calibration shifts that cross the levels: every
    output, raw and calibrated, of both families and their ensemble stays in order."""
    keras.utils.set_random_seed(3)
    spec = tiny_spec()
    members = {}
    for name in ("cnn_lstm", "lstm"):
        _, members[name] = build_forecaster(name, spec, {"units": 4}, quantiles=LEVELS)
        members[name].set_weights([w * 20 for w in members[name].get_weights()])
    model = members[family]
    rng = np.random.default_rng(0)
    history = rng.normal(0, 50, (64, 8, 2)).astype(np.float32)
    codes = rng.integers(0, 2, 64).astype(np.int32)
    x = history.reshape(64, 2, 4, 2) if family == "cnn_lstm" else history
    assert model_quantiles(model) == LEVELS
    assert model.output_shape == (None, 3, 1, len(LEVELS))
    assert _ordered(np.asarray(uncalibrated(model)([x, codes])))
    set_calibration(model, [[1.0], [3.0]], rng.normal(0, 5, (3, 1, len(LEVELS))))
    calibrated = np.asarray(model([x, codes]))
    assert _ordered(calibrated)
    # the median is never moved: it is the point forecast
    np.testing.assert_allclose(calibrated[..., 2], np.asarray(uncalibrated(model)([x, codes]))
                               [..., 2], rtol=1e-6)
    for baselines in (None, {"naive": 1, "seasonal_naive": 3}):  # median, weighted mean
        ensemble = build_ensemble(members, baselines=baselines, target_index=[1])
        set_calibration(ensemble, [[1.0], [3.0]], rng.normal(0, 5, (3, 1, len(LEVELS))))
        assert _ordered(np.asarray(ensemble([history, codes])))


def test_quantile_head_is_strictly_increasing_even_when_its_inputs_are_not():
    raw = np.array([[[5.0, 0.0, -9.0]]], np.float32)  # levels 0.1, 0.5, 0.9 backwards
    q = np.asarray(QuantileHead([0.1, 0.5, 0.9], 1)(raw))[0, 0, :, 0]
    assert q[1] == 0.0 and q[0] < q[1] < q[2]


@pytest.mark.parametrize("bad", [[0.1, 0.9], [0.5, 0.1], [0.0, 0.5], [0.5, 1.2]])
def test_levels_without_a_median_or_out_of_order_are_refused(bad):
    with pytest.raises(ModelConfigError, match="including 0.5"):
        build_forecaster("lstm", tiny_spec(), {"units": 4}, quantiles=bad)


def test_pinball_loss_matches_its_definition():
    rng = np.random.default_rng(1)
    y, q = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 3, 2))
    levels = np.array([0.1, 0.5, 0.9])[None, None, :, None]
    error = y[:, :, None, :] - q
    expected = np.maximum(levels * error, (levels - 1) * error).mean()
    loss = float(PinballLoss([0.1, 0.5, 0.9])(y.astype(np.float32), q.astype(np.float32)))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_conformal_shifts_reach_the_level_on_exchangeable_residuals():
    """The finite-sample shift puts at least τ of new residuals below it (up to sampling)."""
    rng = np.random.default_rng(2)
    fit, new = rng.standard_t(3, size=(2, 400, 2, 1, 1))
    shift = intervals.conformal_shifts(np.repeat(fit, 3, axis=-1), [0.1, 0.5, 0.9])
    assert (shift[..., 1] == 0).all()
    below_upper = (new[..., 0] <= shift[..., 2]).mean()
    below_lower = (new[..., 0] <= shift[..., 0]).mean()
    assert 0.85 <= below_upper <= 0.95 and 0.05 <= below_lower <= 0.15


def test_interval_scores_by_hand():
    # one series, one origin, two steps, one target; 80% interval [lower, upper]
    q = np.array([[[[[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]]]])  # (1, 1, 2, 1, 3)
    actual = np.array([[[[1.5], [3.0]]]])  # inside, then 1 above the upper bound
    scale = np.array([[[2.0]]])
    scores = intervals.series_interval_scores(q, actual, scale, [0.1, 0.5, 0.9])
    assert scores["coverage_80"][0] == 0.5 and scores["width_80"][0] == 2.0
    # (2 + 0) and (2 + 2/0.2 * 1), averaged over steps, over the scale 2
    assert scores["msis_80"][0] == pytest.approx((2 + 12) / 2 / 2)
    pin = np.mean([0.1 * 1.5, 0.5 * 0.5, 0.1 * 0.5, 0.1 * 3, 0.5 * 2, 0.9 * 1])
    assert scores["scaled_pinball"][0] == pytest.approx(pin / 2)
    assert intervals.central_pairs([0.05, 0.1, 0.5, 0.9, 0.95]) == [(0, 4, 90), (1, 3, 80)]


def _gaussian_ar(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = 0.7 * y[t - 1] + rng.normal()
    index = pd.date_range("2020-01-01", periods=n, freq="D", name="ts")
    return pd.DataFrame({"y": 50 + y}, index=index)


DATA = {"path": "ar.csv", "time_column": "ts", "targets": ["y"], "features": ["y"],
        "frequency": "D", "duplicates": "error", "max_gap": 3, "name": "ar"}
AR_WINDOWS = {"n_seq": 2, "n_steps": 4, "lookback": None, "horizon": 4, "season_length": 1,
              "origins": 40, "validation_origins": 100}
AR_TRAINING = {"normalization": "last", "loss": "mse", "quantiles": [0.1, 0.5, 0.9],
               "calibrate": True, "learning_rate": 0.01, "batch_size": 64, "epochs": 8,
               "patience": 3, "seed": 1, "xla": False, "backup_dir": None}


@pytest.fixture(scope="module")
def gaussian_ar():
    series = _gaussian_ar(3000)
    spec = make_window_spec(series, DATA, AR_WINDOWS)
    model, record = fit_family(series, spec.to_dict(), "lstm", {"units": 8}, AR_TRAINING)
    return series, spec, model, record


def test_calibrated_80_percent_interval_covers_70_to_90_percent_on_a_gaussian_ar(gaussian_ar):
    series, spec, model, record = gaussian_ar
    assert record["calibrated"]
    assert record["calibration_windows"] == len(spec.validation_windows()) > 300
    scores, table, by_series = evaluate(series, spec, backtest(series, spec, model, "lstm"))
    assert 0.70 <= scores["lstm"]["coverage_80"] <= 0.90, scores["lstm"]
    assert "coverage_80_raw" in scores["lstm"] and "coverage_80_raw" in by_series
    # the baselines get intervals from their own validation residuals, scored the same way
    for baseline in ("naive", "seasonal_naive"):
        assert 0.65 <= scores[baseline]["coverage_80"] <= 0.95, scores[baseline]
        assert np.isfinite(scores[baseline]["msis_80"])
    rows = table[table["model"] == "lstm"]
    assert (rows["q0.5"] == rows["forecast"]).all()
    assert ((rows["q0.1"] <= rows["q0.5"]) & (rows["q0.5"] <= rows["q0.9"])).all()


def test_without_quantiles_everything_is_as_before(gaussian_ar):
    """``quantiles: []``: point forecasts, the configured loss, no interval columns or keys."""
    series, spec, _, _ = gaussian_ar
    training = {**AR_TRAINING, "quantiles": [], "epochs": 1}
    model, record = fit_family(series, spec.to_dict(), "lstm", {"units": 8}, training)
    assert model.output_shape == (None, 4, 1) and model_quantiles(model) == []
    assert "calibrated" not in record
    table = backtest(series, spec, model, "lstm")
    assert list(table.columns) == ["series", "timestamp", "origin", "model", "target", "step",
                                   "forecast", "actual"]
    scores, forecasts, by_series = evaluate(series, spec, table)
    assert not [k for k in scores["lstm"] if "coverage" in k or "pinball" in k]
    assert "q0.5" not in forecasts and "coverage_80" not in by_series


def test_calibration_switched_off_keeps_the_intervals_as_trained(gaussian_ar):
    series, spec, _, _ = gaussian_ar
    training = {**AR_TRAINING, "calibrate": False, "epochs": 1}
    model, record = fit_family(series, spec.to_dict(), "lstm", {"units": 8}, training)
    assert record["calibrated"] is False
    assert not model.get_layer("calibration").get_weights()[1].any()  # zero shifts
    scores = evaluate(series, spec, backtest(series, spec, model, "lstm"))[0]["lstm"]
    assert scores["coverage_80"] == scores["coverage_80_raw"]


def test_point_forecasts_by_default_and_the_interval_config_covers_every_family():
    """``quantiles: []`` in ``conf/base`` (the median scored worse on validation); the
    shipped ``kedro run --config conf/intervals.yml`` gives every trained family the 80%
    interval and the median."""
    base = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    families = {ns for ns, block in base.items() if "training" in block}
    assert families == {"cnn_lstm", "lstm"}
    assert all(base[ns]["training"]["quantiles"] == [] for ns in families)
    assert {ns: block["training"]["quantiles"] for ns, block in INTERVALS.items()} == {
        ns: [0.1, 0.5, 0.9] for ns in families}
