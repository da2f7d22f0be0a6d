"""Wiring of the ingestion pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import clean_series_with_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                clean_series_with_report,
                inputs=["raw_series", "params:data", "params:windows"],
                outputs=["series", "ingestion_report"],
                name="clean_series",
            )
        ],
        namespace="ingestion", prefix_datasets_with_namespace=False,
    )
