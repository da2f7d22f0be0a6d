"""`kedro run` through seqcast's cli.py: known failures in a few lines, bugs with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import find_run_command
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError

from seqcast.cleaning import DataValidationError
from seqcast.cli import cli, known_failure
from seqcast.cli import run as seqcast_run
from seqcast.errors import SeqcastError
from tests.conftest import synthetic_raw

BAD = "data.path=data/01_raw/bad.csv,data.name=bad,data.time_column=ts,data.targets=load"
MESSAGE = "column 'load' is not numeric (value '12.5kW'"


@pytest.fixture
def bad_csv(project):
    """A table whose target holds a unit in row 42, as spreadsheets export it."""
    raw = synthetic_raw().astype({"load": object})
    raw.loc[41, "load"] = "12.5kW"
    raw.to_csv(project / "data/01_raw/bad.csv", index=False)
    return project


def invoke(*args: str):
    """seqcast's `run` in this process, on the project in the working directory."""
    bootstrap_project(Path.cwd())  # what `kedro` does before it runs a project command
    try:
        return CliRunner().invoke(cli, ["run", *args])
    finally:
        while mlflow.active_run():
            mlflow.end_run()


def test_kedro_runs_seqcasts_run_with_every_kedro_option():
    assert find_run_command("seqcast") is seqcast_run
    assert {p.name for p in kedro_run.params} < {p.name for p in seqcast_run.params}


def test_known_failure_is_one_message_and_exit_status_1(bad_csv, monkeypatch):
    monkeypatch.delenv("SEQCAST_TRACEBACK", raising=False)
    result = invoke("--pipelines", "ingestion", "--params", BAD)
    assert result.exit_code == 1
    assert MESSAGE in result.stderr and "--verbose" in result.stderr
    assert "Traceback" not in result.output
    assert not (bad_csv / "data/02_intermediate/series.parquet").exists()


@pytest.mark.parametrize("switch", ["--verbose", "SEQCAST_TRACEBACK=1"])
def test_traceback_on_request(bad_csv, monkeypatch, switch):
    args = ["--pipelines", "ingestion", "--params", BAD]
    if switch.startswith("--"):
        args.append(switch)
    else:
        monkeypatch.setenv(*switch.split("="))
    result = invoke(*args)
    assert isinstance(result.exception, DataValidationError)  # raised on, traceback and all
    assert MESSAGE in str(result.exception)


def test_other_errors_keep_their_traceback(project):
    result = invoke("--pipelines", "no_such_pipeline")
    assert isinstance(result.exception, Exception)  # raised on, not turned into an exit
    assert not isinstance(result.exception, SeqcastError)
    assert "no_such_pipeline" in str(result.exception)


def test_known_failure_behind_a_dataset_error():
    try:
        try:
            raise DataValidationError("data/x.csv: bad")
        except DataValidationError as inner:
            raise DatasetError("Failed while loading data from dataset raw_series") from inner
    except DatasetError as outer:
        assert known_failure(outer) == "data/x.csv: bad"
    try:
        try:
            raise DataValidationError("data/x.csv: bad")
        except DataValidationError:
            raise KeyError("a bug while handling it") from None
    except KeyError as bug:
        assert known_failure(bug) is None


def test_make_ui_points_at_a_servers_own_ui_without_its_password():
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://bob:s3cret@127.0.0.1:5999"}
    done = subprocess.run(["make", "-s", "ui"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "http://127.0.0.1:5999" in done.stdout and "s3cret" not in done.stdout + done.stderr


def test_a_server_that_stops_answering_is_a_known_failure(monkeypatch):
    """MLflow's own client against a loopback port where nothing answers (any more)."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from tests.test_tracking_server import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    port = free_port()
    with pytest.raises(MlflowException) as caught:
        MlflowClient(f"http://127.0.0.1:{port}").search_experiments()
    message = known_failure(caught.value)
    assert message and "stopped answering" in message and f"127.0.0.1:{port}" in message


@pytest.mark.slow
def test_bad_csv_run_prints_a_few_lines(bad_csv):
    """The real command line: `kedro run` on a bad CSV, then again with --verbose."""
    # as a user runs it: TensorFlow's log level is the project's (settings.py)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "SEQCAST_TRACEBACK")}
    command = [sys.executable, "-m", "kedro", "run", "--params", BAD]
    short = subprocess.run(command, cwd=bad_csv, env=env, capture_output=True, text=True,
                           check=False, timeout=300)
    lines = (short.stdout + short.stderr).splitlines()
    assert short.returncode == 1, lines
    # 14: TensorFlow's 4 start-up lines, Kedro's and the new store's, the node line and its
    # error, kedro-mlflow closing its run, ours.
    assert len(lines) <= 16, "\n".join(lines)
    assert MESSAGE in short.stderr.splitlines()[-2]
    assert "Traceback" not in short.stdout + short.stderr
    verbose = subprocess.run([*command, "--verbose"], cwd=bad_csv, env=env, check=False,
                             capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "DataValidationError" in verbose.stderr and MESSAGE in verbose.stderr


def test_a_missing_environment_is_a_known_failure_naming_those_there_are(project):
    (project / "conf" / "plant").mkdir()
    result = invoke("--env", "nosuch")
    assert result.exit_code == 1
    assert "there is no folder conf/nosuch" in result.stderr
    listed = result.stderr.split("Environments in conf: ")[1].split(" (and base")[0]
    assert "local" in listed.split(", ") and "plant" in listed.split(", ")


@pytest.mark.slow
def test_kedro_run_with_a_missing_environment_stops_before_tracking(project):
    """The real command line, tracking left to mlflow.yml: nothing is tracked anywhere."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "KEDRO_ENV", "SEQCAST_TRACEBACK")}
    done = subprocess.run([sys.executable, "-m", "kedro", "run", "--env", "nosuch"],
                          cwd=project, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.splitlines()[-2]
    assert error.startswith("Error: the configuration environment 'nosuch' does not exist: "
                            "there is no folder conf/nosuch. Environments in conf: local"), error
    assert "Traceback" not in done.stderr
    assert not (project / "mlruns").exists() and not (project / "mlflow.db").exists()
