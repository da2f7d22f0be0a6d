"""A real PostgreSQL server for tests: the pgserver wheel's binaries, a throw-away cluster."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.test_tracking_server import free_port


def binaries() -> Path:
    """The PostgreSQL programs the ``pgserver`` wheel ships (``pip install -e '.[dev]'``)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None:
        pytest.fail("PostgreSQL binaries missing: pip install -e '.[dev]' installs pgserver")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


@contextmanager
def postgres_server(database: str = "mlflow"):
    """``initdb`` into a temporary folder, ``postgres`` on a free loopback port, stopped after.

    Yields a SQLAlchemy URL ``postgresql+psycopg://postgres@127.0.0.1:<port>/<database>``.
    PostgreSQL refuses to run as root; a root test run starts it as ``nobody``.
    """
    import psycopg

    user = "nobody" if os.geteuid() == 0 else None
    # not under pytest's tmp_path: its parent folders are private to the user running pytest
    root = Path(tempfile.mkdtemp(prefix="seqcast-pg-"))
    if user:
        shutil.chown(root, user)
    data, port = root / "data", free_port()
    subprocess.run([binaries() / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--no-sync"], check=True, capture_output=True, user=user)
    log = (root / "postgres.log").open("w")
    process = subprocess.Popen(
        [binaries() / "postgres", "-D", data, "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", "unix_socket_directories=", "-c", "fsync=off"],
        stdout=log, stderr=subprocess.STDOUT, user=user)
    try:
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
                    conn.execute(f'CREATE DATABASE "{database}"')
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "postgres.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
    finally:
        process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
