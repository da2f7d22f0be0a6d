"""Tune one model family with Optuna on the validation period alone.

Each trial trains the family (:func:`seqcast.fitting.fit_family`, same seed, early stopping on
the validation windows) with values drawn from ``params:tuning.space`` and is scored by its
validation MASE: every series forecast at its ``validation_origins`` origins and scored as the
evaluation scores the test origins. The test period is cut off the series before anything
else, so no trial can read a test value. The best trial's model is kept, not retrained: the
model served is the one whose score chose it. MLflow bookkeeping: :mod:`seqcast.tuning_tracking`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import keras
import numpy as np
import optuna
import pandas as pd

from seqcast.backtest import backtest, evaluate
from seqcast.callbacks import NonFiniteError
from seqcast.errors import ModelConfigError
from seqcast.fitting import fit_family
from seqcast.spec import WindowSpec
from seqcast.tuning_space import (
    WHERE,
    TuningConfigError,
    check_tuning,
    search_space,
    suggest,
    tuned_block,
)

logger = logging.getLogger(__name__)

OBJECTIVE = "validation_mase"
# A trial's configuration that cannot train is a failed trial, not a failed search.
TRIAL_ERRORS = (NonFiniteError, ModelConfigError)


def without_test_period(series: pd.DataFrame, spec: WindowSpec) -> tuple[pd.DataFrame,
                                                                           WindowSpec]:
    """``series`` with every series' test period cut off, and its specification: the same
    training and validation windows, scaling statistics and series, no test origins."""
    g = spec.geometry
    lengths = np.asarray(spec.lengths, np.int64)
    local = np.arange(spec.n_points) - np.repeat(spec.offsets()[:-1], lengths)
    keep = local < np.repeat(lengths - g.test_points, lengths)
    cut = lengths - g.test_points
    return series.iloc[keep], replace(spec, geometry=replace(g, origins=0),
                                      lengths=cut.tolist(), n_points=int(cut.sum()))


def validation_scores(series: pd.DataFrame, spec: WindowSpec, forecaster: keras.Model,
                      name: str) -> dict:
    """Overall scores of ``forecaster`` and the baselines at every series'
    ``validation_origins`` origins (``series``, ``spec``: :func:`without_test_period`'s)."""
    g = spec.geometry
    origins = replace(spec, geometry=replace(g, origins=g.validation_origins,
                                             validation_origins=0))
    return evaluate(series, origins, backtest(series, origins, forecaster, name))[0]


class PruneOnValLoss(keras.callbacks.Callback):
    """Report each epoch's validation loss to the trial; stop it when the pruner says so.
    Keeps the losses, which a pruned trial's record would lose."""

    def __init__(self, trial: optuna.Trial):
        super().__init__()
        self.trial, self.history = trial, {"loss": [], "val_loss": []}

    def on_epoch_end(self, epoch, logs=None):
        for key in self.history:
            self.history[key].append(float((logs or {})[key]))
        self.trial.report(self.history["val_loss"][-1], epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"val_loss {self.history['val_loss'][-1]:.4f} at epoch "
                                     f"{epoch + 1}")


def make_study(tuning: dict, name: str) -> optuna.Study:
    """Minimise; TPE seeded by ``tuning.seed``; the median pruner after ``startup_trials``
    trials and ``warmup_epochs`` epochs, or none."""
    startup = int(tuning["startup_trials"])
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=startup,
                                          n_warmup_steps=int(tuning["warmup_epochs"]))
              if tuning["pruner"] else optuna.pruners.NopPruner())
    sampler = optuna.samplers.TPESampler(seed=int(tuning["seed"]),
                                         n_startup_trials=max(startup, 1))
    return optuna.create_study(study_name=name, direction="minimize", sampler=sampler,
                               pruner=pruner)


class Search:
    """The objective: one trial trains ``block``'s family with drawn values on the series
    without its test period and returns its validation MASE; the best model so far is kept."""

    def __init__(self, series: pd.DataFrame, window_spec, block: dict, tuning: dict, name: str):
        self.series, self.spec = without_test_period(series, WindowSpec.from_dict(window_spec))
        self.block, self.tuning, self.name = block, tuning, name
        self.space = search_space(tuning, block)
        self.kept: dict = {"value": math.inf}
        self.baselines: dict = {}

    def __call__(self, trial: optuna.Trial) -> float:
        params = {key: suggest(trial, key, choice) for key, choice in self.space.items()}
        trained = tuned_block(self.block, params, self.tuning)
        pruning = PruneOnValLoss(trial)
        started = time.perf_counter()
        try:
            forecaster, record = fit_family(self.series, self.spec, self.block["family"],
                                            trained["model"], trained["training"],
                                            callbacks=(pruning,))
        except TRIAL_ERRORS as err:
            trial.set_user_attr("error", str(err))
            logger.warning("%s trial %d failed: %s", self.name, trial.number, err)
            raise
        except optuna.TrialPruned as pruned:
            logger.info("%s trial %d pruned: %s", self.name, trial.number, pruned)
            raise
        finally:
            trial.set_user_attr("loss", pruning.history["loss"])
            trial.set_user_attr("val_loss", pruning.history["val_loss"])
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        value = self.score(trial, forecaster)
        trial.set_user_attr("best_val_loss", min(record["val_loss"]))
        if value < self.kept["value"]:  # strict: ties keep the earlier trial, as Optuna does
            self.kept.update(value=value, number=trial.number, forecaster=forecaster,
                             record=record)
        logger.info("%s trial %d: validation MASE %.4f (%s)", self.name, trial.number, value,
                    ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in params.items()))
        return value

    def score(self, trial: optuna.Trial, forecaster: keras.Model) -> float:
        scores = validation_scores(self.series, self.spec, forecaster, self.name)
        self.baselines.update({b: scores[b]["mase"] for b in ("naive", "seasonal_naive")})
        value = scores[self.name]["mase"]
        if not math.isfinite(value):
            trial.set_user_attr("error", "validation MASE is undefined on every series")
            raise NonFiniteError(f"{self.name} trial {trial.number}: validation MASE is "
                                 "undefined on every series (constant histories)")
        return value


def tune_family(series: pd.DataFrame, window_spec, block: dict, tuning: dict,
                name: str | None = None) -> tuple[keras.Model, dict, dict]:
    """Search ``tuning.space`` for ``block``'s family (``block``: its parameters block).

    Returns ``(forecaster, training_record, result)``: the best trial's model and losses, and
    every trial (number, state, params, validation MASE, losses, times) with the best one.
    """
    check_tuning(tuning)
    search = Search(series, window_spec, block, tuning, name or block["family"])
    logger.info("tuning %s: up to %d trials%s over %s, scored by validation MASE", search.name,
                tuning["trials"], f" or {tuning['timeout']}s" if tuning.get("timeout") else "",
                sorted(search.space) or "nothing (the configured values only)")
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial is ours
    try:
        study = make_study(tuning, search.name)
        study.optimize(search, n_trials=int(tuning["trials"]), timeout=tuning.get("timeout"),
                       catch=TRIAL_ERRORS)
    finally:
        optuna.logging.set_verbosity(verbosity)
    result = study_result(study, search.name, search.baselines, tuning)
    if "forecaster" not in search.kept:
        errors = sorted({t["error"] for t in result["trials"] if t.get("error")})
        raise TuningConfigError(
            f"{search.name}: none of {len(study.trials)} trials completed "
            f"({errors[:3] or 'all pruned'}); narrow {WHERE}.space (e.g. lower learning rates) "
            "or raise tuning.trials")
    if search.kept["number"] != result["best_trial"]:
        raise RuntimeError(f"{search.name}: the kept model is trial {search.kept['number']}'s, "
                           f"not the best trial {result['best_trial']}'s")
    logger.info("%s: best trial %d of %d (%d pruned, %d failed), validation MASE %.4f",
                search.name, result["best_trial"], len(study.trials), result["pruned"],
                result["failed"], result["best_value"])
    return search.kept["forecaster"], search.kept["record"], result


def study_result(study: optuna.Study, name: str, baselines: dict, tuning: dict) -> dict:
    """The study as JSON: every trial, the best one, the baselines' validation MASE and the
    settings it ran under."""
    trials = [{"number": t.number, "state": t.state.name, "params": t.params,
               # a pruned trial's value is its last val_loss: no validation MASE
               OBJECTIVE: t.value if t.state.name == "COMPLETE" else None, **t.user_attrs,
               "start": t.datetime_start.timestamp() if t.datetime_start else None,
               "end": t.datetime_complete.timestamp() if t.datetime_complete else None}
              for t in study.trials]
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    best = study.best_trial if complete else None
    return {"name": name, "objective": OBJECTIVE, "trials": trials,
            "best_trial": best.number if best else None,
            "best_value": best.value if best else None,
            "best_params": best.params if best else {},
            "pruned": sum(t["state"] == "PRUNED" for t in trials),
            "failed": sum(t["state"] == "FAIL" for t in trials),
            "baselines": {f"{b}_{OBJECTIVE}": v for b, v in baselines.items()},
            "settings": {k: tuning.get(k) for k in ("trials", "timeout", "seed", "epochs",
                                                     "pruner", "startup_trials",
                                                     "warmup_epochs")}}
