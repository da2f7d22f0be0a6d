"""Wiring: ingest the latest data, forecast from the champion."""

from kedro.pipeline import Node, Pipeline

from seqcast.pipelines import ingestion

from .nodes import forecast_next


def create_pipeline(**kwargs) -> Pipeline:
    return ingestion.create_pipeline() + Pipeline([
        Node(forecast_next, inputs=["series", "params:data", "params:forecast"],
             outputs="forecast", name="forecast_next"),
    ])
