"""Unattended runs: one writer per project folder, atomic outputs, honest MLflow run status,
and configuration that merges as Kedro users expect."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import mlflow
import pandas as pd
import psutil
import pytest
from kedro.framework.cli.utils import _split_params
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from kedro_mlflow.io.artifacts import MlflowArtifactDataset
from mlflow.tracking import MlflowClient

from seqcast import locking, runs
from seqcast.datasets.atomic import JSONDataset
from seqcast.errors import SeqcastError
from tests.conftest import run_kedro, synthetic_raw

KEDRO = [sys.executable, "-m", "kedro", "run"]


def environment() -> dict:
    # Wide enough that Kedro's rich log lines are not wrapped mid-message.
    return {**os.environ, "COLUMNS": "400"}


def write_plant(project, gap: bool = False):
    raw = synthetic_raw(400)
    raw["humidity"] = 50.0 + raw.index % 7
    if gap:
        raw = raw.drop(index=[200, 201])  # two missing days: base's max_gap (3) repairs them
    raw.to_csv(project / "data/01_raw/plant.csv", index=False)


# --- configuration ---------------------------------------------------------------------------

def test_environment_and_command_line_merge_into_base_key_by_key(project):
    write_plant(project, gap=True)
    (project / "conf/plant").mkdir()
    (project / "conf/plant/globals.yml").write_text("raw_path: data/01_raw/plant.csv\n")
    # an environment's data block that leaves out max_gap (and everything about windows)
    (project / "conf/plant/parameters.yml").write_text(
        "data: {path: '${globals:raw_path}', time_column: ts, targets: [load],"
        " features: [load, temp]}\n")
    seed = {"cnn_lstm": {"training": {"seed": 1}}}  # --params "cnn_lstm.training.seed=1"
    bootstrap_project(project)
    with KedroSession.create(project, env="plant", runtime_params=seed) as session:
        context = session.load_context()
        assert context.catalog.load("params:cnn_lstm.family") == "cnn_lstm"
        assert context.params["cnn_lstm"]["training"]["seed"] == 1
        assert context.params["cnn_lstm"]["training"]["epochs"] == 40  # base's, kept
        assert context.params["data"]["max_gap"] == 3  # base's, not the code default 0
    run_kedro(project, ["ingestion"], env="plant", params=seed)
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert len(series) == 400 and list(series.columns) == ["load", "temp"]


def test_list_parameter_on_the_command_line(project):
    write_plant(project)
    # what `kedro run --params "…"` hands the session: Kedro's own parser
    given = ("data.path=data/01_raw/plant.csv,data.time_column=ts,data.targets.0=load,"
             "data.features.0=load,data.features.1=temp")
    params = _split_params(None, None, given)
    run_kedro(project, ["ingestion"], params=params)
    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert list(series.columns) == ["load", "temp"]  # not humidity: the list was honoured


# --- one writer at a time ----------------------------------------------------------------------

def test_a_run_waits_for_the_lock_then_fails_naming_the_holder(project):
    holder = locking.ProjectLock(project / ".seqcast.lock", "retrain")
    holder.acquire(0)
    try:
        started = time.monotonic()
        with pytest.raises(SeqcastError) as failure:
            run_kedro(project, ["ingestion"], params={"runs": {"lock_timeout": 2}})
        assert time.monotonic() - started >= 2
    finally:
        holder.release()
    message = str(failure.value)
    assert str(project / ".seqcast.lock") in message
    assert f"pid {os.getpid()} on {socket.gethostname()}, pipelines retrain" in message
    assert "params:runs.lock_timeout" in message
    assert not (project / "data/02_intermediate/series.parquet").exists()


def test_a_failed_save_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "metrics.json"
    dataset = JSONDataset(filepath=str(path))
    dataset.save({"mase": 0.5})
    with pytest.raises(DatasetError, match="not JSON serializable"):
        dataset.save({"mase": 0.4, "model": object()})  # json.dump fails half-way
    assert json.loads(path.read_text()) == {"mase": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_mlflow_artifact_dataset_logs_the_atomically_saved_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("atomic")
    dataset = MlflowArtifactDataset(dataset={"type": "seqcast.datasets.atomic.CSVDataset",
                                             "filepath": str(tmp_path / "forecast.csv")})
    with mlflow.start_run() as run:
        dataset.save(pd.DataFrame({"forecast": [1.0, 2.0]}))
    assert pd.read_csv(tmp_path / "forecast.csv")["forecast"].tolist() == [1.0, 2.0]
    logged = [a.path for a in MlflowClient().list_artifacts(run.info.run_id)]
    assert logged == ["forecast.csv"]
    assert not list(tmp_path.glob(".forecast.tmp-*"))


class Reader(threading.Thread):
    """Reads the outputs other runs read, as fast as it can, until told to stop."""

    def __init__(self, project):
        super().__init__(daemon=True)
        self.project, self.stop, self.reads, self.errors = project, threading.Event(), 0, []
        self.holders = []

    def run(self):
        series = self.project / "data/02_intermediate/series.parquet"
        spec = self.project / "data/05_model_input/window_spec.json"
        while not self.stop.is_set():
            try:
                assert len(pd.read_parquet(series)) > 0
                json.loads(spec.read_text())
                self.reads += 1
            except Exception as err:  # noqa: BLE001 - every failure is recorded and asserted
                self.errors.append(repr(err))
            holder = locking.read_holder(self.project / ".seqcast.lock", attempts=1)
            if holder and (not self.holders or self.holders[-1] != holder["pid"]):
                self.holders.append(holder["pid"])


@pytest.mark.slow
def test_two_runs_at_once_take_turns_and_never_expose_a_partial_file(project):
    # A larger series, so that a non-atomic write would be caught half-way by the reader.
    synthetic_raw(20_000, freq="h").to_csv(project / "data/01_raw/hourly.csv", index=False)
    params = "data.path=data/01_raw/hourly.csv,data.time_column=ts,data.targets=load"
    run_kedro(project, ["ingestion", "windowing"],  # the store and the outputs exist already
              params=_split_params(None, None, params))
    reader = Reader(project)
    reader.start()
    pids = []
    for _ in range(2):
        # The test holds the lock until both runs queue behind it, so they contend for real.
        gate = locking.ProjectLock(project / ".seqcast.lock", "gate")
        gate.acquire(0)
        jobs = [subprocess.Popen([*KEDRO, "--pipelines", "ingestion,windowing",
                                  "--params", params], cwd=project, env=environment(),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(2)]
        pids += [job.pid for job in jobs]
        waiting = [job.stdout.readline for job in jobs]
        outputs = ["", ""]
        for i, read in enumerate(waiting):
            while "another gate job holds" not in outputs[i]:
                line = read()
                assert line, outputs[i][-3000:]
                outputs[i] += line
        gate.release()
        for i, job in enumerate(jobs):
            outputs[i] += job.communicate(timeout=300)[0]
        assert [job.returncode for job in jobs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    reader.stop.set()
    reader.join()
    assert reader.errors == [] and reader.reads > 0
    # the lock passed from the test to one run, then to the other (flock: never two at once)
    assert set(pids) <= set(reader.holders)


# --- killed runs -------------------------------------------------------------------------------

def test_runs_of_gone_processes_are_marked_killed(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("runs")
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    me = runs.process_tags()
    cases = {
        "alive": me,
        "recycled pid": {**me, runs.STARTED: str(float(me[runs.STARTED]) - 3600)},
        "gone": {**me, runs.PID: str(finished.pid)},
        "other host": {**me, runs.HOST: "elsewhere", runs.PID: str(finished.pid)},
    }
    ids = {name: client.create_run(experiment, tags=tags, run_name=name).info.run_id
           for name, tags in cases.items()}
    killed = runs.mark_dead_runs_killed(client)
    assert sorted(killed) == sorted([ids["recycled pid"], ids["gone"]])
    status = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert status == {"alive": "RUNNING", "recycled pid": "KILLED", "gone": "KILLED",
                      "other host": "RUNNING"}


@pytest.mark.slow
def test_a_run_killed_during_training_is_marked_killed_at_the_next_start(project):
    run_kedro(project, ["ingestion", "windowing"])  # the store exists, as after any first run
    slow = ("cnn_lstm.training.epochs=500,cnn_lstm.training.patience=500,"
            "cnn_lstm.model.units=8,cnn_lstm.model.filters=8")
    job = subprocess.Popen([*KEDRO, "--pipelines", "training", "--namespaces", "training.cnn_lstm",
                            "--params", slow], cwd=project, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ""
    while "cnn_lstm epoch 1/500:" not in output:
        line = job.stdout.readline()
        assert line, output[-3000:]
        output += line
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    killed_run = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        f"tags.`{runs.PID}` = '{job.pid}'")[0]
    assert killed_run.info.status == "RUNNING"  # what the UI showed for ever

    after = subprocess.run([*KEDRO, "--pipelines", "ingestion"], cwd=project,
                           env=environment(), capture_output=True, text=True, timeout=600,
                           check=False)
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    assert client.get_run(killed_run.info.run_id).info.status == "KILLED"
    assert (f"{killed_run.info.run_id} (training seattle-weather) marked KILLED"
            in after.stdout + after.stderr)


def test_the_run_and_its_child_runs_carry_their_process(trained_project):
    client = MlflowClient(f"sqlite:///{trained_project / 'mlflow.db'}")
    found = client.search_runs([e.experiment_id for e in client.search_experiments()])
    children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
    assert len(found) == 4 and len(children) == 3  # kedro-mlflow's run, one per model
    for run in found:
        assert run.data.tags[runs.HOST] == socket.gethostname()
        assert run.data.tags[runs.PID] == str(os.getpid())  # the session ran in this process
        assert float(run.data.tags[runs.STARTED]) == pytest.approx(
            psutil.Process().create_time(), abs=1)
