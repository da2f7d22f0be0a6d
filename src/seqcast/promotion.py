"""Champion or challenger: register a freshly trained model, promote it only when it is
better than the registered champion on the same, latest origins."""

from __future__ import annotations

import logging
import math

import mlflow
import pandas as pd

from seqcast import registry
from seqcast.backtest import Evaluation, backtest, evaluate
from seqcast.models import UnknownSeriesError
from seqcast.spec import WindowSpec

logger = logging.getLogger(__name__)

MAX_TAG = 5000  # characters of a failure kept in a version tag (well within MLflow's limit)


def champion_mase(series: pd.DataFrame, window_spec: WindowSpec, name: str, version) -> float:
    """The registered version's MASE on the current data's test origins (no refit).

    Raises :class:`registry.ModelLoadError` or :class:`registry.ModelMismatchError` when the
    version cannot be loaded or does not fit the data and windows, ``ModelMismatchError``
    too when its score is not finite.
    """
    window_spec = WindowSpec.from_dict(window_spec)
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
        table = backtest(series, window_spec, model, "champion")
    except UnknownSeriesError as err:
        raise registry.ModelMismatchError(f"{described}: {err}") from err
    mase = evaluate(series, window_spec, table)[0]["champion"]["mase"]
    if not math.isfinite(mase):
        raise registry.ModelMismatchError(f"{described} scores MASE {mase} on these origins")
    return mase


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


def decide(evaluation: Evaluation, tracked: dict, retrain: dict, namespace: str) -> dict:
    """Register the challenger; move ``champion`` to it only if it beats the champion.

    The champion is re-scored on the same, latest origins as the challenger. The challenger
    is promoted when there is no champion, or when its MASE is at most
    ``champion_mase * (1 - margin)``. A champion that cannot be loaded or scored (file
    missing or corrupt, unsafe content, shapes or features that do not fit the data, a
    non-finite score) counts as failed: its version is tagged ``failed`` with the reason,
    the record says ``champion_failed``, and the challenger is promoted as if there were no
    champion. Decision, scores and margin are tagged on the challenger's version and logged
    to the run. One writing run at a time per project folder (the ``RunLock`` hook); across
    machines the alias moves under a promotion lease and only if nobody moved it meanwhile
    (:func:`seqcast.registry.move_champion` says what that guarantees).

    Returns ``{namespace, model, version, challenger_mase, champion_version, champion_mase,
    champion_failed, margin, decision}``.
    """
    series, window_spec = evaluation.series, evaluation.window_spec
    name = registry.model_name(namespace)
    margin = float(retrain["margin"])
    challenger = float(evaluation.metrics[namespace]["mase"])
    current = registry.champion(name)
    previous = current.version if current else None
    best, failed = None, None
    if current is not None:
        best, failed = score_champion(series, window_spec, name, current)
    version = registry.register(name, tracked["model_uri"], {
        "features": ",".join(window_spec.features), "data_end": window_spec.end,
        "mase": f"{challenger:.6f}", "run_id": tracked["run_id"],
    }).version
    better = best is None or challenger <= best * (1 - margin)
    promoted = better and registry.move_champion(name, version, previous)
    decision = "promoted" if promoted else "kept"
    if best is not None:
        # the champion's latest score on the newest origins, which forecast ranks by
        registry.tag_version(name, previous, {"mase": f"{best:.6f}",
                                              "data_end": window_spec.end})
    record = {"namespace": namespace, "model": name, "version": version,
              "challenger_mase": challenger, "champion_version": previous,
              "champion_mase": best, "champion_failed": failed, "margin": margin,
              "decision": decision}
    registry.tag_version(name, version, {
        "decision": decision, "champion_version": previous, "margin": margin,
        "champion_mase": "failed" if failed else "none" if best is None else f"{best:.6f}",
    })
    mlflow.log_metrics({f"{namespace}_challenger_mase": challenger,
                        **({f"{namespace}_champion_mase": best} if best is not None else {})})
    mlflow.set_tag(f"{namespace}.decision", decision)
    logger.info(
        "%s: challenger version %s MASE %.4f vs champion %s MASE %s, margin %.1f%%: %s",
        name, version, challenger, previous or "(none)",
        "failed" if failed else "-" if best is None else f"{best:.4f}", 100 * margin,
        decision.upper(),
    )
    return record
