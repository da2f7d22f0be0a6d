"""The resume point: keyed by run configuration, written atomically, never another run's."""

from __future__ import annotations

import logging
import os

import numpy as np

from seqcast.resume import Backup, fingerprint

VALUES = np.arange(20, dtype=np.float32).reshape(10, 2)
SPEC = {"n_seq": 2, "mean": [1.0, 2.0]}
TRAINING = {"epochs": 5, "patience": 2, "seed": 1, "backup_dir": "a"}


def test_fingerprint_follows_data_and_parameters_but_not_epochs():
    key = fingerprint(VALUES, SPEC, "lstm", {"units": 8}, TRAINING)
    same = fingerprint(VALUES.copy(), dict(SPEC), "lstm", {"units": 8},
                       {**TRAINING, "epochs": 50, "backup_dir": "b"})
    assert key == same
    others = [
        fingerprint(VALUES + 1, SPEC, "lstm", {"units": 8}, TRAINING),
        fingerprint(VALUES, {**SPEC, "n_seq": 3}, "lstm", {"units": 8}, TRAINING),
        fingerprint(VALUES, SPEC, "cnn_lstm", {"units": 8}, TRAINING),
        fingerprint(VALUES, SPEC, "lstm", {"units": 9}, TRAINING),
        fingerprint(VALUES, SPEC, "lstm", {"units": 8}, {**TRAINING, "seed": 2}),
    ]
    assert key not in others and len(set(others)) == len(others)


def test_save_replaces_the_file_whole_and_loads_without_pickles(tmp_path):
    backup = Backup(tmp_path / "b", "k1")
    weights = [np.ones((2, 3), np.float32), np.zeros(3, np.float32)]
    backup.save({"epoch": 1}, model=weights, optimizer=[np.int64(3)], best=[])
    backup.save({"epoch": 2, "history": {"loss": [1.0, 0.5]}}, model=weights,
                optimizer=[np.int64(4)], best=weights)
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["k1.npz"]  # no temporary left
    saved = backup.load()
    assert saved["meta"]["epoch"] == 2 and saved["meta"]["history"]["loss"] == [1.0, 0.5]
    np.testing.assert_array_equal(saved["best"][0], weights[0])
    assert int(saved["optimizer"][0]) == 4
    backup.remove()
    assert not (tmp_path / "b").exists() and backup.load() is None


def test_other_configurations_are_removed_with_one_log_line(tmp_path, caplog):
    folder = tmp_path / "b"
    Backup(folder, "other").save({"epoch": 3}, model=[], optimizer=[], best=[])
    (folder / "training_metadata.json").write_text("{}")  # an older layout's leftovers
    live = folder / f".mine.npz.{os.getpid()}.tmp"  # being written by a running process
    live.write_bytes(b"")
    ours = Backup(folder, "mine")
    with caplog.at_level(logging.INFO, logger="seqcast"):
        ours.discard_others()
    assert sorted(p.name for p in folder.iterdir()) == [live.name]
    assert sum("another run configuration" in r.message for r in caplog.records) == 1
    assert ours.load() is None
