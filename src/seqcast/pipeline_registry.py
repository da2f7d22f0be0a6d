"""Project pipelines: each registered by name, ``__default__`` runs them end to end.

The operations pipelines are composed here, from the pipelines they run: ``retrain`` (the
scheduled job), ``forecast`` (batch inference on freshly ingested data) and ``tune`` (the
default run with tuned models).
"""

from __future__ import annotations

import importlib

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The end-to-end run, in data-flow order. Operations pipelines (retrain, forecast, tune) stay
# out.
DEFAULT = ("ingestion", "windowing", "training", "evaluation")


def _create(name: str) -> Pipeline:
    # Kedro may have loaded only the pipelines a run asked for: load a part by its name.
    return importlib.import_module(f"{__package__}.pipelines.{name}").create_pipeline()


def _composites(pipelines: dict[str, Pipeline]) -> dict[str, Pipeline]:
    composed = {}
    if "retrain" in pipelines:
        composed["retrain"] = sum((_create(n) for n in DEFAULT), Pipeline([])) + pipelines[
            "retrain"]
    if "forecast" in pipelines:
        # Inference writes its own datasets only: training's `series` and ingestion report
        # stay as training left them (the forecast's are kept in memory).
        latest = Pipeline(_create("ingestion"), outputs={
            "series": "forecast_series", "ingestion_report": "forecast_ingestion_report"})
        composed["forecast"] = latest + pipelines["forecast"]
    if "tune" in pipelines:
        # Tuning writes each family's model, training record and child run: it replaces the
        # default run's nodes writing them (training, tracking) and keeps the rest.
        default = sum((_create(n) for n in DEFAULT), Pipeline([]))
        written = pipelines["tune"].all_outputs()
        composed["tune"] = Pipeline(
            [n for n in default.nodes if not written & set(n.outputs)]) + pipelines["tune"]
    return composed


def register_pipelines() -> dict[str, Pipeline]:
    # Kedro loads only the pipelines a run asks for, so some names may be absent here.
    pipelines = find_pipelines(raise_errors=True)
    pipelines.update(_composites(pipelines))
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT if name in pipelines), Pipeline([])
    )
    return pipelines
