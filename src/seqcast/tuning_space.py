"""``params:tuning``: its checks, the search space it names and the parameters block a trial
trains with (:mod:`seqcast.tuning` runs the search)."""

from __future__ import annotations

import math

import optuna

from seqcast.errors import SeqcastError
from seqcast.models import FAMILIES, family
from seqcast.tracking import hyperparameters

WHERE = "params:tuning"
FIX = "set it in conf/base/parameters_tuning.yml or with --params"

# Set by tuning itself: the trial budget, the family's seed (every trial starts alike) and no
# resume point (a trial is short and its configuration never repeats).
NOT_SEARCHED = ("epochs", "seed", "backup_dir")


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
