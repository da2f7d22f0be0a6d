"""Train one family in a separate process (killed and resumed by tests/pipelines/test_training.py).

Usage: ``python train_worker.py CONFIG.json``. The config holds ``points``, ``seed_data``,
``family``, ``model``, ``training`` and ``out``; the result lands in ``out`` as
``weights.npz`` and ``training_record.json``.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path

import numpy as np

from seqcast.fitting import fit_family as train_model
from seqcast.spec import make_window_spec
from tests.conftest import DATA, WINDOWS, clean_series, synthetic_raw


def main(config_path: str) -> None:
    logging.basicConfig(level=logging.INFO)
    config = json.loads(Path(config_path).read_text())
    series = clean_series(synthetic_raw(config["points"], seed=config.get("seed_data", 0)),
                          DATA, WINDOWS)
    spec = make_window_spec(series, DATA, WINDOWS).to_dict()
    model, record = train_model(series, spec, config["family"], config["model"],
                                 config["training"])
    out = Path(config["out"])
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", *model.get_weights())
    (out / "training_record.json").write_text(json.dumps(record))


if __name__ == "__main__":
    # A shell's background job starts with SIGINT ignored; Ctrl-C at a terminal is not.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main(sys.argv[1])
