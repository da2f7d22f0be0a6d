"""The ensemble: one self-contained forecaster whose forecast is the element-wise median of
its members' (trained forecasters of the families, nested inside it).

It takes one history layout, ``(lookback, n_features)``, and the series codes, and reshapes
the history for members that read subsequences (the CNN-LSTM's ``(n_seq, n_steps,
n_features)``), so inference, backtests and the retrain gate treat it like a family.
"""

from __future__ import annotations

import time

import keras
from keras import layers as kl

from seqcast.covariates import model_known_future, takes_future
from seqcast.errors import ModelConfigError

from .forecaster import history_shape, series_ids
from .layers import MemberMedian
from .quantiles import Calibration, model_quantiles

NAME = "ensemble"


def check_members(members: dict[str, keras.Model]) -> None:
    """Refuse members that cannot be combined: fewer than two, or different series, windows
    or outputs."""
    if len(members) < 2:
        raise ModelConfigError(
            f"the ensemble needs at least 2 members, got {sorted(members)}; list two or more "
            "trained namespaces in params:ensemble.members")
    first_name, first = next(iter(members.items()))
    for name, model in members.items():
        shape = history_shape(model)
        differs = [what for what, a, b in (
            ("series", series_ids(model), series_ids(first)),
            ("lookback", _flat(shape), _flat(history_shape(first))),
            ("output", tuple(model.output_shape[1:]), tuple(first.output_shape[1:])),
            ("quantiles", model_quantiles(model), model_quantiles(first)),
        ) if a != b]
        known = model_known_future(model)
        if known and known != members_future(members):
            differs.append("known-future columns")
        if differs:
            raise ModelConfigError(
                f"ensemble members {first_name!r} and {name!r} differ in {', '.join(differs)}; "
                "train every member on the same data and windows")


def members_future(members: dict[str, keras.Model]):
    """The known-future columns of the first member that takes any (every member that takes
    them must take the same); empty when none does."""
    for model in members.values():
        known = model_known_future(model)
        if known:
            return known
    return model_known_future(next(iter(members.values())))


def _flat(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(lookback, n_features)`` of a history shape, nested or flat."""
    steps = 1
    for size in shape[:-1]:
        steps *= size
    return steps, shape[-1]


def build_ensemble(members: dict[str, keras.Model], name: str = NAME) -> keras.Model:
    """One Keras model ``[history (lookback, n_features), series] -> median forecast`` over
    ``members`` (``{name: forecaster}``), plus ``future`` when a member takes known-future
    columns; each member keeps its weights, under its name."""
    check_members(members)
    lookback, n_features = _flat(history_shape(next(iter(members.values()))))
    history = keras.Input(shape=(lookback, n_features), name="history")
    series = keras.Input(shape=(), dtype="int32", name="series")
    inputs, future = [history, series], None
    if members_future(members):  # handed to the members that take it
        width = next(m.inputs[2].shape[1:] for m in members.values() if takes_future(m))
        future = keras.Input(shape=width, name="future")
        inputs.append(future)
    forecasts = []
    for member_name, model in members.items():
        shape = history_shape(model)
        x = history if len(shape) == 2 else kl.Reshape(shape, name=f"{member_name}_history")(
            history)
        model.name = member_name  # nested models need unique names
        forecasts.append(model([x, series, future] if takes_future(model) else [x, series]))
    median = MemberMedian(dtype="float32", name="member_median")(forecasts)
    quantiles = model_quantiles(next(iter(members.values())))
    if quantiles:  # the members' medians per level, calibrated again as one model
        horizon, n_targets = median.shape[1], median.shape[2]
        median = Calibration(quantiles, len(series_ids(next(iter(members.values())))),
                             horizon, n_targets, name="calibration")([median, series])
    return keras.Model(inputs, median, name=name)


def member_names(model: keras.Model) -> list[str]:
    """The members of an ensemble built by :func:`build_ensemble`, in order."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.Model)]


def combine(members: list[str], forecasters: dict[str, keras.Model]) -> tuple[keras.Model, dict]:
    """``(forecaster, record)``: the ensemble of the trained ``forecasters`` named in
    ``members`` (``params:ensemble.members``), and what it is made of."""
    unknown = [m for m in members if m not in forecasters]
    if unknown or len(set(members)) != len(members):
        raise ModelConfigError(
            f"params:ensemble.members={list(members)}: list each trained namespace once, "
            f"from {sorted(forecasters)}")
    started = time.perf_counter()
    model = build_ensemble({m: forecasters[m] for m in members})
    # No epochs: the record says what the ensemble is, in the training record's keys.
    return model, {"family": NAME, "namespace": NAME, "members": list(members),
                   "device": "n/a", "parameters": int(model.count_params()),
                   "seconds": round(time.perf_counter() - started, 3)}
