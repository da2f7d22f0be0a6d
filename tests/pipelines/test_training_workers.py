"""Training one family across two worker processes (``training.distribution: multi_worker``)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

from seqcast.workers import WorkerConfigError, multi_worker, share, weights_digest
from tests.conftest import run_kedro, synthetic_raw

DIGEST = re.compile(r"lstm: weights ([0-9a-f]{16}) on worker (\d)")
EPOCH = re.compile(r"lstm epoch (\d+)/\d+: loss ([\d.]+), val_loss ([\d.]+)")


def test_every_worker_runs_the_same_whole_steps():
    n, count, per_step = 103, 2, 8
    shares = [share(n, index, count, per_step) for index in range(count)]
    assert {len(s) for s in shares} == {56}  # ceil(103 / 2) = 52, topped up to 7 steps of 8
    assert set(np.concatenate(shares)) == set(range(n))  # every window, a few twice
    # Step i of all workers together is the single-process batch i, for whole batches.
    assert sorted(np.concatenate([s[:8] for s in shares])) == list(range(16))


def test_distribution_follows_tf_config_and_refuses_what_cannot_start(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert not multi_worker("auto") and not multi_worker("single")
    with pytest.raises(WorkerConfigError, match="TF_CONFIG is not set"):
        multi_worker("multi_worker")
    with pytest.raises(WorkerConfigError, match="must be one of auto, single, multi_worker"):
        multi_worker("multiworker")
    two = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(two))
    assert multi_worker("auto") and not multi_worker("single")
    monkeypatch.setenv("TF_CONFIG", json.dumps({**two, "task": {"type": "worker", "index": 2}}))
    with pytest.raises(WorkerConfigError, match="not one of its 2 workers"):
        multi_worker("auto")
    monkeypatch.setenv("TF_CONFIG", "{cluster: a}")
    with pytest.raises(WorkerConfigError, match="not a TensorFlow cluster spec"):
        multi_worker("auto")


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_one_model_and_only_the_chief_keeps_it(project):
    # A small panel of two series in long format.
    panel = pd.concat([synthetic_raw(200, seed=s).assign(site=f"s{s}") for s in (1, 2)])
    panel.to_csv(project / "data/01_raw/panel.csv", index=False)
    data = {"data.path": "data/01_raw/panel.csv", "data.name": "panel", "data.time_column": "ts",
            "data.targets": "load", "data.id_columns": "site", "windows.n_seq": 2,
            "windows.origins": 4}
    run_kedro(project, ["ingestion", "windowing"], params=data)
    params = ",".join([*(f"{k}={v}" for k, v in data.items()), "lstm.model.units=4",
                       "lstm.training.epochs=2", "lstm.training.batch_size=16",
                       "lstm.training.distribution=multi_worker"])
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    try:
        for index in range(2):
            config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "kedro", "run", "--pipelines", "training",
                 "--namespaces", "training.lstm", "--params", params], cwd=project, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, "TF_CONFIG": json.dumps(config), "COLUMNS": "400"}))
        outputs = [p.communicate(timeout=500)[0] for p in processes]
    finally:
        for p in processes:  # a worker left alone would wait for its peer for ever
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, output in zip(processes, outputs, strict=True):
        assert p.returncode == 0, output[-3000:]
    digests = [dict((w, d) for d, w in DIGEST.findall(out)) for out in outputs]
    assert digests[0].keys() == {"0"} and digests[1].keys() == {"1"}
    assert digests[0]["0"] == digests[1]["1"]  # the same weights on both workers
    epochs = [EPOCH.findall(out) for out in outputs]
    assert len(epochs[0]) == 2 and epochs[0] == epochs[1]  # the same all-reduced losses

    saved = list((project / "data/06_models/lstm.keras").iterdir())
    assert len(saved) == 1  # one model version, the chief's
    model = keras.models.load_model(saved[0] / "lstm.keras", safe_mode=True, compile=False)
    assert weights_digest(model) == digests[0]["0"]
    runs = mlflow.search_runs(experiment_names=["seqcast"], output_format="list")
    names = sorted(run.info.run_name for run in runs)
    assert names.count("training panel") == 1, names  # the chief's run only
