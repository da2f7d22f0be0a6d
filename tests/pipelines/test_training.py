"""Training: reproducible by seed, blind to the test period, resumable after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from seqcast.pipelines.ingestion.nodes import clean_series
from seqcast.pipelines.training.nodes import train_model
from seqcast.pipelines.windowing.nodes import make_window_spec
from tests.conftest import DATA, WINDOWS, run_kedro, synthetic_raw

TRAINING = {"normalization": "last", "loss": "mse", "learning_rate": 0.003, "batch_size": 32,
            "epochs": 2, "patience": 2, "seed": 7, "mixed_precision": False,
            "deterministic": True}
MODEL = {"units": 8}


@pytest.fixture(scope="module")
def series():
    return clean_series(synthetic_raw(300), DATA, WINDOWS)


def fit(series, seed=7, family="lstm"):
    spec = make_window_spec(series, DATA, WINDOWS)
    model, history = train_model(series, spec, family, MODEL if family == "lstm" else
                                 {"filters": 4, "units": 8}, {**TRAINING, "seed": seed})
    return spec, model, history


@pytest.mark.parametrize("family", ["lstm", "cnn_lstm"])
def test_same_seed_same_weights_other_seed_other_weights(series, family):
    _, first, h1 = fit(series, 7, family)
    _, second, h2 = fit(series, 7, family)
    _, third, h3 = fit(series, 8, family)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert h1["val_loss"] == h2["val_loss"] and h1["val_loss"] != h3["val_loss"]
    assert any(not np.array_equal(a, c) for a, c in
               zip(first.get_weights(), third.get_weights(), strict=True))
    assert h1["device"] == "CPU" and h1["epochs_run"] == 2


def test_changing_the_test_period_changes_nothing_learned(series):
    spec, model, history = fit(series)
    altered = series.copy()
    altered.iloc[spec["test_start"]:] *= -3.0  # only the test period
    altered_spec, altered_model, altered_history = fit(altered)
    assert altered_spec["mean"] == spec["mean"] and altered_spec["std"] == spec["std"]
    for a, b in zip(model.get_weights(), altered_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert altered_history["loss"] == history["loss"]
    assert altered_history["val_loss"] == history["val_loss"]


def _epochs_seen(lines):
    return [int(line.split()[1].split("/")[0]) for line in lines if line.startswith("Epoch ")]


def test_killed_training_resumes_from_its_last_epoch(project):
    run_kedro(project, ["ingestion", "windowing"])
    command = [sys.executable, "-m", "kedro", "run", "--pipelines", "training",
               "--namespaces", "lstm", "--params",
               "lstm.training.epochs=40,lstm.training.patience=40,lstm.model.units=8"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in first.stdout:
        seen.append(line)
        if len(_epochs_seen(seen)) == 4:  # epoch 3 done, epoch 4 started
            first.send_signal(signal.SIGKILL)
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert (project / "data/06_models/backup/lstm").exists()
    second = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                            check=False, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    epochs = _epochs_seen(second.stdout.splitlines())
    assert epochs[0] >= 3 and epochs[-1] == 40, epochs[:3]
    assert not (project / "data/06_models/backup/lstm").exists()  # removed once complete
