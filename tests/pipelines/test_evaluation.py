"""`kedro run` end to end: backtests, metrics.json, plots, and what reaches MLflow."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from seqcast.backtest import baseline_backtest
from seqcast.models import MODELS
from seqcast.outputs import round_significant
from seqcast.tracking import hyperparameter_names

NAMES = {"cnn_lstm", "lstm", "ensemble", "naive", "seasonal_naive"}
# The trained project's quantiles [0.1, 0.5, 0.9]: one 80% interval.
INTERVAL_SCORES = {"coverage_80", "width_80", "msis_80", "scaled_pinball"}


@pytest.fixture(scope="module")
def runs(trained_project):
    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["seqcast"])


def test_outputs_are_written(trained_project):
    reporting = trained_project / "data/08_reporting"
    metrics = json.loads((reporting / "metrics.json").read_text())
    assert set(metrics) == NAMES
    overall = {"mase", "mase_median", "smape", "rmse", "mae", "n_series",
               "n_series_mase_undefined"}
    for name, scores in metrics.items():
        model_only = set() if name in ("naive", "seasonal_naive") else {
            "share_beats_seasonal_naive", "coverage_80_raw"}
        assert set(scores) == overall | INTERVAL_SCORES | model_only
        assert all(np.isfinite(v) and v >= 0 for v in scores.values())
        assert scores["n_series"] == 1 and scores["mase_median"] == scores["mase"]
    by_series = pd.read_parquet(reporting / "metrics_by_series.parquet")
    assert list(by_series.columns[:7]) == ["series", "model", "mase", "smape", "rmse", "mae",
                                           "n_origins"]
    assert set(by_series.columns[7:]) == INTERVAL_SCORES | {"coverage_80_raw"}
    assert set(by_series["series"]) == {"seattle-weather"} and set(by_series["model"]) == NAMES
    for plot in ("forecasts.png", "losses.png", "mase_ratios.png"):
        assert (reporting / plot).stat().st_size > 10_000
    forecasts = pd.read_csv(trained_project / "data/07_model_output/backtest_forecasts.csv",
                            parse_dates=["timestamp", "origin"])
    assert set(forecasts["model"]) == NAMES
    assert list(forecasts.columns) == ["series", "timestamp", "origin", "model", "target", "step",
                                       "forecast", "actual", "q0.1", "q0.5", "q0.9"]
    assert (forecasts["q0.5"] == forecasts["forecast"]).all()
    assert ((forecasts["q0.1"] <= forecasts["q0.5"]) & (forecasts["q0.5"] <= forecasts["q0.9"])
            ).all()
    assert len(forecasts) == 5 * 8 * 7  # models × origins × horizon
    # every forecast lies after its origin, inside the test period, from the same origins
    assert (forecasts["timestamp"] > forecasts["origin"]).all()
    assert forecasts["timestamp"].min() == pd.Timestamp("2015-11-06")
    assert forecasts.groupby("model")["origin"].nunique().eq(8).all()
    versions = list((trained_project / "data/06_models/lstm.keras").iterdir())
    assert len(versions) == 1 and (versions[0] / "lstm.keras").exists()
    record = json.loads((trained_project / "data/06_models/ensemble_training_record.json")
                        .read_text())
    assert record["members"] == ["cnn_lstm", "lstm"]


def test_the_ensemble_is_its_validation_weighted_mean_of_members_and_baselines(trained_project):
    """The default ensemble: the weights chosen on the validation windows (non-negative,
    summing to one) combine the families' and both baselines' forecasts, forecast by
    forecast, at the test origins."""
    record = json.loads((trained_project / "data/06_models/ensemble_training_record.json")
                        .read_text())
    weights = record["weights"]
    assert record["combination"] == "weighted"
    assert list(weights) == ["cnn_lstm", "lstm", "naive", "seasonal_naive"]
    assert min(weights.values()) >= 0 and sum(weights.values()) == pytest.approx(1, abs=1e-3)
    forecasts = pd.read_csv(trained_project / "data/07_model_output/backtest_forecasts.csv")
    wide = forecasts.pivot_table(index=["origin", "step"], columns="model", values="forecast")
    mixed = sum(w * wide[name] for name, w in weights.items())
    np.testing.assert_allclose(wide["ensemble"], mixed, rtol=1e-4)


def test_baselines_at_the_origins_by_hand(trained_project):
    series = pd.read_parquet(trained_project / "data/02_intermediate/series.parquet")
    spec = json.loads((trained_project / "data/05_model_input/window_spec.json").read_text())
    table = baseline_backtest(series, spec)
    y = series["temp_max"].to_numpy()
    origin = 1461 - 8 * 7 - 1  # the first origin: last point before the test period
    first = table[table["origin"] == series.index[origin]]
    naive = first[first["model"] == "naive"]["forecast"].to_numpy()
    seasonal = first[first["model"] == "seasonal_naive"]["forecast"].to_numpy()
    np.testing.assert_array_equal(naive, np.full(7, y[origin]))
    np.testing.assert_array_equal(seasonal, y[origin - 6 : origin + 1])


def test_one_parent_run_with_one_child_per_family(runs, trained_project):
    parents = runs[runs["tags.mlflow.parentRunId"].isna()]
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert len(parents) == 1 and len(children) == 3
    assert set(children["tags.mlflow.parentRunId"]) == {parents["run_id"].iloc[0]}
    assert set(children["tags.model_family"]) == {"cnn_lstm", "lstm", "ensemble"}
    ensemble = children[children["tags.namespace"] == "ensemble"].iloc[0]
    assert ensemble["params.members"] == "cnn_lstm,lstm"
    assert ensemble["params.baselines"] == "naive,seasonal_naive"
    weights = [ensemble[f"metrics.weight_{m}"] for m in ("cnn_lstm", "lstm", "naive",
                                                          "seasonal_naive")]
    assert sum(weights) == pytest.approx(1, abs=1e-3)
    assert set(children["tags.dataset"]) == {"seattle-weather"}
    assert set(children["tags.data_end"]) == {"2015-12-31 00:00:00"}
    parent = parents.iloc[0]
    assert parent["tags.mlflow.runName"] == "train seattle-weather"  # not __default__
    # the input series fills the runs list's "Datasets" column: name, digest, source
    client = mlflow.tracking.MlflowClient(f"sqlite:///{trained_project / 'mlflow.db'}")
    inputs = client.get_run(parent["run_id"]).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["seattle-weather"] and inputs[0].dataset.digest
    assert "seattle-weather.csv" in inputs[0].dataset.source
    assert [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"] == ["training"]
    assert parent["tags.dataset"] == "seattle-weather"
    store = mlflow.tracking.MlflowClient(f"sqlite:///{trained_project / 'mlflow.db'}")
    experiment = store.get_experiment(parent["experiment_id"])
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert parent["params.series.n_points"] == "1461"
    assert parent["metrics.cnn_lstm_mase"] > 0 and parent["metrics.ensemble_mase"] > 0


def test_children_carry_the_same_keys(runs, trained_project):
    # each test starts with the URI of its environment: point this one at the trained store
    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    expected = {f"params.model.{k}" for k in hyperparameter_names()} | {
        f"params.{k}" for k in ("n_seq", "n_steps", "lookback", "horizon", "season_length",
                                "origins")
    } | {f"metrics.{b}{k}" for b in ("", "naive_", "seasonal_naive_")
         for k in ("mase", "smape", "rmse", "mae", *INTERVAL_SCORES)
         } | {"metrics.coverage_80_raw"}
    for _, child in children.iterrows():
        present = {c for c in runs.columns if pd.notna(child[c])}
        assert expected <= present, expected - present
    assert set(children["params.model.filters"]) == {"8", "n/a"}
    trained = children[children["tags.namespace"] != "ensemble"]
    assert set(trained["params.training.quantiles"]) == {"[0.1, 0.5, 0.9]"}
    client = mlflow.tracking.MlflowClient()
    metrics = json.loads((trained_project / "data/08_reporting/metrics.json").read_text())
    for _, child in children.iterrows():
        trained = child["tags.namespace"] != "ensemble"  # the ensemble has no epochs
        history = client.get_metric_history(child["run_id"], "val_loss")
        assert [m.step for m in history] == ([1, 2, 3] if trained else [])
        if trained:
            assert child["metrics.best_val_loss"] == pytest.approx(min(m.value for m in history))
        assert child["metrics.mase"] == pytest.approx(metrics[child["tags.namespace"]]["mase"])
        artifacts = {a.path for a in client.list_artifacts(child["run_id"])}
        assert {"forecasts.png", "mase_ratios.png"} <= artifacts
        assert ("losses.png" in artifacts) == trained
        models = mlflow.search_logged_models(filter_string=f"source_run_id='{child['run_id']}'",
                                             output_format="list")
        assert len(models) == 1 and models[0].name == child["tags.namespace"]  # not "model"
        assert pd.isna(child.get("params.training.xla"))
        if trained:
            assert child["tags.training.xla"] == "auto"  # how it ran: a tag, not a parameter
        assert f"| {child['tags.namespace']} | " in child["tags.mlflow.note.content"]


def significant_digits(text: str) -> int:
    """Significant digits of a number as written (``12.6639`` → 6, ``0.00120`` → 2)."""
    digits = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return max(len(digits), 1)


def test_backtest_csv_rounds_forecasts_and_keeps_actuals_as_read(trained_project):
    text = pd.read_csv(trained_project / "data/07_model_output/backtest_forecasts.csv",
                       dtype=str)
    written = [significant_digits(v) for v in text["forecast"]]
    assert max(written) == 6  # at most 6, and rounded rather than cut shorter
    raw = pd.read_csv(trained_project / "data/01_raw/seattle-weather.csv", dtype=str)
    as_read = dict(zip(pd.to_datetime(raw["date"]).astype(str), raw["temp_max"], strict=True))
    assert [as_read[t] for t in text["timestamp"]] == list(text["actual"])


def test_null_significant_digits_writes_full_precision(trained_project):
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(trained_project)
    (node,) = [n for n in pipelines["evaluation"].nodes if n.name == "evaluation.evaluate"]
    inputs = {"series": pd.read_parquet(trained_project / "data/02_intermediate/series.parquet"),
              "window_spec": json.loads(
                  (trained_project / "data/05_model_input/window_spec.json").read_text()),
              "params:data": {"name": "seattle-weather"},
              **{f"{ns}.backtest": pd.read_parquet(
                  trained_project / f"data/07_model_output/{ns}_backtest.parquet")
                 for ns in MODELS}}
    full = node.run({**inputs, "params:outputs.significant_digits": None})
    six = node.run({**inputs, "params:outputs.significant_digits": 6})
    exact = full["backtest_forecasts"]["forecast"].to_numpy()
    assert max(significant_digits(repr(float(v))) for v in exact) > 6
    np.testing.assert_array_equal(exact, full["evaluation"].forecasts["forecast"])
    np.testing.assert_array_equal(six["backtest_forecasts"]["forecast"],
                                  round_significant(exact, 6))
    assert six["metrics"] == full["metrics"]  # scores from the unrounded forecasts


def test_round_significant_writes_at_most_the_digits_asked_for():
    values = np.array([123456.789, -0.000123456789, 9.9999996, 0.0, np.nan, 1e-30 / 3,
                       7.0e25 / 3, 12.8])
    rounded = round_significant(values, 3)
    assert [repr(float(v)) for v in rounded[[0, 1, 2, 3, 7]]] == [
        "123000.0", "-0.000123", "10.0", "0.0", "12.8"]
    assert np.isnan(rounded[4])
    assert all(significant_digits(repr(float(v))) <= 3 for v in rounded[5:7])
    np.testing.assert_array_equal(round_significant(values, None), values)
    with pytest.raises(ValueError, match="significant_digits"):
        round_significant(values, 0)


def test_no_run_logs_a_parameter_left_at_none(runs, trained_project):
    client = mlflow.tracking.MlflowClient(f"sqlite:///{trained_project / 'mlflow.db'}")
    for run_id in runs["run_id"]:
        params = client.get_run(run_id).data.params
        assert "None" not in params.values(), {k for k, v in params.items() if v == "None"}
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    params = client.get_run(parent["run_id"]).data.params
    # the parameters that are set still reach the run; those at null do not
    assert params["data.time_column"] == "date" and params["windows.n_seq"] == "4"
    assert params["outputs.significant_digits"] == "6"
    assert "data.id_columns" not in params and "windows.lookback" not in params
