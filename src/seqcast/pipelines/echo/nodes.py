"""Node of the echo example; the logic: :mod:`seqcast.models.echo`."""

from seqcast.models.echo import train_echo_models

__all__ = ["train_echo_models"]
