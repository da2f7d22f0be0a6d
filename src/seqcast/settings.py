"""Project settings (Kedro reads this module at start-up)."""

import os

from kedro.config import OmegaConfigLoader


def _env_or(name: str, default: str | None = None) -> str | None:
    """Resolver ``${env_or:NAME,default}``: an environment variable with a default.

    Kedro only lets ``oc.env`` into credentials; the tracking URI is no secret, and a team
    overrides it with ``MLFLOW_TRACKING_URI`` as MLflow users expect.
    """
    return os.environ.get(name) or default


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"env_or": _env_or},
}
