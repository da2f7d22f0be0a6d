"""`kedro run --pipelines tune`: tuned families, evaluated and tracked, with nested trial runs."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import FAST, run_kedro

# Two trials of one epoch per family, over units and normalization only.
TINY = {"trials": 2, "epochs": 1, "startup_trials": 1, "warmup_epochs": 0,
        "space": {"model": {"units": [4, 8], "dropout": None},
                  "training": {"learning_rate": None, "normalization": ["mean", "last"],
                               "transform": None}}}


def test_tune_replaces_training_and_tracking_and_keeps_the_rest(project):
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    tune = {node.name for node in pipelines["tune"].nodes}
    default = {node.name for node in pipelines["__default__"].nodes}
    replaced = {"training.cnn_lstm.train_model", "training.lstm.train_model",
                "evaluation.track_cnn_lstm", "evaluation.track_lstm"}
    assert replaced <= default and not replaced & tune
    assert default - replaced <= tune  # backtests, evaluation, plots, the run summary
    assert {"tuning.cnn_lstm.tune_model", "evaluation.track_tuned_lstm",
            "evaluation.track_lstm_trials"} <= tune
    assert "tuning.lstm.tune_model" not in default


@pytest.mark.slow
def test_tune_run_tracks_tuned_families_with_nested_trials(project):
    run_kedro(project, ["tune"], params={**FAST, "tuning": TINY})
    metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())
    assert {"cnn_lstm", "lstm", "naive", "seasonal_naive"} <= set(metrics)
    client = MlflowClient()
    experiment = client.get_experiment_by_name("seqcast")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.run_name.startswith("tune ")
    for namespace in ("cnn_lstm", "lstm"):
        (family,) = [r for r in runs if r.data.tags.get("mlflow.parentRunId") ==
                     parent.info.run_id and r.info.run_name == namespace]
        trials = [r for r in runs
                  if r.data.tags.get("mlflow.parentRunId") == family.info.run_id]
        assert sorted(r.info.run_name for r in trials) == [f"{namespace} trial {n}"
                                                           for n in (0, 1)]
        tuning = json.loads(
            (project / f"data/08_reporting/{namespace}_tuning.json").read_text())
        best = tuning["best_trial"]
        assert family.data.params["tuning.best_trial"] == str(best)
        chosen = tuning["trials"][best]["params"]
        assert family.data.params["model.units"] == str(chosen["model.units"])
        assert family.data.params["training.normalization"] == \
            chosen["training.normalization"]
        assert "mase" in family.data.metrics and family.data.params["training.epochs"] == "1"
        record = json.loads(
            (project / f"data/06_models/{namespace}_training_record.json").read_text())
        assert record["val_loss"] == tuning["trials"][best]["val_loss"]
