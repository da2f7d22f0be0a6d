"""Champion or challenger: promote a freshly trained model only when it is better."""

from __future__ import annotations

import logging

import mlflow
import pandas as pd

from seqcast import registry
from seqcast.pipelines.evaluation.nodes import evaluate
from seqcast.pipelines.training.nodes import backtest

logger = logging.getLogger(__name__)


def champion_mase(series: pd.DataFrame, window_spec: dict, name: str, version) -> float:
    """The registered version's MASE on the current data's test origins (no refit)."""
    features = version.tags.get("features")
    if features and features.split(",") != window_spec["features"]:
        raise ValueError(
            f"{name} version {version.version} was trained on features {features}, the data "
            f"now has {window_spec['features']}; it cannot be compared on these origins"
        )
    model = registry.load_version(name, version.version)
    table = backtest(series, window_spec, model, "champion")
    return evaluate(series, window_spec, table)[0]["champion"]["mase"]


def decide(series: pd.DataFrame, window_spec: dict, tracked: dict, metrics: dict,
           retrain: dict, label: str) -> dict:
    """Register the challenger; move ``champion`` to it only if it beats the champion.

    The champion is re-scored on the same, latest origins as the challenger. The challenger
    is promoted when there is no champion, or when its MASE is at most
    ``champion_mase * (1 - margin)``. Decision, scores and margin are tagged on the
    challenger's version and logged to the run. One job at a time runs on a machine (the
    ``RetrainLock`` hook), and the alias moves only if nobody moved it meanwhile
    (compare-and-set), which also holds for jobs on other machines.

    Returns ``{namespace, model, version, challenger_mase, champion_version, champion_mase,
    margin, decision}``.
    """
    name = registry.model_name(label)
    margin = float(retrain["margin"])
    challenger = float(metrics[label]["mase"])
    current = registry.champion(name)
    previous = current.version if current else None
    best = champion_mase(series, window_spec, name, current) if current else None
    version = registry.register(name, tracked["model_uri"], {
        "features": ",".join(window_spec["features"]), "data_end": window_spec["end"],
        "mase": f"{challenger:.6f}", "run_id": tracked["run_id"],
    }).version
    better = best is None or challenger <= best * (1 - margin)
    promoted = better and registry.move_champion(name, version, previous)
    decision = "promoted" if promoted else "kept"
    if current is not None:
        # the champion's latest score on the newest origins, which forecast ranks by
        registry.tag_version(name, previous, {"mase": f"{best:.6f}",
                                              "data_end": window_spec["end"]})
    record = {"namespace": label, "model": name, "version": version,
              "challenger_mase": challenger, "champion_version": previous,
              "champion_mase": best, "margin": margin, "decision": decision}
    registry.tag_version(name, version, {
        "decision": decision, "champion_version": previous, "margin": margin,
        "champion_mase": "none" if best is None else f"{best:.6f}",
    })
    mlflow.log_metrics({f"{label}_challenger_mase": challenger,
                        **({f"{label}_champion_mase": best} if best is not None else {})})
    mlflow.set_tag(f"{label}.decision", decision)
    logger.info(
        "%s: challenger version %s MASE %.4f vs champion %s MASE %s, margin %.1f%%: %s",
        name, version, challenger, previous or "(none)",
        "-" if best is None else f"{best:.4f}", 100 * margin, decision.upper(),
    )
    return record


def collect_decisions(*decisions: dict) -> list[dict]:
    return list(decisions)
