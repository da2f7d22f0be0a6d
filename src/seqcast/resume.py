"""The resume point of an interrupted training run, usable only by the run that wrote it.

A backup is one ``<fingerprint>.npz`` file in ``training.backup_dir``, replaced atomically
after every finished epoch. It holds the model's and the optimizer's variables, the best
weights so far and, as JSON, the epoch, the loss history and the early-stopping state. The
fingerprint covers the training data, the window specification, the family and every model
and training parameter except ``epochs`` (a longer run may continue a shorter one) and
``backup_dir``. Any other file in the folder belongs to another configuration (or to an older
layout) and is removed with one log line. Only numeric arrays are read: NumPy refuses object
arrays by default, and no code runs on load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# Parameters that do not change what an epoch computes; a run may resume across them.
OPERATIONAL = ("epochs", "backup_dir", "distribution")


def fingerprint(values: np.ndarray, spec, family_name: str, model: dict,
                training: dict) -> str:
    """A hex digest of everything an epoch's result depends on."""
    digest = hashlib.sha256(np.ascontiguousarray(values, np.float32).tobytes())
    spec = spec if isinstance(spec, dict) else spec.to_dict()
    settings = {"spec": spec, "family": family_name, "model": model,
                "training": {k: v for k, v in training.items() if k not in OPERATIONAL}}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


class Backup:
    """The backup file of one run configuration inside ``folder``."""

    def __init__(self, folder: str | Path, key: str):
        self.folder = Path(folder)
        self.path = self.folder / f"{key}.npz"

    def discard_others(self) -> None:
        """Remove whatever in the folder is not this configuration's backup."""
        if not self.folder.is_dir():
            return
        stale = [p for p in sorted(self.folder.iterdir())
                 if p != self.path and not _written_by_a_live_process(p)]
        if stale:
            logger.info("ignoring and removing %d backup file(s) in %s written by another run "
                        "configuration (other data or parameters): %s", len(stale), self.folder,
                        ", ".join(p.name for p in stale))
        for p in stale:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()

    def load(self) -> dict | None:
        """``{"meta": {...}, <part>: [arrays], ...}`` as saved, or None."""
        if not self.path.exists():
            return None
        with np.load(self.path) as data:  # NumPy's default: object arrays refused
            meta = json.loads(bytes(data["meta"]).decode())
            return {"meta": meta, **{part: [data[f"{part}{i}"] for i in range(count)]
                                     for part, count in meta["arrays"].items()}}

    def save(self, meta: dict, **parts: list[np.ndarray]) -> None:
        """Write the state to a temporary file, then rename it over the backup."""
        self.folder.mkdir(parents=True, exist_ok=True)
        arrays = {f"{part}{i}": np.asarray(a) for part, values in parts.items()
                  for i, a in enumerate(values)}
        counts = {part: len(values) for part, values in parts.items()}
        blob = np.frombuffer(json.dumps({**meta, "arrays": counts}).encode(), np.uint8)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, meta=blob, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:  # not empty: another run's backup lives there too
            pass


def _written_by_a_live_process(path: Path) -> bool:
    """A temporary file that a running process on this host is still writing."""
    parts = path.name.split(".")
    if not (path.name.startswith(".") and parts[-1] == "tmp" and parts[-2].isdigit()):
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
