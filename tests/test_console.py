"""What a run prints: one line per epoch with its ETA, one per node, no routine lines."""

from __future__ import annotations

import logging
import re

import keras
import numpy as np
import pytest

from seqcast.callbacks import EpochLog, duration
from seqcast.console import RoutineRecords
from seqcast.fitting import fit_family
from seqcast.spec import make_window_spec
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw

EPOCH_LINE = re.compile(r"tiny epoch (\d)/3: loss \d+\.\d{4}, val_loss \d+\.\d{4}, "
                        r"elapsed \d+\.\ds, (.*)")


def tiny_fit(callbacks: list, epochs: int = 3):
    """A real, tiny Keras regression fitted with validation data and no output of its own."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=16, verbose=0,
              callbacks=callbacks)


def epoch_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "seqcast.callbacks"]


def test_one_line_per_epoch_with_losses_elapsed_time_and_eta(caplog):
    caplog.set_level(logging.INFO, logger="seqcast.callbacks")
    tiny_fit([EpochLog("tiny", 3)])
    lines = epoch_lines(caplog)
    assert len(lines) == 3, lines
    matches = [EPOCH_LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    assert [m.group(1) for m in matches] == ["1", "2", "3"]
    outlooks = [m.group(2) for m in matches]
    # the first epoch carries the set-up; then epochs left x mean epoch time, an upper bound
    assert outlooks[0].startswith("ETA from the next epoch on")
    assert re.fullmatch(r"ETA at most \d+\.\ds", outlooks[1]), outlooks[1]
    assert outlooks[2] == "last epoch"


def test_an_early_stop_is_said_instead_of_the_eta(caplog):
    class StopNow(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    caplog.set_level(logging.INFO, logger="seqcast.callbacks")
    tiny_fit([StopNow(), EpochLog("tiny", 3)])
    (line,) = epoch_lines(caplog)
    assert line.endswith("stopping early: val_loss has not improved"), line


def test_durations_read_short():
    assert [duration(s) for s in (4.24, 185, 3725)] == ["4.2s", "3m05s", "1h02m"]


@pytest.fixture(scope="module")
def series():
    return clean_series(synthetic_raw(300), DATA, WINDOWS)


@pytest.fixture
def no_op_determinism():
    """Op determinism off, as in a fresh process: a fit without XLA earlier in this process
    turned it on, and Keras then refuses XLA."""
    from tensorflow.python.framework import config

    was = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if was:
        config.enable_op_determinism()


@pytest.mark.parametrize("xla", [False, True])
def test_fit_family_logs_epochs_not_keras_lines(series, xla, caplog, capfd, no_op_determinism):
    """Keras' own `Epoch 1/2` and `…/step` lines are gone; with XLA a line says it compiles."""
    caplog.set_level(logging.INFO, logger="seqcast")
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    training = {"normalization": "last", "loss": "mse", "learning_rate": 0.003,
                "batch_size": 32, "epochs": 2, "patience": 2, "seed": 7, "xla": xla}
    fit_family(series, spec, "lstm", {"units": 8}, training)
    printed = capfd.readouterr()
    assert "Epoch 1/2" not in printed.out + printed.err and "/step" not in printed.out
    lines = epoch_lines(caplog)
    assert [line.split(":")[0] for line in lines] == ["lstm epoch 1/2", "lstm epoch 2/2"]
    compiling = [r.getMessage() for r in caplog.records if "with XLA" in r.getMessage()]
    assert compiling == (["compiling lstm with XLA, the first epoch takes longer"] if xla
                         else [])


def test_a_family_trained_without_xla_leaves_xla_to_the_next(series, caplog):
    """Op determinism is process-wide: a fit without XLA turns it on, and the next family's
    XLA must still compile (Keras refuses XLA under op determinism)."""
    caplog.set_level(logging.INFO, logger="seqcast")
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    training = {"normalization": "last", "loss": "mse", "learning_rate": 0.003,
                "batch_size": 32, "epochs": 1, "patience": 1, "seed": 7}
    fit_family(series, spec, "lstm", {"units": 4}, {**training, "xla": False})
    fit_family(series, spec, "lstm", {"units": 4}, {**training, "xla": True})
    compiling = [r.getMessage() for r in caplog.records if "with XLA" in r.getMessage()]
    assert compiling == ["compiling lstm with XLA, the first epoch takes longer"]


def record(name: str, msg: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


def test_routine_records_are_left_out_and_nothing_else():
    routine = RoutineRecords()
    for msg in ("Running node: %s", "Completed node: %s", "Completed %d out of %d tasks",
                "Using synchronous mode for loading and saving data. Use the --async flag",
                "Registering new custom resolver: 'km.random_name'",
                "Mlflow run '__default__' - 'abc' has started"):
        assert not routine.filter(record("kedro.runner.sequential_runner", msg)), msg
    assert routine.filter(record("kedro.runner.sequential_runner",
                                 "Pipeline execution completed successfully in 1.0 sec."))
    assert routine.filter(record("kedro.pipeline.node", "Running node: %s", logging.WARNING))


def test_a_line_repeating_the_one_before_is_left_out():
    routine, closed = RoutineRecords(), "The run 'abc' was closed because of an error"
    name = "kedro_mlflow.framework.hooks.mlflow_hook"
    assert [routine.filter(record(name, m)) for m in (closed, closed, "other", closed)] == [
        True, False, True, True]
