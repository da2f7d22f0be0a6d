"""Champion/challenger retraining and batch inference against a real registry."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.file_utils import local_file_uri_to_path

from seqcast import intervals, registry
from seqcast.models import MODELS
from tests.conftest import FAST, FAST_INTERVALS, run_kedro, synthetic_raw, with_intervals
from tests.pipelines import gate_series

# Deliberately worse: barely trained, and without window centring (an untrained model with
# `last` centring is a naive forecast, which is no strawman).
WORSE = {ns: {**block, "training": {"epochs": 1, "patience": 1, "learning_rate": 1e-5,
                                    "normalization": "none"}}
         for ns, block in FAST.items()}


def champion_versions(project):
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    found = {ns: registry.champion(registry.model_name(ns)) for ns in MODELS}
    return {ns: str(v.version) if v else None for ns, v in found.items()}


def decisions(project):
    path = project / "data/08_reporting/retrain_decisions.json"
    return {d["namespace"]: d for d in json.loads(path.read_text())}


def test_no_champion_yet_is_a_clear_error(project):
    with pytest.raises(LookupError, match="run the retrain pipeline first"):
        run_kedro(project, ["forecast"])
    assert not (project / "data/07_model_output/forecast.csv").exists()


@pytest.mark.slow
def test_champion_moves_only_on_improvement_and_forecast_uses_it(project):
    # a cycle both families learn and neither baseline follows: the gate promotes them
    data = gate_series.write(project, "cycle.csv", gate_series.learnable())
    run_kedro(project, ["retrain"], params={**FAST_INTERVALS, "data": data})
    # the ensemble of two winners wins too (MAE is convex: the mean forecast errs no more)
    assert champion_versions(project) == {"cnn_lstm": "1", "lstm": "1", "ensemble": "1"}
    assert {d["decision"] for d in decisions(project).values()} == {"promoted"}

    # the same interval settings, barely trained
    worse = with_intervals(WORSE)
    said = retrain_saying(project, {**worse, "data": data}, "seqcast.hooks", logging.INFO)
    assert champion_versions(project) == {"cnn_lstm": "1", "lstm": "1", "ensemble": "1"}
    # the run ends saying what it produced: scores against the baselines, decisions, the run
    assert any(m.startswith("cnn_lstm ") and "baseline" in m for m in said)
    assert any("seqcast-lstm: version 2" in m and "KEPT" in m for m in said)
    assert any("MLflow run 'retrain seattle-weather'" in m for m in said)
    for label, decision in decisions(project).items():
        assert decision["decision"] == "kept" and decision["version"] == 2
        assert decision["challenger_mase"] > decision["champion_mase"] * 0.98
        assert "margin" in decision["reason"] and not decision["champion_loses_to"]
        version = MlflowClient().get_model_version(registry.model_name(label), "2")
        assert version.tags["decision"] == "kept"
        assert version.tags["champion_version"] == "1"
        assert "gate MASE" in version.description and version.run_id in version.description
        first = MlflowClient().get_model_version(registry.model_name(label), "1")
        # the champion's score on this data, under the data's date as well as the latest
        assert first.tags[f"mase_on_{first.tags['data_end'][:10]}"] == first.tags["mase"]
        assert "champion" in MlflowClient().get_registered_model(
            registry.model_name(label)).description
        assert version.run_id  # linked to the child run that logged it
        assert MlflowClient().get_run(version.run_id).data.tags["model_family"] == label
    assert MlflowClient().get_model_version("seqcast-ensemble", "1").tags["features"]

    # inference reads the latest data into its own dataset: training's series stays as it was
    training_files = [project / "data/02_intermediate/series.parquet",
                      project / "data/02_intermediate/ingestion_report.json"]
    before = [(f.read_bytes(), f.stat().st_mtime_ns) for f in training_files]
    run_kedro(project, ["forecast"], params={"data": data})
    assert [(f.read_bytes(), f.stat().st_mtime_ns) for f in training_files] == before
    forecast = pd.read_csv(project / "data/07_model_output/forecast.csv",
                           parse_dates=["timestamp"])
    assert len(forecast) == 7 and forecast["version"].eq(1).all()
    assert forecast["model"].isin([registry.model_name(ns) for ns in MODELS]).all()
    assert list(forecast["timestamp"]) == list(pd.date_range("2021-08-23", periods=7))
    assert forecast["forecast"].between(0, 20).all()
    # the champion's quantiles beside its forecast, the median being the forecast
    assert list(forecast.columns[3:6]) == ["q0.1", "q0.5", "q0.9"]
    assert (forecast["q0.5"] == forecast["forecast"]).all()
    assert ((forecast["q0.1"] < forecast["q0.5"]) & (forecast["q0.5"] < forecast["q0.9"])).all()
    written = pd.read_csv(project / "data/07_model_output/forecast.csv", dtype=str)["forecast"]
    digits = [len(v.replace(".", "").lstrip("-0").rstrip("0")) for v in written]
    assert max(digits) == 6  # a model's float32 forecasts, rounded to outputs.significant_digits
    # the ensemble's champion serves like a family's, loaded from its one .keras file
    run_kedro(project, ["forecast"], params={"data": data, "forecast": {"namespace": "ensemble"}})
    served = pd.read_csv(project / "data/07_model_output/forecast.csv")
    assert served["model"].eq("seqcast-ensemble").all() and served["version"].eq(1).all()
    assert served["forecast"].between(0, 20).all()

    # a failing job leaves the alias where it was
    raw = pd.read_csv(project / "data/01_raw/seattle-weather.csv")
    raw.loc[100, "temp_max"] = float("inf")
    raw.to_csv(project / "data/01_raw/broken.csv", index=False)
    with pytest.raises(ValueError, match="infinite"):
        run_kedro(project, ["retrain"], params={**FAST, "data": {"path": "data/01_raw/broken.csv"}})
    assert champion_versions(project) == {"cnn_lstm": "1", "lstm": "1", "ensemble": "1"}


@pytest.mark.slow
def test_forecast_refuses_data_it_cannot_use(project):
    data = gate_series.write(project, "cycle.csv", gate_series.learnable())
    run_kedro(project, ["retrain"], params={**FAST, "data": data})
    synthetic_raw(400).rename(columns={"load": "temp_max"}).to_csv(
        project / "data/01_raw/other.csv", index=False)
    params = {"data": {"path": "data/01_raw/other.csv", "time_column": "ts",
                       "targets": "temp_max"}}
    with pytest.raises(ValueError, match=r"has features \['temp_max', 'temp'\] but"):
        run_kedro(project, ["forecast"], params=params)

    recent = gate_series.write(project, "recent.csv", gate_series.learnable().tail(20))
    short = {"data": recent,
             "windows": {"n_seq": 1, "n_steps": 2, "horizon": 1, "season_length": 1,
                         "origins": 1, "validation_origins": 1},
             "forecast": {"namespace": "lstm"}}
    with pytest.raises(ValueError, match="recent.csv: 20 points, but seqcast-lstm needs the "
                                         "last 28"):
        run_kedro(project, ["forecast"], params=short)
    assert not (project / "data/07_model_output/forecast.csv").exists()


@pytest.mark.slow
def test_two_retrains_at_once_promote_once(project):
    # The store exists already, as on any machine that has run seqcast once: two processes
    # creating a fresh SQLite store at the same instant race in MLflow's own schema setup.
    data = gate_series.write(project, "cycle.csv", gate_series.learnable())
    run_kedro(project, ["ingestion"], params={"data": data})
    fast = ",".join([*(f"{ns}.training.epochs=2,{ns}.model.units=8" for ns in FAST),
                     *(f"data.{key}={value}" for key, value in data.items())])
    command = [sys.executable, "-m", "kedro", "run", "--pipelines", "retrain", "--params", fast]
    jobs = []
    for _ in range(2):
        jobs.append(subprocess.Popen(command, cwd=project, env=dict(os.environ),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True))
        # Kedro versions outputs by the session's start, to the millisecond: two sessions
        # created in the same millisecond would share one. A second apart, the jobs still
        # overlap for their whole run.
        time.sleep(1)
    outputs = [job.communicate(timeout=600)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for label in FAST:
        name = registry.model_name(label)
        versions = client.search_model_versions(f"name='{name}'")
        assert sorted(str(v.version) for v in versions) == ["1", "2"]
        promoted = [str(v.version) for v in versions if v.tags.get("decision") == "promoted"]
        assert len(promoted) == 1
        assert str(client.get_model_version_by_alias(name, "champion").version) == promoted[0]
    decided = [line for out in outputs for line in out.splitlines() if "seqcast.promotion" in line]
    assert sum("PROMOTED" in line for line in decided) == len(MODELS)  # once per model
    assert sum("another retrain job holds" in out for out in outputs) == 1  # one waited


def keras_file(name: str, version: str) -> Path:
    """A version's .keras file, in a store with a local artifact folder."""
    folder = MlflowClient().get_model_version_download_uri(name, version)
    return Path(local_file_uri_to_path(folder)) / registry.KERAS_FILE


def retrain_saying(project, params: dict, logger: str, level: int = logging.WARNING):
    """Run the retrain pipeline: what ``logger`` said at ``level`` or above."""
    heard = Records(level)
    logging.getLogger(logger).addHandler(heard)
    try:
        run_kedro(project, ["retrain"], params=params)
    finally:
        logging.getLogger(logger).removeHandler(heard)
    return heard.messages


class Records(logging.Handler):
    def __init__(self, level=logging.WARNING):
        super().__init__(level)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.slow
def test_unusable_champion_is_recorded_as_failed_and_replaced(project):
    data = gate_series.write(project, "cycle.csv", gate_series.learnable())
    run_kedro(project, ["retrain"], params={**FAST, "data": data})
    lstm, cnn = registry.model_name("lstm"), registry.model_name("cnn_lstm")
    keras_file(lstm, "1").write_bytes(b"not a zip archive")
    keras_file(cnn, "1").unlink()

    # forecast: which model, version, alias and file, and what to do; no "File not found"
    only = {"data": data, "forecast": {"namespace": "lstm"}}
    with pytest.raises(registry.ModelLoadError, match=(
            r"registered model 'seqcast-lstm' version 1 \(alias 'champion'\): "
            r"data/model.keras is not a .keras archive \(corrupt or truncated\); run the "
            r"retrain pipeline")) as error:
        run_kedro(project, ["forecast"], params=only)
    assert "File not found" not in str(error.value)
    with pytest.raises(registry.ModelLoadError, match=r"'seqcast-cnn_lstm' version 1 \(alias "
                                                       r"'champion'\): its artifacts have no "
                                                       r"data/model.keras"):
        run_kedro(project, ["forecast"], params={"data": data,
                                                 "forecast": {"namespace": "cnn_lstm"}})

    # retrain: each failed champion is recorded and the challenger promoted
    warnings = retrain_saying(project, {**FAST, "data": data}, "seqcast.promotion")
    # the ensemble's champion is self-contained: its members' broken files do not touch it,
    # and the same seeds retrain it identically, so it is kept
    assert champion_versions(project) == {"cnn_lstm": "2", "lstm": "2", "ensemble": "1"}
    client = MlflowClient()
    for name, reason in ((lstm, "is not a .keras archive"), (cnn, "artifacts have no")):
        record = decisions(project)[name.removeprefix("seqcast-")]
        assert record["decision"] == "promoted" and str(record["champion_version"]) == "1"
        assert record["champion_mase"] is None and reason in record["champion_failed"]
        assert reason in client.get_model_version(name, "1").tags["failed"]
        assert client.get_model_version(name, "2").tags["champion_mase"] == "failed"
        assert any(name in m and reason in m for m in warnings), warnings

    # a champion whose shapes no longer fit the windows is failed the same way
    windows = {"data": data, "windows": {"n_steps": 14}}
    run_kedro(project, ["retrain"], params={**FAST, **windows})
    assert champion_versions(project) == {"cnn_lstm": "3", "lstm": "3", "ensemble": "3"}
    record = decisions(project)["lstm"]
    assert "takes inputs (28, 2) and forecasts (7, 1), the data and windows need (56, 2)" in \
        record["champion_failed"]
    run_kedro(project, ["forecast"], params={**only, **windows})
    served = pd.read_csv(project / "data/07_model_output/forecast.csv")
    assert served["version"].eq(3).all()
    # point forecasts (the default quantiles: []): no quantile columns
    assert list(served.columns[:4]) == ["timestamp", "target", "forecast", "model"]
    assert not any(intervals.is_quantile_column(c) for c in served.columns)
