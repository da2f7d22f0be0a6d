"""What a saved forecaster says about itself: its history layout and its series."""

from __future__ import annotations

import keras

from seqcast.errors import ModelConfigError


def history_shape(model: keras.Model) -> tuple[int, ...]:
    """A forecaster's history input without the batch axis (its other input: series codes)."""
    return tuple(model.inputs[0].shape[1:])


def series_ids(model: keras.Model) -> list[str]:
    """The series a forecaster was trained on, in the order of their codes (an ensemble's:
    its first member's, which every member shares)."""
    names = [layer.name for layer in model.layers]
    if "standardise" in names:
        return list(model.get_layer("standardise").ids)
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not members:
        raise ModelConfigError(f"model {model.name!r} has no per-series scaling; retrain")
    return series_ids(members[0])
