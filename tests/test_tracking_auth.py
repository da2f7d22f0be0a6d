"""seqcast against a real `mlflow server --app-name basic-auth`: the password works, and shows
nowhere — not in output, project files, the server's stores, nor any run's fields."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

# Kedro sets up logging when this is first imported. Before TensorFlow (seqcast.registry):
# done later, inside a test capturing output, it closes absl's handler's stream, pytest's own.
import kedro.framework.project  # noqa: F401
import mlflow
import pytest
import requests
from mlflow.tracking import MlflowClient

from seqcast import registry
from seqcast.tracking_server import TrackingServerError
from tests.conftest import run_kedro
from tests.test_tracking_server import mlflow_server

pytestmark = pytest.mark.slow  # starts a tracking server

ADMIN = ("admin", "admin-Pw-0123456789")
USER = "alice"
PASSWORD = "s3cret:Pw@2026/x"  # characters a URI must percent-encode
READER = ("bob", "bob-Pw-0123456789")  # the app's default permission: READ
CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """MLflow's basic-auth app: its own user store, an admin from its ini, one user created."""
    root = tmp_path_factory.mktemp("mlflow-auth-server")
    (root / "auth.ini").write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        f"admin_username = {ADMIN[0]}\nadmin_password = {ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(root / "auth.ini"),
           "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only-csrf-key"}
    with mlflow_server(root, "--app-name", "basic-auth", env=env) as uri:
        for user, password in ((USER, PASSWORD), READER):
            created = requests.post(f"{uri}/api/2.0/mlflow/users/create", auth=ADMIN,
                                    json={"username": user, "password": password}, timeout=30)
            created.raise_for_status()
        yield uri, root


@pytest.fixture
def clean_env(project, monkeypatch):
    """No credentials from the caller's environment; MLflow's state reset afterwards."""
    saved = {name: os.environ.pop(name, None) for name in CREDENTIAL_VARIABLES}
    yield project
    mlflow.set_tracking_uri(None)
    # The start-up check moves URI credentials into the environment itself (not through
    # monkeypatch): put the caller's environment back as it was.
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


def with_credentials(uri: str, password: str = PASSWORD) -> str:
    return uri.replace("//", f"//{USER}:{quote(password, safe='')}@", 1)


def assert_password_nowhere(output: str, *folders: Path, uri: str):
    """Not in the output, any file under the folders (but conf/local, where a user may keep
    it), nor any field of any run on the server."""
    secrets = (PASSWORD, quote(PASSWORD, safe=""))
    assert not [s for s in secrets if s in output]
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and "conf/local" not in path.as_posix():
                content = path.read_bytes()
                assert not [s for s in secrets if s.encode() in content], path
    os.environ.update(dict(zip(CREDENTIAL_VARIABLES, ADMIN, strict=True)))
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs
    for run in runs:
        fields = [run.info.run_name, *run.data.params.values(), *run.data.tags.values()]
        assert not [f for f in fields for s in secrets if s in str(f)], run.info.run_id


def test_credentials_in_mlflow_yml_uri(auth_server, clean_env):
    """A real `kedro run`, the URI with user:password in conf/local/mlflow.yml."""
    uri, root = auth_server
    project = clean_env
    (project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: {with_credentials(uri)}\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", *CREDENTIAL_VARIABLES)}
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "ingestion"],
        cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    # MLflow's "View run" link, without the password
    assert f"View run ingestion seattle-weather at: {uri}/#/experiments/" in output
    assert_password_nowhere(output, project, root, uri=uri)


def test_no_champion_yet_on_an_authenticated_server(auth_server, clean_env, monkeypatch):
    uri, _ = auth_server
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    assert registry.champion("seqcast-not-registered-yet", MlflowClient(uri)) is None


def test_credentials_in_the_environments_uri(auth_server, clean_env, monkeypatch, capsys):
    uri, root = auth_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", with_credentials(uri))
    run_kedro(clean_env, ["ingestion", "windowing"])
    output = "".join(capsys.readouterr())
    assert f" at: {uri}/#/experiments/" in output  # MLflow's "View run" link, no password
    assert mlflow.get_tracking_uri() == uri
    assert_password_nowhere(output, clean_env, root, uri=uri)


def test_username_and_password_variables(auth_server, clean_env, monkeypatch, capsys):
    uri, root = auth_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    run_kedro(clean_env, ["ingestion"])
    assert (clean_env / "data/02_intermediate/series.parquet").exists()
    assert_password_nowhere("".join(capsys.readouterr()), clean_env, root, uri=uri)


def test_wrong_password_is_a_short_clear_error(auth_server, clean_env):
    uri, root = auth_server
    wrong = "not-" + PASSWORD
    env = {**os.environ, "MLFLOW_TRACKING_URI": with_credentials(uri, wrong)}
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "ingestion"], cwd=clean_env,
        env=env, capture_output=True, text=True, check=False, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert len(output.splitlines()) <= 12, output
    assert (f"Error: MLflow tracking server {uri} (MLFLOW_TRACKING_URI) refused the credentials "
            f"(user '{USER}', HTTP 401)") in done.stderr
    assert wrong not in output and quote(wrong, safe="") not in output
    assert not (clean_env / "data/02_intermediate/series.parquet").exists()


def test_wrong_password_in_process(auth_server, clean_env, monkeypatch):
    uri, _ = auth_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-password-123")
    with pytest.raises(TrackingServerError, match="refused the credentials"):
        run_kedro(clean_env, ["ingestion"])


def test_a_refused_request_mid_run_is_a_short_clear_error(auth_server, clean_env, monkeypatch):
    """bob may read experiment `seqcast` (the check passes) but not start a run in it."""
    uri, _ = auth_server
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    client = MlflowClient(uri)
    if client.get_experiment_by_name("seqcast") is None:
        client.create_experiment("seqcast")  # alice's, as after her first run
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_USERNAME": READER[0],
           "MLFLOW_TRACKING_PASSWORD": READER[1]}
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "ingestion"], cwd=clean_env,
        env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "Error: the MLflow tracking server refused a request" in done.stderr
    assert "EDIT permission" in done.stderr
