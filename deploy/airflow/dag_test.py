"""Run the committed retrain DAG end to end in a real Airflow, then check the registry.

`make airflow-test` runs this with Airflow's own virtual environment (`.venv-airflow`):
a throwaway AIRFLOW_HOME with a SQLite metadata database (`airflow db migrate`), a copy of
the project with small models, `airflow dags test seqcast_retrain` twice (the first run
promotes, the second judges against that champion), the DAG runs' states from Airflow, and
the tracking store through MlflowClient. Exits non-zero, saying what is wrong, on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "deploy/airflow/seqcast_retrain_dag.py"
DAG_ID = "seqcast_retrain"
FAMILIES = ("cnn_lstm", "lstm")
STAGES = {"ingestion", "windowing", "train_cnn_lstm", "train_lstm", "evaluate_and_register"}
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


def check_dag_runs(env: dict, expected: int) -> None:
    runs = json.loads(airflow(env, "dags", "list-runs", DAG_ID, "-o", "json"))
    states = [run["state"] for run in runs]
    if states != ["success"] * expected:
        sys.exit(f"DAG runs of {DAG_ID}: states {states}, expected {expected} x success")


def check_registry(uri: str, dag_runs: int) -> None:
    """One MLflow run per DAG run with one child per family; one version per family per DAG
    run; `champion` on a version of each family."""
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
        champion = client.get_model_version_by_alias(name, "champion")
        print(f"{name}: versions {sorted(int(v.version) for v in versions)}, "
              f"champion v{champion.version}")
    if problems:
        sys.exit("registry check failed:\n  " + "\n  ".join(problems))


def main() -> None:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="seqcast-airflow-"))
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
    tasks = set(airflow(env, "tasks", "list", DAG_ID).split())
    if tasks != STAGES:
        sys.exit(f"{DAG_ID} has tasks {sorted(tasks)}, expected {sorted(STAGES)}")
    print(f"{DAG_ID}: tasks {sorted(tasks)} ({time.monotonic() - started:.0f}s)")
    for number, date in enumerate(("2026-01-01", "2026-01-02"), start=1):
        airflow(env, "dags", "test", DAG_ID, date)
        check_dag_runs(env, number)
        print(f"dags test {date}: success ({time.monotonic() - started:.0f}s)")
    if (project / "mlflow.db").exists():
        sys.exit("the DAG tracked into the project's own mlflow.db, not the Variable's URI")
    check_registry(tracking_uri, dag_runs=2)
    decisions = json.loads((project / "data/08_reporting/retrain_decisions.json").read_text())
    print(f"decisions: {json.dumps(decisions)[:300]}")
    shutil.rmtree(work)
    print(f"airflow-test passed in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
