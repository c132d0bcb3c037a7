"""Start-up settings of batch processes (the ``insats run`` coordinator and its kernels).

``skip_unused_imports`` keeps ``jsonschema`` from loading ``rfc3987_syntax``: building that
module's grammar takes 1–1.5 s at import, and jsonschema uses it only to check the "iri" and
"iri-reference" formats, which neither the Vega-Lite schema (Altair) nor the notebook schema
(nbformat) uses; their "uri" formats are checked by ``rfc3986_validator`` as before. Validation of
charts and notebooks is unchanged; a batch process just starts a second sooner.

``import_soon`` imports a module in a background thread, so that a coordinator loads what it needs
only later (papermill, nbclient, nbconvert: 0.7 s) while its kernels start and import, instead of
after they are ready, when the kernels would wait for it.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading

UNUSED_IMPORTS = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Make ``import rfc3987_syntax`` raise ImportError (jsonschema then leaves out its "iri"
    checks). Does nothing once jsonschema or the module is imported: call it first."""
    if "jsonschema" in sys.modules:
        return
    for name in UNUSED_IMPORTS:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # a None entry makes import fail


def import_soon(name: str) -> None:
    """Import module ``name`` in a daemon thread and return at once. Whoever imports it meanwhile
    waits for that import (Python's per-module import lock) and gets the module; an import that
    fails here is left for that later import to raise, with its own traceback."""

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(name)

    threading.Thread(target=load, name="insats-import", daemon=True).start()
