"""What a run's terminal shows: one short line per node, and none that repeat another line or
say nothing about this run.

``settings.py`` calls :func:`leave_out_routine_records` (Kedro only lets logging's and its own
filter classes into ``conf/logging.yml``) and registers :class:`NodeProgress`.
"""

from __future__ import annotations

import logging
import re
import warnings

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

# MLflow shows this one whatever the filters say (it forces "once" around its check of a
# PythonModel's hints); kedro-mlflow's model class, unused here, sets it off at import.
UNHINTED_MODEL = "Add type hints to the `predict` method"

# Matched against the start of a record's message as its library writes it (before
# %-formatting), for the INFO records of the loggers below.
ROUTINE = re.compile("|".join((
    # Kedro's three lines per node ("Running node: <name>: <function>([<inputs>]) -> [<outputs>]",
    # "Completed node: <name>", "Completed 3 out of 12 tasks"): NodeProgress's one line instead.
    r"Running node: ",
    r"Completed node: ",
    r"Completed %d out of %d tasks",
    # Kedro's advice to try --async, on every run; the project's datasets are small.
    r"Using synchronous mode for loading and saving data",
    # kedro-mlflow: a resolver it registers for itself, and the run's start under its
    # pipeline name; the run is renamed after it starts, and the run's last lines name it.
    r"Registering new custom resolver",
    r"Mlflow run '",
)))
LOGGERS = ("kedro.pipeline.node", "kedro.runner.sequential_runner", "kedro.runner.thread_runner",
           "kedro.runner.parallel_runner", "kedro_mlflow.framework.hooks.mlflow_hook")


class RoutineRecords(logging.Filter):
    """Drop the INFO records that ``ROUTINE`` matches, and one that repeats its logger's line
    before it (kedro-mlflow closes its run once per stacked copy, saying so each time)."""

    def __init__(self):
        super().__init__()
        self.last = ""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        line, before = record.getMessage(), self.last
        self.last = line
        return ROUTINE.match(str(record.msg)) is None and line != before


def leave_out_routine_records() -> None:
    """Put one :class:`RoutineRecords` on each of ``LOGGERS`` (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoutineRecords) for f in logger.filters):
            logger.addFilter(RoutineRecords())


def hide_unhinted_model_warning() -> None:
    """Show every warning but MLflow's about kedro-mlflow's model class (``UNHINTED_MODEL``)."""
    show = warnings.showwarning
    if getattr(show, "hides", None) == UNHINTED_MODEL:
        return

    def showwarning(message, *args, **kwargs):
        if UNHINTED_MODEL not in str(message):
            show(message, *args, **kwargs)

    showwarning.hides = UNHINTED_MODEL
    warnings.showwarning = showwarning


class NodeProgress:
    """One line as each node starts: ``node 3/12 training.cnn_lstm.train_model``."""

    def __init__(self):
        self.total, self.started = 0, 0

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog):
        self.total, self.started = len(pipeline.nodes), 0

    @hook_impl
    def before_node_run(self, node):
        self.started += 1
        logger.info("node %d/%d %s", self.started, self.total, node.name)
