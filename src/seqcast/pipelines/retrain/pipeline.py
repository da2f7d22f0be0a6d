"""Wiring: the scheduled job — ingest, window, train, evaluate, then decide per family."""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES
from seqcast.pipelines import evaluation, for_namespace, ingestion, training, windowing

from .nodes import collect_decisions, decide


def decision_node(namespace: str) -> Node:
    return Node(
        for_namespace(decide, namespace),
        inputs=["series", "window_spec", f"{namespace}.tracking", "metrics", "params:retrain"],
        outputs=f"{namespace}.decision",
        name=f"decide_{namespace}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    steps = (ingestion.create_pipeline() + windowing.create_pipeline()
             + training.create_pipeline() + evaluation.create_pipeline())
    return steps + Pipeline([
        *(decision_node(ns) for ns in FAMILIES),
        Node(collect_decisions, inputs=[f"{ns}.decision" for ns in FAMILIES],
             outputs="retrain_decisions", name="collect_decisions"),
    ])
