"""Shared fixtures: a synthetic raw table, and a throw-away copy of the project to run Kedro in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def synthetic_raw(n: int = 400, freq: str = "D", seed: int = 0) -> pd.DataFrame:
    """A daily table with a weekly season, a trend and noise: ``ts, load, temp, label``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame(
        {
            "ts": pd.date_range("2020-01-01", periods=n, freq=freq).strftime("%Y-%m-%d %H:%M"),
            "load": 10 + 0.01 * t + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n),
            "temp": 15 + 5 * np.sin(2 * np.pi * t / 365) + rng.normal(0, 1, n),
            "label": np.where(t % 2, "a", "b"),
        }
    )


def clean_series_with_report(raw: pd.DataFrame, data: dict, windows: dict):
    """``(series, report)``: ``raw`` cleaned as the ingestion pipeline cleans it."""
    from seqcast.cleaning import ingest
    from seqcast.windows import WindowGeometry

    return ingest(raw, data, WindowGeometry.from_params(windows))


def clean_series(raw: pd.DataFrame, data: dict, windows: dict) -> pd.DataFrame:
    """The cleaned ``series`` alone (one series, or a panel in long format)."""
    return clean_series_with_report(raw, data, windows)[0]


DATA = {
    "path": "test.csv",
    "time_column": "ts",
    "targets": ["load"],
    "features": ["load", "temp"],
    "frequency": None,
    "duplicates": "error",
    "max_gap": 3,
}
WINDOWS = {
    "n_seq": 2,
    "n_steps": 7,
    "lookback": None,
    "horizon": 7,
    "season_length": 7,
    "origins": 4,
    "validation_origins": 4,
}


@pytest.fixture(autouse=True)
def tracking_uri_from_environment():
    """Each test finds its tracking store through its own environment: a URI that an earlier
    test set in-process (``mlflow.set_tracking_uri``, a Kedro session) would leak into it."""
    import mlflow

    mlflow.set_tracking_uri(None)
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture
def raw() -> pd.DataFrame:
    return synthetic_raw()


@pytest.fixture
def data_params() -> dict:
    return dict(DATA)


@pytest.fixture
def window_params() -> dict:
    return dict(WINDOWS)


def copy_project(dest: Path) -> Path:
    """The project's configuration and shipped data in ``dest``, generated data left behind."""
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    shutil.copytree(ROOT / "conf", dest / "conf", ignore=shutil.ignore_patterns("local"))
    (dest / "conf" / "local").mkdir()
    for layer in sorted(p.name for p in (ROOT / "data").iterdir() if p.is_dir()):
        (dest / "data" / layer).mkdir(parents=True)
    shutil.copy(ROOT / "data/01_raw/seattle-weather.csv", dest / "data/01_raw")
    return dest


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A fresh project copy as the working directory, tracking into its own SQLite store."""
    path = copy_project(tmp_path)
    monkeypatch.chdir(path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path / 'mlflow.db'}")
    return path


def run_kedro(path: Path, pipelines: list[str] | None = None, params: dict | None = None,
              env: str | None = None, namespaces: list[str] | None = None):
    """Run pipelines in a real KedroSession, as ``kedro run`` does."""
    import mlflow
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(path)
    try:
        with KedroSession.create(path, env=env, runtime_params=params or {}) as session:
            return session.run(pipeline_names=pipelines, namespaces=namespaces)
    finally:
        # kedro-mlflow re-enters its run once per node and leaves it on MLflow's stack; a CLI
        # run ends with its process, a test must pop it or the next session would reuse it.
        while mlflow.active_run():
            mlflow.end_run()


# Small, quick models for pipeline tests: the wiring is under test here, not the accuracy.
FAST = {
    "cnn_lstm": {"model": {"filters": 8, "units": 8}, "training": {"epochs": 3, "patience": 3}},
    "lstm": {"model": {"units": 8}, "training": {"epochs": 3, "patience": 3}},
}


def config_file_params(path: str) -> dict:
    """The parameters ``kedro run --config <path>`` runs with, parsed by Kedro's own CLI."""
    from kedro.framework.cli.project import run

    return run.make_context("run", ["--config", str(ROOT / path)]).params["params"]


# The shipped interval settings (the default is point forecasts).
INTERVALS = config_file_params("conf/intervals.yml")


def with_intervals(blocks: dict) -> dict:
    """Families' parameter blocks with the shipped interval settings added."""
    return {ns: {**block, "training": {**block["training"], **INTERVALS[ns]["training"]}}
            for ns, block in blocks.items()}


FAST_INTERVALS = with_intervals(FAST)


@pytest.fixture
def python3_kernel(tmp_path_factory, monkeypatch) -> str:
    """A ``python3`` kernelspec running this interpreter (the project's venv), found first.

    Jupyter would otherwise take the first ``python3`` on its path, which on a developer's
    machine may be a global Jupyter's, with neither seqcast nor Kedro installed.
    """
    from ipykernel.kernelspec import write_kernel_spec

    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root / "kernels" / "python3")  # argv: sys.executable -m ipykernel_launcher
    monkeypatch.setenv("JUPYTER_PATH", str(root))  # JUPYTER_PATH comes before every other path
    return "python3"


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory):
    """One default ``kedro run`` (fast models, with intervals) in a project copy, shared by
    read-only tests."""
    path = copy_project(tmp_path_factory.mktemp("trained"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{path / 'mlflow.db'}")
        run_kedro(path, params=FAST_INTERVALS)
    return path


def tiny_spec(**changes):
    """A two-series window specification built by hand (features a, b; target b), for model
    tests that need no data."""
    from seqcast.spec import WindowSpec
    from seqcast.windows import WindowGeometry

    geometry = {"n_seq": 2, "n_steps": 4, "horizon": 3, "season_length": 3, "origins": 1,
                "validation_origins": 1}
    geometry.update({k: changes.pop(k) for k in list(changes) if k in geometry})
    fields = {"features": ["a", "b"], "targets": ["b"], "target_index": [1], "id_columns": [],
              "time_column": "ts", "series": ["s0", "s1"], "lengths": [50, 50],
              "n_points": 100, "start": "", "end": "", "frequency": None,
              "test_start_at": "", "n_train_windows": 0, "n_validation_windows": 0,
              "mean": [[10.0, -5.0], [0.0, 100.0]], "std": [[2.0, 4.0], [1.0, 10.0]]}
    return WindowSpec(WindowGeometry(**geometry), **{**fields, **changes})
