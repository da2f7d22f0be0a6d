"""MLflow bookkeeping of a tuned family: ``tuning.*`` on its child run, one run per trial under it.

The family's run itself is logged as any family's (:func:`seqcast.tracking.track_family`, given
the tuned parameters block, so its ``model.*`` and ``training.*`` params are the chosen values).
:func:`track_trials` then adds ``tuning.*`` to it — the chosen trial, the trial counts, the
chosen values, the validation MASE — and nests one run per trial under it, named
``<namespace> trial <n>``, with the params a family run has (the compare view lines up), its
per-epoch losses, its ``validation_mase`` (trials that completed) and the tag
``tuning.state``: COMPLETE, PRUNED or FAIL (a FAIL run's status is FAILED).
"""

from __future__ import annotations

import logging

from mlflow.entities import Metric, Param, RunStatus
from mlflow.tracking import MlflowClient

from seqcast.runs import process_tags
from seqcast.spec import WindowSpec
from seqcast.tracking import run_params
from seqcast.tuning import OBJECTIVE
from seqcast.tuning_space import tuned_block

logger = logging.getLogger(__name__)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _note(trial: dict) -> str:
    if trial["state"] == "COMPLETE":
        return f"validation MASE {trial[OBJECTIVE]:.4f}"
    if trial["state"] == "PRUNED":
        return f"pruned after epoch {len(trial.get('val_loss', []))}"
    return f"{trial['state'].lower()}: {trial.get('error', 'no result')}"


def log_trial(client: MlflowClient, parent, trial: dict, params: dict) -> str:
    """One trial as a finished child run of ``parent`` (the family's run), with the family
    run's ``params`` as the trial had them; its run id."""
    namespace = parent.data.tags.get("namespace", "")
    tags = {"mlflow.parentRunId": parent.info.run_id,
            "mlflow.runName": f"{namespace} trial {trial['number']}",
            "mlflow.note.content": _note(trial), "namespace": namespace,
            "model_family": parent.data.tags.get("model_family", ""),
            "tuning.trial": str(trial["number"]), "tuning.state": trial["state"],
            **process_tags()}
    if trial.get("error"):
        tags["tuning.error"] = trial["error"][:5000]
    run = client.create_run(parent.info.experiment_id, start_time=_ms(trial["start"]),
                            tags=tags)
    metrics = [Metric(key, value, 0, step)
               for key in ("loss", "val_loss")
               for step, value in enumerate(trial.get(key, []), start=1)]
    finals = {OBJECTIVE: trial.get(OBJECTIVE), "best_val_loss": trial.get("best_val_loss"),
              "train_seconds": trial.get("seconds")}
    metrics += [Metric(k, float(v), 0, 0) for k, v in finals.items() if v is not None]
    client.log_batch(run.info.run_id, metrics=metrics,
                     params=[Param(k, str(v)) for k, v in params.items()])
    status = RunStatus.FAILED if trial["state"] == "FAIL" else RunStatus.FINISHED
    client.set_terminated(run.info.run_id, RunStatus.to_string(status),
                          end_time=_ms(trial["end"]))
    return run.info.run_id


def summary_params(result: dict) -> dict[str, str]:
    """The family run's ``tuning.*`` params: the chosen trial, the counts, the settings and
    the chosen values."""
    settings = result["settings"]
    params = {"tuning.best_trial": result["best_trial"], "tuning.objective": OBJECTIVE,
              "tuning.trials": len(result["trials"]), "tuning.pruned": result["pruned"],
              "tuning.failed": result["failed"], "tuning.seed": settings["seed"],
              "tuning.pruner": "median" if settings["pruner"] else "none",
              **{f"tuning.best.{k}": v for k, v in result["best_params"].items()}}
    return {k: str(v) for k, v in params.items()}


def track_trials(tracking: dict, result: dict, tuned: dict, window_spec) -> list[str]:
    """Node: ``tuning.*`` on the tuned family's run (``tracking``: what its tracking node
    returned), then every trial nested under it; the trials' run ids.

    ``tuned`` is the family's block with the chosen values; each trial's params are it with
    the trial's values in place."""
    client = MlflowClient()
    parent = client.get_run(tracking["run_id"])
    metrics = {f"tuning.{OBJECTIVE}": result["best_value"],
               **{f"tuning.{k}": v for k, v in result["baselines"].items()}}
    client.log_batch(parent.info.run_id,
                     metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()],
                     params=[Param(k, v) for k, v in summary_params(result).items()])
    spec = WindowSpec.from_dict(window_spec)
    ids = [log_trial(client, parent, trial, run_params(
        tuned["family"], tuned_block(tuned, trial["params"], {}), spec))
        for trial in result["trials"]]
    logger.info("logged %d %s trials under MLflow run %s", len(ids), result["name"],
                parent.info.run_id)
    return ids
