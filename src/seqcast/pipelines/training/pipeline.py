"""Wiring: the same two nodes for every family in ``seqcast.models.FAMILIES``, then the
ensemble of their forecasters (namespace ``ensemble``, members ``params:ensemble.members``).

``kedro run --pipelines training --namespaces training.lstm`` trains one family. Each family's
namespace reads its own parameters block (``params:<namespace>.model`` …) and writes
``<namespace>.forecaster``, ``<namespace>.training_record`` and ``<namespace>.backtest``.
"""

from kedro.pipeline import Node, Pipeline

from seqcast.models import ENSEMBLE, FAMILIES
from seqcast.wiring import for_namespace

from .nodes import backtest_model, ensemble_model, train_model


def backtest_node(namespace: str) -> Node:
    return Node(
        for_namespace(backtest_model, namespace),
        inputs=["series", "window_spec", "forecaster"],
        outputs="backtest",
        name="backtest",
    )


def family_pipeline(namespace: str) -> Pipeline:
    template = Pipeline(
        [
            Node(
                train_model,
                inputs=["series", "window_spec", "params:family", "params:model",
                        "params:training"],
                outputs=["forecaster", "training_record"],
                name="train_model",
            ),
            backtest_node(namespace),
        ]
    )
    return Pipeline(template, namespace=namespace, inputs={"series", "window_spec"})


def ensemble_pipeline() -> Pipeline:
    members = [f"{ns}.forecaster" for ns in FAMILIES]
    template = Pipeline([
        Node(ensemble_model, inputs=["series", "window_spec", "params:members",
                                     "params:combination", "params:baselines",
                                     "params:calibrate", *members],
             outputs=["forecaster", "training_record"], name="build_ensemble"),
        backtest_node(ENSEMBLE),
    ])
    return Pipeline(template, namespace=ENSEMBLE,
                    inputs={"series", "window_spec", *members})


def create_pipeline(**kwargs) -> Pipeline:
    # The families nest under the stage's namespace (nodes ``training.lstm.train_model``);
    # their datasets keep the family's (``lstm.forecaster``).
    return Pipeline([*(family_pipeline(name) for name in FAMILIES), ensemble_pipeline()],
                    namespace="training", prefix_datasets_with_namespace=False)
