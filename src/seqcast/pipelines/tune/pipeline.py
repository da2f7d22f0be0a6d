"""Wiring: per family, a tuning node in place of training's, and tracking nodes that log the
tuned family (its chosen values as params) and its trials in place of evaluation's.

``kedro run --pipelines tune`` is this, composed in ``pipeline_registry.py`` with the default
run's pipelines minus the nodes writing what this writes: ingestion, windowing, tuning, each
family's backtest, evaluation, tracking.
"""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES
from seqcast.tracking import track_family
from seqcast.tuning_tracking import track_trials
from seqcast.wiring import for_namespace

from .nodes import tune_model


def search_node(namespace: str) -> Node:
    return Node(for_namespace(tune_model, namespace),
                inputs=["series", "window_spec", f"params:{namespace}", "params:tuning"],
                outputs=[f"{namespace}.{name}" for name in (
                    "forecaster", "training_record", "tuning", "tuned")],
                name="tune_model", namespace=namespace)


def tracking_nodes(namespace: str) -> list[Node]:
    return [
        Node(for_namespace(track_family, namespace),
             inputs=["evaluation", f"{namespace}.tuned", f"{namespace}.training_record",
                     f"{namespace}.forecaster"],
             outputs=f"{namespace}.tracking", name=f"track_tuned_{namespace}"),
        Node(track_trials,
             inputs=[f"{namespace}.tracking", f"{namespace}.tuning", f"{namespace}.tuned",
                     "window_spec"],
             outputs=f"{namespace}.trial_runs", name=f"track_{namespace}_trials"),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    # The searches form one box in Kedro-Viz; their tracking runs after evaluation, so it
    # sits in evaluation's box (a namespace must not be left and re-entered).
    stage = {"prefix_datasets_with_namespace": False}
    return (Pipeline([search_node(ns) for ns in FAMILIES], namespace="tuning", **stage)
            + Pipeline([n for ns in FAMILIES for n in tracking_nodes(ns)],
                       namespace="evaluation", **stage))
