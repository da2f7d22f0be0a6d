"""Wiring of the echo reproduction (`kedro run --pipelines echo`)."""

from kedro.pipeline import Node, Pipeline

from .nodes import train_echo_models


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [Node(train_echo_models, inputs="params:echo", outputs="echo_table", name="echo_models")]
    )
