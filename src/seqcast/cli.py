"""seqcast's project commands: Kedro's ``run``, with known failures in a few lines.

Kedro finds this module (``<package>.cli``) and takes its ``run`` over the built-in one, for
``kedro run`` and for ``python -m seqcast``. Every option of ``kedro run`` is kept; ``--verbose``
is added.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.project import settings
from kedro.utils import find_kedro_project
from mlflow.exceptions import MlflowException

from seqcast.errors import SeqcastError

TRACEBACK_VARIABLE = "SEQCAST_TRACEBACK"

# Notices about Kedro's and kedro-mlflow's own calls into OmegaConf, and about the namespaced
# names (``cnn_lstm.forecaster``) that evaluation reads on purpose: nothing a user can act on, and a
# dozen lines in front of every run's log.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
warnings.filterwarnings("ignore", message=r"One or more dataset names contain '\.'")


# The tracking server refusing a request half-way (an account without EDIT on the experiment
# or a registered model) is the user's to fix, like a SeqcastError.
REFUSED = ("UNAUTHENTICATED", "PERMISSION_DENIED")


def known_failure(error: BaseException) -> str | None:
    """The message of the known failure behind ``error``: itself, or one it was raised from
    (as a dataset's error is); None for anything else."""
    while error is not None:
        if isinstance(error, SeqcastError):
            return str(error)
        if isinstance(error, MlflowException) and error.error_code in REFUSED:
            return (f"the MLflow tracking server refused a request ({error.message}). Ask its "
                    "administrator for EDIT permission on experiment and registered models "
                    "(README: Sharing runs with a team), or run as an account that has it")
        if isinstance(error, MlflowException) and str(error).startswith("API request to"):
            # MLflow's client gave up on a server that stopped answering mid-run (its URL
            # carries no credentials: the start-up check moved them to the environment).
            url = str(error).split()[3]
            return (f"the MLflow tracking server stopped answering ({url}); check that it "
                    "runs and is reachable, then run again")
        error = error.__cause__
    return None


class ConfigEnvError(SeqcastError, ValueError):
    """``--env`` (or ``KEDRO_ENV``) names a folder that the configuration does not have."""


def check_env(env: str | None, conf_source: str | None) -> None:
    """Refuse a configuration environment without a folder, naming those there are.

    Kedro would read base alone, and kedro-mlflow, finding no ``mlflow.yml`` for it, would
    track into a file store of its own (``mlruns/``) that MLflow 3 then refuses.
    """
    env = env or os.environ.get("KEDRO_ENV")
    project = find_kedro_project(Path.cwd())
    if not env or project is None:
        return
    source = Path(conf_source) if conf_source else project / settings.CONF_SOURCE
    if not source.is_dir() or (source / env).is_dir():
        return  # a packaged (zip, tar.gz) configuration: Kedro itself reads it
    where = source.relative_to(project) if source.is_relative_to(project) else source
    base = settings.CONFIG_LOADER_ARGS.get("base_env", "base")  # read by every run
    envs = sorted(p.name for p in source.iterdir()
                  if p.is_dir() and p.name != base and not p.name.startswith("."))
    raise ConfigEnvError(
        f"the configuration environment {env!r} does not exist: there is no folder "
        f"{where / env}. Environments in {where}: {', '.join(envs) or 'none'} (and {base}, "
        f"read by every run); pass one of them to --env (or KEDRO_ENV), or create {where / env}/"
    )


def _show_traceback(verbose: bool) -> bool:
    return verbose or os.environ.get(TRACEBACK_VARIABLE, "") not in ("", "0")


VERBOSE = click.Option(
    ["--verbose", "-v"], is_flag=True, default=False,
    help=f"Show the full traceback of a known failure (or set {TRACEBACK_VARIABLE}=1).",
)


@click.group(name="seqcast")
def cli():
    """seqcast's project commands."""


@cli.command(name="run", params=[*kedro_run.params, VERBOSE], help=kedro_run.help)
def run(verbose: bool, **options):
    """Kedro's ``run``; a known failure ends it with its message and exit status 1."""
    try:
        check_env(options.get("env"), options.get("conf_source"))
        return kedro_run.callback(**options)
    except Exception as error:
        known = known_failure(error)
        if known is None or _show_traceback(verbose):
            raise
        click.secho(f"Error: {known}", err=True, fg="red")
        click.echo(f"(run with --verbose or {TRACEBACK_VARIABLE}=1 for the traceback)", err=True)
        raise SystemExit(1) from None
