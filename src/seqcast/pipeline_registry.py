"""Project pipelines: each registered by name, ``__default__`` runs them end to end."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The end-to-end run, in data-flow order. Operations pipelines (retrain, forecast) stay out.
DEFAULT = ("ingestion", "windowing", "training", "evaluation")


def register_pipelines() -> dict[str, Pipeline]:
    # Kedro loads only the pipelines a run asks for, so some names may be absent here.
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT if name in pipelines), Pipeline([])
    )
    return pipelines
