"""Nodes of the tune pipeline; the logic lives in :mod:`seqcast.tuning` and
:mod:`seqcast.tuning_space`."""

from __future__ import annotations

import keras
import pandas as pd

from seqcast.tuning import tune_family
from seqcast.tuning_space import tuned_block


def tune_model(series: pd.DataFrame, window_spec: dict, block: dict, tuning: dict,
               namespace: str) -> tuple[keras.Model, dict, dict, dict]:
    """``(forecaster, training_record, tuning_result, tuned)``: the best trial's model and
    losses, every trial (:func:`seqcast.tuning.tune_family`), and the family's parameters
    block with the chosen values, which tracking logs."""
    forecaster, record, result = tune_family(series, window_spec, block, tuning, name=namespace)
    return forecaster, record, result, tuned_block(block, result["best_params"], tuning)
