"""The end-of-run summary's lines, from the outputs the run wrote."""

from __future__ import annotations

import pandas as pd

from seqcast import summary

METRICS = {"cnn_lstm": {"mase": 0.55}, "lstm": {"mase": 0.74},
           "naive": {"mase": 0.58}, "seasonal_naive": {"mase": 0.70}}


def test_scores_name_the_model_that_loses_to_a_baseline():
    lines = summary.score_lines(METRICS)
    assert "naive 0.580" in lines[0] and "seasonal_naive 0.700" in lines[0]
    assert lines[1].startswith("cnn_lstm") and "beats both baselines" in lines[1]
    assert lines[2].startswith("lstm") and "LOSES to a baseline" in lines[2]
    assert len(lines) == 3  # baselines are the header, not rows


def test_decisions_and_forecast_lines():
    decisions = [{"model": "seqcast-lstm", "version": 2, "challenger_mase": 0.8,
                  "champion_version": "1", "champion_mase": 0.7, "decision": "kept"},
                 {"model": "seqcast-cnn_lstm", "version": 1, "challenger_mase": 0.6,
                  "champion_version": None, "champion_mase": None, "decision": "promoted"}]
    lines = summary.decision_lines(decisions)
    assert lines == ["seqcast-lstm: version 2 MASE 0.800 vs champion v1 0.700: KEPT",
                     "seqcast-cnn_lstm: version 1 MASE 0.600 vs no usable champion: PROMOTED"]
    forecast = pd.DataFrame({"model": ["seqcast-lstm"], "version": [3],
                             "origin": ["2015-12-31"], "forecast": [1.0]})
    (line,) = summary.forecast_lines(forecast, "data/07_model_output/forecast.csv")
    assert "seqcast-lstm version 3" in line and line.endswith("forecast.csv")


def test_a_panel_says_on_how_many_series_each_model_beats_seasonal_naive():
    panel = {name: {**scores, "n_series": 14} for name, scores in METRICS.items()}
    panel["cnn_lstm"]["share_beats_seasonal_naive"] = 0.5
    panel["lstm"]["share_beats_seasonal_naive"] = 0.25
    lines = summary.score_lines(panel)
    assert lines[1].endswith("beats seasonal naive on 50% of 14 series")
    assert lines[2].endswith("beats seasonal naive on 25% of 14 series")
