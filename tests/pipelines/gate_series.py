"""Raw files for the retrain gate's tests: one the models learn and the baselines cannot
follow, one where seasonal naive is nearly exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# The project's defaults read the Seattle file; these read `ts, load, temp` files.
COLUMNS = {"time_column": "ts", "targets": "load"}


def raw_table(load: np.ndarray, seed: int = 0) -> pd.DataFrame:
    n = len(load)
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "ts": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": load,
        "temp": 15 + 5 * np.sin(2 * np.pi * t / 365) + rng.normal(0, 1, n),
    })


def learnable(n: int = 600) -> pd.DataFrame:
    """A 5-day cycle with noise: naive and (weekly) seasonal naive miss it, a model with four
    weeks of history follows it (gate MASE about 0.5 against naive's 0.67 with `FAST`)."""
    t = np.arange(n)
    noise = np.random.default_rng(1).normal(0, 0.3, n)
    return raw_table(10 + 3 * np.sin(2 * np.pi * t / 5) + noise)


def weekly(n: int = 600, level: float = 10.0) -> pd.DataFrame:
    """A weekly cycle with almost no noise around ``level``: seasonal naive is nearly exact,
    so every model loses to it."""
    t = np.arange(n)
    noise = np.random.default_rng(2).normal(0, 0.05, n)
    return raw_table(level + 3 * np.sin(2 * np.pi * t / 7) + noise)


def write(project: Path, name: str, table: pd.DataFrame) -> dict:
    """``table`` as ``data/01_raw/<name>``: the ``params:data`` that read it."""
    table.to_csv(project / "data/01_raw" / name, index=False)
    return {"path": f"data/01_raw/{name}", **COLUMNS}
