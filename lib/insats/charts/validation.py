"""Faster validation of whole charts: the same Vega-Lite schema, checked by a compiled validator.

Altair validates a chart against the Vega-Lite JSON schema each time it is drawn, with the
pure-Python ``jsonschema``. For the charts of a district profile that is about 0.1 s a chart, a
quarter of a profile's time in a batch kernel and a good part of a dashboard redraw.
``install`` puts ``jsonschema_rs`` (a compiled validator of the same JSON Schema draft) in front
of Altair's check of a *whole* chart (the ``TopLevel…Spec`` definitions): a chart it finds valid
is valid; for a chart it finds invalid, Altair's own validation runs as before, so an invalid
chart raises Altair's ``SchemaValidationError`` with Altair's message, exactly as without this
module. Checks of single properties and ``from_dict`` go to Altair unchanged.

The schema's ``$ref`` values name definitions such as ``MarkPropDef<(Gradient|string|null)>``;
they are percent-encoded (as a URI fragment must be; the validator decodes them back to the
same JSON pointer) so that the compiled validator accepts the schema. ``color-hex``, a format only
Vega-Lite knows, is ignored by both validators; ``uri`` and ``uri-reference`` are checked.
``tests/charts/test_validation.py`` checks that both validators agree on valid and broken charts.

Without ``jsonschema_rs`` (not installed) ``install`` leaves Altair as it is.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

from altair.utils import schemapi

_TOP_LEVEL = "#/definitions/TopLevel"
_STATE: dict[str, Any] = {}


def _encode_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (urllib.parse.quote(v, safe="/#") if k == "$ref" else _encode_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_encode_refs(v) for v in node]
    return node


@functools.cache
def _definitions(root_id: int) -> dict[str, Any]:
    return _encode_refs(_STATE["root"]["definitions"])


@functools.cache
def _validator(ref: str, root_id: int) -> Any:
    import jsonschema_rs  # optional: install() checks it is there

    schema = {"$ref": urllib.parse.quote(ref, safe="/#"), "definitions": _definitions(root_id)}
    return jsonschema_rs.Draft7Validator(schema, validate_formats=True)


def fast_ref(schema: Any, rootschema: Any) -> str | None:
    """The ``TopLevel…`` definition ``schema`` refers to, when it is a whole chart's schema in
    Altair's Vega-Lite root schema; None for anything the fast path leaves to Altair."""
    if not isinstance(schema, dict) or rootschema is None or rootschema is not _STATE.get("root"):
        return None
    ref = schema.get("$ref")
    if len(schema) != 1 or not isinstance(ref, str) or not ref.startswith(_TOP_LEVEL):
        return None
    return ref


def is_valid(spec: Any, schema: Any, rootschema: Any) -> bool | None:
    """Whether ``spec`` is valid for a whole-chart ``schema`` by the compiled validator; None when
    the fast path does not apply (``fast_ref``)."""
    ref = fast_ref(schema, rootschema)
    if ref is None:
        return None
    try:
        return bool(_validator(ref, id(rootschema)).is_valid(spec))
    except (TypeError, ValueError):  # a value the compiled validator cannot read: Altair decides
        return None


def install() -> bool:
    """Put the compiled validator in front of Altair's whole-chart validation (once per process).
    Returns whether it is in place (False without ``jsonschema_rs``)."""
    if "original" in _STATE:
        return True
    try:
        import jsonschema_rs  # noqa: F401  (optional dependency, checked here once)
    except ImportError:
        return False
    import altair as alt  # altair's root schema, the one its chart classes share

    _STATE["root"] = alt.Chart._rootschema
    original = schemapi.validate_jsonschema

    def validate_jsonschema(spec, schema, rootschema=None, *, raise_error=True):
        if is_valid(spec, schema, rootschema):
            return None
        return original(spec, schema, rootschema, raise_error=raise_error)

    _STATE["original"] = original
    schemapi.validate_jsonschema = validate_jsonschema
    return True


def uninstall() -> None:
    """Restore Altair's own validation (for tests)."""
    original = _STATE.pop("original", None)
    if original is not None:
        schemapi.validate_jsonschema = original
