"""Wiring: one evaluation over every family's backtest."""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES
from seqcast.pipelines import for_namespace
from seqcast.tracking import log_run_summary, track_family

from .nodes import evaluate, plot_forecasts, plot_losses


def tracking_node(namespace: str) -> Node:
    return Node(
        for_namespace(track_family, namespace),
        inputs=["backtest_forecasts", "series", "window_spec", "params:data",
                f"params:{namespace}", "metrics", f"{namespace}.history", f"{namespace}.model"],
        outputs=f"{namespace}.tracking",
        name=f"track_{namespace}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            *(tracking_node(ns) for ns in FAMILIES),
            Node(log_run_summary, inputs=["metrics", "window_spec"], outputs=None,
                 name="log_run_summary"),
            Node(
                evaluate,
                inputs=["series", "window_spec", *(f"{ns}.backtest" for ns in FAMILIES)],
                outputs=["metrics", "backtest_forecasts"],
                name="evaluate",
            ),
            Node(
                plot_forecasts,
                inputs=["backtest_forecasts", "series", "window_spec"],
                outputs="forecast_plot",
                name="plot_forecasts",
            ),
            Node(
                plot_losses,
                inputs=[f"{ns}.history" for ns in FAMILIES],
                outputs="loss_plot",
                name="plot_losses",
            ),
        ]
    )
