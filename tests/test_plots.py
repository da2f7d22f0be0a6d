"""Figures: which series the grid shows, colours shared across figures, labels, and the MASE
ratio histogram, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from seqcast.plots import (
    model_colour,
    pick_series,
    plot_losses,
    plot_mase_ratios,
    plot_series_grid,
)

MODELS = ["cnn_lstm", "lstm"]
ALL = [*MODELS, "naive", "seasonal_naive"]
# cnn_lstm's MASE over seasonal naive's, per series; "flat" is constant: MASE undefined.
RATIOS = {"a": 0.8, "b": 0.5, "c": 1.4, "d": 0.9, "e": 2.5, "flat": np.nan}


def by_series_table(ratios: dict) -> pd.DataFrame:
    """Per-series scores: seasonal naive's MASE is 1 (NaN for an undefined ratio)."""
    rows = []
    for label, ratio in ratios.items():
        reference = np.nan if np.isnan(ratio) else 1.0
        scores = {"cnn_lstm": ratio, "lstm": ratio * 1.1, "naive": 1.2 * reference,
                  "seasonal_naive": reference}
        rows += [{"series": label, "model": m, "mase": s, "smape": 1.0, "rmse": 1.0,
                  "mae": 1.0, "n_origins": 2} for m, s in scores.items()]
    return pd.DataFrame(rows)


def panel_tables(labels, n: int = 30, origins=(20, 23), horizon: int = 3):
    """``(forecasts, context)`` in the backtest layout for daily series of ``n`` points."""
    time = pd.date_range("2024-01-01", periods=n, freq="D")
    forecasts, context = [], []
    for k, label in enumerate(labels):
        y = np.full(n, 5.0) if label == "flat" else 10 + k + np.sin(np.arange(n) / 2)
        context.append(pd.DataFrame({"series": label, "timestamp": time, "target": "load",
                                     "actual": y}))
        for i, model in enumerate(ALL):
            for origin in origins:
                steps = np.arange(1, horizon + 1)
                forecasts.append(pd.DataFrame({
                    "series": label, "timestamp": time[origin + steps], "origin": time[origin],
                    "model": model, "target": "load", "step": steps,
                    "forecast": y[origin + steps] + 0.1 * (i + 1), "actual": y[origin + steps],
                }))
    return pd.concat(forecasts, ignore_index=True), pd.concat(context, ignore_index=True)


def grid(ratios=RATIOS, **kwargs):
    forecasts, context = panel_tables(list(ratios))
    return plot_series_grid(forecasts, context, by_series_table(ratios), "cnn_lstm", **kwargs)


def colours(fig) -> dict:
    """``{label: colour}`` of every labelled line in ``fig``."""
    return {line.get_label(): to_hex(line.get_color()) for ax in fig.axes
            for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_pick_series_best_worst_then_random_by_label():
    picks = pick_series(by_series_table(RATIOS), "cnn_lstm", n_random=3, seed=0)
    assert picks["pick"].tolist() == ["best", "worst", "random", "random", "random"]
    assert picks["series"].tolist()[:2] == ["b", "e"]
    assert picks["ratio"].tolist()[:2] == [0.5, 2.5]
    randoms = picks["series"].tolist()[2:]
    assert randoms == sorted(randoms) and set(randoms) <= {"a", "c", "d", "flat"}
    again = pick_series(by_series_table(RATIOS), "cnn_lstm", n_random=3, seed=0)
    pd.testing.assert_frame_equal(picks, again)


def test_undefined_ratio_is_never_best_or_worst():
    ratios = {"flat": np.nan, "a": 1.0, "quiet": np.nan}
    table = by_series_table(ratios)
    # Seasonal naive scores but the model's MASE is undefined: still no ratio.
    table.loc[(table["series"] == "a") & (table["model"] == "lstm"), "mase"] = np.nan
    picks = pick_series(table, "cnn_lstm", n_random=0)
    assert picks[["series", "pick"]].values.tolist() == [["a", "best"]]
    assert pick_series(table, "lstm", n_random=0).empty
    everything = pick_series(table, "lstm", n_random=5)
    assert (everything["pick"] == "random").all() and everything["ratio"].isna().all()


def test_random_picks_follow_the_seed():
    ratios = {f"s{i:02d}": 0.5 + i / 10 for i in range(20)}
    table = by_series_table(ratios)
    first = pick_series(table, "cnn_lstm", seed=0)["series"].tolist()
    assert first[:2] == ["s00", "s19"]
    assert pick_series(table, "cnn_lstm", seed=0)["series"].tolist() == first
    other = pick_series(table, "cnn_lstm", seed=1)["series"].tolist()
    assert other[:2] == first[:2] and other[2:] != first[2:]


def test_grid_titles_labels_units_and_test_start():
    fig = grid(units="MW", seed=0)
    picks = pick_series(by_series_table(RATIOS), "cnn_lstm", seed=0)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(picks) == 5
    for ax, (label, ratio, pick) in zip(shown, picks.itertuples(index=False), strict=True):
        title = ax.get_title()
        assert title.startswith(f"{label}:") and f"({pick})" in title
        assert ("undefined" in title) if np.isnan(ratio) else (f"{ratio:.2f}" in title)
        assert ax.get_xlabel() == "time" and ax.get_ylabel() == "load [MW]"
        start = [line for line in ax.get_lines() if line.get_label() == "test start"]
        assert len(start) == 1 and pd.Timestamp(start[0].get_xdata()[0]) == pd.Timestamp(
            "2024-01-22")  # the day after the first origin
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert sorted(legend) == sorted(["actual", *ALL, "test start"])  # each model once
    assert grid().axes[0].get_ylabel() == "load"  # no units: target alone


def test_grid_draws_each_model_once_per_panel_in_its_colour():
    fig, other = grid(seed=0), grid(seed=3)
    for figure in (fig, other):
        for ax in figure.axes[:5]:
            lines = {line.get_label(): line for line in ax.get_lines()}
            assert set(lines) == {"actual", *ALL, "test start"}
            for name in ALL:
                assert to_hex(lines[name].get_color()) == to_hex(model_colour(name))
                assert lines[name].get_linestyle() == ("--" if "naive" in name else "-")
                # both origins' forecasts on one line, broken between them
                assert np.isnan(lines[name].get_ydata()).sum() == 1
    assert colours(fig) == colours(other)


def test_single_series_is_one_full_width_panel():
    ratios = {"seattle": 0.7}
    fig = grid(ratios)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title() == "seattle: MASE ratio 0.70"
    assert fig.get_size_inches()[0] == 12


def test_model_colours_are_fixed_distinct_and_stable():
    fixed = [model_colour(name) for name in ALL]
    assert len(set(fixed)) == len(ALL)
    assert model_colour("tcn") == model_colour("tcn") and model_colour("tcn") not in fixed


def test_histogram_counts_defined_ratios_per_model():
    table = by_series_table(RATIOS)
    table.loc[(table["series"] == "a") & (table["model"] == "lstm"), "mase"] = np.nan
    fig = plot_mase_ratios(table, MODELS)
    ax = fig.axes[0]
    bars = {c[0].get_label().split(":")[0]: c for c in ax.containers}
    assert sum(p.get_height() for p in bars["cnn_lstm"]) == 5
    assert sum(p.get_height() for p in bars["lstm"]) == 4
    for name, bar in bars.items():
        assert to_hex(bar[0].get_facecolor()) == to_hex(model_colour(name))
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert "cnn_lstm: 5 series, 1 left out (undefined MASE)" in legend
    assert "lstm: 4 series, 2 left out (undefined MASE)" in legend
    assert "seasonal naive" in legend
    reference = [line for line in ax.get_lines() if line.get_label() == "seasonal naive"]
    assert reference[0].get_xdata()[0] == 1.0 and ax.get_xscale() == "log"


def test_histogram_rejects_a_missing_model():
    with pytest.raises(ValueError, match=r"no rows for model\(s\) \['tcn'\]"):
        plot_mase_ratios(by_series_table(RATIOS), ["tcn"])


def test_losses_name_the_loss_and_the_best_epoch():
    history = {"family": "cnn_lstm", "loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.6, 0.7],
               "best_epoch": 2, "loss_name": "MSE on standardised targets"}
    fig = plot_losses(history, {**history, "family": "lstm"})
    first, second = fig.axes
    assert first.get_title() == "cnn_lstm: MSE on standardised targets"
    assert first.get_xlabel() == "epoch"
    labels = [line.get_label() for line in first.get_lines()]
    assert labels == ["training", "validation", "best epoch (2)"]
    assert to_hex(first.get_lines()[0].get_color()) == to_hex(model_colour("cnn_lstm"))
    assert to_hex(second.get_lines()[0].get_color()) == to_hex(model_colour("lstm"))
    plain = plot_losses({k: v for k, v in history.items() if k != "loss_name"})
    assert plain.axes[0].get_title() == "cnn_lstm: loss"
