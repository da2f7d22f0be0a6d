"""GPU training throughput: both families at batch 256 and 1024, float32 and mixed precision, on
the shipped default data and a synthetic panel; whether the LSTMs run the cuDNN kernel; windows/s
against the 2-core CPU's.

One command on a machine with an NVIDIA GPU (``pip install -e ".[gpu]"``):

    .venv/bin/python benchmarks/gpu.py

Each cell trains the family's standardised model as ``kedro run`` builds it (``build_forecaster``,
``compile_for``, the TF-native ``WindowStream`` feed) for one untimed warm-up epoch and
``--epochs`` timed ones of at most ``--steps`` batches (XLA on the CPU, as ``training.xla`` gives
long runs; a GPU keeps Keras' default and the cuDNN kernels). The cuDNN check reads the graph the
model's training step runs: a ``CudnnRNN*`` op is the fused kernel. Without a GPU the script
runs on the CPU in float32 only (float16 on the CPU is emulated, not a speed-up) and prints the
figures the GPU is compared with: :data:`CPU_REFERENCE` keeps those of the 2-core VM (this
script with its defaults there); on a GPU the ``vs 2-core CPU`` column divides by them, and the
target is 20x at batch >= 256.
"""

from __future__ import annotations

import argparse

import keras
import tensorflow as tf
import yaml
from panel import synthetic_panel
from training import ROOT, load_size, timed_fit

from seqcast.fitting import compile_for, streams, training_device
from seqcast.models import build_forecaster, family
from seqcast.spec import make_window_spec

BATCHES = (256, 1024)
TARGET = 20.0
# windows/s of the float32 cells on the 2-core x86-64 VM, CPU only: this script with its
# defaults there (3 min 21 s; load from nothing else)
CPU_REFERENCE: dict[tuple[str, str, int], float] = {
    ("default", "cnn_lstm", 256): 25_372, ("default", "cnn_lstm", 1024): 30_397,
    ("default", "lstm", 256): 10_883, ("default", "lstm", 1024): 19_269,
    ("panel", "cnn_lstm", 256): 36_886, ("panel", "cnn_lstm", 1024): 66_477,
    ("panel", "lstm", 256): 16_365, ("panel", "lstm", 1024): 17_164,
}


def dataset(size: str, params: dict, n_series: int):
    """``(series, spec)``: the shipped data, or a synthetic daily panel of ``n_series``."""
    if size == "default":
        return load_size("default", params, 0, 0)
    data = {"id_columns": ["item"], "time_column": "date", "targets": ["y"], "name": "panel"}
    series = synthetic_panel(n_series, 1_000)
    return series, make_window_spec(series, data, params["windows"])


def uses_cudnn(trainable: keras.Model, shape: tuple[int, ...]) -> bool:
    """Whether the training-mode forward pass contains a fused cuDNN RNN op."""
    forward = tf.function(lambda x, s: trainable([x, s], training=True))
    graph = forward.get_concrete_function(tf.TensorSpec((None, *shape), tf.float32),
                                          tf.TensorSpec((None,), tf.int32)).graph
    ops = {op.type for op in graph.get_operations()}
    ops |= {node.op for fn in graph.as_graph_def().library.function for node in fn.node_def}
    return any(op.startswith("CudnnRNN") for op in ops)


def cell(series, spec, name: str, blocks: dict, run: tuple[str, int, bool], args) -> tuple:
    """``(windows/s, cuDNN?)`` of one family on ``run`` = (device, batch, mixed precision)."""
    device, batch, mixed = run
    model, training = blocks[name]["model"], blocks[name]["training"]
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        keras.utils.set_random_seed(int(training["seed"]))
        train, _ = streams(series, spec, family(name).nested, batch, int(training["seed"]))
        trainable, _ = build_forecaster(name, spec, model, training["normalization"])
        # XLA on the CPU (its fastest LSTMs; compile_for ignores it on a GPU, where cuDNN runs)
        compile_for(trainable, {**training, "xla": True, "deterministic": False}, device)
        steps = min(len(train), args.steps)
        seconds = timed_fit(trainable, training, train.dataset(0, 1 + args.epochs), args.epochs,
                            steps=steps)[:, 0].sum()
        return steps * batch * args.epochs / seconds, uses_cudnn(trainable, train.input_shape())
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after 1 warm-up")
    parser.add_argument("--steps", type=int, default=200, help="batches per epoch at most")
    parser.add_argument("--series", type=int, default=2_000, help="synthetic panel's series")
    parser.add_argument("--families", default="cnn_lstm,lstm")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters.yml").read_text())
    blocks = yaml.safe_load((ROOT / "conf/base/parameters_training.yml").read_text())
    device, _ = training_device()
    gpu = device != "CPU"
    print(f"device: {device}; TF {tf.__version__}, Keras {keras.__version__}; "
          + ("float32 and mixed_float16" if gpu else "no GPU visible: CPU, float32 only"))
    print(f"{'data':<8}{'family':<10}{'batch':>6}{'precision':>11}{'windows/s':>11}"
          f"{'cuDNN':>7}{'vs 2-core CPU':>15}")
    for size in ("default", "panel"):
        series, spec = dataset(size, params, args.series)
        for name in args.families.split(","):
            for batch in BATCHES:
                for mixed in (False, True) if gpu else (False,):
                    rate, cudnn = cell(series, spec, name, blocks, (device, batch, mixed), args)
                    cpu = CPU_REFERENCE.get((size, name, batch))
                    ratio = f"{rate / cpu:.1f}x" + (" MET" if rate / cpu >= TARGET else
                                                    " MISSED") if cpu and gpu else "n/a"
                    lstm = "yes" if cudnn else "no"
                    print(f"{size:<8}{name:<10}{batch:>6}{'mixed' if mixed else 'float32':>11}"
                          f"{rate:>11,.0f}{lstm:>7}{ratio:>15}", flush=True)


if __name__ == "__main__":
    main()
