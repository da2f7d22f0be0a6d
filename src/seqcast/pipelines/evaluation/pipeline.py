"""Wiring: one evaluation over every model's backtest (the families' and the ensemble's),
then one tracking node per model; loss curves for the trained families."""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES, MODELS
from seqcast.plots import plot_losses
from seqcast.tracking import log_run_summary, track_family
from seqcast.wiring import for_namespace

from .nodes import evaluate_all, plot_evaluation


def tracking_node(namespace: str) -> Node:
    return Node(
        for_namespace(track_family, namespace),
        inputs=["evaluation", f"params:{namespace}", f"{namespace}.training_record",
                f"{namespace}.forecaster"],
        outputs=f"{namespace}.tracking",
        name=f"track_{namespace}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            *(tracking_node(ns) for ns in MODELS),
            Node(log_run_summary, inputs=["metrics", "window_spec", "series", "params:data"],
                 outputs=None,
                 name="log_run_summary"),
            Node(
                evaluate_all,
                inputs=["series", "window_spec", "params:data",
                        "params:outputs.significant_digits",
                        *(f"{ns}.backtest" for ns in MODELS)],
                outputs=["metrics", "backtest_forecasts", "metrics_by_series", "evaluation"],
                name="evaluate",
            ),
            Node(plot_evaluation, inputs="evaluation",
                 outputs=["forecast_plot", "mase_ratio_plot"], name="plot_forecasts"),
            Node(
                plot_losses,
                inputs=[f"{ns}.training_record" for ns in FAMILIES],
                outputs="loss_plot",
                name="plot_losses",
            ),
        ],
        namespace="evaluation", prefix_datasets_with_namespace=False,
    )
