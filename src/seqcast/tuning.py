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
from seqcast.errors import ModelConfigError, SeqcastError
from seqcast.fitting import fit_family
from seqcast.models import FAMILIES, family
from seqcast.spec import WindowSpec
from seqcast.tracking import hyperparameters

logger = logging.getLogger(__name__)

OBJECTIVE = "validation_mase"
# Set by tuning itself: the trial budget, the family's seed (every trial starts alike) and no
# resume point (a trial is short and its configuration never repeats).
NOT_SEARCHED = ("epochs", "seed", "backup_dir")
# A trial's configuration that cannot train is a failed trial, not a failed search.
TRIAL_ERRORS = (NonFiniteError, ModelConfigError)
WHERE = "params:tuning"
FIX = "set it in conf/base/parameters_tuning.yml or with --params"


class TuningConfigError(SeqcastError, ValueError):
    """``params:tuning`` is invalid, or no trial could train."""


def _integer(tuning: dict, key: str, low: int, optional: bool = False) -> None:
    value = tuning.get(key)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise TuningConfigError(f"{WHERE}.{key} must be an integer >= {low}"
                                f"{' or null' if optional else ''}, got {value!r}; {FIX}")


def check_tuning(tuning: dict) -> None:
    """Refuse a tuning block that cannot run, before any trial."""
    _integer(tuning, "trials", 1)
    _integer(tuning, "seed", 0)
    _integer(tuning, "epochs", 1, optional=True)
    _integer(tuning, "startup_trials", 0)
    _integer(tuning, "warmup_epochs", 0)
    timeout = tuning.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout < math.inf):
        raise TuningConfigError(f"{WHERE}.timeout must be a positive number of seconds or null, "
                                f"got {timeout!r}; {FIX}")
    if not isinstance(tuning.get("pruner"), bool):
        raise TuningConfigError(f"{WHERE}.pruner must be true or false, got "
                                f"{tuning.get('pruner')!r}; {FIX}")


def _check_choice(key: str, choice) -> None:
    if isinstance(choice, list | tuple):
        if not choice:
            raise TuningConfigError(f"{WHERE}.space.{key} is an empty list; list the values to "
                                    f"try, or null to leave it out; {FIX}")
        return
    if isinstance(choice, dict) and {"low", "high"} <= set(choice) <= {"low", "high", "log"}:
        low, high = choice["low"], choice["high"]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
        if numbers and low < high and not (choice.get("log") and low <= 0):
            return
    raise TuningConfigError(
        f"{WHERE}.space.{key} must be a list of values or {{low, high, log}} with low < high "
        f"(low > 0 when log), got {choice!r}; {FIX}")


def search_space(tuning: dict, block: dict) -> dict[str, object]:
    """``{"model.units": [16, 32], "training.learning_rate": {low, high, log}, …}``: what
    ``block``'s family searches. A model key another family has but this one lacks is left
    out; a key no family has, or a training key the family's block lacks, is refused."""
    space = tuning.get("space") or {}
    unknown = set(space) - {"model", "training"}
    if unknown:
        raise TuningConfigError(f"{WHERE}.space has {sorted(unknown)}; only model and training "
                                f"keys are searched; {FIX}")
    known = {"series_embedding", *(k for f in FAMILIES.values() for k in hyperparameters(f.build))}
    own = {"series_embedding", *hyperparameters(family(block["family"]).build)}
    chosen = {}
    for part, allowed in (("model", known), ("training", set(block.get("training", {})))):
        for key, choice in (space.get(part) or {}).items():
            if choice is None:  # left out, e.g. by an environment or the command line
                continue
            if key not in allowed or key in NOT_SEARCHED:
                raise TuningConfigError(
                    f"{WHERE}.space.{part}.{key} is not a {part} setting that can be searched "
                    f"(searchable: {sorted(allowed - set(NOT_SEARCHED))}); {FIX}")
            _check_choice(f"{part}.{key}", choice)
            if part == "training" or key in own:
                chosen[f"{part}.{key}"] = list(choice) if isinstance(choice, list | tuple) \
                    else dict(choice)
    return chosen


def suggest(trial: optuna.Trial, key: str, choice) -> object:
    """One value of ``choice``: a list is categorical, ``{low, high}`` a range (integers when
    both ends are)."""
    if isinstance(choice, list):
        return trial.suggest_categorical(key, choice)
    low, high, log = choice["low"], choice["high"], bool(choice.get("log", False))
    if isinstance(low, int) and isinstance(high, int):
        return trial.suggest_int(key, low, high, log=log)
    return trial.suggest_float(key, float(low), float(high), log=log)


def tuned_block(block: dict, params: dict, tuning: dict) -> dict:
    """The family's parameters block with ``params`` (``{"model.units": 64, …}``) in place, the
    trial's epochs and no resume point: what a trial trains with."""
    model, training = dict(block.get("model", {})), dict(block["training"])
    for key, value in params.items():
        part, name = key.split(".", 1)
        (model if part == "model" else training)[name] = value
    training["epochs"] = tuning.get("epochs") or training["epochs"]
    training["backup_dir"] = None
    return {**block, "model": model, "training": training}


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
    study = make_study(tuning, search.name)
    logger.info("tuning %s: up to %d trials%s over %s, scored by validation MASE", search.name,
                tuning["trials"], f" or {tuning['timeout']}s" if tuning.get("timeout") else "",
                sorted(search.space) or "nothing (the configured values only)")
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial is ours
    try:
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
