"""The typed window specification: one reading of ``window_spec.json`` for every stage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqcast.spec import WindowSpec, make_window_spec
from seqcast.windows import WindowConfigError
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw

# window_spec.json's keys, in the order the file has always had them.
KEYS = ["n_seq", "n_steps", "horizon", "season_length", "origins", "validation_origins",
        "lookback", "features", "targets", "target_index", "n_points", "start", "end",
        "frequency", "validation_start", "test_start", "validation_start_at", "test_start_at",
        "origins_at", "n_train_windows", "n_validation_windows", "mean", "std"]


@pytest.fixture
def spec() -> WindowSpec:
    return make_window_spec(clean_series(synthetic_raw(), DATA, WINDOWS), DATA, WINDOWS)


def test_the_json_form_keeps_its_keys_and_reads_back(spec):
    saved = json.loads(json.dumps(spec.to_dict()))
    assert list(saved) == KEYS
    assert WindowSpec.from_dict(saved) == spec
    assert spec.lookback == saved["lookback"] == 14


def test_origins_are_the_last_input_of_each_test_window(spec):
    geometry = spec.geometry
    origins = geometry.origin_of(geometry.test_starts(spec.n_points))
    # the test blocks are the last `origins` blocks of `horizon` points
    assert origins.tolist() == [400 - k * 7 - 1 for k in (4, 3, 2, 1)]
    assert spec.origins_at[-1] == "2021-01-27 00:00:00"
    assert np.all(origins[1:] - origins[:-1] == spec.geometry.horizon)


def test_a_spec_missing_keys_names_them(spec):
    saved = spec.to_dict()
    del saved["mean"], saved["origins_at"]
    with pytest.raises(WindowConfigError, match=r"lacks \['origins_at', 'mean'\]; re-run"):
        WindowSpec.from_dict(saved)
