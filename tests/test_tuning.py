"""Tuning: the kept model is the best trial's, MLflow says which, no trial reads a test value."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from seqcast.backtest import Evaluation, backtest, context_table, evaluate
from seqcast.spec import WindowSpec, make_window_spec
from seqcast.tracking import track_family
from seqcast.tuning import tune_family, validation_scores, without_test_period
from seqcast.tuning_space import TuningConfigError, search_space, tuned_block
from seqcast.tuning_tracking import track_trials
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw

BLOCK = {"family": "lstm", "model": {"units": 8},
         "training": {"normalization": "mean", "transform": "none", "loss": "mse",
                      "learning_rate": 0.003, "batch_size": 32, "epochs": 40, "patience": 2,
                      "seed": 7, "mixed_precision": False, "deterministic": True,
                      "backup_dir": "never/used"}}
TUNING = {"trials": 3, "timeout": None, "seed": 3, "epochs": 2, "pruner": True,
          "startup_trials": 1, "warmup_epochs": 0,
          "space": {"model": {"units": [4, 8], "filters": [4]},  # filters: cnn_lstm's only
                    "training": {"learning_rate": {"low": 0.001, "high": 0.03, "log": True},
                                 "normalization": ["mean", "last"], "transform": None}}}


@pytest.fixture(scope="module")
def series():
    return clean_series(synthetic_raw(300), DATA, WINDOWS)


@pytest.fixture(scope="module")
def spec(series):
    return make_window_spec(series, DATA, WINDOWS)


@pytest.fixture(scope="module")
def tuned(series, spec):
    return tune_family(series, spec.to_dict(), BLOCK, TUNING)


def test_the_space_is_the_familys_own_and_refuses_what_cannot_be_searched():
    space = search_space(TUNING, BLOCK)
    assert sorted(space) == ["model.units", "training.learning_rate", "training.normalization"]
    assert "model.filters" in search_space(TUNING, {**BLOCK, "family": "cnn_lstm"})
    bad = [{"model": {"nonsense": [1]}}, {"training": {"epochs": [1, 2]}},
           {"training": {"learning_rate": {"low": 0.1, "high": 0.01}}},
           {"model": {"units": []}}, {"windows": {"n_seq": [2]}}]
    for space in bad:
        with pytest.raises(TuningConfigError, match="params:tuning"):
            search_space({**TUNING, "space": space}, BLOCK)
    block = tuned_block(BLOCK, {"model.units": 16, "training.normalization": "last"}, TUNING)
    assert block["model"]["units"] == 16 and block["training"]["normalization"] == "last"
    assert block["training"]["epochs"] == 2 and block["training"]["backup_dir"] is None
    assert BLOCK["model"]["units"] == 8  # the configured block is left as it was


def test_cutting_the_test_period_keeps_training_and_validation_windows(series, spec):
    cut, cut_spec = without_test_period(series, spec)
    assert len(cut) == len(series) - WINDOWS["origins"] * WINDOWS["horizon"]
    assert cut.index.max() < series.index[spec.lengths[0] - spec.geometry.test_points]
    for windows in ("train_windows", "validation_windows"):
        np.testing.assert_array_equal(getattr(cut_spec, windows)().first,
                                      getattr(spec, windows)().first)
        np.testing.assert_array_equal(getattr(cut_spec, windows)().counts,
                                      getattr(spec, windows)().counts)
    assert cut_spec.mean == spec.mean and cut_spec.std == spec.std


@pytest.mark.slow
def test_the_kept_model_is_the_best_trial_and_mlflow_records_it(tuned, series, spec, tmp_path,
                                                                 monkeypatch):
    forecaster, record, result = tuned
    complete = [t for t in result["trials"] if t["state"] == "COMPLETE"]
    best = min(complete, key=lambda t: t["validation_mase"])
    assert result["best_trial"] == best["number"] and len(result["trials"]) == 3
    assert record["val_loss"] == best["val_loss"]  # the kept model is that trial's
    cut, cut_spec = without_test_period(series, spec)
    assert validation_scores(cut, cut_spec, forecaster, "lstm")["lstm"]["mase"] == \
        pytest.approx(best["validation_mase"], rel=1e-6)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    metrics, forecasts, by_series = evaluate(series, spec, backtest(series, spec, forecaster,
                                                                    "lstm"))
    evaluation = Evaluation(series, WindowSpec.from_dict(spec), "test", metrics, forecasts,
                            by_series, context_table(series, spec))
    tuned = tuned_block(BLOCK, result["best_params"], TUNING)
    mlflow.set_experiment("tuning")  # in this store: an earlier test's may still be active
    with mlflow.start_run():
        tracked = track_family(evaluation, tuned, record, forecaster, namespace="lstm")
        track_trials(tracked, result, tuned, spec)
    client = MlflowClient()
    family = client.get_run(tracked["run_id"])
    assert family.data.params["tuning.best_trial"] == str(best["number"])
    assert family.data.params["model.units"] == str(best["params"]["model.units"])
    assert family.data.params["training.epochs"] == "2"
    trials = client.search_runs(
        [family.info.experiment_id], f"tags.mlflow.parentRunId = '{tracked['run_id']}'")
    assert len(trials) == 3
    states = {r.data.tags["tuning.trial"]: r.data.tags["tuning.state"] for r in trials}
    assert states == {str(t["number"]): t["state"] for t in result["trials"]}
    scored = [r for r in trials if "validation_mase" in r.data.metrics]
    chosen = min(scored, key=lambda r: r.data.metrics["validation_mase"])
    assert chosen.data.tags["tuning.trial"] == family.data.params["tuning.best_trial"]
    assert all(r.info.status == "FINISHED" for r in trials)


@pytest.mark.slow
def test_tuning_never_reads_a_test_period_value(tuned, series, spec):
    altered = series.copy()
    test_start = spec.lengths[0] - spec.geometry.test_points
    altered.iloc[test_start:] *= -1000.0  # only the test period
    forecaster, _, result = tuned
    other_forecaster, _, other = tune_family(altered, make_window_spec(
        altered, DATA, WINDOWS).to_dict(), BLOCK, TUNING)

    def trials(r):
        keys = ("number", "state", "params", "validation_mase", "loss", "val_loss")
        return [{k: t.get(k) for k in keys} for t in r["trials"]]

    assert trials(other) == trials(result)
    assert (other["best_trial"], other["best_params"]) == (result["best_trial"],
                                                           result["best_params"])
    for a, b in zip(forecaster.get_weights(), other_forecaster.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_trials_that_cannot_train_fail_and_none_completing_is_an_error(series, spec):
    negative = series.copy()
    negative["load"] -= 100.0  # the log transform refuses targets <= 0
    tuning = {**TUNING, "trials": 2, "space": {"training": {"transform": ["log"]}}}
    with pytest.raises(TuningConfigError,
                       match=r"none of 2 trials completed .*needs positive targets"):
        tune_family(negative, make_window_spec(negative, DATA, WINDOWS).to_dict(), BLOCK,
                    tuning)
