"""Batch inference from the registered champion."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
