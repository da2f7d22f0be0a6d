"""The shipped panel example: ``kedro run --env panel`` reads 14 industries as one panel."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from tests.conftest import ROOT, run_kedro

PANEL_CSV = "data/01_raw/unemployment-across-industries.csv"
MONTHS = pd.date_range("2000-01-01", "2010-02-01", freq="MS")


def panel_parameters() -> dict:
    """The parameters ``--env panel`` runs with: base merged with conf/panel key by key."""
    from seqcast import settings

    loader = settings.CONFIG_LOADER_CLASS(str(ROOT / "conf"), env="panel",
                                          **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


def test_panel_environment_ingests_every_industry(project):
    shutil.copy(ROOT / PANEL_CSV, project / PANEL_CSV)  # the project copy ships Seattle only
    run_kedro(project, ["ingestion"], env="panel")

    series = pd.read_parquet(project / "data/02_intermediate/series.parquet")
    assert list(series.columns) == ["industry", "date", "count", "rate"]
    stamps = series.groupby("industry")["date"].agg(list)
    assert len(stamps) == 14
    assert all(list(s) == list(MONTHS) for s in stamps)  # 122 month starts each, none inserted
    first = series.set_index(["industry", "date"]).loc[("Construction", MONTHS[0])]
    assert (first["count"], first["rate"]) == (745.0, 9.7)  # the file's first Construction row

    report = json.loads((project / "data/02_intermediate/ingestion_report.json").read_text())
    assert report["series_in"] == report["series_kept"] == 14
    assert report["dropped"]["count"] == 0 and report["constant_target"]["count"] == 0


def test_panel_windows_fit_the_series_and_the_base_models():
    import keras

    from seqcast.models.cnn_lstm import build_cnn_lstm
    from seqcast.windows import WindowGeometry

    params = panel_parameters()
    assert params["data"]["max_gap"] == 3  # base's keys survive the environment's `data:`
    geometry = WindowGeometry.from_params(params["windows"])
    assert geometry.lookback == geometry.season_length == 12
    assert geometry.required_length() <= len(MONTHS)
    history = keras.Input((geometry.n_seq, geometry.n_steps, 2))
    head = build_cnn_lstm(history, geometry.horizon, 1, **params["cnn_lstm"]["model"])
    assert tuple(head.shape) == (None, geometry.horizon, 1)
