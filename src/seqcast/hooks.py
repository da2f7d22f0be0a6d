"""Project hooks: one retrain job at a time, and a bounded wait on a tracking server."""

from __future__ import annotations

import logging

from filelock import FileLock, Timeout
from kedro.framework.hooks import hook_impl

from seqcast.tracking_server import use_tracking_server

logger = logging.getLogger(__name__)

RETRAIN = "retrain"


class RetrainLock:
    """Serialise whole retrain jobs on this machine with a file lock.

    Two jobs at once would overwrite each other's series, models and resume points; the
    second waits (``params:retrain.lock_timeout``) and then judges its challenger against the
    champion the first one left. Across machines, the alias' compare-and-set still holds.
    """

    def __init__(self):
        self._lock: FileLock | None = None

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        if RETRAIN not in names:
            return
        settings = catalog.load("params:retrain")
        self._lock = FileLock(settings["lock_file"])
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            logger.warning("another retrain job holds %s; waiting up to %ss",
                           settings["lock_file"], settings["lock_timeout"])
            self._lock.acquire(timeout=float(settings["lock_timeout"]))

    def _release(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @hook_impl
    def after_pipeline_run(self):
        self._release()

    @hook_impl
    def on_pipeline_error(self):
        self._release()


class TrackingServerCheck:
    """Fail fast, naming the URI (never its password), when the tracking server does not answer.

    MLflow's HTTP client retries for minutes by default; a ``kedro run`` against a server
    that is down, or that refuses the credentials, should say so within seconds and before any
    node writes a file. The URI checked is the one kedro-mlflow uses (mlflow.yml, or
    ``MLFLOW_TRACKING_URI``); credentials in it move to MLflow's environment variables.
    """

    TIMEOUT_S = 5

    @hook_impl(tryfirst=True)  # before kedro-mlflow's own set-up contacts the server
    def after_context_created(self, context):
        use_tracking_server(context.config_loader, timeout=self.TIMEOUT_S)
