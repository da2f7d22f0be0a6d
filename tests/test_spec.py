"""The typed window specification: one reading of ``window_spec.json`` for every stage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqcast.spec import WindowSpec, make_window_spec
from seqcast.windows import WindowConfigError
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw

# window_spec.json's keys, in order.
KEYS = ["n_seq", "n_steps", "horizon", "season_length", "origins", "validation_origins",
        "lookback", "features", "targets", "target_index", "id_columns", "time_column",
        "series", "lengths", "n_points", "start", "end", "frequency", "test_start_at",
        "n_train_windows", "n_validation_windows", "mean", "std"]


@pytest.fixture
def spec() -> WindowSpec:
    return make_window_spec(clean_series(synthetic_raw(), DATA, WINDOWS), DATA, WINDOWS)


def test_the_json_form_keeps_its_keys_and_reads_back(spec):
    saved = json.loads(json.dumps(spec.to_dict()))
    assert list(saved) == KEYS
    assert WindowSpec.from_dict(saved) == spec
    assert spec.lookback == saved["lookback"] == 14


def test_origins_are_the_last_input_of_each_test_window(spec):
    starts, codes = spec.test_starts()
    origins = spec.geometry.origin_of(starts)
    # the test blocks are the last `origins` blocks of `horizon` points
    assert origins.tolist() == [400 - k * 7 - 1 for k in (4, 3, 2, 1)]
    assert codes.tolist() == [0] * 4 and spec.series == ["series"]  # data.name unset
    assert spec.test_start_at == "2021-01-07 00:00:00"
    assert np.all(origins[1:] - origins[:-1] == spec.geometry.horizon)


def test_a_spec_missing_keys_names_them(spec):
    saved = spec.to_dict()
    del saved["mean"], saved["lengths"]
    with pytest.raises(WindowConfigError, match=r"lacks \['lengths', 'mean'\]; re-run"):
        WindowSpec.from_dict(saved)
