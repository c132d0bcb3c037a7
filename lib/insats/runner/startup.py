"""Start-up settings of batch processes (the ``insats run`` coordinator and its kernels).

``skip_unused_imports`` keeps ``jsonschema`` from loading ``rfc3987_syntax``: building that
module's grammar takes 1–1.5 s at import, and jsonschema uses it only to check the "iri" and
"iri-reference" formats, which neither the Vega-Lite schema (Altair) nor the notebook schema
(nbformat) uses; their "uri" formats are checked by ``rfc3986_validator`` as before. Validation of
charts and notebooks is unchanged; a batch process just starts a second sooner.

``import_soon`` imports a module in a background thread, so that a coordinator loads what it needs
only later (papermill, nbclient, nbconvert: 0.7 s) while its kernels start and import, instead of
after they are ready, when the kernels would wait for it.

``fast_notebook_checks`` makes the coordinator's checks of notebooks against nbformat's schema
(each output as it arrives from the kernel, the whole notebook when it is written and exported)
use ``fastjsonschema``, compiled once from nbformat's own schema, instead of ``jsonschema``, which
walks the schema anew each time: about 0.1 s of the coordinator's time a report (23 outputs at
1.5 ms, two checks of the whole notebook at 40 ms). The verdicts are nbformat's: whatever the fast
check rejects is checked again by nbformat's own ``validate``, which raises with jsonschema's
message (or passes it, should the two schema libraries ever disagree).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


NBFORMAT_VALIDATOR = "NBFORMAT_VALIDATOR"
"""nbformat's own setting of the library that checks whole notebooks (``jsonschema`` by default)."""


def fast_notebook_checks() -> None:
    """Check notebooks and their parts with compiled schemas (see the module docstring). Whole
    notebooks: nbformat's own setting ``NBFORMAT_VALIDATOR=fastjsonschema``, unless the user chose
    another. Parts (``nbformat.v4.nbbase.validate``: an output made from a kernel's message, a new
    cell): the part's definition in nbformat's schema, compiled once. Calling it again changes
    nothing."""
    import fastjsonschema  # on use: only the processes that run reports check notebooks
    from nbformat.v4 import nbbase  # on use: as above; the kernels never load nbformat for this

    os.environ.setdefault(NBFORMAT_VALIDATOR, "fastjsonschema")
    if getattr(nbbase.validate, "insats_fast", False):
        return
    original = nbbase.validate
    schema_file = Path(nbbase.__file__).parent / nbbase.nbformat_schema[(nbbase.nbformat, nbbase.nbformat_minor)]
    definitions = json.loads(schema_file.read_text(encoding="utf-8"))["definitions"]

    @functools.cache  # two threads compiling the same part at once get equal checks
    def compiled(ref: str) -> Callable[[Any], Any]:
        return fastjsonschema.compile({"definitions": definitions, "$ref": f"#/definitions/{ref}"})

    def validate(node: Any, ref: str | None = None) -> None:
        if ref in definitions:  # a part nbformat's schema defines (a whole notebook: ref None)
            try:
                compiled(ref)(node)
                return None
            except fastjsonschema.JsonSchemaException:
                pass  # nbformat's verdict, and its message
        return original(node, ref)

    validate.insats_fast = True  # type: ignore[attr-defined]  # marks the function as this one
    validate.__doc__ = original.__doc__
    nbbase.validate = validate
