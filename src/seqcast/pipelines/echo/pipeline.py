"""Wiring of the echo example (`kedro run --pipelines echo`): the seed's toy models, kept
runnable as a worked example of the project's layout; not part of any production run."""

from kedro.pipeline import Node, Pipeline

from .nodes import train_echo_models


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [Node(train_echo_models, inputs="params:echo", outputs="echo_table", name="echo_models",
              tags=["example"])]
    )
