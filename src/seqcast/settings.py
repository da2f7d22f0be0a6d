"""Project settings (Kedro reads this module at start-up)."""

import os

from seqcast.config import ConfigLoader
from seqcast.hooks import RunLock, RunProvenance, RunSummary, TrackingServerCheck

# Bound MLflow's HTTP retries (default: 7 retries with backoff, minutes against a dead server).
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

HOOKS = (TrackingServerCheck(), RunLock(), RunProvenance(), RunSummary())


def _env_or(name: str, default: str | None = None) -> str | None:
    """Resolver ``${env_or:NAME,default}``: an environment variable with a default.

    Kedro only lets ``oc.env`` into credentials; the tracking URI is no secret, and a team
    overrides it with ``MLFLOW_TRACKING_URI`` as MLflow users expect.
    """
    return os.environ.get(name) or default


CONFIG_LOADER_CLASS = ConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"env_or": _env_or},
    # An environment's or the command line's parameters merge into base key by key: with
    # Kedro's default, `--params cnn_lstm.training.seed=1` under `--env` replaced the whole
    # `cnn_lstm` block, and an environment's `data:` block dropped base's `max_gap`.
    "merge_strategy": {"parameters": "soft"},
}
