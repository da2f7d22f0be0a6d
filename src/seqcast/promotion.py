"""Champion or challenger: register a freshly trained model, promote it only when it beats
the registered champion by the margin and both baselines, on the gate's origins: every
series' validation and test blocks of the latest data (:func:`seqcast.backtest.gate_spec`)."""

from __future__ import annotations

import logging
import math

import keras
import mlflow
import pandas as pd

from seqcast import registry
from seqcast.backtest import BASELINES, Evaluation, gate_spec, score_on_gate
from seqcast.models import UnknownSeriesError
from seqcast.spec import WindowSpec

logger = logging.getLogger(__name__)

MAX_TAG = 5000  # characters of a failure kept in a version tag (well within MLflow's limit)
FLAG = "loses_to_baseline"  # version tag: the baselines a version loses to on its gate score


def champion_scores(series: pd.DataFrame, window_spec: WindowSpec | dict, name: str,
                    version) -> dict:
    """The registered version's and the baselines' scores on the gate origins (no refit).

    Raises :class:`registry.ModelLoadError` or :class:`registry.ModelMismatchError` when the
    version cannot be loaded or does not fit the data and windows, ``ModelMismatchError``
    too when its score is not finite.
    """
    window_spec = WindowSpec.from_dict(window_spec)  # or window_spec.json's dict
    described = registry.describe(name, version.version, registry.CHAMPION)
    features = version.tags.get("features")
    if features and features.split(",") != window_spec.features:
        raise registry.ModelMismatchError(
            f"{described} was trained on features {features}, the data now has "
            f"{window_spec.features}; it cannot be compared on these origins"
        )
    model = registry.load_version(name, version.version, registry.CHAMPION)
    registry.check_fits(model, described, len(window_spec.features),
                        len(window_spec.targets), window_spec)
    try:
        scores = score_on_gate(series, window_spec, {"champion": model})
    except UnknownSeriesError as err:
        raise registry.ModelMismatchError(f"{described}: {err}") from err
    mase = scores["champion"]["mase"]
    if not math.isfinite(mase):
        raise registry.ModelMismatchError(f"{described} scores MASE {mase} on these origins")
    return scores


def champion_mase(series: pd.DataFrame, window_spec: WindowSpec, name: str, version) -> float:
    """The registered version's MASE on the gate origins (see :func:`champion_scores`)."""
    return champion_scores(series, window_spec, name, version)["champion"]["mase"]


def score_champion(series: pd.DataFrame, window_spec: WindowSpec, name: str,
                   version) -> tuple[float | None, str | None]:
    """``(mase, None)``, or ``(None, reason)`` for a champion that cannot be loaded or scored.

    A failed champion is tagged ``failed`` on its version and logged at WARNING; the job
    then decides as if there were no champion, so a broken version never blocks retraining.
    """
    try:
        return champion_mase(series, window_spec, name, version), None
    except (registry.ModelLoadError, registry.ModelMismatchError) as err:
        reason = str(err)
    logger.warning("%s; judging the challenger as if there were no champion", reason)
    registry.tag_version(name, version.version, {"failed": reason[:MAX_TAG]})
    return None, reason


def loses_to(mase: float, baselines: dict[str, float]) -> list[str]:
    """The baselines whose MASE is at most ``mase``: a model must score strictly lower."""
    return [b for b in BASELINES if not mase < baselines[b]]


def verdict(challenger: float, best: float | None, baselines: dict, margin: float,
            previous) -> tuple[bool, str]:
    """``(promote, reason)``: whether the challenger clears both bars, and why (not)."""
    reasons = []
    lost = loses_to(challenger, baselines)
    if lost:
        reasons.append("loses to " + " and ".join(
            f"{b} ({challenger:.4f} vs {baselines[b]:.4f})" for b in lost))
    if best is not None and challenger > best * (1 - margin):
        reasons.append(f"is not better than champion version {previous} by the "
                       f"{100 * margin:.1f}% margin ({challenger:.4f} vs {best:.4f})")
    if reasons:
        return False, "challenger " + "; ".join(reasons)
    against = (f"champion version {previous} ({best:.4f})" if best is not None
               else "no usable champion")
    return True, (f"challenger {challenger:.4f} beats naive ({baselines['naive']:.4f}), "
                  f"seasonal_naive ({baselines['seasonal_naive']:.4f}) and {against}")


def flag_champion(name: str, version, mase: float, baselines: dict, origins: int) -> list[str]:
    """Tag the champion version ``loses_to_baseline`` and warn when it loses to a baseline on
    its gate score; clear the tag when it no longer does. Returns the baselines it loses to."""
    lost = loses_to(mase, baselines)
    if not lost:
        registry.untag_version(name, version, FLAG)
        return lost
    registry.tag_version(name, version, {FLAG: ",".join(lost)})
    logger.warning(
        "%s: champion version %s loses to %s on the gate (MASE %.4f vs %s over %d origins "
        "per series); the forecast serves a better model or baseline unless "
        "params:forecast.namespace forces this family", name, version, " and ".join(lost),
        mase, ", ".join(f"{b} {baselines[b]:.4f}" for b in lost), origins)
    return lost


def score_tags(mase: float, baselines: dict, spec: WindowSpec, origins: int) -> dict:
    """A version's gate score next to the baselines', which the forecast ranks by; the dated
    ``mase_on_<data end>`` keeps each earlier score when a champion is re-scored on newer data."""
    return {"mase": f"{mase:.6f}", f"mase_on_{spec.end[:10]}": f"{mase:.6f}",
            **{f"{b}_mase": f"{baselines[b]:.6f}" for b in BASELINES},
            "gate_origins": origins, "data_end": spec.end}


def decide(evaluation: Evaluation, tracked: dict, forecaster: keras.Model, retrain: dict,
           namespace: str) -> dict:
    """Register the challenger; move ``champion`` to it only if it beats the champion by the
    margin and both baselines, on the gate origins.

    The gate scores the challenger (``forecaster``, as trained), the champion and naive and
    seasonal naive on every series' ``validation_origins + origins`` latest blocks. The
    challenger is promoted when its MASE is strictly below both baselines' and, if there is a
    usable champion, at most ``champion_mase * (1 - margin)``; otherwise it is registered and
    ``kept``, with the reason. With no champion (a first run) a challenger that loses to a
    baseline is not promoted either: the forecast then serves the better baseline. A
    champion that cannot be loaded or scored (file missing or corrupt, unsafe content,
    shapes or features that do not fit the data, a non-finite score) counts as failed: its
    version is tagged ``failed``, the record says ``champion_failed``, and the challenger is
    judged as if there were no champion. A champion left in place that loses to a baseline is
    flagged (:func:`flag_champion`). Scores, decision and reason are tagged on the versions
    and logged to the run. One writing run at a time per project folder (the ``RunLock``
    hook); across machines the alias moves under a promotion lease and only if nobody moved
    it meanwhile (:func:`seqcast.registry.move_champion`).

    Returns ``{namespace, model, version, gate_origins, challenger_mase, naive_mase,
    seasonal_naive_mase, test_mase, champion_version, champion_mase, champion_failed,
    champion_loses_to, margin, decision, reason}``.
    """
    series, spec = evaluation.series, evaluation.window_spec
    name, margin = registry.model_name(namespace), float(retrain["margin"])
    origins = gate_spec(spec).geometry.origins
    scores = score_on_gate(series, spec, {namespace: forecaster})
    challenger = scores[namespace]["mase"]
    baselines = {b: scores[b]["mase"] for b in BASELINES}
    current = registry.champion(name)
    previous = current.version if current else None
    best, failed = (score_champion(series, spec, name, current) if current is not None
                    else (None, None))
    version = registry.register(name, tracked["model_uri"], {
        "features": ",".join(spec.features), "run_id": tracked["run_id"],
        **score_tags(challenger, baselines, spec, origins),
    }, description=(
        f"{namespace} ({tracked['family']}) trained on {evaluation.dataset or 'the series'} "
        f"({spec.n_series} series) to {spec.end}: gate MASE {challenger:.4f} against naive "
        f"{baselines['naive']:.4f} and seasonal naive {baselines['seasonal_naive']:.4f} over "
        f"{origins} origins per series; MLflow run {tracked['run_id']}")).version
    promote, reason = verdict(challenger, best, baselines, margin, previous)
    flagged = []
    if best is not None:
        registry.tag_version(name, previous, score_tags(best, baselines, spec, origins))
        if not promote:  # it stays champion
            flagged = flag_champion(name, previous, best, baselines, origins)
    if promote and not registry.move_champion(name, version, previous):
        promote, reason = False, "the champion moved during evaluation (another job promoted)"
    decision = "promoted" if promote else "kept"
    record = {"namespace": namespace, "model": name, "version": version,
              "gate_origins": origins, "challenger_mase": challenger,
              **{f"{b}_mase": baselines[b] for b in BASELINES},
              "test_mase": float(evaluation.metrics[namespace]["mase"]),
              "champion_version": previous, "champion_mase": best, "champion_failed": failed,
              "champion_loses_to": flagged, "margin": margin, "decision": decision,
              "reason": reason}
    record_decision(record, name)
    return record


def record_decision(record: dict, name: str) -> None:
    """The decision on the challenger's version, in the run and in the log."""
    best, failed = record["champion_mase"], record["champion_failed"]
    registry.tag_version(name, record["version"], {
        "decision": record["decision"], "reason": record["reason"][:MAX_TAG],
        "champion_version": record["champion_version"] or "none", "margin": record["margin"],
        "champion_mase": "failed" if failed else "none" if best is None else f"{best:.6f}",
    })
    namespace = record["namespace"]
    mlflow.log_metrics({f"{namespace}_challenger_mase": record["challenger_mase"],
                        **({f"{namespace}_champion_mase": best} if best is not None else {})})
    mlflow.set_tag(f"{namespace}.decision", record["decision"])
    logger.info(
        "%s: challenger version %s MASE %.4f vs champion %s MASE %s (naive %.4f, seasonal "
        "naive %.4f; %d origins per series), margin %.1f%%: %s: %s",
        name, record["version"], record["challenger_mase"],
        record["champion_version"] or "(none)",
        "failed" if failed else "-" if best is None else f"{best:.4f}", record["naive_mase"],
        record["seasonal_naive_mase"], record["gate_origins"], 100 * record["margin"],
        record["decision"].upper(), record["reason"],
    )
