"""Project settings (Kedro reads this module at start-up)."""

import os

# Kedro reads this module before anything imports TensorFlow: its C++ log level must be set
# before then. At the default, every run prints TensorFlow's probe for a CUDA driver on a
# machine without one (`cuInit` failed), CPU-instruction and XLA-service notes, and a tf.data
# graph attribute notice on every fit and predict: nothing to act on, nothing a run can
# change. Real failures still raise; `TF_CPP_MIN_LOG_LEVEL=0 kedro run` shows these lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqcast.config import ConfigLoader  # noqa: E402  (after the settings above)
from seqcast.console import (  # noqa: E402
    NodeProgress,
    hide_unhinted_model_warning,
    leave_out_routine_records,
)

hide_unhinted_model_warning()  # set off by kedro-mlflow's import (seqcast.hooks imports it)

from seqcast.hooks import (  # noqa: E402
    MlflowTracking,
    RunLock,
    RunProvenance,
    RunSummary,
    TrackingServerCheck,
    Workers,
)

# Bound MLflow's HTTP retries (default: 7 retries with backoff, minutes against a dead server).
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

leave_out_routine_records()  # Kedro's and kedro-mlflow's lines that repeat another one

# kedro-mlflow's hook, from the project: without None-valued parameters (MlflowTracking).
# Registered last, after the others as the plugin's was: their tryfirst/trylast still hold.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")  # either spelling of its name
HOOKS = (Workers(), TrackingServerCheck(), RunLock(), NodeProgress(), RunProvenance(), RunSummary(),
         MlflowTracking())


def _env_or(name: str, default: str | None = None) -> str | None:
    """Resolver ``${env_or:NAME,default}``: an environment variable with a default.

    Kedro only lets ``oc.env`` into credentials; the tracking URI is no secret, and a team
    overrides it with ``MLFLOW_TRACKING_URI`` as MLflow users expect.
    """
    return os.environ.get(name) or default


CONFIG_LOADER_CLASS = ConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"env_or": _env_or},
    # An environment's or the command line's parameters merge into base key by key: with
    # Kedro's default, `--params cnn_lstm.training.seed=1` under `--env` replaced the whole
    # `cnn_lstm` block, and an environment's `data:` block dropped base's `max_gap`.
    "merge_strategy": {"parameters": "soft"},
}
