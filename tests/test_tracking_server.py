"""seqcast against a real `mlflow server` on a loopback port, and against one that is down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from seqcast.tracking_server import TrackingServerError, split_credentials
from tests.conftest import FAST, run_kedro
from tests.pipelines import gate_series


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mlflow_server(root: Path, *options: str, env: dict | None = None, backend: str | None = None):
    """`mlflow server` on a free loopback port with an artifact folder and a backend store
    (default: a SQLite file in ``root``)."""
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", backend or f"sqlite:///{root / 'backend.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--workers", "1", *options],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "server.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield uri
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(root) as uri:
        yield uri, root


@pytest.mark.slow
def test_retrain_against_a_tracking_server(server, project, monkeypatch):
    uri, root = server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # a series the models learn and the baselines miss, so the gate promotes both families
    data = gate_series.write(project, "cycle.csv", gate_series.learnable())
    run_kedro(project, ["retrain"], params={**FAST, "data": data})
    assert not (project / "mlflow.db").exists()  # nothing went to the embedded store
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("seqcast")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 3
    assert {c.data.tags["model_family"] for c in children} == {"cnn_lstm", "lstm", "ensemble"}
    for child in (c for c in children if c.data.tags["model_family"] != "ensemble"):
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert {"mase", "seasonal_naive_mase", "val_loss"} <= set(child.data.metrics)
        assert {"forecasts.png", "losses.png"} <= {a.path for a in
                                                   client.list_artifacts(child.info.run_id)}
    assert "metrics.json" in {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    for family in ("cnn_lstm", "lstm"):
        version = client.get_model_version_by_alias(f"seqcast-{family}", "champion")
        assert version.run_id in {c.info.run_id for c in children}
    # the artifacts live in the server's artifact folder, not in the project
    assert any((root / "artifacts").rglob("metrics.json"))
    assert not (project / "mlruns").exists()


def test_unreachable_server_fails_fast_and_writes_nothing(project, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=f"MLflow tracking server {uri}"):
        run_kedro(project, ["ingestion", "windowing"])
    assert time.monotonic() - started < 15
    assert not (project / "data/02_intermediate/series.parquet").exists()
    assert not (project / "mlflow.db").exists()
    mlflow.set_tracking_uri(None)


def test_uri_from_mlflow_yml_is_the_one_checked(project, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    (project / "conf/local/mlflow.yml").write_text(f"server:\n  mlflow_tracking_uri: {uri}\n")
    with pytest.raises(TrackingServerError, match=rf"{uri} \(mlflow.yml server.mlflow_tracking"):
        run_kedro(project, ["ingestion"])
    assert not (project / "data/02_intermediate/series.parquet").exists()
    mlflow.set_tracking_uri(None)


def test_password_in_a_dead_servers_uri_is_never_shown(project, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri.replace("//", "//alice:pw-Never-Shown@"))
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TrackingServerError) as failure:
        run_kedro(project, ["ingestion"])
    message = str(failure.value)
    assert f"MLflow tracking server {uri} (MLFLOW_TRACKING_URI) did not answer" in message
    assert "pw-Never-Shown" not in message
    mlflow.set_tracking_uri(None)


@pytest.mark.parametrize(("uri", "expected"), [
    ("http://alice:s3cret%2Fx%40y@127.0.0.1:5000/mlflow",
     ("http://127.0.0.1:5000/mlflow", "alice", "s3cret/x@y")),
    ("https://alice@mlflow.example.org", ("https://mlflow.example.org", "alice", None)),
    ("http://u:p@[::1]:5000", ("http://[::1]:5000", "u", "p")),
    ("http://127.0.0.1:5000", ("http://127.0.0.1:5000", None, None)),
])
def test_credentials_leave_the_uri(uri, expected):
    assert split_credentials(uri) == expected
