"""The exploration notebook: committed without outputs, and runs headless on a fresh project."""

from __future__ import annotations

import json
import shutil

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT, run_kedro

NOTEBOOK = ROOT / "notebooks" / "01_explore.ipynb"


def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs_headless(project, python3_kernel, monkeypatch):
    run_kedro(project, ["ingestion", "windowing"])
    notebooks = project / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOK, notebooks)
    monkeypatch.setenv("SEQCAST_PROJECT", str(project))  # the kernel inherits the environment

    nb = nbformat.read(notebooks / NOTEBOOK.name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name=python3_kernel,
        resources={"metadata": {"path": str(notebooks)}},
    ).execute()  # raises CellExecutionError on the first failing cell

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert not [out for cell in code for out in cell.outputs if out.output_type == "error"]
    plotting = [cell for cell in code if "plt.subplot" in cell.source]
    assert len(plotting) == 2
    for cell in plotting:
        assert any("image/png" in out.get("data", {}) for out in cell.outputs), cell.source[:80]
    # the summary tables show the series and the window geometry
    text = json.dumps([out.get("data", {}) for cell in code for out in cell.outputs])
    assert "temp_max" in text and "2015-11-06" in text
