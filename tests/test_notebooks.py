"""The notebooks: committed without outputs, and run headless against real project data."""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from tests.conftest import FAST, ROOT, run_kedro

EXPLORE = ROOT / "notebooks" / "01_explore.ipynb"
COMPARE = ROOT / "notebooks" / "02_compare_runs.ipynb"


@pytest.mark.parametrize("notebook", [EXPLORE, COMPARE], ids=lambda p: p.stem)
def test_notebook_is_committed_clean(notebook):
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def execute(notebook, project, kernel, plots: int) -> list:
    """Run a copy in ``project/notebooks``; check every cell ran and the plots drew.

    Returns the code cells with their outputs.
    """
    notebooks = project / "notebooks"
    notebooks.mkdir()
    shutil.copy(notebook, notebooks)
    nb = nbformat.read(notebooks / notebook.name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name=kernel, resources={"metadata": {"path": str(notebooks)}},
    ).execute()  # raises CellExecutionError on the first failing cell
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert not [out for cell in code for out in cell.outputs if out.output_type == "error"]
    plotting = [cell for cell in code if "plt.subplot" in cell.source]
    assert len(plotting) == plots
    for cell in plotting:
        assert any("image/png" in out.get("data", {}) for out in cell.outputs), cell.source[:80]
    return code


def text_of(cell) -> str:
    """A cell's printed text and the plain-text form of its results."""
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                   for out in cell.outputs)


@pytest.mark.slow  # a Jupyter kernel
def test_explore_runs_headless(project, python3_kernel, monkeypatch):
    run_kedro(project, ["ingestion", "windowing"])
    monkeypatch.setenv("SEQCAST_PROJECT", str(project))  # the kernel inherits the environment
    code = execute(EXPLORE, project, python3_kernel, plots=2)
    # the summary tables show the series and the window geometry
    text = json.dumps([out.get("data", {}) for cell in code for out in cell.outputs])
    assert "temp_max" in text and "2015-11-06" in text


@pytest.mark.slow  # a Jupyter kernel and a trained project
def test_compare_runs_headless(trained_project, python3_kernel, tmp_path, monkeypatch):
    # A copy of the shared project, which other tests expect to hold exactly one `kedro run`.
    # Its store still keeps artifacts under the original's absolute mlruns/ path; new runs'
    # artifacts go there too, next to (never over) the original runs'.
    project = tmp_path / "project"
    shutil.copytree(trained_project, project, ignore=shutil.ignore_patterns("mlruns"))
    uri = f"sqlite:///{project / 'mlflow.db'}"
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # the kernel inherits the environment
    monkeypatch.setenv("SEQCAST_PROJECT", str(project))
    run_kedro(project, ["training", "evaluation"], params=FAST)  # a second run, later in time

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("seqcast").experiment_id])
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    assert len(runs) - len(children) == 2 and len(children) == 6  # 2 families + ensemble

    code = execute(COMPARE, project, python3_kernel, plots=2)
    # the table: every finished child run, both families
    table = text_of(next(cell for cell in code if "search_runs" in cell.source))
    assert "6 child runs from 2 kedro runs" in table
    assert re.search(r"\bcnn_lstm\b", table) and re.search(r"\blstm\b", table)
    # the best model's forecast: `horizon` steps after the series' last day (2015-12-31)
    spec = json.loads((project / "data/05_model_input/window_spec.json").read_text())
    forecast = text_of(next(cell for cell in code if "FORECAST_ROWS" in cell.source))
    assert re.search(rf"^FORECAST_ROWS={spec['horizon']}$", forecast, re.MULTILINE), forecast
    assert spec["horizon"] == 7 and "2016-01-01" in forecast and "2016-01-07" in forecast
