"""Runs inside a report kernel, never in the coordinator: pre-imports, and the cleanup between reports.

``insats.runner.kernels`` imports this module in each warm kernel (``setup``) and calls
``cleanup`` before every report. ``setup`` records the kernel's global state after the heavy
imports; ``cleanup`` resets the user namespace, output history and execution counter and restores
the working directory, ``sys.path``, ``os.environ``, warning filters, pandas options, Altair's
settings and matplotlib's state. Imported modules stay imported, which is the point.

Libraries are looked up in ``sys.modules`` rather than imported: the cleanup restores only what a
report actually used, and never imports anything a report did not ask for.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from typing import Any, cast

from IPython import get_ipython

_state: dict[str, Any] = {}


def _pandas_options() -> dict[str, Any] | None:
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    config = sys.modules.get("pandas._config.config")
    registered = getattr(config, "_registered_options", None)
    if registered is None:
        return None
    out = {}
    for key in registered:
        with contextlib.suppress(Exception):  # an option pandas cannot read back is left alone
            out[key] = pd.get_option(key)
    return out


def _altair_active() -> dict[str, str] | None:
    alt = sys.modules.get("altair")
    if alt is None:
        return None
    out = {}
    for reg in ("renderers", "data_transformers", "theme"):
        with contextlib.suppress(Exception):  # older Altair versions lack some registries
            out[reg] = getattr(alt, reg).active
    return out


def setup(preimports: list[str]) -> None:
    """Import ``preimports`` and record the state ``cleanup`` restores. A module that fails to
    import is skipped: the report that needs it fails on its own import, with its own message."""
    for name in preimports:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    _state["path"] = list(sys.path)
    _state["environ"] = dict(os.environ)
    _state["filters"] = list(warnings.filters)
    _state["pandas"] = _pandas_options()
    _state["altair"] = _altair_active()
    mpl = sys.modules.get("matplotlib")
    _state["rc"] = dict(mpl.rcParams) if mpl is not None else None


def cleanup(cwd: str) -> None:
    """Reset the kernel to the state ``setup`` recorded and change to ``cwd``."""
    get_ipython().reset(new_session=True)  # also collects garbage
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    mpl = sys.modules.get("matplotlib")
    if mpl is not None and _state.get("rc") is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mpl.rcParams.update(_state["rc"])
    pd = sys.modules.get("pandas")
    if pd is not None and _state.get("pandas"):
        for key, value in _state["pandas"].items():
            with contextlib.suppress(Exception):  # deprecated options may refuse to be set
                if pd.get_option(key) != value:
                    pd.set_option(key, value)
    alt = sys.modules.get("altair")
    if alt is not None and _state.get("altair"):
        for reg, name in _state["altair"].items():
            with contextlib.suppress(Exception):  # a renderer a report registered and removed
                if getattr(alt, reg).active != name:
                    getattr(alt, reg).enable(name)
    sys.path[:] = _state["path"]
    if dict(os.environ) != _state["environ"]:
        os.environ.clear()
        os.environ.update(_state["environ"])
    cast("list[Any]", warnings.filters)[:] = _state["filters"]  # a list at runtime; typeshed says Sequence
    with contextlib.suppress(AttributeError):  # private in CPython; absent elsewhere
        warnings._filters_mutated()  # type: ignore[attr-defined]  # private CPython function, not in typeshed
    os.chdir(cwd)
