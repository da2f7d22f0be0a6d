"""Tune every family with Optuna, then backtest, evaluate and track the tuned models."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
