"""seqcast on a tracking server backed by a real PostgreSQL, used by two machines at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from seqcast import registry
from tests.conftest import FAST, copy_project
from tests.pipelines import gate_series
from tests.postgres import postgres_server
from tests.test_tracking_server import mlflow_server

FAMILIES = sorted(FAST)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-postgres")
    with postgres_server() as database, mlflow_server(root, backend=database) as uri:
        yield uri, root


def start(command: list[str], cwd, uri: str, **options) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=cwd, env={**os.environ, "MLFLOW_TRACKING_URI": uri},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **options)


def promotion_chain(client: MlflowClient, name: str) -> list[str]:
    """The promoted versions, each tagged with the champion it replaced, from the first on.

    Fails when two versions replaced the same champion: both saw it and both moved the alias.
    """
    versions = client.search_model_versions(f"name='{name}'")
    replaced = {v.tags["champion_version"]: str(v.version) for v in versions
                if v.tags.get("decision") == "promoted"}
    promoted = [v for v in versions if v.tags.get("decision") == "promoted"]
    assert len(replaced) == len(promoted), [(v.version, v.tags) for v in versions]
    chain, current = [], "none"  # the first promoted version replaced no champion
    while current in replaced:
        current = replaced[current]
        chain.append(current)
    assert len(chain) == len(promoted)
    return chain


@pytest.mark.slow
def test_two_machines_retrain_at_once(server, tmp_path):
    uri, root = server
    machines = []
    for name in ("machine-a", "machine-b"):
        (tmp_path / name).mkdir()
        machines.append(copy_project(tmp_path / name))
    # a series the models learn and the baselines miss: the gate can promote on both machines
    for machine in machines:
        data = gate_series.write(machine, "cycle.csv", gate_series.learnable())
    fast = ",".join([*(f"{ns}.training.epochs=2,{ns}.model.units=8" for ns in FAST),
                     *(f"data.{key}={value}" for key, value in data.items())])
    command = [sys.executable, "-m", "kedro", "run", "--pipelines", "retrain", "--params", fast]
    jobs = [start(command, machine, uri) for machine in machines]
    outputs = [job.communicate(timeout=600)[0] for job in jobs]
    failed = [out[-3000:] for job, out in zip(jobs, outputs, strict=True) if job.returncode]
    assert not failed, "\n".join(failed)

    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("seqcast").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 2 and len(children) == 6  # two families and the ensemble each
    assert {r.info.status for r in runs} == {"FINISHED"}
    for child in (c for c in children if c.data.tags["model_family"] != "ensemble"):
        assert {"mase", "seasonal_naive_mase", "val_loss"} <= set(child.data.metrics)
        assert {"forecasts.png", "losses.png"} <= {a.path for a in
                                                   client.list_artifacts(child.info.run_id)}
    for parent in parents:
        assert "metrics.json" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert len(list((root / "artifacts").rglob("metrics.json"))) == 2
    assert not any((m / "mlruns").exists() or (m / "mlflow.db").exists() for m in machines)

    records = [d for m in machines for d in
               json.loads((m / "data/08_reporting/retrain_decisions.json").read_text())]
    for family in FAMILIES:
        name = registry.model_name(family)
        versions = {str(v.version): v for v in client.search_model_versions(f"name='{name}'")}
        assert sorted(versions) == ["1", "2"]
        assert {v.run_id for v in versions.values()} == {
            c.info.run_id for c in children if c.data.tags["model_family"] == family}
        # what each job wrote is what the registry says
        for record in (r for r in records if r["namespace"] == family):
            assert versions[str(record["version"])].tags["decision"] == record["decision"]
        chain = promotion_chain(client, name)
        assert str(client.get_model_version_by_alias(name, "champion").version) == chain[-1]
        assert registry.LEASE_TAG not in client.get_registered_model(name).tags


RACER = """
import sys
from mlflow.tracking import MlflowClient
from seqcast import registry
name, version = sys.argv[1:]
client = MlflowClient()
client.get_registered_model(name)
print("ready", flush=True)
sys.stdin.readline()
print(registry.move_champion(name, version, None, client))
"""


@pytest.mark.slow
def test_promotions_at_the_same_instant_move_the_alias_once(server, tmp_path):
    uri, _ = server
    client = MlflowClient(uri)
    name = "seqcast-race"
    client.create_registered_model(name)
    run = client.create_run("0")
    for _ in range(3):
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run.info.run_id)
    # three jobs that all saw no champion try to promote their version at once
    racers = [start([sys.executable, "-c", RACER, name, str(v)], tmp_path, uri,
                    stdin=subprocess.PIPE) for v in (1, 2, 3)]
    for racer in racers:
        while (line := racer.stdout.readline()) and line.strip() != "ready":
            pass  # TensorFlow's start-up lines
        assert line, racer.communicate()[0][-3000:]
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [racer.communicate(timeout=120)[0].strip() for racer in racers]
    results = [out.splitlines()[-1] for out in outputs]
    assert sorted(results) == ["False", "False", "True"], "\n".join(outputs)[-5000:]
    winner = str(results.index("True") + 1)
    assert str(client.get_model_version_by_alias(name, "champion").version) == winner
    assert registry.LEASE_TAG not in client.get_registered_model(name).tags
