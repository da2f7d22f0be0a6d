"""The tracking server kedro-mlflow will use: credentials out of every URI, a bounded check.

A URI like ``http://user:secret@host:5000`` would otherwise reach every message, log line and
MLflow's "View run" links. The credentials move to ``MLFLOW_TRACKING_USERNAME`` /
``MLFLOW_TRACKING_PASSWORD`` (where MLflow's client reads them) and the URI loses them.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote, urlsplit, urlunsplit

from kedro.config import MissingConfigException
from mlflow.environment_variables import MLFLOW_HTTP_REQUEST_TIMEOUT
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request

from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

URI_VARIABLE = "MLFLOW_TRACKING_URI"
USERNAME, PASSWORD = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
# The patterns kedro-mlflow registers for its own configuration.
MLFLOW_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]
UNSET = "unset MLFLOW_TRACKING_URI to track into the embedded sqlite:///mlflow.db"


class TrackingServerError(SeqcastError, ConnectionError):
    """The tracking server does not answer, refuses the credentials or fails."""


def split_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """``http://user:secret@host:5000/x`` → ``("http://host:5000/x", "user", "secret")``."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri, None, None
    clean = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    password = None if parts.password is None else unquote(parts.password)
    return clean, unquote(parts.username or "") or None, password


def mlflow_config(config_loader) -> dict:
    """``mlflow.yml`` as kedro-mlflow will read it ({} when there is none)."""
    if "mlflow" not in config_loader.config_patterns:
        config_loader.config_patterns.update({"mlflow": MLFLOW_PATTERNS})
    try:
        return dict(config_loader["mlflow"])
    except MissingConfigException:
        return {}


def export_credentials(config_loader, conf: dict) -> None:
    """``server.credentials`` of mlflow.yml into the environment, as kedro-mlflow does later.

    Done here as well so that the check below authenticates as the run will.
    """
    name = (conf.get("server") or {}).get("credentials")
    if name:
        for key, value in config_loader["credentials"].get(name, {}).items():
            os.environ[key] = str(value)


def use_tracking_server(config_loader, timeout: float) -> None:
    """Take the credentials out of the tracking URI kedro-mlflow will use, then check it.

    The URI is mlflow.yml's ``server.mlflow_tracking_uri`` (itself ``MLFLOW_TRACKING_URI``
    when set) or, as kedro-mlflow falls back, ``MLFLOW_TRACKING_URI``.
    """
    conf = mlflow_config(config_loader)
    server = dict(conf.get("server") or {})
    uri = server.get("mlflow_tracking_uri") or os.environ.get(URI_VARIABLE)
    if not uri or not uri.startswith(("http://", "https://")):
        return
    from_environment = os.environ.get(URI_VARIABLE) == uri
    source = URI_VARIABLE if from_environment else "mlflow.yml server.mlflow_tracking_uri"
    clean, username, password = split_credentials(uri)
    if clean != uri:
        for variable, value in ((USERNAME, username), (PASSWORD, password)):
            if value is not None:
                os.environ[variable] = value
        server["mlflow_tracking_uri"] = clean
        registry = server.get("mlflow_registry_uri")
        if registry:
            server["mlflow_registry_uri"] = split_credentials(registry)[0]
        # A key set on the loader is returned as is: kedro-mlflow reads this, not the files.
        config_loader["mlflow"] = {**conf, "server": server}
        if from_environment:
            os.environ[URI_VARIABLE] = clean
    export_credentials(config_loader, conf)
    experiment = (conf.get("tracking") or {}).get("experiment") or {}
    if check_server(clean, source, experiment.get("name") or "seqcast", timeout) == 404:
        create_experiment(clean, experiment.get("name") or "seqcast",
                          experiment.get("create_experiment_kwargs") or {})


def create_experiment(uri: str, name: str, options: dict) -> None:
    """Create the experiment before kedro-mlflow does: its check-then-create fails the later
    of two jobs (on two machines) starting on a server that has no such experiment yet."""
    try:
        MlflowClient(uri).create_experiment(name, **{k: v for k, v in options.items() if v})
    except MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def check_server(uri: str, source: str, experiment: str, timeout: float) -> int:
    """One authenticated request, no retries: raise a short, password-free error if it fails.

    Returns the HTTP status: 200, or 404 when the experiment does not exist yet.

    ``/health`` is public on MLflow's basic-auth app, so the request reads the experiment,
    which needs the run's own credentials. ``timeout`` bounds the connection; the answer
    gets as long as any MLflow request (``MLFLOW_HTTP_REQUEST_TIMEOUT``).
    """
    where = f"MLflow tracking server {uri} ({source})"
    creds = get_default_host_creds(uri)
    read = max(timeout, MLFLOW_HTTP_REQUEST_TIMEOUT.get())
    try:
        answer = http_request(
            creds, "/api/2.0/mlflow/experiments/get-by-name", "GET", max_retries=0,
            timeout=(timeout, read), raise_on_status=False,
            params={"experiment_name": experiment},
        )
    except MlflowException as err:  # MLflow's wrapping of every requests error
        raise TrackingServerError(
            f"{where} did not answer ({_reason(err)}; {timeout}s to connect, {read}s to "
            f"answer). Start it, fix the URI, or {UNSET}"
        ) from err
    user = f"user {creds.username!r}" if creds.username else "no user"
    if answer.status_code == 401:
        raise TrackingServerError(
            f"{where} refused the credentials ({user}, HTTP 401). Set {USERNAME} and "
            f"{PASSWORD}, or user:password in the URI, to an account on that server"
        )
    if answer.status_code == 403:
        raise TrackingServerError(
            f"{where}: {user} may not read experiment {experiment!r} (HTTP 403). Ask the "
            "server's administrator for EDIT permission on it"
        )
    if answer.status_code >= 500 or (answer.status_code == 404 and "error_code" not in answer.text):
        raise TrackingServerError(
            f"{where} answered HTTP {answer.status_code} to MLflow's REST API: is it an MLflow "
            f"tracking server? Check the URI and the server's log, or {UNSET}"
        )
    logger.info("Tracking into %s as %s", uri, user)
    return answer.status_code


def _reason(err: Exception) -> str:
    """What went wrong, in words: 'connection refused', 'read timed out', …"""
    text = str(err)
    for reason in ("Connection refused", "Read timed out", "timed out", "Name or service not known",
                   "No route to host", "Temporary failure in name resolution"):
        if reason in text:
            return reason.lower()
    return type(err.__cause__ or err.__context__ or err).__name__
