"""Wiring: ingest the latest data into the forecast's own series, forecast from the champion."""

from kedro.pipeline import Node, Pipeline

from seqcast.pipelines import ingestion

from .nodes import forecast_next


def create_pipeline(**kwargs) -> Pipeline:
    # Inference writes its own datasets only: the training `series` stays as training left it.
    latest = Pipeline(ingestion.create_pipeline(), outputs={"series": "forecast_series"})
    return latest + Pipeline([
        Node(forecast_next, inputs=["forecast_series", "params:data", "params:forecast"],
             outputs="forecast", name="forecast_next"),
    ])
