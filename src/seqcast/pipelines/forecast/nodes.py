"""Node of the forecast pipeline; the logic: :mod:`seqcast.inference`."""

from seqcast.inference import forecast_next

__all__ = ["forecast_next"]
