"""What the chart builders share: measure rows, area names, records, titles."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from insats.analysis.measures import MEASURES, measure_label
from insats.contract import ALLA, CENTRAL


def unit_of(matt: str) -> str | None:

    if matt in MEASURES:
        return MEASURES[matt].unit
    if matt.startswith("likstallighet_cv__"):
        return "kvot"
    if matt.startswith("likstallighet_spannvidd__"):
        return unit_of(matt.split("__", 1)[1])
    return None


def label_of(matt: str) -> str:

    return measure_label(matt)


def area_name_map(omraden: pd.DataFrame | Mapping | None) -> dict[str, str]:
    """omrade_kod -> Swedish name (latest year's name when the table has several years)."""
    names: dict[str, str] = {CENTRAL: "Centralt (hela kommunen)", ALLA: "Alla områden"}
    if omraden is None:
        return names
    if isinstance(omraden, Mapping):
        names.update({str(k): str(v) for k, v in omraden.items()})
        return names
    frame = omraden
    if "ar" in frame:
        frame = frame.sort_values("ar")
    for code, name in zip(frame["omrade_kod"].astype(str), frame["omrade"].astype(str)):
        names[code] = name
    return names


def names_of(codes: Sequence[str], names: dict[str, str]) -> list[str]:
    """Display names for area codes; a name shared by two codes gets the code appended."""
    out = [names.get(str(c), str(c)) for c in codes]
    seen: dict[str, int] = {}
    for n in out:
        seen[n] = seen.get(n, 0) + 1
    return [f"{n} ({c})" if seen[n] > 1 else n for n, c in zip(out, codes)]


def bold_expr(name: str | None) -> dict:
    """Axis label weight: bold for the focus area."""
    if not name:
        return {}
    return {"labelFontWeight": {"expr": f"datum.value === {json.dumps(name)} ? 'bold' : 'normal'"}}


def _json_safe(v: Any) -> Any:
    """One value as inline chart data: NaN/NA -> None, numpy scalars -> Python, a timestamp -> its date."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return v


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe rows (NaN/NA -> None, numpy scalars -> Python) for inline chart data (``_json_safe``
    on each value). Read column by column: a float, integer or boolean column's values are Python
    numbers already (only a float's NaN becomes None), so only other columns are walked value by
    value; going row by row through ``to_dict`` took a third of a funnel plot's time."""
    columns = []
    for name in frame.columns:
        column = frame[name]
        values = column.tolist()
        if column.dtype == np.float64:
            values = [None if v != v else v for v in values]
        elif column.dtype not in (np.int64, np.bool_):
            values = [_json_safe(v) for v in values]
        columns.append(values)
    names = list(frame.columns)
    if not names:
        return [{} for _ in range(len(frame))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


class ChartData(alt.Data):
    """Inline chart data that copies of a chart share instead of copying.

    Altair deep-copies a chart's whole structure, inline rows included, each time a chart is
    layered, concatenated or given properties: for a profile's charts (several layers over the same
    rows) that was a sixth of the time to draw them. The rows are built by ``records`` for one chart
    and never changed afterwards (nothing in insats changes a chart's data in place), so sharing
    them gives the same charts. Validation is ``alt.Data``'s own; ``to_dict`` gives its dict.
    """

    def __deepcopy__(self, memo: Any = None) -> ChartData:
        return self

    def to_dict(self, validate: bool = True, *, ignore: list[str] | None = None, context: Any = None) -> dict:
        """``alt.Data.to_dict``, without walking the rows value by value when they are what
        ``records`` makes (dicts of str, int, float, bool or None): Altair's walk checks each value
        against a dozen types, one of them a runtime protocol, and returns these values unchanged,
        so the result is the same (tested), only sooner. Anything else goes to Altair."""
        values = self._kwds.get("values")
        if (
            not validate
            and not ignore
            and set(self._kwds) == {"values"}
            and isinstance(values, list)
            and all(type(row) is dict and all(type(v) in _PLAIN for v in row.values()) for row in values)
        ):
            return {"values": [dict(row) for row in values]}
        return super().to_dict(validate=validate, ignore=ignore, context=context)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def chart_data(frame: pd.DataFrame) -> alt.Data:
    """A frame's rows (``records``) as inline chart data (``ChartData``)."""
    return ChartData(values=records(frame))


def chart_title(text: str, subtitle: Sequence[str] | str | None = None) -> alt.TitleParams:
    sub = [s for s in ([subtitle] if isinstance(subtitle, str) else list(subtitle or [])) if s]
    return alt.TitleParams(text=text, subtitle=sub) if sub else alt.TitleParams(text=text)


def measure_rows(long: pd.DataFrame, matt: str, names: dict[str, str]) -> tuple[pd.DataFrame, pd.Series | None]:
    """The areas' rows of one measure (with display names) and the ALLA row (or None).
    The columns are worked out as arrays and set together (``assign``): setting them one by one,
    and blanking the suppressed rows with ``.loc``, was a fifth of a ranked bar chart's time."""
    part = long[long["matt"] == matt]
    if part.empty:
        raise ValueError(f"Måttet {matt!r} finns inte i tabellen.")
    if "undertryckt" in part:
        sup = part["undertryckt"].fillna(False).astype(bool).to_numpy()
    else:
        sup = np.zeros(len(part), dtype=bool)
    columns: dict[str, Any] = {}
    for col in ("varde", "taljare", "namnare"):
        if col in part:
            values = pd.to_numeric(part[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
        else:
            values = np.full(len(part), np.nan)
        values[sup] = np.nan  # a suppressed row never shows a number, whatever was left in it
        columns[col] = values
    columns["undertryckt"] = sup
    columns["omrade_kod"] = part["omrade_kod"].astype(str)
    part = part.assign(**columns)
    is_alla = (part["omrade_kod"] == ALLA).to_numpy()
    alla = part[is_alla]
    areas = part[~is_alla].reset_index(drop=True)
    areas["omrade"] = names_of(list(areas["omrade_kod"]), names)
    return areas, (alla.iloc[0] if len(alla) else None)
