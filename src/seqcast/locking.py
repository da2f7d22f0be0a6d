"""One writing run per project folder: a file lock that says who holds it.

The lock is an OS lock on an open file (``flock``), so a killed holder releases it with its
process. The holder writes who it is into the same file, for the message of a run that waits.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

TIMEOUT_PARAMETER = "params:runs.lock_timeout"


def describe(holder: dict) -> str:
    """``pid 4242 on host-a, pipelines retrain, since 2026-01-01T10:00:00Z``."""
    if not holder:
        return "holder unknown"
    return (f"pid {holder.get('pid')} on {holder.get('host')}, pipelines "
            f"{holder.get('pipelines')}, since {holder.get('since')}")


def read_holder(path: Path, attempts: int = 5) -> dict:
    """What the holder wrote; it writes right after taking the lock, so retry an empty file."""
    for _ in range(attempts):
        try:
            text = path.read_text()
        except FileNotFoundError:
            text = ""
        if text.strip():
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                pass  # caught mid-write: read again
        time.sleep(0.1)
    return {}


class ProjectLock:
    """``acquire`` waits up to ``timeout`` seconds, logging once that it waits."""

    def __init__(self, path: str | Path, pipelines: str):
        self.path = Path(path)
        self.pipelines = pipelines
        self._lock = FileLock(self.path)

    def acquire(self, timeout: float) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = read_holder(self.path)
            label = holder.get("pipelines", "seqcast")
            logger.warning("another %s job holds %s (%s); waiting up to %ss (%s)", label,
                           self.path, describe(holder), timeout, TIMEOUT_PARAMETER)
            try:
                self._lock.acquire(timeout=timeout)
            except Timeout as err:
                holder = describe(read_holder(self.path))
                raise SeqcastError(
                    f"Gave up after {timeout}s waiting for the project lock {self.path}: "
                    f"another run is still writing in this folder ({holder}). "
                    f"Let it finish, or raise {TIMEOUT_PARAMETER} "
                    f"(e.g. --params runs.lock_timeout={max(2 * float(timeout), 60):g})."
                ) from err
        self._write_holder()

    def _write_holder(self) -> None:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "pipelines": self.pipelines,
                  "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        # Not truncated by waiters (they open it without O_TRUNC), so this stays readable.
        with open(self.path, "r+", encoding="utf-8") as handle:
            handle.truncate()
            handle.write(json.dumps(holder))

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
