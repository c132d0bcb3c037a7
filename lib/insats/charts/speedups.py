"""Two speed-ups of Altair's internals that leave every chart and every error message as they were.

**Whole charts validated by a compiled validator.** Altair validates a chart against the
Vega-Lite JSON schema each time it is drawn, with the pure-Python ``jsonschema``: about 0.1 s a
chart, a quarter of a district profile's time in a batch kernel and a good part of a dashboard
redraw. ``install`` puts ``jsonschema_rs`` (a compiled validator of the same JSON Schema draft)
in front of Altair's check of a *whole* chart (the ``TopLevel…Spec`` definitions): a chart it
finds valid is valid; for a chart it finds invalid, Altair's own validation runs as before, so an
invalid chart raises Altair's ``SchemaValidationError`` with Altair's message, exactly as without
this module. Checks of single properties and ``from_dict`` go to Altair unchanged. The schema's
``$ref`` values name definitions such as ``MarkPropDef<(Gradient|string|null)>``; they are
percent-encoded (as a URI fragment must be; the validator decodes them back to the same JSON
pointer) so that the compiled validator accepts the schema. ``color-hex``, a format only
Vega-Lite knows, is ignored by both validators; ``uri`` and ``uri-reference`` are checked.

**The wrapper-class table built once.** Every encoding given as a shorthand (``"varde:Q"``) or a
plain dict (``alt.value(0)``) goes through ``SchemaBase.from_dict``, which builds a table of all
~570 Vega-Lite wrapper classes keyed by a JSON hash of each class's schema (``_FromDict``), on
every call: about 15 ms, so a third of the time to build a chart. The table depends only on the
classes, so ``install`` keeps it per set of classes and hands the same table to every later
``_FromDict``; afterwards it is only read (a lookup of a schema no class has adds an empty entry,
as in Altair's own table).

``tests/charts/test_speedups.py`` checks that both validators agree on valid and broken charts,
that an invalid chart's error is Altair's own, and that charts built with the table kept are the
same as without. Without ``jsonschema_rs`` (not installed) the validator is left as Altair's.
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
def _definitions() -> dict[str, Any]:
    return _encode_refs(_STATE["root"]["definitions"])


@functools.cache
def _validator(ref: str) -> Any:
    import jsonschema_rs  # optional: install() checks it is there

    schema = {"$ref": urllib.parse.quote(ref, safe="/#"), "definitions": _definitions()}
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
        return bool(_validator(ref).is_valid(spec))
    except (TypeError, ValueError):  # a value the compiled validator cannot read: Altair decides
        return None


def _keep_wrapper_tables() -> None:
    if "from_dict_init" in _STATE:
        return
    original = schemapi._FromDict.__init__
    tables: dict[tuple[type, ...], Any] = {}

    def __init__(self, wrapper_classes, /):
        classes = tuple(wrapper_classes)
        table = tables.get(classes)
        if table is None:
            original(self, classes)
            tables[classes] = self.class_dict
        else:
            self.class_dict = table

    _STATE["from_dict_init"] = original
    schemapi._FromDict.__init__ = __init__  # type: ignore[method-assign]


def install() -> bool:
    """Keep Altair's wrapper-class table and put the compiled validator in front of Altair's
    whole-chart validation (once per process). Returns whether the validator is in place (False
    without ``jsonschema_rs``)."""
    _keep_wrapper_tables()
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
    """Restore Altair's own validation and wrapper tables (for tests)."""
    original = _STATE.pop("original", None)
    if original is not None:
        schemapi.validate_jsonschema = original
    init = _STATE.pop("from_dict_init", None)
    if init is not None:
        schemapi._FromDict.__init__ = init  # type: ignore[method-assign]
