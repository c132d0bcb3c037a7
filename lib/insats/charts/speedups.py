"""Five speed-ups of Altair's internals that leave every chart and every error message as they were.

**Validation by a compiled validator.** Altair validates against the Vega-Lite JSON schema with
the pure-Python ``jsonschema``: a whole chart each time it is drawn (about 0.1 s a chart), every
property given to ``.properties()``, and every encoding built from a shorthand, where
``from_dict`` tries the alternatives of an ``anyOf`` one by one until one validates. Together
that was a third of a district profile's chart time in a batch kernel and a good part of a
dashboard redraw. ``install`` puts ``jsonschema_rs`` (a compiled validator of the same JSON Schema
draft) in front of every check against Altair's Vega-Lite root schema:

- a value it finds valid is valid;
- for a value it finds invalid, Altair's own validation runs as before, so an invalid chart or
  property raises Altair's ``SchemaValidationError`` with Altair's message, exactly as without
  this module;
- the one exception is ``from_dict``'s trial of an ``anyOf`` alternative, which catches the error
  and discards it (it only asks whether the alternative fits): there a failed alternative raises a
  plain ``jsonschema.ValidationError`` at once instead of collecting Altair's full message.

The root schema is put once into a ``jsonschema_rs.Registry`` under ``SCHEMA_URI``, so a
validator for a part of it compiles in microseconds (the definitions it refers to are resolved in
the registry, not copied); validators are kept per part (by its JSON text). The schema's ``$ref``
values name definitions such as ``MarkPropDef<(Gradient|string|null)>``; they are percent-encoded
(as a URI fragment must be; the validator decodes them back to the same JSON pointer) so that the
compiled validator accepts the schema. ``color-hex``, a format only Vega-Lite knows, is ignored by
both validators; ``uri`` and ``uri-reference`` are checked.

**The wrapper-class table built once.** Every encoding given as a shorthand (``"varde:Q"``) or a
plain dict (``alt.value(0)``) goes through ``SchemaBase.from_dict``, which builds a table of all
~570 Vega-Lite wrapper classes keyed by a JSON hash of each class's schema (``_FromDict``), on
every call: about 15 ms, so a third of the time to build a chart. The table depends only on the
classes, so ``install`` keeps it per set of classes and hands the same table to every later
``_FromDict``; afterwards it is only read (a lookup of a schema no class has adds an empty entry,
as in Altair's own table).

**The list of wrapper classes made once.** The key of that kept table is the list of classes
itself, and Altair makes it by walking the class tree (``_subclasses``: ~570 classes) on every
``from_dict``, which after the table was kept was most of the time a shorthand or a plain-dict
encoding takes. ``install`` keeps each list and makes it again only after a new subclass of
``SchemaBase`` is defined (``SchemaBase.__init_subclass__`` forgets the kept lists), so a class
defined later, by insats or a user, is in the next list as in Altair's own.

**Layers and concatenations without parameters are not deep-copied.** Each time a layered or
concatenated chart is made, and again each time it is given a property (``.properties``, every
text alternative) or drawn (``to_dict`` copies the top object, which for a ``LayerChart`` runs its
``__init__`` again), Altair deep-copies every sub-chart twice, structure by structure, only so
that it can lift selection parameters (``params``) from the sub-charts to the top and rename
views without changing the caller's charts. When neither the top nor any sub-chart has a
parameter and every sub-chart is a plain ``Chart``, those two passes change nothing and return
the copies as they were: ``install`` then gives Altair shallow copies of the sub-charts instead
(new top objects, their parts shared, as Altair's own ``copy(deep=False)`` shares them). That
was a sixth of a district profile's chart time. A chart with a parameter, or with a nested layer,
facet or concatenation, goes through Altair's own code.

**Plain values are returned at once when a chart is drawn.** ``to_dict`` walks the whole chart
with Altair's ``_todict``, and for every leaf (each title, field name, colour and number) it asks
``isinstance(value, SchemaLike)``, a runtime ``Protocol`` check that looks the value's attributes
up one by one: about 700 such checks a district profile, a twentieth of its chart time. A value
whose type is exactly ``str``, ``int``, ``float``, ``bool`` or ``None`` has none of those
attributes and passes through every other branch of ``_todict`` unchanged, so ``install``
returns it at once and hands everything else (subclasses such as NumPy's ``float64`` included) to
Altair's ``_todict``.

``tests/charts/test_speedups.py`` checks that both validators agree on valid and broken charts
and on every property and ``anyOf`` alternative checked while the project's charts are built
(valid and broken values), that an invalid chart's or property's error is Altair's own, and that
charts built with the table kept are the same as without. Without ``jsonschema_rs`` (not
installed) the validator is left as Altair's.
"""

from __future__ import annotations

import functools
import json
import sys
import urllib.parse
from typing import Any

import jsonschema
from altair.utils import schemapi
from altair.vegalite.v6 import api
from altair.vegalite.v6.schema import core

SCHEMA_URI = "urn:insats:vega-lite"
"""The name the root schema has in the compiled validators' registry."""

_STATE: dict[str, Any] = {}
_VALIDATORS: dict[str, Any] = {}


def _encode_refs(node: Any, prefix: str = "") -> Any:
    """``node`` with every ``$ref`` percent-encoded, local ones (``#/…``) prefixed by ``prefix``."""
    if isinstance(node, dict):
        return {
            k: (
                (prefix if v.startswith("#") else "") + urllib.parse.quote(v, safe="/#")
                if k == "$ref" and isinstance(v, str)
                else _encode_refs(v, prefix)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_encode_refs(v, prefix) for v in node]
    return node


@functools.cache
def _registry() -> Any:
    import jsonschema_rs  # optional: install() checks it is there

    root = _STATE["root"]
    document = {k: v for k, v in root.items() if k not in ("$ref", "$schema")}
    return jsonschema_rs.Registry([(SCHEMA_URI, _encode_refs(document))])


def _validator(schema: dict[str, Any]) -> Any:
    """The compiled validator of ``schema``, a part of Altair's root schema (kept per part)."""
    key = json.dumps(schema, sort_keys=True)
    found = _VALIDATORS.get(key)
    if found is None:
        import jsonschema_rs  # optional: install() checks it is there

        found = jsonschema_rs.Draft7Validator(
            _encode_refs(schema, SCHEMA_URI), registry=_registry(), validate_formats=True
        )
        _VALIDATORS[key] = found
    return found


def applies(schema: Any, rootschema: Any) -> bool:
    """Whether a check of a value against ``schema`` in ``rootschema`` goes to the compiled
    validator: any part of Altair's Vega-Lite root schema (once ``install`` has run)."""
    return isinstance(schema, dict) and rootschema is not None and rootschema is _STATE.get("root")


def is_valid(spec: Any, schema: Any, rootschema: Any) -> bool | None:
    """Whether ``spec`` is valid for ``schema`` (in Altair's root schema) by the compiled
    validator; None when the fast path does not apply (``applies``)."""
    if not applies(schema, rootschema):
        return None
    try:
        return bool(_validator(schema).is_valid(spec))
    except (TypeError, ValueError):  # a value or part the compiled validator cannot read: Altair decides
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


def _keep_subclass_lists() -> None:
    if "subclasses" in _STATE:
        return
    original = schemapi._subclasses
    base = schemapi.SchemaBase
    kept: dict[type, tuple[type, ...]] = {}

    def __init_subclass__(cls, **kwargs):
        kept.clear()  # a new wrapper class: every list is made again when next asked for
        super(base, cls).__init_subclass__(**kwargs)

    def _subclasses(cls):
        found = kept.get(cls)
        if found is None:
            found = kept[cls] = tuple(original(cls))
        return iter(found)

    _STATE["subclasses"] = original
    base.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[method-assign,assignment]
    schemapi._subclasses = _subclasses
    core._subclasses = _subclasses  # VegaLiteSchema's list: the name as its module imported it


def _plain_subcharts(charts: Any) -> bool:
    """Whether every sub-chart is a plain ``alt.Chart`` without selection parameters."""
    return all(type(c) is api.Chart and c._kwds.get("params", schemapi.Undefined) is schemapi.Undefined for c in charts)


def _share_plain_subcharts() -> None:
    if "layer_functions" in _STATE:
        return
    remove, combine = api._remove_duplicate_params, api._combine_subchart_params

    def _remove_duplicate_params(layer):
        if _plain_subcharts(layer):  # no parameter to deduplicate: Altair would return equal copies
            return [c.copy(deep=False) for c in layer]
        return remove(layer)

    def _combine_subchart_params(params, subcharts):
        no_params = params is schemapi.Undefined or (isinstance(params, (list, tuple)) and not params)
        if no_params and _plain_subcharts(subcharts):  # nothing to lift or rename: Altair's result
            return schemapi.Undefined, [c.copy(deep=False) for c in subcharts]
        return combine(params, subcharts)

    _STATE["layer_functions"] = (remove, combine)
    api._remove_duplicate_params = _remove_duplicate_params
    api._combine_subchart_params = _combine_subchart_params


_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None)})
"""Types whose values Altair's ``_todict`` returns unchanged (exact types: not their subclasses)."""


def _plain_leaves_first() -> None:
    if "todict" in _STATE:
        return
    original = schemapi._todict

    def _todict(obj, context, np_opt, pd_opt):
        if type(obj) in _PLAIN_LEAVES:  # what Altair's walk returns for it, without the Protocol check
            return obj
        return original(obj, context, np_opt, pd_opt)

    _STATE["todict"] = original
    schemapi._todict = _todict  # its recursive calls look the name up here, so they come back too


def install() -> bool:
    """Keep Altair's wrapper-class table and lists, share the parts of plain sub-charts, return plain values
    at once when a chart is drawn, and put the compiled validator in front of Altair's validation
    against its Vega-Lite schema (once per process). Returns whether the validator is in place
    (False without ``jsonschema_rs``)."""
    _keep_wrapper_tables()
    _keep_subclass_lists()
    _share_plain_subcharts()
    _plain_leaves_first()
    if "original" in _STATE:
        return True
    try:
        import jsonschema_rs  # noqa: F401  (optional dependency, checked here once)
    except ImportError:
        return False
    import altair as alt  # altair's root schema, the one its chart classes share

    _STATE["root"] = alt.Chart._rootschema
    original = schemapi.validate_jsonschema
    trial = schemapi._FromDict.from_dict.__code__  # its anyOf loop discards the error it catches

    def validate_jsonschema(spec, schema, rootschema=None, *, raise_error=True):
        valid = is_valid(spec, schema, rootschema)
        if valid:
            return None
        if valid is False and raise_error and sys._getframe(1).f_code is trial:
            raise jsonschema.ValidationError("passar inte (kompilerad kontroll)")
        return original(spec, schema, rootschema, raise_error=raise_error)

    _STATE["original"] = original
    schemapi.validate_jsonschema = validate_jsonschema
    return True


def uninstall() -> None:
    """Restore Altair's own validation, wrapper tables and lists, sub-chart copies and walk (for tests)."""
    original = _STATE.pop("original", None)
    if original is not None:
        schemapi.validate_jsonschema = original
    init = _STATE.pop("from_dict_init", None)
    if init is not None:
        schemapi._FromDict.__init__ = init  # type: ignore[method-assign]
    subclasses = _STATE.pop("subclasses", None)
    if subclasses is not None:
        schemapi._subclasses = core._subclasses = subclasses
        del schemapi.SchemaBase.__init_subclass__
    todict = _STATE.pop("todict", None)
    if todict is not None:
        schemapi._todict = todict
    functions = _STATE.pop("layer_functions", None)
    if functions is not None:
        api._remove_duplicate_params, api._combine_subchart_params = functions
