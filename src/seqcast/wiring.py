"""Helpers for wiring library functions into Kedro nodes."""

from functools import partial, update_wrapper


def for_namespace(func, namespace: str):
    """``func`` with its ``namespace`` argument bound to a family's namespace, keeping its
    name and docstring for Kedro's node descriptions."""
    return update_wrapper(partial(func, namespace=namespace), func)
