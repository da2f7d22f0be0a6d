"""The Kedro project end to end in real sessions: default data, another CSV, bad data."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import run_kedro, synthetic_raw


def test_default_data_runs_and_is_tracked(project):
    run_kedro(project, ["ingestion", "windowing"])
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert len(series) == 1461 and list(series.columns) == [
        "precipitation", "temp_max", "temp_min", "wind"
    ]
    spec = json.loads((project / "data/05_model_input/window_spec.json").read_text())
    assert spec["lookback"] == 28 and spec["lengths"] == [1461]
    assert spec["series"] == ["seattle-weather"] and spec["test_start_at"] == "2015-11-06 00:00:00"
    assert spec["targets"] == ["temp_max"] and spec["frequency"] == "D"
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["seqcast"])
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    assert runs.loc[0, "params.windows.n_seq"] == "4"
    assert runs.loc[0, "params.data.targets"] == "['temp_max']"


def test_a_store_made_before_gets_the_model_development_kind(project):
    """The MLflow UI opens an untagged experiment on GenAI traces; runs name what they did."""
    client = mlflow.tracking.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment_id = client.create_experiment("seqcast")  # as earlier versions left it
    run_kedro(project, ["ingestion"])
    assert client.get_experiment(experiment_id).tags["mlflow.experimentKind"] == (
        "custom_model_development")
    (run,) = client.search_runs([experiment_id])
    assert run.info.run_name == "ingestion seattle-weather"
    assert run.data.tags["dataset"] == "seattle-weather"


def test_another_csv_through_params(project):
    synthetic_raw().to_csv(project / "data/01_raw/plant.csv", index=False)
    params = {"data": {"path": "data/01_raw/plant.csv", "time_column": "ts", "targets": "load",
                       "name": "plant"},
              "windows": {"n_seq": 2, "origins": 4}}
    run_kedro(project, ["ingestion", "windowing"], params=params)
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert list(series.columns) == ["load", "temp"] and len(series) == 400
    spec = json.loads((project / "data/05_model_input/window_spec.json").read_text())
    assert spec["lookback"] == 14 and spec["targets"] == ["load"]


def test_another_csv_through_a_conf_environment(project):
    synthetic_raw().to_csv(project / "data/01_raw/plant.csv", index=False)
    env = project / "conf/plant"
    env.mkdir()
    (env / "globals.yml").write_text("raw_path: data/01_raw/plant.csv\n")
    (env / "parameters.yml").write_text(yaml.safe_dump({
        "data": {"name": "plant", "path": "${globals:raw_path}", "time_column": "ts",
                 "targets": ["load"], "features": ["load", "temp"], "frequency": "D",
                 "duplicates": "error", "max_gap": 2},
    }))
    run_kedro(project, ["ingestion"], env="plant")
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert list(series.columns) == ["load", "temp"] and series.index.name == "ts"


def test_bad_data_writes_nothing(project):
    raw = synthetic_raw()
    raw.loc[3, "temp"] = float("inf")
    raw.to_csv(project / "data/01_raw/bad.csv", index=False)
    params = {"data": {"path": "data/01_raw/bad.csv", "time_column": "ts", "targets": "load"}}
    with pytest.raises(ValueError, match="bad.csv: column 'temp' holds an infinite value"):
        run_kedro(project, ["ingestion", "windowing"], params=params)
    assert not (project / "data/02_intermediate/series.parquet").exists()
    assert not (project / "data/05_model_input/window_spec.json").exists()
