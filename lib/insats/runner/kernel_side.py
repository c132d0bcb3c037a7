"""Runs inside a report kernel, never in the coordinator: pre-imports, the cleanup between
reports, what a report read, and the kernel's end when its parent dies.

``insats.runner.kernels`` imports this module in each warm kernel (``setup``) and calls
``cleanup`` before every report. ``setup`` records the kernel's global state after the heavy
imports; ``cleanup`` resets the user namespace, output history and execution counter and restores
the working directory, ``sys.path``, ``os.environ``, warning filters, pandas options, Altair's
settings and matplotlib's state. Imported modules stay imported, which is the point; so do the
studies and measures ``insats.data.cache`` keeps (keyed by content, so never stale). The
publications ``insats.reports.publication`` keeps per study object are dropped: each report has a
study object of its own, so they could never be served again. ``cleanup`` also empties the read
log (``insats.data.study.READS``) that ``reads_json`` hands to the runner after the report.

Three settings make a batch kernel faster without changing what a report shows. Before the
imports, ``insats.runner.startup.skip_unused_imports`` keeps ``jsonschema`` from loading a module
that costs a second and checks nothing our schemas use. After the imports
``setup`` moves every object alive then into the garbage collector's permanent generation
(``gc.freeze``: the imported libraries are never garbage, and the collection IPython runs at each
cleanup no longer walks them), and it turns off Altair's debug mode (the validation of every
chart object as it is built; a chart is still validated when it is drawn, so an invalid chart
still fails its report, with a shorter traceback). ``cleanup`` restores that setting.

``setup`` starts a watchdog thread: when the process that started the kernel is gone (killed
with ``kill -9``, say), the kernel ends its whole process group (itself and anything a report
started) instead of living on as an orphan.

Libraries are looked up in ``sys.modules`` rather than imported: the cleanup restores only what a
report actually used, and never imports anything a report did not ask for.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import sys
import threading
import time
import warnings
from typing import Any, cast

from IPython import get_ipython

from insats.runner.startup import skip_unused_imports

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


WATCH_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            with contextlib.suppress(OSError):
                if os.getpgid(0) == os.getpid():  # our own group (jupyter starts kernels in a new session)
                    os.killpg(0, signal.SIGKILL)
            os._exit(1)


def setup(preimports: list[str]) -> None:
    """Import ``preimports`` and record the state ``cleanup`` restores. A module that fails to
    import is skipped: the report that needs it fails on its own import, with its own message."""
    skip_unused_imports()
    if not _state.get("watching"):
        threading.Thread(target=_watch_parent, args=(os.getppid(),), name="insats-foralder", daemon=True).start()
        _state["watching"] = True
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
    schemapi = sys.modules.get("altair.utils.schemapi")
    if schemapi is not None:
        schemapi.disable_debug_mode()
        _state["altair_debug"] = False
    gc.collect()
    gc.freeze()


def cleanup(cwd: str) -> None:
    """Reset the kernel to the state ``setup`` recorded and change to ``cwd``."""
    publication = sys.modules.get("insats.reports.publication")
    if publication is not None:  # kept for the last report's study object, which is about to go
        publication.forget_publications()
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
    schemapi = sys.modules.get("altair.utils.schemapi")
    if schemapi is not None and "altair_debug" in _state:
        (schemapi.enable_debug_mode if _state["altair_debug"] else schemapi.disable_debug_mode)()
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
    study = sys.modules.get("insats.data.study")
    if study is not None:
        study.READS.clear()
    os.chdir(cwd)


def reads_json() -> str:
    """What the report read since ``cleanup`` (``insats.data.study.READS``) as JSON, or ``null``
    when no study was loaded through the package (the runner then counts every file as read)."""
    study = sys.modules.get("insats.data.study")
    if study is None:
        return "null"
    return json.dumps(study.READS.entries(), ensure_ascii=False)
