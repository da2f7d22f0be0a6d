"""The ensemble: one self-contained forecaster that combines its members' forecasts (trained
forecasters of the families, nested inside it): their element-wise median, or a weighted mean
of them and of the naive and seasonal-naive forecasts (:mod:`.combination`).

It takes one history layout, ``(lookback, n_features)``, and the series codes, and reshapes
the history for members that read subsequences (the CNN-LSTM's ``(n_seq, n_steps,
n_features)``), so inference, backtests and the retrain gate treat it like a family.
"""

from __future__ import annotations

import logging
import time

import keras
from keras import layers as kl

from seqcast.covariates import model_known_future, takes_future
from seqcast.errors import ModelConfigError

from .combination import BASELINES, BaselineForecast, WeightedMean, baseline_season
from .forecaster import history_shape, series_ids
from .layers import MemberMedian
from .quantiles import Calibration, model_quantiles

logger = logging.getLogger(__name__)
NAME = "ensemble"
COMBINATIONS = ("weighted", "median")


def check_members(members: dict[str, keras.Model], n_baselines: int = 0) -> None:
    """Refuse members that cannot be combined: fewer than two forecasts in all (or no trained
    member), or different series, windows or outputs."""
    if len(members) + n_baselines < 2 or not members:
        raise ModelConfigError(
            f"the ensemble needs at least 2 members, got {sorted(members)}; list two or more "
            "trained namespaces in params:ensemble.members (or one and the baselines)")
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


def build_ensemble(members: dict[str, keras.Model], name: str = NAME, *,
                   baselines: dict[str, int] | None = None,
                   target_index: list[int] | None = None) -> keras.Model:
    """One Keras model ``[history (lookback, n_features), series] -> forecast`` over
    ``members`` (``{name: forecaster}``), plus ``future`` when a member takes known-future
    columns; each member keeps its weights, under its name.

    Without ``baselines`` the forecast is the members' element-wise median. With
    ``baselines`` (``{name: season_length}``, computed from the raw history's
    ``target_index`` columns) it is the weighted mean of every member and baseline (layer
    ``combination``; equal weights until :func:`seqcast.calibration.weigh` fits them)."""
    check_members(members, len(baselines or {}))
    first = next(iter(members.values()))
    lookback, n_features = _flat(history_shape(first))
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
    quantiles = model_quantiles(first)
    horizon = first.output_shape[1]
    if baselines:
        forecasts += [BaselineForecast(m, horizon, target_index, len(quantiles), name=b)(history)
                      for b, m in baselines.items()]
        out = WeightedMean([*members, *baselines], name="combination")(forecasts)
    else:
        out = MemberMedian(dtype="float32", name="member_median")(forecasts)
    if quantiles:  # the combined levels, calibrated again as one model
        out = Calibration(quantiles, len(series_ids(first)), horizon, out.shape[2],
                          name="calibration")([out, series])
    return keras.Model(inputs, out, name=name)


def ensemble_baselines(names, lookback: int, season_length: int) -> dict[str, int]:
    """``{baseline: season_length}`` of the listed baselines the window can compute: the
    seasonal naive needs ``lookback >= season_length`` (skipped with a warning otherwise) and
    is the naive forecast when ``season_length`` is 1."""
    if not set(names) <= set(BASELINES) or len(set(names)) != len(names):
        raise ModelConfigError(
            f"params:ensemble.baselines={list(names)}: list each of {', '.join(BASELINES)} once")
    chosen = {}
    for name in names:
        m = baseline_season(name, season_length)
        if m > lookback:
            logger.warning("ensemble: %s left out: its forecast needs lookback (%d) >= "
                           "season_length (%d)", name, lookback, m)
        elif m not in chosen.values():
            chosen[name] = m
    return chosen


def member_names(model: keras.Model) -> list[str]:
    """The members of an ensemble built by :func:`build_ensemble`, in order."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.Model)]


def combine(members: list[str], forecasters: dict[str, keras.Model],
            combination: str = "median", baselines=(), spec=None) -> tuple[keras.Model, dict]:
    """``(forecaster, record)``: the ensemble of the trained ``forecasters`` named in
    ``members`` (``params:ensemble.members``), and what it is made of. ``combination``
    ``weighted`` adds the ``baselines`` (``params:ensemble.baselines``; ``spec``: the
    :class:`~seqcast.spec.WindowSpec`, for the window and targets) to a weighted mean."""
    unknown = [m for m in members if m not in forecasters]
    if unknown or len(set(members)) != len(members):
        raise ModelConfigError(
            f"params:ensemble.members={list(members)}: list each trained namespace once, "
            f"from {sorted(forecasters)}")
    if combination not in COMBINATIONS:
        raise ModelConfigError(
            f"params:ensemble.combination={combination!r} is not one of {list(COMBINATIONS)}")
    started = time.perf_counter()
    chosen = {}
    if combination == "weighted":
        chosen = ensemble_baselines(list(baselines), spec.lookback,
                                    spec.geometry.season_length)
    model = build_ensemble({m: forecasters[m] for m in members}, baselines=chosen,
                           target_index=spec.target_index if spec else None)
    # No epochs: the record says what the ensemble is, in the training record's keys.
    return model, {"family": NAME, "namespace": NAME, "members": list(members),
                   "combination": combination, "baselines": list(chosen),
                   "device": "n/a", "parameters": int(model.count_params()),
                   "seconds": round(time.perf_counter() - started, 3)}
