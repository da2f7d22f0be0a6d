"""The MLflow model registry: one registered model per family, the ``champion`` alias.

Versions are never deleted; only the alias moves, and only through :func:`move_champion`,
which checks that the alias still points where the caller last saw it (compare-and-set).
"""

from __future__ import annotations

import logging

import keras
import mlflow
import mlflow.tensorflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import seqcast.models  # noqa: F401  (registers the custom layers the saved models use)
from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

CHAMPION = "champion"


class NoChampionError(SeqcastError, LookupError):
    """No version of the model carries the champion alias yet."""


def model_name(namespace: str) -> str:
    return f"seqcast-{namespace}"


def champion(name: str, client: MlflowClient | None = None) -> ModelVersion | None:
    client = client or MlflowClient()
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def load_version(name: str, version: str | int) -> keras.Model:
    return mlflow.tensorflow.load_model(f"models:/{name}/{version}")


def load_champion(name: str) -> tuple[keras.Model, ModelVersion]:
    current = champion(name)
    if current is None:
        raise NoChampionError(
            f"registered model {name!r} has no '{CHAMPION}' version yet; run the retrain "
            "pipeline first (kedro run --pipelines retrain, or make retrain)"
        )
    return load_version(name, current.version), current


def register(name: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
    """A new version of ``name`` from a logged model, linked to the run that logged it."""
    return mlflow.register_model(model_uri, name, tags=tags)


def move_champion(name: str, version: str, expected: str | None,
                  client: MlflowClient | None = None) -> bool:
    """Point ``champion`` at ``version`` if it still points at ``expected`` (None: unset).

    Returns False, moving nothing, when another job moved the alias in the meantime.
    """
    client = client or MlflowClient()
    current = champion(name, client)
    if (current.version if current else None) != expected:
        logger.warning("%s: champion moved to version %s during evaluation; not moving it",
                       name, current.version if current else None)
        return False
    client.set_registered_model_alias(name, CHAMPION, version)
    return True


def tag_version(name: str, version: str, tags: dict[str, object]) -> None:
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))
