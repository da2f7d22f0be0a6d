"""The project's configuration loader: Kedro's ``OmegaConfigLoader`` plus list parameters.

``kedro run --params`` splits its value at every comma before it parses anything, so
``data.features=[load,temp]`` never reaches the loader as a list. A list is given element by
element instead, in OmegaConf's own index notation: ``data.features.0=load,data.features.1=temp``.
The command line turns that into ``{"0": "load", "1": "temp"}``; this loader turns every such
mapping (keys exactly ``0 … n-1``) back into the list it spells.
"""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader


def indexed_lists(value: Any) -> Any:
    """``value`` with every mapping keyed ``"0" … "n-1"`` (at any depth) made a list."""
    if isinstance(value, list):
        return [indexed_lists(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: indexed_lists(item) for key, item in value.items()}
    if value and sorted(map(str, value)) == sorted(str(i) for i in range(len(value))):
        return [value[key] for key in sorted(value, key=int)]
    return value


class ConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose runtime parameters may spell lists by index."""

    def __init__(self, conf_source: str, env: str | None = None,
                 runtime_params: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(conf_source, env, indexed_lists(runtime_params or {}), **kwargs)
