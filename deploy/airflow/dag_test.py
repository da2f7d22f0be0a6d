"""Run the committed retrain DAG end to end in a real Airflow, then check the registry.

`make airflow-test` runs this with Airflow's own virtual environment (`.venv-airflow`):
a throwaway AIRFLOW_HOME with a SQLite metadata database (`airflow db migrate`), a copy of
the project with small models, `airflow dags test seqcast_retrain` twice, then the DAG runs'
and tasks' states from Airflow and the tracking store through MlflowClient. The first run
tracks through the Variable `seqcast_mlflow_tracking_uri` (a SQLite store) and promotes; the
second through the Connection `seqcast_mlflow` to an `mlflow server` on that store (the
Variable then points elsewhere: the Connection must win) and judges against the champion.
Exits non-zero, saying what is wrong and keeping the work folder, on any failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "deploy/airflow/seqcast_retrain_dag.py"
DAG_ID = "seqcast_retrain"
FAMILIES = ("cnn_lstm", "lstm", "ensemble")  # what is tracked and registered
STAGES = {"ingestion", "windowing", "train_cnn_lstm", "train_lstm", "train_ensemble",
          "evaluate_and_register"}
# Small models: the DAG's wiring is under test, not the accuracy.
FAST_PARAMETERS = """\
cnn_lstm: {model: {filters: 8, units: 8}, training: {epochs: 3, patience: 3}}
lstm: {model: {units: 8}, training: {epochs: 3, patience: 3}}
"""


def copy_project(dest: Path) -> Path:
    """The project's configuration and shipped data, small models in conf/local."""
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / "src").mkdir()  # seqcast is installed in the Airflow venv; Kedro checks the folder
    shutil.copytree(ROOT / "conf", dest / "conf", ignore=shutil.ignore_patterns("local"))
    (dest / "conf/local").mkdir()
    (dest / "conf/local/parameters.yml").write_text(FAST_PARAMETERS)
    for layer in (p for p in (ROOT / "data").iterdir() if p.is_dir()):
        (dest / "data" / layer.name).mkdir(parents=True)
    shutil.copy(ROOT / "data/01_raw/seattle-weather.csv", dest / "data/01_raw")
    return dest


def airflow(env: dict, *args: str) -> str:
    airflow_bin = Path(sys.executable).parent / "airflow"
    done = subprocess.run([str(airflow_bin), *args], env=env, text=True, capture_output=True,
                          check=False)
    if done.returncode:
        sys.exit(f"`airflow {' '.join(args)}` failed ({done.returncode}):\n"
                 f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}")
    return done.stdout


@contextlib.contextmanager
def mlflow_server(store: str):
    """An `mlflow server` on a free loopback port; yields its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri", store,
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"mlflow server on port {port} did not start")
                time.sleep(1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def json_of(output: str):
    """The JSON a command printed last (Airflow logs to stdout before it)."""
    return json.loads(output.strip().splitlines()[-1])


def check_dag_runs(env: dict, expected: int) -> None:
    """``expected`` DAG runs, all successful, each with every stage's task successful."""
    runs = json_of(airflow(env, "dags", "list-runs", DAG_ID, "-o", "json"))
    if [run["state"] for run in runs] != ["success"] * expected:
        sys.exit(f"DAG runs of {DAG_ID}: {[(r['run_id'], r['state']) for r in runs]}, "
                 f"expected {expected}, all success")
    for run in runs:
        tasks = json_of(airflow(env, "tasks", "states-for-dag-run", DAG_ID, run["run_id"],
                                "-o", "json"))
        states = {task["task_id"]: task["state"] for task in tasks}
        if states != dict.fromkeys(STAGES, "success"):
            sys.exit(f"DAG run {run['run_id']}: task states {states}, expected "
                     f"{sorted(STAGES)} all success")


def check_registry(uri: str, dag_runs: int) -> None:
    """One MLflow run per DAG run with one child per family; one version per family per DAG
    run; a retrain decision on every version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("seqcast")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    problems = []
    if len(parents) != dag_runs or {r.info.status for r in runs} != {"FINISHED"}:
        problems.append(f"{len(parents)} top-level runs, statuses "
                        f"{sorted({r.info.status for r in runs})}: expected {dag_runs}, FINISHED")
    if len(children) != dag_runs * len(FAMILIES):
        problems.append(f"{len(children)} family runs, expected {dag_runs * len(FAMILIES)}")
    for parent in parents:
        if not parent.info.run_name.startswith("retrain"):
            problems.append(f"run {parent.info.run_id} is named {parent.info.run_name!r}")
    for family in FAMILIES:
        name = f"seqcast-{family}"
        versions = client.search_model_versions(f"name='{name}'")
        if len(versions) != dag_runs:
            problems.append(f"{name}: {len(versions)} versions, expected {dag_runs}")
        # The gate promotes only a model that beats both baselines: a family may have none.
        undecided = [v.version for v in versions if v.tags.get("decision") not in
                     ("promoted", "kept")]
        if undecided:
            problems.append(f"{name}: versions {undecided} carry no retrain decision")
        champion = next((v for v in versions if "champion" in (v.aliases or [])), None)
        print(f"{name}: versions {sorted(int(v.version) for v in versions)}, champion "
              f"{'v' + str(champion.version) if champion else 'none (lost to a baseline)'}")
    if problems:
        sys.exit("registry check failed:\n  " + "\n  ".join(problems))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="seqcast-airflow-"))
    try:
        run(work)
    except SystemExit:
        print(f"work folder kept for a look: {work}", file=sys.stderr)
        raise
    shutil.rmtree(work)


def run(work: Path) -> None:
    started = time.monotonic()
    (work / "project").mkdir()
    project = copy_project(work / "project")
    dags = work / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags)  # the committed file, as a deployment would ship it
    # Tracking outside the project folder: the Variable, not the project default, must decide.
    tracking_uri = f"sqlite:///{work / 'tracking' / 'mlflow.db'}"
    (work / "tracking").mkdir()
    env = {**os.environ,
           "AIRFLOW_HOME": str(work / "airflow"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work / 'airflow.db'}",
           "AIRFLOW_VAR_SEQCAST_PROJECT_PATH": str(project),
           "AIRFLOW_VAR_SEQCAST_MLFLOW_TRACKING_URI": tracking_uri,
           "KEDRO_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MLFLOW_TRACKING_URI", None)
    airflow(env, "db", "migrate")
    airflow(env, "dags", "test", DAG_ID, "2026-01-01")
    check_dag_runs(env, 1)
    print(f"dags test 2026-01-01 (Variable): all tasks success ({time.monotonic() - started:.0f}s)")
    with mlflow_server(tracking_uri) as port:
        connection = json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": port})
        airflow({**env, "AIRFLOW_CONN_SEQCAST_MLFLOW": connection,
                 "AIRFLOW_VAR_SEQCAST_MLFLOW_TRACKING_URI": f"sqlite:///{work / 'other.db'}"},
                "dags", "test", DAG_ID, "2026-01-02")
    check_dag_runs(env, 2)
    print(f"dags test 2026-01-02 (Connection): all tasks success "
          f"({time.monotonic() - started:.0f}s)")
    for stray in (project / "mlflow.db", work / "other.db"):
        if stray.exists():
            sys.exit(f"the DAG tracked into {stray.name}: the Connection, then the Variable, "
                     "must decide the tracking URI")
    check_registry(tracking_uri, dag_runs=2)
    decisions = json.loads((project / "data/08_reporting/retrain_decisions.json").read_text())
    print(f"decisions: {json.dumps(decisions)[:300]}")
    print(f"airflow-test passed in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
