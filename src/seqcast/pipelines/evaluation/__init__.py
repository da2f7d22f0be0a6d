"""Backtests of all families and the baselines → metrics.json, forecasts and plots."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
