"""Known-future inputs: generated calendar and holiday columns, user columns, the third model
input, no leakage of the target, and the models without them unchanged."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from seqcast.backtest import backtest, evaluate, predict_windows
from seqcast.covariates import (
    CovariateConfigError,
    KnownFuture,
    calendar_components,
    from_params,
    holiday_flags,
    model_known_future,
    user_future,
)
from seqcast.errors import ModelConfigError
from seqcast.fitting import fit_family
from seqcast.models import build_ensemble, build_forecaster
from seqcast.spec import WindowSpec, make_window_spec
from seqcast.stream import WindowStream
from tests.conftest import DATA, FAST, WINDOWS, clean_series, run_kedro, synthetic_raw

TRAINING = {"normalization": "mean", "loss": "mse", "learning_rate": 0.01, "batch_size": 32,
            "epochs": 3, "patience": 3, "seed": 3, "backup_dir": None}
SMALL = {"lstm": {"units": 8}, "cnn_lstm": {"filters": 4, "units": 8}}


def flagged(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A noisy level with a big jump on the days a random flag, known in advance, is 1."""
    rng = np.random.default_rng(seed)
    flag = (rng.random(n) < 0.3).astype(float)
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "load": 10 + rng.normal(0, 0.3, n) + 6 * flag, "flag": flag})


def flagged_series(future: bool, n: int = 300):
    data = {**DATA, "features": ["load", "flag"], "future_features": ["flag"] if future else None}
    series = clean_series(flagged(n), data, WINDOWS)
    return series, make_window_spec(series, data, WINDOWS)


def test_calendar_features_follow_the_frequency():
    def components(freq):
        return calendar_components(pd.date_range("2024-01-01", periods=50, freq=freq))

    assert components("h") == ["hour", "day_of_week", "day_of_year"]
    assert components("D") == ["day_of_week", "day_of_year"]
    assert components("B") == ["day_of_week", "day_of_year"]
    assert components("W") == ["day_of_year"]
    assert components("MS") == ["month"]
    assert components("YS") == []
    hours = KnownFuture(("hour",)).encode(pd.DatetimeIndex(["2024-01-01 06:00",
                                                            "2024-01-01 18:00"]))
    np.testing.assert_allclose(hours, [[1, 0], [-1, 0]], atol=1e-6)  # sin, cos


def test_holiday_flag_marks_the_countrys_holidays():
    days = pd.date_range("2024-07-02", "2024-07-06", freq="D")
    np.testing.assert_array_equal(holiday_flags("US", days), [0, 0, 1, 0, 0])
    assert holiday_flags("US-CA", pd.DatetimeIndex(["2024-03-31"]))[0] == 1  # César Chávez Day
    assert holiday_flags("US", pd.DatetimeIndex(["2024-03-31"]))[0] == 0
    hourly = pd.date_range("2024-07-03 22:00", periods=4, freq="h")  # by the stamp's date
    np.testing.assert_array_equal(holiday_flags("US", hourly), [0, 0, 1, 1])
    with pytest.raises(CovariateConfigError, match=r"'XX'.*US, US-CA or DE"):
        from_params({"holidays": "XX"}, days, ["load"])


def test_future_columns_must_be_columns_of_series():
    days = pd.date_range("2024-01-01", periods=5)
    with pytest.raises(CovariateConfigError, match=r"\['promo'\] are not columns"):
        from_params({"future_features": ["promo"]}, days, ["load"])
    known = from_params({"calendar": True, "holidays": "DE", "future_features": "load"}, days,
                        ["load"])
    assert known.names == ["day_of_week_sin", "day_of_week_cos", "day_of_year_sin",
                           "day_of_year_cos", "holiday", "load"]


def test_the_stream_gathers_future_columns_of_the_window_rows_of_its_series():
    series, spec = flagged_series(True)
    panel = spec.panel(series)
    future = spec.future_values(panel)
    stream = WindowStream(panel.values, spec.train_windows(), spec.lookback, spec.horizon,
                          spec.target_index, batch_size=16, future=future)
    (x, codes, f), y = stream.batch(np.array([0, 5]))
    width = spec.lookback + spec.horizon
    assert f.shape == (2, width, 1)
    np.testing.assert_array_equal(f[1, :, 0], panel.column("flag")[5:5 + width, 0])
    (dx, dcodes, df), dy = next(iter(stream.dataset()))  # the tf.data path: same windows
    first = stream.windows.locate(np.arange(16))[0]
    (bx, _, bf), _ = stream.batch(first)
    np.testing.assert_array_equal(np.asarray(df), bf)
    np.testing.assert_array_equal(np.asarray(dx), bx)


@pytest.fixture(scope="module")
def with_flag():
    series, spec = flagged_series(True)
    model, _ = fit_family(series, spec, "lstm", SMALL["lstm"], TRAINING)
    return series, spec, model


@pytest.mark.slow
@pytest.mark.parametrize("family", ["lstm", "cnn_lstm"])
def test_a_flag_known_in_advance_beats_the_same_model_without_it(family):
    scores = {}
    for future in (True, False):
        series, spec = flagged_series(future)
        model, _ = fit_family(series, spec, family, SMALL[family],
                              {**TRAINING, "epochs": 15, "patience": 15})
        assert [i.name for i in model.inputs] == (
            ["history", "series", "future"] if future else ["history", "series"])
        scores[future] = evaluate(series, spec, backtest(series, spec, model, family))[0][
            family]["mase"]
    assert scores[True] / scores[False] < 0.7, scores


def test_forecasts_read_the_horizons_future_columns_never_its_targets(with_flag):
    series, spec, model = with_flag
    before = predict_windows(model, series, spec)
    last = slice(len(series) - spec.horizon, len(series))  # the last origin's horizon
    targets = series.copy()
    targets.iloc[last, targets.columns.get_loc("load")] += 100.0
    np.testing.assert_array_equal(predict_windows(model, targets, spec), before)
    flags = series.copy()
    flags.iloc[last, flags.columns.get_loc("flag")] = 1.0 - flags.iloc[last]["flag"]
    after = predict_windows(model, flags, spec)
    np.testing.assert_array_equal(after[:-1], before[:-1])  # earlier origins never read it
    assert np.abs(after[-1] - before[-1]).max() > 1e-3


def test_saved_model_and_ensemble_carry_their_known_future_columns(with_flag, tmp_path):
    series, spec, model = with_flag
    path = tmp_path / "lstm.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    assert model_known_future(loaded) == spec.known
    np.testing.assert_allclose(predict_windows(loaded, series, spec),
                               predict_windows(model, series, spec), rtol=1e-6)
    _, plain = build_forecaster("cnn_lstm", flagged_series(False)[1], SMALL["cnn_lstm"])
    ensemble = build_ensemble({"lstm": loaded, "plain": plain})
    assert [i.name for i in ensemble.inputs] == ["history", "series", "future"]
    assert model_known_future(ensemble) == spec.known
    assert predict_windows(ensemble, series, spec).shape == (spec.geometry.origins,
                                                             spec.horizon, 1)


def test_without_known_future_columns_models_take_history_and_series_as_before(tmp_path):
    series = clean_series(synthetic_raw(300), DATA, WINDOWS)
    spec = make_window_spec(series, DATA, WINDOWS)
    assert not spec.known
    old = {k: v for k, v in spec.to_dict().items() if k != "known_future"}
    assert WindowSpec.from_dict(old) == spec  # a window_spec.json from before loads
    for family, hyperparameters in SMALL.items():
        trainable, forecaster = build_forecaster(family, spec, hyperparameters)
        for model in (trainable, forecaster):
            assert [i.name for i in model.inputs] == ["history", "series"]
        assert "known_future" not in [layer.name for layer in forecaster.layers]
        forecaster.save(tmp_path / f"{family}.keras")
        loaded = keras.models.load_model(tmp_path / f"{family}.keras", safe_mode=True,
                                         compile=False)
        assert not model_known_future(loaded)
        assert np.isfinite(predict_windows(loaded, series, spec)).all()


def test_missing_future_values_are_named_by_column_date_and_series():
    stamps = np.array([pd.date_range("2024-07-01", periods=2).to_numpy()] * 2)
    ids = pd.DataFrame({"store": ["a", "b"]})
    data = {"time_column": "ts", "id_columns": ["store"]}
    table = pd.DataFrame({"ts": ["2024-07-01", "2024-07-02", "2024-07-01"],
                          "store": ["a", "a", "b"], "promo": [1, 0, 1]})
    with pytest.raises(CovariateConfigError, match=r"lacks column\(s\) \['price'\]"):
        user_future(table, ["promo", "price"], stamps, ids, data)
    with pytest.raises(CovariateConfigError,
                       match=r"\['promo'\] for 1 of the 4 .*2024-07-02 00:00:00 b"):
        user_future(table, ["promo"], stamps, ids, data)
    full = pd.concat([table, pd.DataFrame({"ts": ["2024-07-02"], "store": ["b"],
                                           "promo": [0]})])
    np.testing.assert_array_equal(user_future(full, ["promo"], stamps, ids, data)[:, 0],
                                  [1, 0, 1, 0])


@pytest.mark.slow
def test_forecast_pipeline_reads_the_future_file_and_names_what_it_lacks(project):
    import mlflow
    from mlflow.tracking import MlflowClient

    from seqcast import registry

    flagged(400).to_csv(project / "data/01_raw/flag.csv", index=False)
    data = {"path": "data/01_raw/flag.csv", "time_column": "ts", "targets": "load",
            "features": ["load"], "future_features": ["flag"], "calendar": True,
            "holidays": "US"}
    learn = {"training": {"epochs": 15, "patience": 15, "learning_rate": 0.01}}
    blocks = {ns: {"model": block["model"], **learn} for ns, block in FAST.items()}
    run_kedro(project, ["retrain"], params={**blocks, "data": data})
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    assert registry.champion(registry.model_name("lstm")) is not None
    runs = MlflowClient().search_runs([mlflow.get_experiment_by_name("seqcast").experiment_id])
    logged = {k: v for run in runs for k, v in run.data.params.items() if k.startswith("data.")}
    assert (logged["data.calendar"], logged["data.holidays"]) == ("True", "US")
    assert "flag" in logged["data.future_features"]

    force = {"data": data, "forecast": {"namespace": "lstm"}}
    with pytest.raises(CovariateConfigError, match=r"lacks column\(s\) \['ts', 'flag'\]"):
        run_kedro(project, ["forecast"], params=force)
    days = pd.date_range("2025-02-04", periods=7)  # the 7 days after the file's last
    future = pd.DataFrame({"ts": days.strftime("%Y-%m-%d"), "flag": [1, 0, 0, 1, 0, 0, 1]})
    future.iloc[:5].to_csv(project / "data/01_raw/future_features.csv", index=False)
    with pytest.raises(CovariateConfigError, match=r"2 of the 7 .*2025-02-09"):
        run_kedro(project, ["forecast"], params=force)
    future.to_csv(project / "data/01_raw/future_features.csv", index=False)
    run_kedro(project, ["forecast"], params=force)
    forecast = pd.read_csv(project / "data/07_model_output/forecast.csv")
    assert list(pd.to_datetime(forecast["timestamp"])) == list(days)
    jump = forecast["forecast"].to_numpy()[future["flag"].to_numpy() == 1].mean()
    calm = forecast["forecast"].to_numpy()[future["flag"].to_numpy() == 0].mean()
    assert jump - calm > 3  # the flag's 6-unit jump, forecast from the file's flags


def test_panel_future_columns_are_scaled_per_series_and_members_must_agree():
    raw = pd.concat([flagged(250, 0).assign(store="a"),
                     flagged(250, 1).assign(store="b", flag=lambda f: f["flag"] * 10)])
    data = {**DATA, "id_columns": ["store"], "features": ["load", "flag"],
            "future_features": ["flag"], "calendar": True}
    series = clean_series(raw, data, WINDOWS)
    spec = make_window_spec(series, data, WINDOWS)
    _, lstm = build_forecaster("lstm", spec, SMALL["lstm"])
    mean, std = lstm.get_layer("known_future").get_weights()
    flag = spec.features.index("flag")
    np.testing.assert_allclose(mean[:, -1], np.asarray(spec.mean)[:, flag], rtol=1e-6)
    np.testing.assert_allclose(std[:, -1], np.asarray(spec.std)[:, flag], rtol=1e-6)
    assert (mean[:, :-1] == 0).all() and (std[:, :-1] == 1).all()  # the encodings as they are
    assert predict_windows(lstm, series, spec).shape == (2 * spec.geometry.origins,
                                                         spec.horizon, 1)
    other = make_window_spec(series, {**data, "calendar": False}, WINDOWS)
    _, cnn = build_forecaster("cnn_lstm", other, SMALL["cnn_lstm"])
    with pytest.raises(ModelConfigError, match="differ in known-future columns"):
        build_ensemble({"lstm": lstm, "cnn_lstm": cnn})
