"""Kedro-Viz builds the project's pipelines into a static site."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.conftest import ROOT

STAGES = ("ingestion", "windowing", "training", "evaluation")


def test_kedro_viz_is_a_dev_dependency():
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(spec.startswith("kedro-viz") for spec in dev["dev"])


@pytest.mark.slow
def test_kedro_viz_build_holds_every_stage_and_its_nodes(project):
    done = subprocess.run([sys.executable, "-m", "kedro", "viz", "build"], cwd=project,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    api = project / "build" / "api"
    assert (project / "build" / "index.html").is_file()
    bootstrap_project(project)  # the pipelines as `kedro run` registers them
    built = {}
    for name in (*STAGES, "__default__"):
        site = json.loads((api / "pipelines" / name).read_text())
        assert site["selected_pipeline"] == name
        built[name] = {n["full_name"] for n in site["nodes"] if n["type"] == "task"}
        assert built[name] == {n.name for n in pipelines[name].nodes}, name
    assert {"training.cnn_lstm.train_model", "training.lstm.train_model"} <= built["training"]
    assert set().union(*(built[s] for s in STAGES)) <= built["__default__"]
    # the top level shows one collapsible box per stage; the families nest inside training
    for name, boxes in (("__default__", STAGES), ("retrain", (*STAGES, "retrain")),
                        ("forecast", ("ingestion", "forecast"))):
        tree = json.loads((api / "pipelines" / name).read_text())["modular_pipelines"]
        top = {c["id"] for c in tree["__root__"]["children"] if c["type"] == "modularPipeline"}
        assert top == set(boxes), name
        if "training" in boxes:
            inner = {c["id"] for c in tree["training"]["children"]}
            assert {"training.cnn_lstm", "training.lstm"} <= inner
