"""Wiring: the retrain job's own step, one decision per model (each family and the
ensemble). The whole job (ingest, window, train, evaluate, decide) is composed in
``seqcast.pipeline_registry``."""

from kedro.pipeline import Node, Pipeline

from seqcast.models import MODELS
from seqcast.promotion import decide
from seqcast.wiring import for_namespace

from .nodes import collect_decisions


def decision_node(namespace: str) -> Node:
    return Node(
        for_namespace(decide, namespace),
        inputs=["evaluation", f"{namespace}.tracking", f"{namespace}.forecaster",
                "params:retrain"],
        outputs=f"{namespace}.decision",
        name=f"decide_{namespace}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        *(decision_node(ns) for ns in MODELS),
        Node(collect_decisions, inputs=[f"{ns}.decision" for ns in MODELS],
             outputs="retrain_decisions", name="collect_decisions"),
    ], namespace="retrain", prefix_datasets_with_namespace=False)
