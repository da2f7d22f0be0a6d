"""Overflowing data or a diverging fit stop training with a clear error and keep no model.

The series are built past ingestion on purpose: these tests are about what training does
when such values reach it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from seqcast.fitting import NonFiniteError
from seqcast.fitting import fit_family as train_model
from seqcast.spec import make_window_spec
from tests.conftest import DATA, FAST, WINDOWS, clean_series, run_kedro, synthetic_raw

TRAINING = {"normalization": "mean", "loss": "mse", "learning_rate": 0.003, "batch_size": 32,
            "epochs": 3, "patience": 3, "seed": 7}
MODEL = {"units": 4}


@pytest.fixture(scope="module")
def series():
    return clean_series(synthetic_raw(240), DATA, WINDOWS)


@pytest.mark.parametrize("value", [1e308, 1e38])
def test_a_scaling_statistic_float32_cannot_hold_is_refused_before_training(series, value):
    spoilt = series.copy()
    spoilt.iloc[10, 0] = value  # a training row: the std becomes inf, or its square does
    spec = make_window_spec(spoilt, DATA, WINDOWS).to_dict()
    with pytest.raises(NonFiniteError, match="training (mean|std) of feature 'load'"):
        train_model(spoilt, spec, "lstm", MODEL, TRAINING)


def test_a_zero_std_is_refused(series):
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    with pytest.raises(NonFiniteError, match="std of feature 'temp' in series series is 0.0"):
        train_model(series, {**spec, "std": [[spec["std"][0][0], 0.0]]}, "lstm", MODEL,
                    TRAINING)


def test_validation_values_that_overflow_the_loss_stop_training(series):
    # training rows only: finite statistics
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    spoilt = series.copy()
    validation_start = spec["lengths"][0] - (spec["origins"] + spec["validation_origins"]) * 7
    spoilt.iloc[validation_start + 3, 0] = 3e38  # fits float32; its square does not
    with pytest.raises(NonFiniteError, match=r"lstm: the validation loss became inf at epoch 1"):
        train_model(spoilt, spec, "lstm", MODEL, TRAINING)


def test_a_diverging_fit_stops_at_the_first_non_finite_batch(series):
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    with pytest.raises(NonFiniteError, match=r"cnn_lstm: the training loss became (nan|inf) at "
                                             r"epoch 1, batch \d+; no model was kept"):
        train_model(series, spec, "cnn_lstm", {"filters": 4, "units": 4},
                    {**TRAINING, "learning_rate": 1e30})


@pytest.mark.slow
def test_the_training_pipeline_saves_no_model_from_overflowing_data(project):
    run_kedro(project, ["ingestion", "windowing"])
    path = project / "data/02_intermediate/series.parquet"
    spec = pd.read_json(project / "data/05_model_input/window_spec.json", typ="series")
    spoilt = pd.read_parquet(path)
    validation_start = spec["lengths"][0] - (spec["origins"] + spec["validation_origins"]) * 7
    spoilt.iloc[validation_start + 3, spec["target_index"][0]] = 3e38
    spoilt.to_parquet(path)
    # point forecasts: their squared error overflows (the pinball loss is linear, and stays
    # finite on the largest float32)
    point = {**FAST, "lstm": {**FAST["lstm"], "training": {**FAST["lstm"]["training"],
                                                            "quantiles": []}}}
    with pytest.raises(Exception, match="validation loss became inf") as error:
        run_kedro(project, ["training"], params=point, namespaces=["training.lstm"])
    assert isinstance(error.value, NonFiniteError) or "NonFiniteError" in repr(error.value)
    models = project / "data/06_models"
    assert not list(models.glob("lstm.keras*")) and not list(models.glob("lstm_training_record*"))
