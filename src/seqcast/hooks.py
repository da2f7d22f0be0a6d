"""Project hooks: one writing run at a time, run provenance, a bounded wait on a server, and
kedro-mlflow's tracking less the parameters nobody set."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro_mlflow.framework.hooks import MlflowHook

from seqcast import locking, runs, summary, workers
from seqcast.tracking_server import use_tracking_server

logger = logging.getLogger(__name__)


class RunLock:
    """One writing run per project folder (``params:runs.lock_file``).

    Two runs at once would read each other's half-written files and overwrite each other's
    outputs; the second waits (``params:runs.lock_timeout``), then fails naming the holder.
    A retrain that waited judges its challenger against the champion the first one left;
    across machines, the promotion lease (:func:`seqcast.registry.move_champion`) still holds.
    """

    def __init__(self):
        self._lock: locking.ProjectLock | None = None
        self._root = Path.cwd()

    @hook_impl
    def after_context_created(self, context):
        self._root = Path(context.project_path)

    @hook_impl(tryfirst=True)  # before kedro-mlflow starts a run that would wait with us
    def before_pipeline_run(self, run_params, pipeline, catalog):
        self._release()  # one an earlier session of this process could not release
        if not workers.is_chief() or not writes_files(pipeline, catalog):
            return
        settings = catalog.load("params:runs")
        names = run_params.get("pipeline_names") or ["__default__"]
        self._lock = locking.ProjectLock(self._root / settings["lock_file"], "+".join(names))
        self._lock.acquire(float(settings["lock_timeout"]))

    def _release(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self):
        self._release()

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self):
        self._release()


def writes_files(pipeline, catalog) -> bool:
    """Whether any output of the run is a persisted dataset (not kept in memory)."""
    types = (catalog.get_type(name) for name in pipeline.all_outputs())
    return any(kind is not None and not kind.endswith("MemoryDataset") for kind in types)


class RunProvenance:
    """Tag every MLflow run with the process that owns it; close the runs of dead processes.

    A ``kill -9`` leaves its runs RUNNING for ever. At the next start, runs of this host
    whose process is gone are marked KILLED.
    """

    @hook_impl(trylast=True)  # after kedro-mlflow has set the tracking URI
    def after_context_created(self, context):
        runs.tag_runs_of_this_process()
        runs.mark_dead_runs_killed()

    @hook_impl(trylast=True)  # after kedro-mlflow has started the run and its experiment
    def before_pipeline_run(self, run_params, pipeline, catalog):
        """Name the run after what it does and on which data, rather than ``__default__``."""
        import mlflow

        active = mlflow.active_run()
        if active is None:  # tracking disabled for this pipeline
            return
        dataset = catalog.load("params:data").get("name")
        mlflow.set_tags({"mlflow.runName": runs.run_name(run_params.get("pipeline_names"),
                                                         dataset),
                         **({"dataset": dataset} if dataset else {})})
        experiment = mlflow.get_experiment(active.info.experiment_id)
        runs.mark_model_development(experiment.name)


class RunSummary:
    """End every run with what it produced: each model's MASE next to the baselines', the
    retrain decisions, the forecast file, and the MLflow run to open."""

    OUTPUTS = {"metrics": "data/08_reporting/metrics.json",
               "retrain_decisions": "data/08_reporting/retrain_decisions.json",
               "forecast": "data/07_model_output/forecast.csv"}

    @hook_impl(tryfirst=True)  # before kedro-mlflow ends the run
    def after_pipeline_run(self, run_params, pipeline, catalog):
        import mlflow

        produced = pipeline.all_outputs()
        lines = []
        if "metrics" in produced:
            lines += summary.score_lines(catalog.load("metrics"))
        if "retrain_decisions" in produced:
            lines += summary.decision_lines(catalog.load("retrain_decisions"))
        if "forecast" in produced:
            lines += summary.forecast_lines(catalog.load("forecast"), self.OUTPUTS["forecast"])
        files = [path for name, path in self.OUTPUTS.items() if name in produced]
        if files:
            lines.append("outputs: " + ", ".join(files))
        active = mlflow.active_run()
        if active is not None:  # its name as RunProvenance set it, read back from the store
            run = mlflow.get_run(active.info.run_id)
            lines += summary.run_lines(run.info.run_name, run.info.run_id)
        for line in lines:
            logger.info("%s", line)


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


class Workers:
    """A process started with ``TF_CONFIG`` is one worker of a multi-worker training
    (:mod:`seqcast.workers`).

    TensorFlow accepts the multi-worker strategy only before its first operation, so it is
    created here, as the run starts. Only the chief (worker 0) keeps anything: another worker
    trains alongside it, but its outputs stay in memory and its MLflow run goes to a scratch
    store deleted when it exits, as TensorFlow advises for non-chief saves.
    """

    @hook_impl(tryfirst=True)  # before kedro-mlflow reads the tracking URI
    def after_context_created(self, context):
        if workers.cluster() is None:
            return
        if any(workers.multi_worker(block["training"].get("distribution", "auto"))
               for block in context.params.values()
               if isinstance(block, dict) and isinstance(block.get("training"), dict)):
            workers.worker_strategy()  # waits until every worker has started
        if not workers.is_chief():
            scratch = tempfile.mkdtemp(prefix="seqcast-worker-")
            atexit.register(_drop_scratch, scratch)
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(scratch) / 'mlflow.db'}"

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params, pipeline, catalog):
        if workers.is_chief():
            return
        for name in pipeline.all_outputs():
            catalog[name] = MemoryDataset(copy_mode="assign")  # a model is not deep-copied


def _drop_scratch(scratch: str) -> None:
    """End the scratch store's run (MLflow's own exit handler would come too late), then
    delete it."""
    import mlflow

    while mlflow.active_run():
        mlflow.end_run()
    shutil.rmtree(scratch, ignore_errors=True)


class MlflowTracking(MlflowHook):
    """kedro-mlflow's hook, logging each node's ``params:`` inputs without the ``None`` leaves.

    kedro-mlflow logs every leaf of every parameter a node reads; a key left at ``null``
    (``data.id_columns``, ``windows.lookback`` …, "infer it" or "not used") would reach MLflow
    as the string ``"None"``, a value nobody chose that reads like one. ``settings.py``
    registers this hook in place of the plugin's own.
    """

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async):
        set_only = {name: without_none(value) for name, value in inputs.items()
                    if value is not None}
        super().before_node_run(node, catalog, set_only, is_async)


def without_none(value):
    """``value`` with every dictionary key whose value is ``None`` left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    return value
