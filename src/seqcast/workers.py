"""Training one family across worker processes: ``training.distribution: multi_worker``.

Each worker is a process started with ``TF_CONFIG``, TensorFlow's cluster spec (every
worker's ``host:port`` and this process's index). All workers build the same model and train it
with ``tf.distribute.MultiWorkerMirroredStrategy``: each reads its own share of the window
positions, gradients are all-reduced, so every worker ends with the same weights. The chief
(worker 0) keeps what the run produces; the others write nothing (``seqcast.hooks.Workers``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os

import numpy as np

from seqcast.errors import SeqcastError

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("auto", "single", "multi_worker")


class WorkerConfigError(SeqcastError, ValueError):
    """``TF_CONFIG`` or ``training.distribution`` cannot start a multi-worker run."""


def cluster() -> dict | None:
    """``TF_CONFIG`` parsed, or None when unset; refuses one that names no worker task."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as err:
        raise WorkerConfigError(
            f"TF_CONFIG is not a TensorFlow cluster spec ({err!r}); expected e.g. "
            '{"cluster": {"worker": ["host0:port", "host1:port"]}, '
            '"task": {"type": "worker", "index": 0}} (README, "Training across workers")'
        ) from err
    if task.get("type") != "worker" or not 0 <= index < len(workers):
        raise WorkerConfigError(
            f"TF_CONFIG's task {task!r} is not one of its {len(workers)} workers; set "
            '"task": {"type": "worker", "index": <0 … workers-1>}')
    return config


def is_chief() -> bool:
    """Whether this process keeps the run's outputs: worker 0, or any process without a
    cluster."""
    config = cluster()
    return config is None or int(config["task"]["index"]) == 0


def multi_worker(distribution: str) -> bool:
    """``training.distribution``: ``multi_worker`` needs ``TF_CONFIG``; ``auto`` trains across
    workers when ``TF_CONFIG`` names more than one; ``single``: this process alone."""
    if distribution not in DISTRIBUTIONS:
        raise WorkerConfigError(
            f"training.distribution must be one of {', '.join(DISTRIBUTIONS)}, got "
            f"{distribution!r}; set it in conf/base/parameters_training.yml or with --params")
    config = cluster()
    if distribution == "multi_worker" and config is None:
        raise WorkerConfigError(
            "training.distribution is multi_worker but TF_CONFIG is not set; start every "
            "worker with TF_CONFIG naming the cluster and its index (README, \"Training across "
            "workers\"), or set training.distribution to single")
    if distribution == "auto":
        return config is not None and len(config["cluster"]["worker"]) > 1
    return distribution == "multi_worker"


@functools.cache  # one per process: TensorFlow sets up the collective ops once
def worker_strategy():
    """This process's ``MultiWorkerMirroredStrategy``.

    TensorFlow sets up the collective ops only before its first op runs: ``seqcast.hooks``
    calls this at start-up when ``TF_CONFIG`` is set."""
    import tensorflow as tf

    cluster()  # a clear error for a malformed TF_CONFIG before TensorFlow's own
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as err:
        raise WorkerConfigError(
            f"could not start the multi-worker strategy ({err}); TensorFlow must create it "
            "before any other operation: start training with `kedro run` and TF_CONFIG set, "
            "so that the project creates it at start-up") from err


def worker_device(gpus: int):
    """``(description, strategy)`` of this worker, with ``gpus`` GPUs."""
    strategy = worker_strategy()
    workers = len(cluster()["cluster"]["worker"])
    return (f"{workers} workers x {gpus} GPUs" if gpus else f"{workers} CPU workers"
            ) + " (MultiWorkerMirroredStrategy)", strategy


def local_copy(build, forecaster, family_name: str):
    """The trained forecaster rebuilt outside the strategy, so that forecasting with it never
    waits for the other workers; its weights' digest is logged for comparing the workers."""
    local = build()[1]
    local.set_weights(forecaster.get_weights())
    logger.info("%s: weights %s on worker %s", family_name, weights_digest(local),
                cluster()["task"]["index"])
    return local


def share(n: int, index: int, count: int, per_step: int) -> np.ndarray:
    """Worker ``index``'s share of an epoch's ``n`` window positions (indices into the
    epoch's order): every ``count``-th position from its own, topped up from the start of the
    order to a whole number of steps of ``per_step`` windows, so that every worker runs the
    same steps (an all-reduce waits for all)."""
    length = math.ceil(math.ceil(n / count) / per_step) * per_step
    return (index + count * np.arange(length, dtype=np.int64)) % n


def build_before_fit(trainable, strategy, sample) -> None:
    """Work around two failures of Keras 3's ``fit`` under the multi-worker strategy
    (keras-team/keras#20585).

    Keras builds the compiled loss from the first distributed batch by one
    ``strategy.reduce`` of the whole batch structure, which this strategy refuses: build it
    here from ``sample``, one local batch, instead. Each step's logs are then averaged over
    the workers along axis 0, which a scalar loss lacks: the steps return them as ``(1,)``.
    """
    with strategy.scope():
        trainable._symbolic_build(data_batch=sample)
    trainable._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    trainable.train_step = _rank_one(trainable.train_step)
    trainable.test_step = _rank_one(trainable.test_step)


def _rank_one(step):
    import tensorflow as tf

    def rank_one_step(data):
        return {name: tf.reshape(value, (1,)) for name, value in step(data).items()}

    return rank_one_step


def feed(train, validation, first_epoch: int, epochs: int, strategy=None) -> dict:
    """``model.fit``'s data arguments: the streams' own datasets, or with ``strategy`` (across
    workers) each worker's share of them."""
    if strategy is None:
        return {"x": train.dataset(first_epoch, epochs), "validation_data": validation.dataset(),
                "steps_per_epoch": len(train)}
    x, steps = distributed_feed(strategy, train, first_epoch, epochs)
    return {"x": x, "validation_data": distributed_feed(strategy, validation)[0],
            "steps_per_epoch": steps}


def distributed_feed(strategy, stream, first_epoch: int = 0, epochs: int = 1):
    """``(dataset, steps per epoch)``: ``stream``'s epochs split across the workers.

    ``stream.batch_size`` windows go to each replica per step (``fit_family`` sets it to the
    global batch over the replicas); each worker's pipeline takes its share of every epoch."""
    config = cluster()
    workers = len(config["cluster"]["worker"]) if config else 1
    local = strategy.num_replicas_in_sync // workers
    per_step = stream.batch_size * local
    steps = len(share(stream.n_windows, 0, workers, per_step)) // per_step

    def pipeline(context):
        return stream.dataset(first_epoch, epochs, shard=(context.input_pipeline_id,
                                                          context.num_input_pipelines, per_step))

    return strategy.distribute_datasets_from_function(pipeline), steps


def weights_digest(model) -> str:
    """A short digest of ``model``'s weights: every worker logs it, and they must agree."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]
