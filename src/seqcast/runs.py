"""Which process owns an MLflow run, and closing the runs of processes that are gone.

Every run this process starts (kedro-mlflow's run and its nested child runs) is tagged with
the host, the process id and the process' start time, through MLflow's run context
(``MLFLOW_RUN_CONTEXT``), so the tags are there from the run's first instant. A run that is
still RUNNING while its process is gone was killed (``kill -9``, power loss, OOM killer): at
the next start on the same host it is marked KILLED. The start time tells a recycled pid apart.
"""

from __future__ import annotations

import json
import logging
import os
import socket

import psutil
from mlflow.entities import RunStatus
from mlflow.environment_variables import MLFLOW_RUN_CONTEXT
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

HOST, PID, STARTED = "seqcast.host", "seqcast.pid", "seqcast.process_start"
SAME_START_S = 1.0  # create_time() is derived from clock ticks since boot: allow rounding


def process_tags(pid: int | None = None) -> dict[str, str]:
    pid = os.getpid() if pid is None else pid
    return {HOST: socket.gethostname(), PID: str(pid),
            STARTED: f"{psutil.Process(pid).create_time():.3f}"}


def tag_runs_of_this_process() -> None:
    """Every run this process starts from now on carries :func:`process_tags`."""
    context = json.loads(MLFLOW_RUN_CONTEXT.get() or "{}")
    os.environ[MLFLOW_RUN_CONTEXT.name] = json.dumps({**context, **process_tags()})


def process_alive(pid: int, started: float) -> bool:
    """Whether process ``pid`` is the one that started at ``started`` (epoch seconds)."""
    try:
        return abs(psutil.Process(pid).create_time() - started) < SAME_START_S
    except psutil.NoSuchProcess:
        return False


def mark_dead_runs_killed(client: MlflowClient | None = None) -> list[str]:
    """Mark this host's RUNNING runs whose process is gone KILLED; their ids."""
    client = client or MlflowClient()
    host = socket.gethostname().replace("'", "")
    query = f"attributes.status = 'RUNNING' and tags.`{HOST}` = '{host}'"
    experiments = [e.experiment_id for e in client.search_experiments()]
    killed = []
    for run in client.search_runs(experiments, query, max_results=1000) if experiments else []:
        tags = run.data.tags
        if process_alive(int(tags[PID]), float(tags[STARTED])):
            continue
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
        logger.warning("MLflow run %s (%s) marked KILLED: its process %s on %s is gone",
                       run.info.run_id, run.info.run_name, tags[PID], tags[HOST])
        killed.append(run.info.run_id)
    return killed


EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"


def mark_model_development(name: str, client: MlflowClient | None = None) -> None:
    """Tag the experiment as model development, so the MLflow UI opens on its runs rather than
    on the GenAI traces view; new experiments get the tag from mlflow.yml, this covers stores
    created before."""
    client = client or MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None and EXPERIMENT_KIND not in experiment.tags:
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND, MODEL_DEVELOPMENT)


def run_name(pipeline_names: list[str] | None, dataset: str | None) -> str:
    """``train seattle-weather``, ``retrain plant``, ``forecast plant``: what the run did, on
    which data (the default pipeline trains and evaluates)."""
    names = [("train" if n == "__default__" else n) for n in (pipeline_names or ["__default__"])]
    return " + ".join(names) + (f" {dataset}" if dataset else "")
