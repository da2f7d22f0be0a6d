"""seqcast's pipelines, one folder each (``nodes.py`` functions, ``pipeline.py`` wiring)."""

from functools import partial, update_wrapper


def for_namespace(func, namespace: str):
    """``func`` with its ``label`` argument bound to a family's namespace, keeping its name
    and docstring for Kedro's node descriptions."""
    return update_wrapper(partial(func, label=namespace), func)
