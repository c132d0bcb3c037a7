"""Start-up settings of batch processes (the ``insats run`` coordinator and its kernels).

``skip_unused_imports`` keeps ``jsonschema`` from loading ``rfc3987_syntax``: building that
module's grammar takes 1–1.5 s at import, and jsonschema uses it only to check the "iri" and
"iri-reference" formats, which neither the Vega-Lite schema (Altair) nor the notebook schema
(nbformat) uses; their "uri" formats are checked by ``rfc3986_validator`` as before. Validation of
charts and notebooks is unchanged; a batch process just starts a second sooner.
"""

from __future__ import annotations

import sys

UNUSED_IMPORTS = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Make ``import rfc3987_syntax`` raise ImportError (jsonschema then leaves out its "iri"
    checks). Does nothing once jsonschema or the module is imported: call it first."""
    if "jsonschema" in sys.modules:
        return
    for name in UNUSED_IMPORTS:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # a None entry makes import fail
