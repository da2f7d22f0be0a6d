"""Training: reproducible by seed, blind to the test period, resumable after a kill."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seqcast.fitting import TrainingConfigError
from seqcast.fitting import fit_family as train_model
from seqcast.spec import make_window_spec
from tests.conftest import DATA, WINDOWS, clean_series, run_kedro, synthetic_raw

TRAINING = {"normalization": "last", "loss": "mse", "learning_rate": 0.003, "batch_size": 32,
            "epochs": 2, "patience": 2, "seed": 7, "mixed_precision": False,
            "deterministic": True}
MODEL = {"units": 8}


@pytest.fixture(scope="module")
def series():
    return clean_series(synthetic_raw(300), DATA, WINDOWS)


def fit(series, seed=7, family="lstm"):
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    model, record = train_model(series, spec, family, MODEL if family == "lstm" else
                                 {"filters": 4, "units": 8}, {**TRAINING, "seed": seed})
    return spec, model, record


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
    spec, model, record = fit(series)
    altered = series.copy()
    test_start = spec["lengths"][0] - spec["origins"] * spec["horizon"]
    altered.iloc[test_start:] *= -3.0  # only the test period
    altered_spec, altered_model, altered_record = fit(altered)
    assert altered_spec["mean"] == spec["mean"] and altered_spec["std"] == spec["std"]
    for a, b in zip(model.get_weights(), altered_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert altered_record["loss"] == record["loss"]
    assert altered_record["val_loss"] == record["val_loss"]


EPOCH_DONE = re.compile(r" epoch (\d+)/\d+: loss ")


def _epochs_done(lines):
    """The epochs whose line was seen (logged at the epoch's end, after its backup)."""
    return [int(m.group(1)) for line in lines if (m := EPOCH_DONE.search(line))]


def _kill_after_epoch(command, epoch, **popen):
    """Start ``command``, SIGKILL it as soon as it logs the end of ``epoch``; its output lines."""
    popen["env"] = {**popen.get("env", os.environ), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, **popen)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if epoch in _epochs_done(seen):  # the epoch ended and was backed up
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return seen


@pytest.mark.slow
def test_killed_kedro_run_leaves_no_backup_that_breaks_a_run_on_other_data(project):
    run_kedro(project, ["ingestion", "windowing"])
    params = "lstm.training.epochs=12,lstm.training.patience=12,lstm.model.units=8"
    command = [sys.executable, "-m", "kedro", "run", "--pipelines", "training",
               "--namespaces", "training.lstm", "--params", params]
    _kill_after_epoch(command, 3, cwd=project)
    backups = list((project / "data/06_models/backup/lstm").iterdir())
    assert len(backups) == 1
    # Another CSV: the old backup (other shapes, other data) must be ignored, not restored.
    synthetic_raw(400).to_csv(project / "data/01_raw/plant.csv", index=False)
    other = {"data": {"path": "data/01_raw/plant.csv", "name": "plant", "time_column": "ts",
                      "targets": "load"}, "windows": {"n_seq": 2, "origins": 4}}
    run_kedro(project, ["ingestion", "windowing"], params=other)
    flat = ",".join([params, "data.path=data/01_raw/plant.csv", "data.name=plant",
                     "data.time_column=ts", "data.targets=load", "windows.n_seq=2",
                     "windows.origins=4"])
    second = subprocess.run([*command[:-1], flat], cwd=project, capture_output=True, text=True,
                            check=False, timeout=600, env={**os.environ, "COLUMNS": "400"})
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-3000:]
    assert "another run configuration" in output  # one log line, unwrapped at 400 columns
    assert _epochs_done(second.stdout.splitlines())[0] == 1  # started afresh
    assert not (project / "data/06_models/backup/lstm").exists()  # removed once complete


WORKER = Path(__file__).with_name("train_worker.py")
RESUMABLE = {"points": 300, "family": "lstm", "model": {"units": 8},
             "training": {**TRAINING, "learning_rate": 0.03, "epochs": 30, "patience": 4}}


def _worker(tmp_path, name, **popen_or_kill):
    """The command for a training subprocess writing to ``tmp_path / name``."""
    config = {**RESUMABLE, "out": str(tmp_path / name),
              "training": {**RESUMABLE["training"], "backup_dir": str(tmp_path / "backup")}}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    return [sys.executable, str(WORKER), str(path)]


def _result(folder):
    with np.load(folder / "weights.npz") as weights:
        arrays = [weights[k] for k in sorted(weights.files, key=lambda k: int(k.split("_")[1]))]
    return arrays, json.loads((folder / "training_record.json").read_text())


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """An uninterrupted run, and the same run killed between its best and its last epoch."""
    tmp = tmp_path_factory.mktemp("resume")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(_worker(tmp, "whole"), env=env, check=True, capture_output=True, timeout=600)
    shutil.rmtree(tmp / "backup", ignore_errors=True)
    weights, record = _result(tmp / "whole")
    # Killed after epoch k, with the best epoch behind it and early stopping still to come.
    k = record["epochs_run"] - 1
    assert record["best_epoch"] < k < RESUMABLE["training"]["epochs"], record
    seen = _kill_after_epoch(_worker(tmp, "resumed"), k, env=env)
    (backup,) = (tmp / "backup").iterdir()
    shutil.copytree(tmp / "backup", tmp / "killed")  # kept for the tests below
    resumed = subprocess.run(_worker(tmp, "resumed"), env=env, capture_output=True, text=True,
                             check=False, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    return {"tmp": tmp, "k": k, "whole": (weights, record), "seen": seen, "backup": backup,
            "resumed": _result(tmp / "resumed"), "output": resumed.stdout + resumed.stderr}


@pytest.mark.slow
def test_a_run_killed_after_its_best_epoch_resumes_to_the_uninterrupted_result(
        killed_and_resumed):
    run = killed_and_resumed
    (weights, record), (resumed_weights, resumed_record) = run["whole"], run["resumed"]
    assert _epochs_done(run["seen"])[-1] == run["k"]
    assert _epochs_done(run["output"].splitlines())[0] == run["k"] + 1  # resumed, not restarted
    assert "resuming after epoch" in run["output"]
    assert resumed_record["best_epoch"] == record["best_epoch"] < run["k"]
    assert resumed_record["loss"] == record["loss"]  # the full record, from epoch 1
    assert resumed_record["val_loss"] == record["val_loss"]
    assert resumed_record["epochs_run"] == record["epochs_run"]
    for a, b in zip(weights, resumed_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert not (run["tmp"] / "backup").exists()  # removed once complete


def _with_backup(run, tmp_path, **training):
    """``RESUMABLE``'s training, writing to a copy of the killed run's backup folder."""
    shutil.copytree(run["tmp"] / "killed", tmp_path / "backup")
    return {**RESUMABLE["training"], "backup_dir": str(tmp_path / "backup"), **training}


@pytest.mark.slow
def test_fewer_epochs_than_the_backup_holds_are_refused_clearly(killed_and_resumed, tmp_path):
    run = killed_and_resumed
    series = clean_series(synthetic_raw(RESUMABLE["points"]), DATA, WINDOWS)
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    training = _with_backup(run, tmp_path, epochs=run["k"] - 1)
    with pytest.raises(TrainingConfigError, match=rf"epochs={run['k'] - 1}.*at least {run['k']}"):
        train_model(series, spec, "lstm", RESUMABLE["model"], training)


@pytest.mark.slow
@pytest.mark.parametrize("change", ["data", "parameters"])
def test_a_backup_of_another_configuration_is_ignored_and_removed(killed_and_resumed, tmp_path,
                                                                   change, caplog):
    run = killed_and_resumed
    points = RESUMABLE["points"] + (20 if change == "data" else 0)
    series = clean_series(synthetic_raw(points), DATA, WINDOWS)
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    model = {"units": 6} if change == "parameters" else RESUMABLE["model"]
    training = _with_backup(run, tmp_path, epochs=2)
    with caplog.at_level(logging.INFO, logger="seqcast"):
        _, record = train_model(series, spec, "lstm", model, training)
    assert record["epochs_run"] == 2  # trained afresh, not from the other run's epoch
    assert sum("another run configuration" in r.message for r in caplog.records) == 1
    assert not (tmp_path / "backup").exists()


def test_zero_or_missing_epochs_are_refused(series):
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    for epochs in (0, None, 2.5):
        with pytest.raises(TrainingConfigError, match="training.epochs must be an integer >= 1"):
            train_model(series, spec, "lstm", MODEL, {**TRAINING, "epochs": epochs})


@pytest.mark.parametrize("setting", [{"learning_rate": -1}, {"learning_rate": "fast"},
                                     {"loss": "msee"}, {"xla": "maybe"}, {"seed": "x"}])
def test_training_settings_that_cannot_train_are_refused_by_name(series, setting):
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    (key, value), = setting.items()
    with pytest.raises(TrainingConfigError, match=rf"params:lstm\.training\.{key}"):
        train_model(series, spec, "lstm", MODEL, {**TRAINING, **setting})


@pytest.mark.slow
def test_ctrl_c_mid_epoch_ends_the_process_within_seconds(tmp_path):
    """The feed holds no Python thread, so an abandoned iterator cannot block the exit."""
    config = {**RESUMABLE, "points": 20_000, "out": str(tmp_path / "out"),
              "training": {**RESUMABLE["training"], "epochs": 5, "backup_dir": None}}
    (tmp_path / "c.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(WORKER), str(tmp_path / "c.json")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if 1 in _epochs_done(seen):  # epoch 2 begins
            break
    time.sleep(1.0)  # well inside epoch 2 (~600 batches)
    interrupted = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the training process was still alive 20 s after Ctrl-C")
    # a deadlocked shutdown never ends; tearing TensorFlow down takes a few seconds at most
    # (11 s once, inside a full suite run)
    assert time.perf_counter() - interrupted < 15
    assert process.returncode != 0 and not (tmp_path / "out").exists()
