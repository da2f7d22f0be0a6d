"""Wiring: the same two nodes for every family in ``seqcast.models.FAMILIES``.

``kedro run --pipelines training --namespaces lstm`` trains one family. Each namespace reads
its own parameters block (``params:<namespace>.model`` …) and writes ``<namespace>.model``,
``<namespace>.history`` and ``<namespace>.backtest``.
"""

from kedro.pipeline import Node, Pipeline

from seqcast.models import FAMILIES
from seqcast.pipelines import for_namespace

from .nodes import backtest, train_model


def family_pipeline(namespace: str) -> Pipeline:
    labelled = for_namespace(backtest, namespace)
    template = Pipeline(
        [
            Node(
                train_model,
                inputs=["series", "window_spec", "params:family", "params:model",
                        "params:training"],
                outputs=["model", "history"],
                name="train_model",
            ),
            Node(
                labelled,
                inputs=["series", "window_spec", "model"],
                outputs="backtest",
                name="backtest",
            ),
        ]
    )
    return Pipeline(template, namespace=namespace, inputs={"series", "window_spec"})


def create_pipeline(**kwargs) -> Pipeline:
    return sum((family_pipeline(name) for name in FAMILIES), Pipeline([]))
