"""Wiring of the ingestion pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import clean_series


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                clean_series,
                inputs=["raw_series", "params:data", "params:windows"],
                outputs="series",
                name="clean_series",
            )
        ]
    )
