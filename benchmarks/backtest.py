"""Backtest predict time: first call and warm call of ``predict_windows`` over 100 origins.

The model is the ``lstm`` family as built for the default data (untrained: the time does not
depend on the weights); the default windows with ``origins: 100``.

Run: ``.venv/bin/python benchmarks/backtest.py`` (``--origins``, ``--repeats``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import yaml
from training import ROOT, load_size

from seqcast.backtest import predict_windows
from seqcast.models import build_forecaster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--origins", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="warm calls, best one kept")
    parser.add_argument("--family", default="lstm")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    params["windows"] = {**params["windows"], "origins": args.origins}
    series, spec = load_size("default", params, 0, 0)
    block = blocks[args.family]
    _, model = build_forecaster(args.family, spec, block["model"],
                                block["training"]["normalization"])
    first = -time.perf_counter()
    forecast = predict_windows(model, series, spec)
    first += time.perf_counter()
    warm = []
    for _ in range(args.repeats):
        warm.append(-time.perf_counter())
        again = predict_windows(model, series, spec)
        warm[-1] += time.perf_counter()
    np.testing.assert_array_equal(again, forecast)
    print(f"{args.family}: {len(forecast)} origins, first call {first:.3f} s, warm "
          f"{min(warm):.4f} s (best of {args.repeats}, median {np.median(warm):.4f} s); "
          f"load avg {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
