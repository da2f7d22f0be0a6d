"""MLflow bookkeeping: one child run per model family under the ``kedro run``'s run.

Every child run logs the same keys, so runs of different families (or of several retrains)
line up column for column in the MLflow UI's compare view.
"""

from __future__ import annotations

import inspect
import logging
import os
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import keras
import matplotlib.pyplot as plt
import mlflow
import mlflow.keras
import numpy as np
import pandas as pd
from mlflow.models import Model, infer_signature

import seqcast
from seqcast.backtest import BASELINES, Evaluation
from seqcast.intervals import is_interval_score
from seqcast.models import DEFAULT_SERIES_EMBEDDING, FAMILIES, family, history_shape
from seqcast.plots import plot_losses, plot_mase_ratios, plot_series_grid
from seqcast.spec import WindowSpec

logger = logging.getLogger(__name__)

WINDOW_KEYS = ("n_seq", "n_steps", "lookback", "horizon", "season_length", "origins",
               "validation_origins")
SCORES = ("mase", "smape", "rmse", "mae")
NOT_APPLICABLE = "n/a"
# How a run trained, not what it learned: tags, so they stay out of the compare view's params.
OPERATIONAL = ("backup_dir", "xla", "deterministic", "distribution")


def hyperparameters(build) -> dict[str, object]:
    """A builder's keyword-only arguments (its hyperparameters) with their defaults; not
    ``future``, the horizon's known-future tensor."""
    return {name: p.default for name, p in inspect.signature(build).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "future"}


def hyperparameter_names() -> list[str]:
    """Every family's hyperparameters: the shared ``model.*`` columns."""
    return sorted(set().union(*(hyperparameters(fam.build) for fam in FAMILIES.values()),
                              ["series_embedding"]))


def run_params(family_name: str, block: dict, spec: WindowSpec) -> dict[str, object]:
    """Hyperparameters (builder defaults filled in; other families' keys ``n/a``, every key
    for the ensemble, which has none of its own but its ``members``), training settings and
    window settings, under the same keys for every family."""
    model = {**hyperparameters(family(family_name).build),
             "series_embedding": DEFAULT_SERIES_EMBEDDING} if family_name in FAMILIES else {}
    model.update(block.get("model", {}))
    params = {f"model.{k}": model.get(k, NOT_APPLICABLE) for k in hyperparameter_names()}
    for key in ("members", "baselines"):  # the ensemble's
        if key in block:
            params[key] = ",".join(block[key])
    if "combination" in block:
        params["combination"] = block["combination"]
    params.update({f"training.{k}": v for k, v in block.get("training", {}).items()
                   if k not in OPERATIONAL})
    window = spec.geometry.to_params()
    params.update({k: window[k] for k in WINDOW_KEYS})
    params["family"] = family_name
    return params


def family_metrics(metrics: dict, namespace: str) -> dict[str, float]:
    """The family's scores and every baseline's, as ``mase`` … and ``naive_mase`` …, with
    the interval scores of each that has quantiles (``coverage_80``, ``naive_msis_80`` …)."""
    own = metrics[namespace]
    out = {k: own[k] for k in (*SCORES, "mase_median", "share_beats_seasonal_naive",
                               *filter(is_interval_score, own))}
    for baseline in BASELINES:
        out.update({f"{baseline}_{k}": v for k, v in metrics[baseline].items()
                    if k in SCORES or is_interval_score(k)})
    return out


def result_note(metrics: dict, names: list[str]) -> str:
    """The run description (``mlflow.note.content``): each model's MASE next to the baselines',
    so the runs list says the result."""
    best_baseline = min(metrics[b]["mase"] for b in BASELINES)
    lines = ["| model | MASE |", "|---|---|"]
    for name in [*names, *BASELINES]:
        mark = " (loses to a baseline)" if (
            name not in BASELINES and metrics[name]["mase"] > best_baseline) else ""
        lines.append(f"| {name} | {metrics[name]['mase']:.3f}{mark} |")
    return "\n".join(lines)


def git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def requirements() -> list[str]:
    # Stated, not inferred: inference reloads the model in a subprocess, slow and fragile.
    import tensorflow as tf

    return [f"tensorflow=={tf.__version__}", f"keras=={keras.__version__}",
            f"seqcast=={seqcast.__version__}"]


def _save_keras(path: str, **kwargs) -> None:
    # mlflow.keras.save_model writes the input example before it creates the model's folder
    # (MLflow 3.17); create it first. Model.log hands on its own options, which it has read.
    os.makedirs(path, exist_ok=True)
    kwargs.pop("validate_serving_input", None)
    mlflow.keras.save_model(path=path, **kwargs)


def example_input(model: keras.Model) -> dict[str, np.ndarray]:
    """One window of zeros for series code 0, by input name: the logged model's input example
    (MLflow's Keras flavour takes tensor specs, one per named input)."""
    example = {"history": np.zeros((1, *history_shape(model)), dtype=np.float32),
               "series": np.zeros(1, np.int32)}
    if len(model.inputs) > 2:  # known-future columns (seqcast.covariates)
        example["future"] = np.zeros((1, *model.inputs[2].shape[1:]), dtype=np.float32)
    return example


def log_keras_model(model: keras.Model, name: str) -> mlflow.models.model.ModelInfo:
    """Log ``model`` as the active run's logged model ``name``, with signature and example.

    MLflow's Keras 3 flavour: the model is one ``.keras`` file (``data/model.keras``) and
    nothing else. The tensorflow flavour would also write a serialised custom-objects file,
    which ``mlflow.tensorflow.load_model`` deserialises by running code.
    """
    example = example_input(model)
    # A direct call, not `predict`: each `predict` on a new model traces a new function, and
    # a few in one process make TensorFlow warn of "excessive retracing". MLflow's check of
    # the serving input (reload, then `predict` with a progress bar) is left out: the model
    # was checked for finite forecasts before it was saved, and it loads with safe_mode.
    forecast = np.asarray(model(example, training=False))
    return Model.log(
        artifact_path=None, name=name, flavor=SimpleNamespace(save_model=_save_keras),
        flavor_name="mlflow.keras", model=model, signature=infer_signature(example, forecast),
        input_example=example, pip_requirements=requirements(), validate_serving_input=False,
    )


def family_figures(evaluation: Evaluation, training_record: dict, namespace: str) -> dict:
    """The family's own plots: its and the baselines' forecasts for a few series, its MASE
    ratios to seasonal naive over every series, and its losses (none for the ensemble)."""
    forecasts = evaluation.forecasts
    rows = forecasts[forecasts["model"].isin([namespace, *BASELINES])]
    by_series = evaluation.by_series[evaluation.by_series["model"].isin([namespace, *BASELINES])]
    return {"forecasts": plot_series_grid(rows, evaluation.context, by_series, namespace,
                                          units=evaluation.units),
            "mase_ratios": plot_mase_ratios(by_series, [namespace]),
            **({"losses": plot_losses(training_record)} if "loss" in training_record else {})}


def log_family_run(namespace: str, block: dict, evaluation: Evaluation, training_record: dict,
                   forecaster: keras.Model) -> dict:
    """Log one family (or the ensemble) as a child of the active run: ``{run_id,
    model_uri}``. The ensemble's record has no epochs, so no losses."""
    spec = evaluation.window_spec
    family_name = block.get("family", namespace)
    tags = {"model_family": family_name, "namespace": namespace,
            "dataset": evaluation.dataset, "data_end": spec.end,
            "n_series": str(spec.n_series),
            "device": training_record["device"],
            "mlflow.note.content": result_note(evaluation.metrics, [namespace]),
            **{f"training.{k}": str(block["training"].get(k)) for k in OPERATIONAL
               if "training" in block}}
    commit = git_commit()
    if commit:
        tags["git_commit"] = commit
    with mlflow.start_run(run_name=namespace, nested=True, tags=tags) as run:
        mlflow.log_params(run_params(family_name, block, spec))
        client = mlflow.tracking.MlflowClient()
        loss_metrics = [
            mlflow.entities.Metric(key, float(value), 0, step)
            for key in ("loss", "val_loss")
            for step, value in enumerate(training_record.get(key, []), start=1)
        ]
        client.log_batch(run.info.run_id, metrics=loss_metrics)
        epochs = {"best_epoch": training_record["best_epoch"],
                  # the restored weights' score; `val_loss` ends on the last epoch
                  "best_val_loss": min(training_record["val_loss"])} if loss_metrics else {}
        weights = {f"weight_{k}": v for k, v in training_record.get("weights", {}).items()}
        mlflow.log_metrics({**family_metrics(evaluation.metrics, namespace), **epochs,
                            **weights, "train_seconds": training_record["seconds"]})
        figures = family_figures(evaluation, training_record, namespace)
        try:
            for name, figure in figures.items():
                mlflow.log_figure(figure, f"{name}.png")
        finally:
            for figure in figures.values():
                plt.close(figure)
        info = log_keras_model(forecaster, name=namespace)
        logger.info("logged %s as MLflow run %s", namespace, run.info.run_id)
        return {"run_id": run.info.run_id, "model_uri": info.model_uri}


def track_family(evaluation: Evaluation, block: dict, training_record: dict,
                 forecaster: keras.Model, namespace: str) -> dict:
    """Node: the family's child run with its own plots.

    Returns ``{run_id, model_uri, namespace, family, mase}`` for the registry.
    """
    logged = log_family_run(namespace, block, evaluation, training_record, forecaster)
    return {**logged, "namespace": namespace, "family": block.get("family", namespace),
            "mase": evaluation.metrics[namespace]["mase"]}


def log_dataset(series: pd.DataFrame, data: dict) -> None:
    """The cleaned series as the run's MLflow dataset (name, digest, source): the runs list's
    "Datasets" column."""
    source = data.get("path") or "series"
    frame = series if data.get("id_columns") else series.reset_index()
    # MLflow's own notices while it resolves a local path and hashes the frame: a path is
    # "ambiguous" among its artifact sources, and pandas 4 deprecations inside its digest.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = mlflow.data.from_pandas(frame, source=source,
                                          name=data.get("name") or Path(source).stem)
    mlflow.log_input(dataset, context="training")


def log_run_summary(metrics: dict, window_spec: dict, series: pd.DataFrame,
                    data: dict) -> None:
    """Node: the parent run's data summary, its input dataset and every model's and
    baseline's scores."""
    spec = WindowSpec.from_dict(window_spec)
    log_dataset(series, data)
    params = {
        "series.n_series": spec.n_series, "series.n_points": spec.n_points,
        "series.start": spec.start, "series.end": spec.end,
        "series.frequency": spec.frequency, "series.features": ",".join(spec.features),
        "series.test_start": spec.test_start_at,
    }
    mlflow.log_params({k: v for k, v in params.items() if v is not None})
    mlflow.log_metrics({f"{name}_{k}": v for name, scores in metrics.items()
                        for k, v in scores.items()})
    models = [name for name in metrics if name not in BASELINES]
    mlflow.set_tag("mlflow.note.content", result_note(metrics, models))
