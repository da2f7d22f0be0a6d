"""The layout rule: library modules hold the logic, pipelines only wire it, so nothing in the
project imports from ``seqcast.pipelines`` (Kedro finds the pipelines itself; the registry
composes them by name)."""

from __future__ import annotations

import ast
import json

from tests.conftest import ROOT

FORBIDDEN = "seqcast.pipelines"
# Tests of the ingestion node still call it through its module.


def _sources() -> dict[str, str]:
    """Every .py and every notebook's code cells of the project, by relative path."""
    sources = {}
    for path in sorted(ROOT.rglob("*.py")) + sorted(ROOT.rglob("*.ipynb")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".", "data/")) or "/." in relative or "site-packages" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join(
                "".join(c["source"]) for c in cells if c["cell_type"] == "code"
                # IPython magics and shell escapes are not Python
            )
            text = "\n".join(line for line in text.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
        sources[relative] = text
    return sources


def pipeline_imports(source: str) -> list[str]:
    """The modules under ``seqcast.pipelines`` that ``source`` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _under(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _under(node.module):
                found.append(node.module)
            elif node.module == "seqcast":
                found += [f"seqcast.{a.name}" for a in node.names if a.name == "pipelines"]
    return found


def _under(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def test_the_rule_sees_every_form_of_import():
    assert pipeline_imports("import seqcast.pipelines.training.nodes") == [
        "seqcast.pipelines.training.nodes"]
    assert pipeline_imports("from seqcast.pipelines import ingestion") == ["seqcast.pipelines"]
    assert pipeline_imports("from seqcast import pipelines") == ["seqcast.pipelines"]
    assert pipeline_imports("from seqcast import windows\nimport seqcast.plots") == []


def test_nothing_imports_from_the_pipelines():
    sources = _sources()
    assert "src/seqcast/tracking.py" in sources and "notebooks/01_explore.ipynb" in sources
    offenders = {path: found for path, text in sources.items()
                 if (found := pipeline_imports(text))}
    assert not offenders, (
        f"modules importing from {FORBIDDEN} (move the logic to a library module): {offenders}")


def test_operations_pipelines_are_composed_by_the_registry(project):
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    retrain, forecast = pipelines["retrain"], pipelines["forecast"]
    names = {node.name for node in retrain.nodes}
    assert {"ingestion.clean_series", "windowing.make_window_spec",
            "training.cnn_lstm.train_model", "evaluation.evaluate", "retrain.decide_lstm",
            "retrain.collect_decisions"} <= names
    assert {node.name for node in forecast.nodes} == {"ingestion.clean_series",
                                                      "forecast.forecast_next"}
    assert forecast.all_outputs() == {"forecast_series", "forecast_ingestion_report", "forecast"}
