"""The README's picture of MLflow's compare view: the latest run's child runs side by side.

Starts ``mlflow ui`` on a free loopback port over the project's ``mlflow.db``, opens the
compare-runs page of the latest parent run's children in headless Chromium, saves the page as
a PNG and stops the server. Run it from the project folder after a ``kedro run``:

    python docs/screenshot.py                      # writes docs/mlflow-compare.png
    python docs/screenshot.py --browser chromium --size 1400,2200 --out docs/mlflow-compare.png

Chromium is not a project dependency: install it with the system's packages.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from mlflow.tracking import MlflowClient

STORE = "sqlite:///mlflow.db"
EXPERIMENT = "seqcast"
# The browser reaches the loopback server under this name: MLflow's UI opens its assistant
# panel over half the page on a first visit to localhost or 127.0.0.1, and only there.
HOST = "mlflow-ui.test"
# No sandbox (root in a container), no GPU, nothing fetched from the network in the background.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars")


def latest_children(client: MlflowClient) -> tuple[str, list[str]]:
    """``(experiment_id, run ids)``: the child runs of the experiment's latest parent run."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        raise SystemExit(f"no experiment {EXPERIMENT!r} in {STORE}: run `kedro run` first")
    ids = [experiment.experiment_id]
    parents = [r for r in client.search_runs(ids, order_by=["attributes.start_time DESC"])
               if "mlflow.parentRunId" not in r.data.tags]
    for parent in parents:
        children = client.search_runs(
            ids, f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
            order_by=["attributes.run_name ASC"])
        if children:
            return experiment.experiment_id, [r.info.run_id for r in children]
    raise SystemExit(f"no run with child runs in experiment {EXPERIMENT!r}: run `kedro run`")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"mlflow ui exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"mlflow ui did not answer at {url} within {timeout:.0f}s")


def compare_url(base: str, experiment_id: str, run_ids: list[str]) -> str:
    query = urllib.parse.urlencode({"runs": json.dumps(run_ids),
                                    "experiments": json.dumps([experiment_id])})
    return f"{base}/#/compare-runs?{query}"


def screenshot(browser: str, url: str, out: Path, size: str, wait_ms: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                        f"--window-size={size}", f"--virtual-time-budget={wait_ms}",
                        f"--screenshot={out.resolve()}", url],
                       check=True, capture_output=True, timeout=180)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", default="chromium", help="Chromium's executable")
    parser.add_argument("--size", default="1400,2200", help="window width,height in pixels")
    parser.add_argument("--wait-ms", type=int, default=20000,
                        help="page time given to render before the picture (virtual time)")
    parser.add_argument("--out", type=Path, default=Path("docs/mlflow-compare.png"))
    args = parser.parse_args()
    browser = shutil.which(args.browser)
    if browser is None:
        raise SystemExit(f"{args.browser!r} is not on PATH: install Chromium or pass --browser")
    experiment_id, run_ids = latest_children(MlflowClient(STORE))
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri",
                               STORE, "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1", "--allowed-hosts", f"{HOST}:{port}",
                               "--cors-allowed-origins", f"http://{HOST}:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        url = compare_url(f"http://{HOST}:{port}", experiment_id, run_ids)
        screenshot(browser, url, args.out, args.size, args.wait_ms)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{args.out}: {len(run_ids)} runs compared, {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
