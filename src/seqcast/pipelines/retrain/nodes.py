"""Nodes of the retrain pipeline's decision step; the logic: :mod:`seqcast.promotion`."""

from __future__ import annotations


def collect_decisions(*decisions: dict) -> list[dict]:
    """Every family's decision record, in one list (``retrain_decisions.json``)."""
    return list(decisions)
