"""Wiring of the windowing pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import window_spec


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                window_spec,
                inputs=["series", "params:data", "params:windows"],
                outputs="window_spec",
                name="make_window_spec",
            )
        ],
        namespace="windowing", prefix_datasets_with_namespace=False,
    )
