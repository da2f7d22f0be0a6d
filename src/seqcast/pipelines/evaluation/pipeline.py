"""Wiring: one evaluation over every family's backtest."""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES

from .nodes import evaluate, plot_forecasts, plot_losses


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
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
