"""The shipped panel example: ``kedro run --env panel`` reads 14 industries as one panel."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.conftest import FAST, ROOT, run_kedro

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


@pytest.mark.slow
def test_panel_retrains_and_forecasts_every_series(project):
    """End to end on the shipped panel: per-series scores, one model per family, a forecast
    for every series (or the chosen ones) in long format with the id column."""
    shutil.copy(ROOT / PANEL_CSV, project / PANEL_CSV)
    run_kedro(project, ["retrain"], env="panel", params=FAST)
    reporting = project / "data/08_reporting"
    by_series = pd.read_parquet(reporting / "metrics_by_series.parquet")
    assert by_series.groupby("model")["series"].nunique().to_dict() == {
        "cnn_lstm": 14, "lstm": 14, "ensemble": 14, "naive": 14, "seasonal_naive": 14}
    assert by_series["n_origins"].eq(4).all()
    metrics = json.loads((reporting / "metrics.json").read_text())
    for name in ("cnn_lstm", "lstm", "ensemble"):
        defined = by_series[by_series["model"] == name]["mase"]
        assert metrics[name]["mase"] == pytest.approx(defined.mean())
        assert metrics[name]["mase_median"] == pytest.approx(defined.median())
        assert metrics[name]["n_series"] == 14
    decisions = json.loads((reporting / "retrain_decisions.json").read_text())
    assert {d["namespace"] for d in decisions} == {"cnn_lstm", "lstm", "ensemble"}
    assert all(d["decision"] == "promoted" or d["reason"] for d in decisions)

    run_kedro(project, ["forecast"], env="panel")
    forecast = pd.read_csv(project / "data/07_model_output/forecast.csv",
                           parse_dates=["timestamp", "origin"])
    assert list(forecast.columns[:3]) == ["industry", "timestamp", "target"]
    served = forecast["model"].iloc[0]  # a family, or a baseline when both families lose
    promoted = {f"seqcast-{d['namespace']}" for d in decisions if d["decision"] == "promoted"}
    assert served in promoted | {"naive", "seasonal_naive"}
    assert forecast["served_because"].notna().all()
    assert forecast.groupby("industry").size().eq(6).all() and forecast["industry"].nunique() == 14
    assert (forecast["origin"] == pd.Timestamp("2010-02-01")).all()
    assert forecast["timestamp"].min() == pd.Timestamp("2010-03-01")
    assert forecast["forecast"].between(0, 40).all()  # unemployment rates, in percent

    run_kedro(project, ["forecast"], env="panel",
              params={"forecast": {"ids": ["Manufacturing", "Finance"]}})
    chosen = pd.read_csv(project / "data/07_model_output/forecast.csv")
    assert sorted(chosen["industry"].unique()) == ["Finance", "Manufacturing"]
    with pytest.raises(Exception, match="not in the data"):
        run_kedro(project, ["forecast"], env="panel",
                  params={"forecast": {"ids": ["Astrology"]}})
