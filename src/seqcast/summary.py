"""What a run produced, said at its end: scores against the baselines, decisions, files."""

from __future__ import annotations

import pandas as pd

from seqcast.backtest import BASELINES


def score_lines(metrics: dict) -> list[str]:
    """Each model's MASE next to naive and seasonal naive, marked when it loses to one."""
    best = min(metrics[b]["mase"] for b in BASELINES)
    lines = [f"{'model':<16} {'MASE':>7}  " + "  ".join(f"{b} {metrics[b]['mase']:.3f}"
                                                     for b in BASELINES)]
    for name, scores in metrics.items():
        if name in BASELINES:
            continue
        verdict = "LOSES to a baseline" if scores["mase"] > best else "beats both baselines"
        if scores.get("n_series", 1) > 1:  # a panel: MASE is a mean over series
            verdict += (f"; beats seasonal naive on {scores['share_beats_seasonal_naive']:.0%} "
                        f"of {scores['n_series']} series")
        lines.append(f"{name:<16} {scores['mase']:>7.3f}  {verdict}")
    return lines


def decision_lines(decisions: list[dict]) -> list[str]:
    """One line per family: the retrain decision with both scores."""
    lines = []
    for d in decisions:
        champion = d.get("champion_mase")
        against = (f"champion v{d['champion_version']} {champion:.3f}"
                   if isinstance(champion, float) else "no usable champion")
        reason = f" ({d['reason']})" if d.get("reason") else ""
        lines.append(f"{d['model']}: version {d['version']} MASE {d['challenger_mase']:.3f} vs "
                     f"{against}: {d['decision'].upper()}{reason}")
        if d.get("champion_loses_to"):
            lines.append(f"{d['model']}: champion version {d['champion_version']} LOSES to "
                         f"{' and '.join(d['champion_loses_to'])}; flagged")
    return lines


def forecast_lines(forecast, path: str) -> list[str]:
    """The forecast file and the model it came from."""
    first = forecast.iloc[0]
    version = f" version {first['version']}" if pd.notna(first.get("version")) else ""
    because = f" ({first['served_because']})" if "served_because" in forecast else ""
    return [f"forecast: {len(forecast)} rows from {first['model']}{version}{because} "
            f"after {forecast['origin'].max()} -> {path}"]


def run_lines(run_name: str | None, run_id: str | None) -> list[str]:
    if not run_id:
        return []
    return [f"MLflow run '{run_name}' ({run_id}); open it with `make ui`"]
