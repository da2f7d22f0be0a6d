"""The MLflow model registry: one registered model per family, the ``champion`` alias.

Versions are never deleted; only the alias moves, and only through :func:`move_champion`,
which checks that the alias still points where the caller last saw it, under a promotion
lease that lets one job at a time (on any machine) check and move it.

Models load from their ``.keras`` file alone (:func:`load_version`, :func:`load_logged`):
nothing else of a version's artifacts is downloaded, read or deserialised, whatever its
``MLmodel`` says, and Keras loads the file with ``safe_mode=True`` (no Python code, no
Lambda layers); the custom layers come from the installed ``seqcast.models``.
"""

from __future__ import annotations

import logging
import os
import posixpath
import random
import socket
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import keras
import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import MlflowClient

import seqcast.models  # noqa: F401  (registers the custom layers the saved models use)
from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

CHAMPION = "champion"
# Where the logged model keeps its Keras file (mlflow.keras' layout; older versions, logged
# with the tensorflow flavour, keep it at the same place).
KERAS_FILE = "data/model.keras"
FIX_CHAMPION = (
    "run the retrain pipeline (kedro run --pipelines retrain), which records a champion it "
    "cannot use as failed and promotes the new model, or point the 'champion' alias at a "
    "version that loads (MlflowClient().set_registered_model_alias(name, 'champion', version))"
)


class NoChampionError(SeqcastError, LookupError):
    """No version of the model carries the champion alias yet."""


class ModelLoadError(SeqcastError):
    """A logged model whose ``.keras`` file is missing or cannot be loaded safely."""


class ModelMismatchError(SeqcastError, ValueError):
    """A model that does not fit the data or the windows it is asked to forecast."""


def model_name(namespace: str) -> str:
    return f"seqcast-{namespace}"


def describe(name: str, version: str | int, alias: str | None = None) -> str:
    """``registered model 'seqcast-lstm' version 3 (alias 'champion')``, for messages."""
    return f"registered model {name!r} version {version}" + (f" (alias {alias!r})" if alias
                                                              else "")


def champion(name: str, client: MlflowClient | None = None) -> ModelVersion | None:
    client = client or MlflowClient()
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        # MLflow's basic-auth app answers 403, not 404, to a user asking for a model that
        # does not exist yet: the first retrain must still find "no champion".
        if err.error_code == "PERMISSION_DENIED" and not client.search_registered_models(
            f"name = '{name}'"
        ):
            return None
        raise


def _load_error_reason(err: Exception) -> str:
    text = str(err)
    if "safe_mode=False" in text:
        # Keras refused to deserialize Python code; its message suggests safe_mode=False,
        # which seqcast never offers.
        return "it contains Python code (a Lambda layer), which seqcast never runs"
    return text.strip().splitlines()[0][:300] if text.strip() else type(err).__name__


def load_keras(model_uri: str, described: str, advice: str = FIX_CHAMPION) -> keras.Model:
    """The ``.keras`` file of the logged model at ``model_uri``, loaded safely.

    Raises :class:`ModelLoadError`, naming ``described``, the file and ``advice``, when the
    file is missing, is not a ``.keras`` archive, or holds what Keras will not load safely.
    Errors reaching the store propagate unchanged.
    """
    repo = get_artifact_repository(model_uri)
    listed = {f.path for f in repo.list_artifacts(posixpath.dirname(KERAS_FILE))}
    if KERAS_FILE not in listed:
        raise ModelLoadError(f"{described}: its artifacts have no {KERAS_FILE}; {advice}")
    with tempfile.TemporaryDirectory(prefix="seqcast-model-") as folder:
        local = repo.download_artifacts(KERAS_FILE, dst_path=folder)
        if not zipfile.is_zipfile(local):
            raise ModelLoadError(f"{described}: {KERAS_FILE} is not a .keras archive (corrupt "
                                 f"or truncated); {advice}")
        try:
            return keras.saving.load_model(local, safe_mode=True, compile=False)
        except Exception as err:  # anything Keras raises here is about the file's content
            raise ModelLoadError(f"{described}: {KERAS_FILE} cannot be loaded: "
                                 f"{_load_error_reason(err)}; {advice}") from err


def load_version(name: str, version: str | int, alias: str | None = None) -> keras.Model:
    """A registered version's Keras model: the way to load a seqcast model from MLflow."""
    return load_keras(f"models:/{name}/{version}", describe(name, version, alias))


def load_logged(model_uri: str) -> keras.Model:
    """A logged model (``models:/m-…``, a run's or a version's ``model_uri``), loaded safely."""
    return load_keras(model_uri, f"logged model {model_uri}",
                      "log the model again (kedro run --pipelines training,evaluation)")


def load_champion(name: str) -> tuple[keras.Model, ModelVersion]:
    current = champion(name)
    if current is None:
        raise NoChampionError(
            f"registered model {name!r} has no '{CHAMPION}' version yet; run the retrain "
            "pipeline first (kedro run --pipelines retrain, or make retrain)"
        )
    return load_version(name, current.version, CHAMPION), current


def check_fits(model: keras.Model, described: str, n_features: int, n_targets: int,
               window_spec=None) -> None:
    """Refuse a model whose shapes do not fit the data (and the windows, when given).

    Inputs are ``[history, series]`` (and ``future`` for known-future columns), history
    ``(n_seq, n_steps, n_features)`` or ``(lookback, n_features)``; outputs ``(horizon,
    n_targets)`` (``(…, n_quantiles)`` for a quantile model, any levels); without
    ``window_spec`` only the feature and target counts count.
    """
    if len(model.inputs) not in (2, 3):
        raise ModelMismatchError(
            f"{described} takes {len(model.inputs)} input(s), not [history, series]: it was "
            "saved by an earlier seqcast; retrain (kedro run --pipelines retrain)")
    got_in, got_out = seqcast.models.history_shape(model), tuple(model.output_shape[1:3])
    if window_spec is None:
        wanted_in, wanted_out = (*got_in[:-1], n_features), (got_out[0], n_targets)
    else:
        geometry = window_spec.geometry
        steps = ((geometry.n_seq, geometry.n_steps) if len(got_in) == 3
                 else (geometry.lookback,))
        wanted_in, wanted_out = (*steps, n_features), (geometry.horizon, n_targets)
    if (got_in, got_out) != (wanted_in, wanted_out):
        raise ModelMismatchError(
            f"{described} takes inputs {got_in} and forecasts {got_out}, the data and windows "
            f"need {wanted_in} and {wanted_out}; retrain on this data, or restore the windows "
            "and features it was trained with"
        )


def register(name: str, model_uri: str, tags: dict[str, str],
             description: str | None = None) -> ModelVersion:
    """A new version of ``name`` from a logged model, linked to the run that logged it, with
    ``description`` (what it was trained on and how it scored) shown in the registry UI."""
    version = mlflow.register_model(model_uri, name, tags=tags)
    client = MlflowClient()
    if description:
        client.update_model_version(name, version.version, description=description)
    if not client.get_registered_model(name).description:
        client.update_registered_model(name, description=(
            f"seqcast's {name.removeprefix('seqcast-')} forecaster, one version per retrain; "
            f"the '{CHAMPION}' alias marks the version the forecast pipeline serves"))
    return version


# The promotion lease: a registered-model tag "<token> <expiry>" (Fischer's timed mutual
# exclusion over MLflow's API, which has no atomic compare-and-set).
LEASE_TAG = "seqcast.promotion_lease"
LEASE_SETTLE = 2.0  # s waited after writing the lease before re-reading it
LEASE_TTL = 120.0  # s after which a lease counts as left behind by a dead job
LEASE_WAIT = 600.0  # s a job waits for the lease before giving up


class PromotionLeaseError(SeqcastError, TimeoutError):
    """Another job held the promotion lease for longer than the wait allows."""


def _lease(client: MlflowClient, name: str) -> tuple[str, float] | None:
    """The lease's ``(token, expiry)``, or None when free, expired or unreadable."""
    value = client.get_registered_model(name).tags.get(LEASE_TAG, "")
    token, _, expiry = value.partition(" ")
    try:
        return (token, float(expiry)) if token and float(expiry) > time.time() else None
    except ValueError:
        logger.warning("%s: unreadable tag %s=%r; taking the lease over", name, LEASE_TAG, value)
        return None


def _write_lease(client: MlflowClient, name: str, token: str) -> bool:
    """Write our lease; False when the store refused it because another job wrote it too."""
    try:
        client.set_registered_model_tag(name, LEASE_TAG, f"{token} {time.time() + LEASE_TTL}")
        return True
    except MlflowException:
        # Two first writes of the tag at once: the SQL store's unique key refuses one. Anything
        # else (no permission, server down) leaves the tag without another job's lease.
        held = _lease(client, name)
        if held is None or held[0] == token:
            raise
        return False


@contextmanager
def promotion_lease(name: str, client: MlflowClient, wait: float = LEASE_WAIT) -> Iterator[None]:
    """Hold ``name``'s promotion lease: one holder at a time across all machines.

    A job reads the tag; if it is free (or expired, or its own), writes its token and expiry,
    waits ``LEASE_SETTLE`` seconds and re-reads: only if its token is still there does it hold
    the lease. Two jobs that both saw it free both write; the later write wins and the earlier
    writer, re-reading, backs off. This excludes a second holder as long as each job's read and
    write of the tag take under ``LEASE_SETTLE / 2`` (a job that measured longer starts over),
    a holder finishes within ``LEASE_TTL`` and the machines' clocks agree to well within it.
    Raises :class:`PromotionLeaseError` after ``wait`` seconds without the lease.
    """
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait
    while True:
        started = time.monotonic()
        held = _lease(client, name)
        if held is None or held[0] == token:
            written = _write_lease(client, name, token)
            if written and time.monotonic() - started <= LEASE_SETTLE / 2:
                time.sleep(LEASE_SETTLE)
                held = _lease(client, name)
                if held is not None and held[0] == token:
                    break
        if time.monotonic() > deadline:
            raise PromotionLeaseError(
                f"registered model {name!r}: another job has held the promotion lease (tag "
                f"{LEASE_TAG!r}: {held[0] if held else 'contended'}) for over {wait:.0f}s; "
                f"if no job is running, delete the tag and retrain"
            )
        time.sleep(random.uniform(0.2, 1.0))
    try:
        yield
    finally:
        held = _lease(client, name)
        if held is not None and held[0] == token:
            client.delete_registered_model_tag(name, LEASE_TAG)


def move_champion(name: str, version: str, expected: str | None,
                  client: MlflowClient | None = None) -> bool:
    """Point ``champion`` at ``version`` if it still points at ``expected`` (None: unset).

    The check and the move happen under :func:`promotion_lease`, so of several jobs (on one
    machine or many, sharing a tracking server) that saw the same ``expected``, exactly one
    moves the alias; the others return False, moving nothing, and log who moved it.
    """
    client = client or MlflowClient()
    with promotion_lease(name, client):
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


def untag_version(name: str, version: str, key: str) -> None:
    """Remove ``key`` from the version's tags, if it is there."""
    client = MlflowClient()
    if key in client.get_model_version(name, version).tags:
        client.delete_model_version_tag(name, version, key)


def versions(name: str) -> list[ModelVersion]:
    """Every version of ``name``, newest first; none when the model is not registered."""
    found = MlflowClient().search_model_versions(f"name = '{name}'")
    return sorted(found, key=lambda v: int(v.version), reverse=True)
