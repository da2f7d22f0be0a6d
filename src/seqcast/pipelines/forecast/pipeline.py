"""Wiring: forecast from a champion or a baseline. The ingestion of the latest data into the
forecast's own ``forecast_series`` is composed in ``seqcast.pipeline_registry``."""

from kedro.pipeline import Node, Pipeline

from .nodes import forecast_next


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        Node(forecast_next, inputs=["forecast_series", "params:data", "params:forecast",
                                    "params:windows", "params:outputs.significant_digits",
                                    "future_features"],
             outputs="forecast", name="forecast_next"),
    ], namespace="forecast", prefix_datasets_with_namespace=False)
