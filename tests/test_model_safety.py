"""Loading a logged or registered model never unpickles anything and never runs its code.

A registered champion's artifacts are rewritten in place, as anyone who can write to the
tracking store could: a malicious pickle where the tensorflow flavour keeps its custom
objects, and a ``.keras`` file with a Lambda layer.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from pathlib import Path

import keras
import mlflow
import mlflow.tensorflow
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from mlflow.utils.file_utils import local_file_uri_to_path

from seqcast import registry
from seqcast.models import MODELS, history_shape
from seqcast.promotion import champion_mase
from tests.conftest import FAST, run_kedro

PICKLES = ("global_custom_objects.cloudpickle", "custom_objects.cloudpickle")


class Payload:
    """Unpickles to ``{}`` (so a loader carries on) after touching ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return eval, (f"(__import__('pathlib').Path({self.marker!r}).touch(), {{}})[1]",)


def artifacts_of(name: str, version: str) -> Path:
    """Where a version's files live in a store with a local artifact folder."""
    return Path(local_file_uri_to_path(MlflowClient().get_model_version_download_uri(name,
                                                                                     version)))


def plant_pickles(folder: Path, marker: Path) -> None:
    """The pickles, and an MLmodel that claims the tensorflow flavour, which reads them."""
    for name in PICKLES:
        (folder / "data" / name).write_bytes(pickle.dumps(Payload(marker)))
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    mlmodel["flavors"]["tensorflow"] = {"data": "data", "model_type": "keras",
                                        "save_format": "keras", "keras_version": "2.21.0"}
    mlmodel["flavors"]["python_function"]["loader_module"] = "mlflow.tensorflow"
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))


def lambda_model(path: Path, like: keras.Model, marker: Path) -> None:
    """A ``.keras`` file whose Lambda layer touches ``marker`` when it runs."""
    history, series = keras.Input(history_shape(like)), keras.Input((), dtype="int32")
    # the path as a constant of the code: Keras cannot reload a lambda's default arguments
    touch = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")
    outputs = keras.layers.Lambda(touch)(history)
    keras.Model([history, series], outputs).save(path)
    marker.unlink()  # building the model ran the layer once


def latest(project: Path):
    return (pd.read_parquet(project / "data/02_intermediate/series.parquet"),
            json.loads((project / "data/05_model_input/window_spec.json").read_text()))


def test_logged_models_hold_no_pickle_and_load_from_keras_alone(trained_project, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{trained_project / 'mlflow.db'}")
    experiment = MlflowClient().get_experiment_by_name("seqcast").experiment_id
    logged = mlflow.search_logged_models(experiment_ids=[experiment], output_format="list")
    assert len(logged) == len(MODELS)  # each family and the ensemble
    for model in logged:
        folder = Path(local_file_uri_to_path(model.artifact_location))
        files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
        assert registry.KERAS_FILE in files
        assert not [f for f in files if "pickle" in f or f.endswith(".pkl")], files
        mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
        assert "keras" in mlmodel["flavors"] and "tensorflow" not in mlmodel["flavors"]
        assert mlmodel["signature"]["inputs"] and "saved_input_example_info" in mlmodel
        assert model.source_run_id  # the model view links it to its child run
        assert registry.load_logged(model.model_uri).count_params() > 0


@pytest.mark.slow
def test_planted_pickle_is_ignored_and_lambda_layer_refused(project):
    run_kedro(project, ["retrain"], params=FAST)
    name, marker = registry.model_name("lstm"), project / "pickle-ran"
    folder = artifacts_of(name, "1")
    plant_pickles(folder, marker)
    series, spec = latest(project)
    version = MlflowClient().get_model_version(name, "1")

    # (a) the pickles are never read: forecast and champion re-scoring work from the .keras
    run_kedro(project, ["forecast"], params={"forecast": {"namespace": "lstm"}})
    assert pd.read_csv(project / "data/07_model_output/forecast.csv")["version"].eq(1).all()
    assert champion_mase(series, spec, name, version) > 0
    assert not marker.exists()
    # the plant is live: MLflow's tensorflow flavour (and pyfunc, which follows the MLmodel)
    # unpickles it
    with contextlib.suppress(Exception):
        mlflow.tensorflow.load_model(f"models:/{name}/1")
    assert marker.exists()
    marker.unlink()

    # (b) a Lambda layer in place of the model: refused by name, its code never runs
    ran = project / "lambda-ran"
    lambda_model(folder / registry.KERAS_FILE, registry.load_version(name, 1), ran)
    (project / "data/07_model_output/forecast.csv").unlink()
    expected = (r"registered model 'seqcast-lstm' version 1 \(alias 'champion'\): "
                r"data/model.keras cannot be loaded: it contains Python code \(a Lambda layer\)")
    with pytest.raises(registry.ModelLoadError, match=expected):
        run_kedro(project, ["forecast"], params={"forecast": {"namespace": "lstm"}})
    with pytest.raises(registry.ModelLoadError, match=expected):
        champion_mase(series, spec, name, version)
    assert not ran.exists() and not marker.exists()
    assert not (project / "data/07_model_output/forecast.csv").exists()
    # the plant is live: an unsafe load runs the layer
    with contextlib.suppress(Exception):
        keras.saving.load_model(folder / registry.KERAS_FILE, safe_mode=False)
    assert ran.exists()
