"""Text alternatives of the charts (WCAG 2.1: 1.1.1, 1.4.1): what a chart shows, in words and as a table.

Every builder ends with ``accessible(chart, what=..., reading=..., table=...)``:

* ``what`` says what the chart shows ("Trattdiagram: andel i arbete eller studier per område mot
  antalet …"); with the reading it becomes the Vega-Lite ``description``, which Vega puts on the
  drawn SVG as its ``aria-label`` (the name a screen reader announces);
* ``reading`` is one generated Swedish sentence that reads the chart — which districts lie outside
  the limits, which is highest and lowest — shown as visible text under the chart;
* ``table`` is the chart's data as a display table (strings, ``..`` where suppressed), shown right
  after the chart in a ``<details>`` ("Visa tabell"): one keystroke away on screen, printed open on paper.

Reading and table are kept beside the spec, keyed by its ``description`` (``text_alternative``), so
every route that draws a spec in the process that built it — reports, dashboards, ``to_html`` —
shows them the same way (``offline.chart_html``). They are not put in the spec itself: Vega-Lite
allows ``usermeta`` only at the top level, and the builders' charts must stay composable
(``alt.vconcat``, layers); ``description`` is allowed everywhere.
The ``*_reading`` functions take the numbers the chart draws and return the sentence; they are the
one implementation, tested against the data by an independent route.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import pandas as pd

from insats.text import format_number

_ALTERNATIVES: OrderedDict[str, dict] = OrderedDict()
"""description -> reading and table of the charts built in this process (the latest ``_KEEP``)."""
_KEEP = 2000


def join_names(names: Sequence[str]) -> str:
    """``A``, ``A och B``, ``A, B och C``."""
    items = [str(n) for n in names]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " och " + items[-1]


def _areas(n: int) -> str:
    return f"{n} område" if n == 1 else f"{n} områden"


def table_of(frame: pd.DataFrame, caption: str) -> dict:
    """A display table for ``usermeta``: caption, column headers and rows of text (index dropped)."""
    cells = frame.astype(object).where(frame.notna(), "")
    return {
        "rubrik": str(caption),
        "kolumner": [str(c) for c in frame.columns],
        "rader": [[str(v) for v in row] for row in cells.itertuples(index=False)],
    }


def accessible(chart, *, what: str, reading: str, table: pd.DataFrame | None = None, caption: str = ""):
    """The chart with its ``description`` (what + reading); reading and table are kept for ``text_alternative``."""
    description = f"{what} {reading}".strip()
    meta: dict = {"lasning": reading, "beskrivning": what}
    if table is not None and len(table.columns):
        meta["tabell"] = table_of(table, caption or what)
    _ALTERNATIVES[description] = meta
    _ALTERNATIVES.move_to_end(description)
    while len(_ALTERNATIVES) > _KEEP:
        _ALTERNATIVES.popitem(last=False)
    return chart.properties(description=description)


def text_alternative(spec: dict) -> dict:
    """Reading (``lasning``) and table (``tabell``) of a spec built by a builder of this package, found by
    its top-level ``description`` (empty for any other chart)."""
    description = spec.get("description") if isinstance(spec, dict) else None
    return dict(_ALTERNATIVES.get(description, {})) if isinstance(description, str) else {}


# --------------------------------------------------------------------------- readings


def funnel_reading(points: pd.DataFrame, *, adjusted: bool, hidden: Sequence[str] = ()) -> str:
    """Which areas lie above and below the funnel's 95 % limits (by name), and how many inside.

    ``points``: one row per drawn area with ``omrade`` and ``flagga`` (``insats.analysis.stats.funnel_flags``
    codes: ``over_998``, ``over_95``, ``inom``, ``under_95``, ``under_998``). ``adjusted`` says that the
    flags come from the limits adjusted for overdispersion.
    """
    flags = points["flagga"].astype(str)
    over = list(points.loc[flags.str.startswith("over"), "omrade"])
    under = list(points.loc[flags.str.startswith("under"), "omrade"])
    inside = int((flags == "inom").sum())
    kind = "de justerade 95 %-gränserna" if adjusted else "95 %-gränserna"
    if not over and not under:
        sentence = f"Alla {_areas(inside)} som visas ligger inom {kind}"
    else:
        parts = []
        if over:
            parts.append(f"över {kind} ligger {join_names(over)}")
        if under:
            parts.append(f"under {'dem' if over else kind} ligger {join_names(under)}")
        sentence = "; ".join(parts)
        sentence = sentence[0].upper() + sentence[1:]
        sentence += f"; {_areas(inside)} ligger inom" if inside else ""
    if hidden:
        sentence += f" ({join_names(list(hidden))} visas inte)"
    return sentence + "."


def ranking_reading(
    values: pd.Series, texts: pd.Series, *, label: str, total: str | None = None, hidden: int = 0
) -> str:
    """Highest and lowest area of a measure (by name, with their values), the whole study's value.

    ``values``: the measure per area name (numbers; suppressed areas left out), ``texts``: the same
    values as shown (``12,5 %``).
    """
    if not len(values):
        return f"Inget område kan visas för {label.lower()}."
    hi, lo = values.idxmax(), values.idxmin()
    if hi == lo:
        sentence = f"{label}: {hi} {texts[hi]}"
    else:
        sentence = f"{label} är högst i {hi} ({texts[hi]}) och lägst i {lo} ({texts[lo]})"
    if total:
        sentence += f"; alla områden: {total}"
    if hidden:
        sentence += f"; {_areas(hidden)} visas inte (..)"
    return sentence + "."


def spending_reading(amounts: pd.Series, feriejobb_share: pd.Series, *, amount_text) -> str:
    """The area with the most and the least money, and where feriejobb takes the largest share."""
    if not len(amounts):
        return "Inga medel att visa."
    hi, lo = amounts.idxmax(), amounts.idxmin()
    sentence = f"Mest medel har {hi} ({amount_text(amounts[hi])}), minst {lo} ({amount_text(amounts[lo])})"
    shares = feriejobb_share[feriejobb_share > 0]
    if len(shares):
        top = shares.idxmax()
        sentence += f"; feriejobb är störst andel i {top} ({amount_text(shares[top], share=True)})"
    return sentence + "."


def matrix_reading(cells: pd.DataFrame, *, unit_word: str, central: str | None = None) -> str:
    """The district and the category with the most places, and how many cells are empty.

    ``cells``: ``omrade``, ``kategori_namn``, ``varde`` (one row per area × category); the row named
    ``central`` (interventions for the whole municipality) is not a district and is not ranked.
    """
    by_area = cells[cells["omrade"] != central].groupby("omrade", sort=False)["varde"].sum()
    by_cat = cells.groupby("kategori_namn", sort=False)["varde"].sum()
    if not len(by_area) or by_area.max() <= 0:
        return f"Inga {unit_word} att visa."
    a, c = by_area.idxmax(), by_cat.idxmax()
    empty = int((cells["varde"] <= 0).sum())
    fmt = format_number
    return (
        f"Flest {unit_word} har {a} ({fmt(by_area[a])}) och kategorin {c} ({fmt(by_cat[c])}); "
        f"{empty} av {len(cells)} rutor är tomma."
    )


def flow_reading(steps: pd.DataFrame) -> str:
    """How many remain at the last step, of how many at the first (``steg_namn``, ``antal_text``,
    ``andel_forsta_text``, ``undertryckt``)."""
    if not len(steps):
        return "Inga steg att visa."
    first, last = steps.iloc[0], steps.iloc[-1]
    if bool(first["undertryckt"]) or bool(last["undertryckt"]):
        return f"Antalen vid {first['steg_namn'].lower()} eller {last['steg_namn'].lower()} visas inte (..)."
    share = f" ({last['andel_forsta_text']})" if last["andel_forsta_text"] else ""
    return (
        f"Av {first['antal_text']} vid steget {first['steg_namn'].lower()} når {last['antal_text']}{share} "
        f"steget {last['steg_namn'].lower()}."
    )


def profile_reading(rows: pd.DataFrame, name: str, rest: str) -> str:
    """The measure where the area differs most from the rest of the study (``matt``, ``omrade``,
    ``ovriga`` as numbers, ``omrade_text``, ``ovriga_text``)."""
    ok = rows.dropna(subset=["omrade", "ovriga"])
    if not len(ok):
        return f"Inga nyckeltal för {name} kan jämföras med {rest.lower()}."
    diff = (ok["omrade"] - ok["ovriga"]).abs()
    r = ok.loc[diff.idxmax()]
    word = "högre" if r["omrade"] > r["ovriga"] else "lägre" if r["omrade"] < r["ovriga"] else "lika"
    return (
        f"Störst skillnad mot {rest.lower()}: {str(r['matt']).lower()}, {r['omrade_text']} i {name} "
        f"({word} än {r['ovriga_text']})."
    )


def series_reading(frame: pd.DataFrame, x: str, y: str, *, series: str | None, x_text, y_text) -> str:
    """First and last value of each series (at most three named, the focus first when given)."""
    data = frame.dropna(subset=[y])
    if not len(data):
        return "Serien har inga värden."
    keys = list(dict.fromkeys(data[series])) if series else [None]
    groups = [(k, data[data[series] == k] if series else data) for k in keys]
    parts = []
    for key, part in groups[:3]:
        part = part.sort_values(x)
        a, b = part.iloc[0], part.iloc[-1]
        who = f"{key}: " if key is not None else ""
        parts.append(f"{who}{y_text(a[y])} ({x_text(a[x])}) till {y_text(b[y])} ({x_text(b[x])})")
    more = f"; ytterligare {len(groups) - 3} serier i tabellen" if len(groups) > 3 else ""
    return "Från " + "; ".join(parts) + more + "."


def capacity_reading(frame: pd.DataFrame, *, need: str, have: str) -> str:
    """Places needed against places that exist, per category (``kategori``, ``stapel`` = ``need`` or
    ``have``, ``platser``): the totals and the category with the largest shortfall."""
    per = frame.pivot_table(index="kategori", columns="stapel", values="platser", aggfunc="sum", sort=False)
    per = per.reindex(columns=[need, have]).fillna(0.0)
    if not len(per):
        return "Inga platser att visa."
    gap = per[need] - per[have]
    sentence = (
        f"Om alla i omfattningen nås behövs i genomsnitt {format_number(per[need].sum(), 1)} platser samtidigt, "
        f"mot {format_number(per[have].sum(), 1)} i dag"
    )
    if gap.max() > 0:
        top = gap.idxmax()
        sentence += f"; störst brist i {top} ({format_number(gap[top], 1)} platser för lite)"
    return sentence + "."


def trend_reading(
    values: pd.DataFrame,
    *,
    label: str,
    value_text,
    change_text,
    total: pd.Series | None = None,
    hidden: Sequence[str] = (),
) -> str:
    """In how many areas a measure rose from the first year to the last, where it rose and fell most,
    the whole study's values, and which areas have hidden years (``..``, not drawn).

    ``values``: one row per area name, one column per year, the published values (NaN where hidden or
    missing); ``total``: the whole study's value per year; ``value_text``/``change_text`` format a
    value and a difference (with its unit) as the chart's table shows them.
    """
    years = list(values.columns)
    if len(years) < 2:
        year = f" ({years[0]})" if years else ""
        return f"Studien omfattar bara ett år{year}: ingen utveckling över tid att visa."
    a, b = years[0], years[-1]
    both = values[[a, b]].dropna()
    diff = both[b] - both[a]
    if not len(both):
        sentence = f"{label}: inget område har värden som visas för både {a} och {b}"
    else:
        rose = int((diff > 0).sum())
        sentence = f"{label}: ökade i {rose} av {_areas(len(both))} från {a} till {b}"
        if rose:
            top = diff.idxmax()
            sentence += f"; störst ökning i {top} ({change_text(diff[top])})"
        if (diff < 0).any():
            low = diff.idxmin()
            sentence += f"; störst minskning i {low} ({change_text(-diff[low])})"
    if total is not None and pd.notna(total.get(a)) and pd.notna(total.get(b)):
        sentence += f"; hela studien {value_text(total[a])} ({a}) och {value_text(total[b])} ({b})"
    if hidden:
        names = join_names(list(hidden)) if len(hidden) <= 3 else _areas(len(hidden))
        sentence += f"; för {names} visas inte alla år (..) och de punkterna saknas i diagrammet"
    return sentence + "."
