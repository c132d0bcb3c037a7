"""Tests of insats.charts.speedups: the compiled validator agrees with Altair's own validation on
the project's charts, on every property and ``anyOf`` alternative checked while they are built,
and on broken versions of them; an invalid chart or property still raises Altair's error with
Altair's message; building and drawing a valid chart no longer goes through ``jsonschema``;
charts built with Altair's wrapper-class table kept are the same as without; and layered and
concatenated charts whose sub-charts are shared, not deep-copied, are the same as Altair's, and
never change the caller's charts."""

from __future__ import annotations

import copy
import json
from typing import ClassVar

import altair as alt
import jsonschema
import pandas as pd
import pytest
from altair.utils import schemapi

from insats import charts as C
from insats.charts import speedups
from tests.charts.test_charts import MEDEL, OMRADEN, measures_long


def _charts() -> list[alt.TopLevelMixin]:
    bars = C.ranked_bars(measures_long(), "erbjudande_andel", focus="B", omraden=OMRADEN)
    flow = C.flow_steps({"ansokan": 100, "bedomd": 80})
    simple = alt.Chart(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})).mark_point().encode(x="a:Q", y="b:N")
    return [
        bars,
        C.funnel_plot(measures_long(), "erbjudande_andel", focus="B", omraden=OMRADEN),
        C.spending_bars(MEDEL, omraden=OMRADEN, ar=2024),
        flow,
        alt.vconcat(bars, flow).properties(title="Sammanställning"),
        alt.hconcat(simple, simple),
        simple.facet(column="b:N"),
        simple,
    ]


def _breakages(spec: dict) -> list[dict]:
    """Broken versions of a chart's spec: what a wrong edit of a chart function could produce."""
    out = []
    for key, value in (
        ("mark", {"type": "staple"}),
        ("width", "bred"),
        ("okand_egenskap", 1),
        ("$schema", "inte en uri"),
    ):
        broken = copy.deepcopy(spec)
        broken[key] = value
        out.append(broken)
    broken = copy.deepcopy(spec)
    broken.setdefault("config", {})["view"] = {"stroke": 5}
    out.append(broken)
    if "encoding" in spec:
        broken = copy.deepcopy(spec)
        broken["encoding"]["x"] = {"field": "a", "type": "kvantitativ"}
        out.append(broken)
    return out


def _altair_says_valid(cls: type, spec: dict) -> bool:
    try:
        speedups._STATE.get("original", schemapi.validate_jsonschema)(
            spec, cls._schema, rootschema=cls._rootschema or cls._schema
        )
    except Exception:
        return False
    return True


def test_the_compiled_validator_agrees_with_altair_on_valid_and_broken_charts():
    assert speedups.install()
    checked = 0
    for chart in _charts():
        spec = chart.to_dict(validate=False)
        cls = type(chart)
        assert speedups.is_valid(spec, cls._schema, cls._rootschema) is True
        assert _altair_says_valid(cls, spec)
        for broken in _breakages(spec):
            fast = speedups.is_valid(broken, cls._schema, cls._rootschema)
            assert fast is _altair_says_valid(cls, broken), (cls.__name__, set(broken) - set(spec))
            checked += 1
    assert checked >= 40


def test_an_invalid_chart_raises_altairs_error_with_altairs_message():
    chart = C.ranked_bars(measures_long(), "erbjudande_andel", omraden=OMRADEN)
    chart.width = "bred"
    speedups.uninstall()
    try:
        with pytest.raises(schemapi.SchemaValidationError) as plain:
            chart.to_dict()
    finally:
        assert speedups.install()
    with pytest.raises(schemapi.SchemaValidationError) as fast:
        chart.to_dict()
    assert str(fast.value) == str(plain.value)


def test_a_valid_chart_is_not_checked_by_jsonschema(monkeypatch):
    assert speedups.install()
    calls: list[object] = []
    original = schemapi._get_errors_from_spec

    def spy(spec, schema, rootschema=None):
        calls.append(schema)
        return original(spec, schema, rootschema=rootschema)

    monkeypatch.setattr(schemapi, "_get_errors_from_spec", spy)
    # built (properties, shorthand encodings: from_dict's trials of anyOf alternatives) and drawn
    charts = _charts()
    specs = [chart.to_dict() for chart in charts]
    assert all(spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/") for spec in specs)
    assert calls == []
    # the fast path is for Altair's Vega-Lite schema only
    assert speedups.applies({"$ref": "#/definitions/Mark"}, alt.Chart._rootschema)
    assert not speedups.applies(alt.Chart._schema, {"definitions": {}})
    assert speedups.is_valid(1, {"type": "number"}, {"definitions": {}}) is None


def _checks_while_building() -> list[tuple[object, dict, bool]]:
    """Every (value, schema, raise_error) Altair checks while the project's charts are built and
    drawn, as the installed validator sees them."""
    seen: list[tuple[object, dict, bool]] = []
    fast = schemapi.validate_jsonschema

    def spy(spec, schema, rootschema=None, *, raise_error=True):
        if rootschema is alt.Chart._rootschema:
            seen.append((copy.deepcopy(spec), schema, raise_error))
        return fast(spec, schema, rootschema, raise_error=raise_error)

    schemapi.validate_jsonschema = spy
    try:
        for chart in _charts():
            chart.to_dict()
    finally:
        schemapi.validate_jsonschema = fast
    return seen


def _broken_values(value: object) -> list[object]:
    out: list[object] = [{"okand": 1}, "inte-en-typ", -1, None, [value]]
    if isinstance(value, dict):
        for key in list(value)[:3]:
            out.append({**value, key: {"okand": [1, 2]}})
            out.append({k: v for k, v in value.items() if k != key})
        out.append({**value, "okand_egenskap": True})
    return out


def test_the_compiled_validator_agrees_with_altair_on_every_check_while_building():
    assert speedups.install()
    checks = _checks_while_building()
    # properties, anyOf alternatives (some fail: from_dict tries them in turn) and whole charts
    assert len(checks) > 100
    refs = {schema.get("$ref") for _, schema, _ in checks}
    assert "#/definitions/TopLevelUnitSpec" in refs and "#/definitions/Axis" in refs and len(refs) > 10
    root = alt.Chart._rootschema
    original = speedups._STATE["original"]
    agreed = failed = 0
    seen_pairs = set()
    for value, schema, _ in checks:
        for candidate in [value, *_broken_values(value)]:
            key = (json.dumps(candidate, sort_keys=True, default=str), json.dumps(schema, sort_keys=True))
            if key in seen_pairs:
                continue
            seen_pairs.add(key)
            fast = speedups.is_valid(candidate, schema, root)
            slow = original(candidate, schema, root, raise_error=False) is None
            assert fast is slow, (candidate, schema)
            agreed += 1
            failed += not slow
    assert agreed > 500 and failed > 200  # both answers were checked, many times


def test_an_invalid_property_raises_altairs_error_with_altairs_message():
    def set_width():
        return alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().properties(width="bred")

    def bad_encoding():
        return alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x=alt.X("a:Q", bin="ja"))

    def error_of(make) -> BaseException:
        with pytest.raises(Exception) as caught:
            make().to_dict()
        return caught.value

    for make in (set_width, bad_encoding):
        speedups.uninstall()
        try:
            plain = error_of(make)
        finally:
            assert speedups.install()
        fast = error_of(make)
        assert isinstance(plain, jsonschema.ValidationError | schemapi.SchemaValidationError)
        assert (type(fast), str(fast)) == (type(plain), str(plain))


def test_a_failed_anyof_trial_is_a_jsonschema_error_only_inside_from_dict():
    assert speedups.install()
    schema = {"$ref": "#/definitions/Mark"}
    # a caller that is not from_dict's trial gets Altair's full error (returned or raised)
    error = schemapi.validate_jsonschema("staple", schema, alt.Chart._rootschema, raise_error=False)
    assert error is not None and "staple" in str(error.message)
    with pytest.raises(jsonschema.ValidationError) as raised:
        schemapi.validate_jsonschema("staple", schema, alt.Chart._rootschema)
    assert "staple" in str(raised.value.message)
    # from_dict's trial: the same choice of wrapper classes as with Altair's validation
    spec = {"field": "a", "type": "quantitative", "bin": True, "axis": {"title": "A"}}
    built = alt.X.from_dict(spec)
    speedups.uninstall()
    try:
        plain = alt.X.from_dict(spec)
    finally:
        assert speedups.install()
    assert built.to_dict() == plain.to_dict()
    assert type(built._kwds["axis"]).__name__ == type(plain._kwds["axis"]).__name__ == "Axis"


def test_the_theme_installs_it():
    speedups.uninstall()
    C.theme._register.cache_clear()
    C.use_theme()
    assert "original" in speedups._STATE
    assert schemapi.validate_jsonschema is not speedups._STATE["original"]


def test_charts_built_with_the_kept_wrapper_table_are_the_same_as_without():
    speedups.uninstall()
    try:
        plain = [c.to_dict() for c in _charts()]
        built = schemapi._FromDict(alt.Chart._default_wrapper_classes()).class_dict
    finally:
        assert speedups.install()
    first = [c.to_dict() for c in _charts()]  # builds the table once
    again = [c.to_dict() for c in _charts()]  # reads the kept table
    assert plain == first == again
    kept = schemapi._FromDict(alt.Chart._default_wrapper_classes())
    # the same table (a lookup of a schema no class has adds an empty entry, in Altair's own table too)
    assert {k: list(v) for k, v in kept.class_dict.items() if v} == {k: list(v) for k, v in built.items() if v}
    # the encodings are the classes Altair chooses without the kept table
    chart = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a:Q", y=alt.value(0), tooltip="a:Q")
    assert type(chart.encoding.x).__name__ == "X" and type(chart.encoding.y).__name__ == "YValue"


def test_chart_data_is_shared_by_copies_and_draws_the_same_chart():
    from insats.charts.common import ChartData, chart_data, records

    frame = pd.DataFrame({"omrade": ["A", "B"], "varde": [0.25, None], "n": [12, 7]})
    shared = chart_data(frame)
    assert isinstance(shared, ChartData)
    base = alt.Chart(shared).mark_bar().encode(x="varde:Q", y="omrade:N")
    layered = alt.layer(base, base.mark_text()).properties(width=200)
    copied = layered.copy(deep=True)
    # a copy keeps the same rows (no deep copy of the data), and the rows are the frame's
    # (Altair lifts the layers' common data to the layered chart)
    assert copied.data is shared and layered.data is shared
    assert shared.values == records(frame)
    # the same chart as with Altair's own inline data (validated on the way)
    plain = alt.Data(values=records(frame))
    same = alt.layer(
        alt.Chart(plain).mark_bar().encode(x="varde:Q", y="omrade:N"),
        alt.Chart(plain).mark_bar().encode(x="varde:Q", y="omrade:N").mark_text(),
    ).properties(width=200)
    assert copied.to_dict() == same.to_dict()


def test_chart_data_to_dict_is_altairs_without_the_walk(monkeypatch):
    from insats.charts.common import ChartData, records

    frame = pd.DataFrame(
        {"omrade": ["A", "B", "C"], "varde": [0.25, None, float("inf")], "n": [12, 7, 0], "ok": [True, False, True]}
    )
    rows = records(frame)
    expected = alt.Data(values=rows).to_dict(validate=False)
    data = ChartData(values=rows)  # (built before counting: Altair's debug mode validates it)
    walked = []
    real = schemapi._todict
    monkeypatch.setattr(schemapi, "_todict", lambda *a, **k: walked.append(1) or real(*a, **k))
    got = data.to_dict(validate=False)
    assert got == expected and not walked  # the same dict, without Altair's walk
    assert got["values"][0] is not rows[0]  # the caller's dict is its own
    # values that are not plain (a date, a nested list) go through Altair as before
    import datetime as dt

    odd = [{"d": dt.date(2024, 1, 2), "l": [1, 2]}]
    odd_data, odd_plain = ChartData(values=odd), alt.Data(values=odd)
    assert odd_data.to_dict(validate=False) == odd_plain.to_dict(validate=False)
    assert walked


def _selection_layers() -> alt.LayerChart:
    """A layered chart with a selection parameter in one layer (Altair lifts it to the top)."""
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    pick = alt.selection_point(fields=["b"], name="val")
    points = alt.Chart(frame).mark_point().encode(x="a:Q", y="b:N").add_params(pick)
    text = alt.Chart(frame).mark_text(dx=5).encode(x="a:Q", y="b:N", text="b:N")
    return alt.layer(points, text).properties(width=200)


def _layered_and_concatenated() -> list[alt.TopLevelMixin]:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    base = alt.Chart(frame).encode(x="a:Q", y="b:N")
    layered = alt.layer(base.mark_bar(), base.mark_rule(color="#222222"), base.mark_text(dx=4)).properties(
        title="Lager", width=300
    )
    return [
        *_charts(),
        layered.properties(description="beskrivning"),
        alt.vconcat(layered, base.mark_point()).properties(title="Staplade"),
        alt.hconcat(base.mark_bar(), base.mark_point(), spacing=10),
        _selection_layers(),
        alt.vconcat(_selection_layers(), base.mark_point()),
        alt.layer(alt.layer(base.mark_bar(), base.mark_text()), base.mark_rule()),
    ]


def test_charts_built_with_shared_subcharts_are_the_same_as_with_altairs_copies():
    speedups.uninstall()
    try:
        plain = [json.dumps(c.to_dict(), sort_keys=True) for c in _layered_and_concatenated()]
    finally:
        assert speedups.install()
    shared = [json.dumps(c.to_dict(), sort_keys=True) for c in _layered_and_concatenated()]
    assert shared == plain
    assert any('"params"' in spec for spec in shared)  # the parameter charts were among them


def test_layering_never_changes_the_callers_charts():
    assert speedups.install()
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    bars = alt.Chart(frame).mark_bar().encode(x="a:Q", y="b:N").properties(width=100)
    rule = alt.Chart(frame).mark_rule().encode(x="a:Q")
    before = [bars.to_dict(), rule.to_dict()]
    layered = alt.layer(bars, rule).properties(title="T")
    layered = layered.properties(description="d")
    drawn = layered.to_dict()
    assert [bars.to_dict(), rule.to_dict()] == before
    assert drawn["width"] == 100 and "width" not in drawn["layer"][0]  # Altair's lift of the width, as before
    assert layered.layer[0] is not bars and layered.layer[1] is not rule  # copies, not the caller's objects


def test_plain_layers_are_not_deep_copied_and_layers_with_parameters_are(monkeypatch):
    assert speedups.install()
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    base = alt.Chart(frame).encode(x="a:Q", y="b:N")
    chart = alt.layer(base.mark_bar(), base.mark_text()).properties(width=200)
    with_params = _selection_layers()
    copies = []
    real = schemapi._deep_copy
    monkeypatch.setattr(schemapi, "_deep_copy", lambda obj, by_ref: copies.append(obj) or real(obj, by_ref))
    # a property and the drawing re-run LayerChart.__init__ (Altair copies the top object)
    chart.properties(description="d").to_dict()
    assert copies == []
    with_params.properties(description="d").to_dict()
    assert copies  # Altair's own path: the sub-charts are deep-copied to lift the parameter


def _records_row_by_row(frame: pd.DataFrame) -> list[dict]:
    """The rows as ``records`` gave them before it read column by column: ``to_dict`` row by row,
    then each value cleaned (the independent route ``records`` is checked against)."""
    import numpy as np

    rows = []
    for rec in frame.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                clean[k] = None
            elif isinstance(v, (np.bool_, bool)):
                clean[k] = bool(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.floating):
                clean[k] = None if np.isnan(v) else float(v)
            elif isinstance(v, pd.Timestamp):
                clean[k] = v.strftime("%Y-%m-%d")
            else:
                clean[k] = v
        rows.append(clean)
    return rows


def test_chart_rows_read_by_column_are_the_rows_read_one_by_one():
    import numpy as np

    from insats.charts.common import records

    rng = np.random.default_rng(7)
    n = 40
    floats = rng.normal(size=n)
    floats[::5] = np.nan
    floats[3] = np.inf
    frame = pd.DataFrame(
        {
            "varde": floats,
            "n": rng.integers(0, 100, n),
            "ok": rng.random(n) > 0.5,
            "omrade": pd.array([f"område {i}" if i % 7 else None for i in range(n)], dtype="string"),
            "text": [f"t{i}" if i % 6 else np.nan for i in range(n)],
            "blandat": [np.int32(i) if i % 3 == 0 else np.float32(np.nan) if i % 3 == 1 else pd.NA for i in range(n)],
            "dag": pd.to_datetime([f"2024-01-{1 + i % 28:02d}" if i % 9 else None for i in range(n)]),
            "heltal_na": pd.array([i if i % 4 else None for i in range(n)], dtype="Int64"),
            "andel": pd.array([i / 10 if i % 4 else None for i in range(n)], dtype="Float64"),
        }
    )
    got, expected = records(frame), _records_row_by_row(frame)
    assert got == expected
    # the same types too (== treats 1 and 1.0, True and 1 as equal)
    assert [[type(v) for v in row.values()] for row in got] == [[type(v) for v in row.values()] for row in expected]
    assert records(frame.iloc[:0]) == [] and records(pd.DataFrame(index=range(2))) == [{}, {}]
    # every frame the project's charts are drawn from
    from tests.charts.test_charts import measures_long

    long = measures_long()
    assert records(long) == _records_row_by_row(long)


class _Schemaish(str):
    """A string Altair treats as schema-like (it has ``_schema`` and ``to_dict``)."""

    _schema: ClassVar[dict[str, str]] = {"type": "string"}

    def to_dict(self) -> str:
        return "omvandlad"


def test_plain_values_are_returned_at_once_and_everything_else_takes_altairs_walk(monkeypatch):
    import numpy as np

    values = {
        "text": "a",
        "n": 3,
        "x": 1.5,
        "flag": True,
        "none": None,
        "np_float": np.float64(2.5),
        "np_int": np.int64(4),
        "schemaish": _Schemaish("b"),
        "when": pd.Timestamp("2013-05-01"),
        "nested": [{"a": ("x", 1)}, np.array([1, 2])],
    }
    opts = {"np_opt": np, "pd_opt": pd}
    speedups.uninstall()
    try:
        plain = schemapi._todict(values, context={}, **opts)
    finally:
        assert speedups.install()
    fast = schemapi._todict(values, context={}, **opts)
    assert fast == plain
    assert fast["schemaish"] == "omvandlad" and type(fast["np_float"]) is float

    checked: list[type] = []
    protocol = schemapi.SchemaLike

    class Counting(type):
        def __instancecheck__(cls, obj):
            checked.append(type(obj))
            return isinstance(obj, protocol)

    monkeypatch.setattr(schemapi, "SchemaLike", Counting("SchemaLike", (), {}))
    assert schemapi._todict(values, context={}, **opts) == plain
    assert str not in checked and int not in checked and float not in checked and type(None) not in checked
    assert _Schemaish in checked  # a subclass of str is still asked


def test_the_kept_class_lists_are_altairs_and_take_in_a_class_defined_later():
    from altair.vegalite.v6.schema import core

    assert speedups.install()
    walk = speedups._STATE["subclasses"]  # Altair's own walk of the class tree
    for root in (schemapi.SchemaBase, core.VegaLiteSchema):
        assert list(schemapi._subclasses(root)) == list(walk(root))
    assert list(core._subclasses(core.VegaLiteSchema)) == list(walk(core.VegaLiteSchema))
    kept = tuple(schemapi._subclasses(schemapi.SchemaBase))

    class LaterX(alt.X):  # defined after the lists were kept
        pass

    for root in (schemapi.SchemaBase, core.VegaLiteSchema):
        now = list(schemapi._subclasses(root))
        assert LaterX in now and now == list(walk(root))
    assert LaterX not in kept
    # Altair's wrapper table made from the new list has the new class, as without the kept lists
    table = schemapi._FromDict(core.VegaLiteSchema._default_wrapper_classes()).class_dict
    assert any(LaterX in classes for classes in table.values())


def test_uninstall_gives_altair_its_own_class_walk_back():
    from altair.vegalite.v6.schema import core

    assert speedups.install()
    walk = speedups._STATE["subclasses"]
    speedups.uninstall()
    try:
        assert schemapi._subclasses is walk and core._subclasses is walk
        assert "__init_subclass__" not in vars(schemapi.SchemaBase)
        assert schemapi._todict is not None and "todict" not in speedups._STATE
    finally:
        assert speedups.install()
