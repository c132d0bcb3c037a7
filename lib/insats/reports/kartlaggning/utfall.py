"""Utfall and likställighet: raw and case-mix adjusted outcomes, and how much areas differ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from insats import charts
from insats.analysis.measures import (
    MEASURES,
    measure_label,
)
from insats.analysis.overdispersion import expected_false_flags
from insats.analysis.stats import variation
from insats.charts import format_value
from insats.contract import ALLA, CENTRAL
from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    EQUALITY_MEASURES,
    OUTCOME_TABLES,
    _areas_word,
    _has_values,
    _missing,
    _names,
    _omraden,
    _published_areas,
    join_names,
    sectioned,
)
from insats.reports.render import Note, literal
from insats.text import format_number

# --------------------------------------------------------------------------- utfall and likställighet


def _sign(v) -> float:
    """−1 / 0 / +1 of a funnel code (−2 … 2); NaN stays NaN."""
    return float(np.sign(v)) if v is not None and np.isfinite(v) else np.nan


def differing_areas(long: pd.DataFrame, matt: str = "utfall_arbete_studier_andel") -> pd.DataFrame:
    """Areas that differ from the whole study beyond chance, from the published measures.

    * ``ratt``: the funnel-plot flag of the raw share ``matt`` against limits adjusted for overdispersion
      (``likstallighet_tratt__<matt>``: -2 … 2, see ``insats.analysis.measures.FUNNEL_CODES``), and
      ``ratt_vanlig`` against the plain exact binomial limits (``likstallighet_tratt_vanlig__<matt>``);
    * ``justerat``: +1 when the 95 % interval of ``justerat_utfall_oe`` (the score test, calibrated under no
      area effect) lies wholly above 1, −1 wholly below, 0 when it contains 1 — the area differs from what
      its own participants would be expected to reach;
    * ``justerat_od``: −1 / 0 / +1 from the overdispersion-adjusted flag of the O/E
      (``likstallighet_tratt__justerat_utfall_oe``) — it differs more than areas usually differ.

    Areas with neither value are left out; suppressed areas never appear.
    """

    def flags(mid: str) -> pd.Series:
        return long[long["matt"] == mid].set_index("omrade_kod")["varde"]

    raw = flags(f"likstallighet_tratt__{matt}")
    raw_plain = flags(f"likstallighet_tratt_vanlig__{matt}")
    oe_od = flags("likstallighet_tratt__justerat_utfall_oe")
    lo = long[(long["matt"] == "justerat_utfall_oe_lo") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    hi = long[(long["matt"] == "justerat_utfall_oe_hi") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    oe = long[(long["matt"] == "justerat_utfall_oe") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    codes = sorted((set(raw.index) | set(lo.dropna().index)) - {ALLA, CENTRAL})
    rows = []
    for code in codes:
        a, b = lo.get(code, np.nan), hi.get(code, np.nan)
        adj = (1 if a > 1 else -1 if b < 1 else 0) if np.isfinite(a) and np.isfinite(b) else np.nan
        rows.append(
            {
                "omrade_kod": code,
                "ratt": raw.get(code, np.nan),
                "ratt_vanlig": raw_plain.get(code, np.nan),
                "oe": oe.get(code, np.nan),
                "oe_lo": a,
                "oe_hi": b,
                "justerat": adj,
                "justerat_od": _sign(oe_od.get(code, np.nan)),
            }
        )
    return pd.DataFrame(
        rows, columns=["omrade_kod", "ratt", "ratt_vanlig", "oe", "oe_lo", "oe_hi", "justerat", "justerat_od"]
    )


def raw_and_adjusted(diff: pd.DataFrame) -> dict[str, list[str]]:
    """Where the raw and the adjusted pictures of ``differing_areas`` point different ways (area codes).

    ``motsatt``: the raw share is flagged one way (overdispersion-adjusted limits) and the O/E interval
    lies on the other side of 1; ``bara_ratt``: the raw share is flagged, the O/E interval contains 1
    (the difference is the participants'); ``bara_justerat``: the O/E interval excludes 1 but the raw
    share is inside its limits (the difference shows only when the participants are accounted for)."""
    d = diff.dropna(subset=["ratt", "justerat"])
    raw = np.sign(d["ratt"].to_numpy(float))
    adj = d["justerat"].to_numpy(float)
    codes = d["omrade_kod"].to_numpy(object)
    return {
        "motsatt": list(codes[(raw != 0) & (adj != 0) & (raw != adj)]),
        "bara_ratt": list(codes[(raw != 0) & (adj == 0)]),
        "bara_justerat": list(codes[(raw == 0) & (adj != 0)]),
    }


_FLAG_TEXT = {
    -2: "Lägre (utanför 99,8 %)",
    -1: "Lägre (utanför 95 %)",
    0: "Inom gränserna",
    1: "Högre (utanför 95 %)",
    2: "Högre (utanför 99,8 %)",
}


def outcome_sentences(diff: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    """Swedish sentences on which areas differ in the outcome, raw and adjusted, where the two pictures point
    different ways and which to trust, and how many flags chance alone would give (from ``differing_areas``;
    suppressed areas are never in it)."""
    if diff.empty:
        return []
    out = []
    nm = lambda codes: join_names([literal(names.get(c, c)) for c in codes])  # noqa: E731  (a one-line local helper)
    raw = diff[diff["ratt"].abs() >= 1]
    plain = diff[diff["ratt_vanlig"].abs() >= 1]
    out.append(
        f"{_areas_word(len(raw))} ligger utanför trattdiagrammets 95 %-gränser när gränserna tar hänsyn till att "
        f"områden alltid skiljer sig något åt{' (' + nm(raw['omrade_kod']) + ')' if len(raw) else ''}; med de "
        f"vanliga gränserna för enbart slump är det {format_number(len(plain))}."
    )
    tested = diff[diff["justerat"].notna()]
    if len(tested):
        adj = tested[tested["justerat"] != 0]
        out.append(
            "Efter justering för deltagarnas ålder, kön, bakgrund, utbildning och tid med bistånd skiljer sig "
            f"{_areas_word(len(adj))} från det förväntade mer än slumpen förklarar"
            + (f" ({nm(adj['omrade_kod'])})" if len(adj) else "")
            + f"; med {format_number(len(tested))} områden väntas ungefär "
            f"{format_number(expected_false_flags(len(tested)), 1)} sådana av en slump."
        )
        od = tested[tested["justerat_od"].fillna(0) != 0]
        if len(adj):
            out.append(
                f"Av dem skiljer sig {nm(od['omrade_kod'])} också mer än områden brukar skilja sig åt."
                if len(od)
                else "Ingen av dem skiljer sig dock mer än områden brukar skilja sig åt: skillnaderna är "
                "verkliga men inte ovanliga."
            )
    split = raw_and_adjusted(diff)
    up = [c for c in split["motsatt"] if diff.set_index("omrade_kod").loc[c, "ratt"] > 0]
    down = [c for c in split["motsatt"] if c not in up]
    if up:
        out.append(
            f"För {nm(up)} pekar bilderna åt olika håll: andelen är högre än i hela studien, men lägre än vad "
            "områdets deltagare, som står närmare arbetsmarknaden än andra, kunde väntas nå."
        )
    if down:
        out.append(
            f"För {nm(down)} pekar bilderna åt olika håll: andelen är lägre än i hela studien, men högre än vad "
            "områdets deltagare, som står längre från arbetsmarknaden än andra, kunde väntas nå."
        )
    if split["bara_ratt"]:
        out.append(f"För {nm(split['bara_ratt'])} förklaras skillnaden i rå andel av vilka deltagare området har.")
    if split["bara_justerat"]:
        out.append(f"För {nm(split['bara_justerat'])} syns skillnaden först när deltagarna räknas in.")
    if any(split.values()):
        out.append(
            "Lita på den justerade jämförelsen: den jämför varje område med vad just dess deltagare kunde väntas "
            "nå, medan den råa andelen också speglar vilka som bor i området."
        )
    return out


def _flag_text(v) -> str:
    return _FLAG_TEXT.get(int(v), "–") if not pd.isna(v) else "–"


def differing_table(diff: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``differing_areas`` for display."""
    names = _names(study)

    def adj(v):
        return (
            {1: "Högre än förväntat", -1: "Lägre än förväntat", 0: "Som förväntat"}.get(v, "–")
            if not pd.isna(v)
            else "–"
        )

    out = pd.DataFrame(
        {
            "Andel till arbete/studier: trattdiagram, justerade gränser": [_flag_text(v) for v in diff["ratt"]],
            "vanliga gränser": [_flag_text(v) for v in diff["ratt_vanlig"]],
            "Observerat / förväntat": [format_number(v, 2) or "–" for v in diff["oe"]],
            "95 % intervall": [
                f"{format_number(a, 2)}–{format_number(b, 2)}" if np.isfinite(a) and np.isfinite(b) else "–"
                for a, b in zip(diff["oe_lo"], diff["oe_hi"])
            ],
            "Efter justering": [adj(v) for v in diff["justerat"]],
            "Mer än områden brukar skilja sig": [
                ("Ja" if v != 0 else "Nej") if not pd.isna(v) else "–" for v in diff["justerat_od"]
            ],
        },
        index=[names.get(c, c) for c in diff["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


def equality_table(long: pd.DataFrame, measures: Sequence[str] = EQUALITY_MEASURES) -> pd.DataFrame:
    """Variation across areas of each measure present (published, non-suppressed area values):
    ``min, max, range, cv, n`` (``insats.analysis.stats.variation``) and, for shares and the O/E with
    funnel-plot flags, ``utanfor_95`` / ``utanfor_998`` (areas outside the 95 % / 99,8 % limits adjusted for
    overdispersion), ``utanfor_95_vanlig`` (outside the plain 95 % limits), ``phi`` (the between-area
    variance as a multiple of the binomial) and ``provade`` (areas with a flag)."""

    rows = []
    for m in measures:
        part = _published_areas(long, m)
        if part.empty:
            continue
        v = variation(part["varde"])
        row = {
            "matt": m,
            "min": v["min"],
            "max": v["max"],
            "range": v["range"],
            "cv": v["cv"],
            "n": v["n"],
            "utanfor_95": np.nan,
            "utanfor_998": np.nan,
            "utanfor_95_vanlig": np.nan,
            "phi": np.nan,
            "provade": np.nan,
        }
        flags = long[long["matt"] == f"likstallighet_tratt__{m}"]["varde"]
        if len(flags):
            row["provade"] = float(len(flags))
            row["utanfor_95"] = float((flags.abs() >= 1).sum())
            row["utanfor_998"] = float((flags.abs() >= 2).sum())
        plain = long[long["matt"] == f"likstallighet_tratt_vanlig__{m}"]["varde"]
        if len(plain):
            row["utanfor_95_vanlig"] = float((plain.abs() >= 1).sum())
        phi = long[long["matt"] == f"likstallighet_phi__{m}"]["varde"]
        if len(phi):
            row["phi"] = float(phi.iloc[0])
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "matt",
            "min",
            "max",
            "range",
            "cv",
            "n",
            "utanfor_95",
            "utanfor_998",
            "utanfor_95_vanlig",
            "phi",
            "provade",
        ],
    )


def equality_display(eq: pd.DataFrame) -> pd.DataFrame:
    """``equality_table`` for display, in each measure's unit."""

    rows = []
    for r in eq.itertuples():
        unit = MEASURES[r.matt].unit if r.matt in MEASURES else None
        rows.append(
            {
                "Mått": measure_label(r.matt),
                "Lägst": format_value(r.min, unit),
                "Högst": format_value(r.max, unit),
                "Spännvidd": format_value(r.range, unit),
                "Relativ spridning": format_number(r.cv, 2) or "–",
                "Områden": format_number(r.n),
                "Spridning jämfört med slumpen": (format_number(r.phi, 1) + " gånger") if np.isfinite(r.phi) else "–",
                "Utanför 95 %, vanliga gränser": format_number(r.utanfor_95_vanlig) or "–",
                "Utanför 95 %, justerade gränser": format_number(r.utanfor_95) or "–",
                "Utanför 99,8 %, justerade gränser": format_number(r.utanfor_998) or "–",
            }
        )
    return pd.DataFrame(rows).set_index("Mått")


def false_flags(eq: pd.DataFrame) -> dict:
    """How many area × measure comparisons the likställighet table makes, how many are flagged (adjusted
    95 % limits) and how many flags chance alone would give (``overdispersion.expected_false_flags``)."""
    tested = eq[eq["utanfor_95"].notna()]
    n_tests = int(tested["provade"].sum())
    return {
        "tests": n_tests,
        "measures": len(tested),
        "flagged": int(tested["utanfor_95"].sum()),
        "flagged_plain": int(tested["utanfor_95_vanlig"].fillna(0).sum()),
        "expected": expected_false_flags(n_tests),
    }


def false_flags_sentence(ff: dict) -> str:
    """The Swedish sentence on flags expected by chance (``false_flags``)."""
    return (
        f"Tabellen gör {format_number(ff['tests'])} jämförelser (områden × {format_number(ff['measures'])} mått). "
        f"Även om inget område verkligen avvek skulle ungefär {format_number(ff['expected'], 1)} av dem hamna "
        f"utanför 95 %-gränserna av en slump; {format_number(ff['flagged'])} gör det med de justerade gränserna "
        f"(och {format_number(ff['flagged_plain'])} med de vanliga). En enskild flagga är därför en fråga att "
        "undersöka, inte ett bevis."
    )


@sectioned
def section_utfall(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> list[Any]:
    """Raw outcome: share of ended participations to work or studies, ranked and as a funnel plot."""

    missing = _missing(study, OUTCOME_TABLES, "Utfallen")
    if missing:
        return missing
    matt = "utfall_arbete_studier_andel"
    if not _has_values(long, matt):
        return [Note("Inga avslutade deltaganden att redovisa under perioden.")]
    return [
        charts.ranked_bars(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell),
        charts.funnel_plot(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell),
    ]


@sectioned
def section_justerat(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> list[Any]:
    """Case-mix adjusted outcome: O/E per area with intervals (chart) and which areas differ (table)."""

    missing = _missing(study, OUTCOME_TABLES, "Det justerade utfallet")
    if missing:
        return missing
    if not _has_values(long, "justerat_utfall_oe"):
        return [
            Note(
                "Det justerade utfallet kan inte skattas: det behövs avslutade deltaganden med både "
                "avslut till arbete eller studier och andra avslut."
            )
        ]
    diff = differing_areas(long)
    return [
        charts.ranked_bars(long, "justerat_utfall_oe", focus=focus, omraden=_omraden(study), min_cell=min_cell),
        differing_table(diff, study),
        Note(
            "*Trattdiagram*: den råa andelen jämförs med hela studiens, med de vanliga gränserna för slumpen och "
            "med gränser som också tar hänsyn till att områden alltid skiljer sig något åt (justerade för "
            "överspridning; flaggan i sammanfattningen och likställighetstabellen). *Efter justering*: "
            "intervallet för observerat/förväntat ligger helt över eller under 1, dvs. området skiljer sig från "
            "vad dess egna deltagare kunde väntas nå mer än slumpen förklarar. *Mer än områden brukar skilja "
            "sig*: kvoten ligger också utanför de gränser som är justerade för överspridning."
        ),
        " ".join(outcome_sentences(diff, _names(study))),
    ]


@sectioned
def section_likstallighet(
    study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5
) -> list[Any]:
    """Variation across areas of every measure present (table) and the funnel plot of the share
    offered an intervention within 90 days, when it can be computed."""

    items: list = []
    eq = equality_table(long)
    if len(eq):
        items.append(equality_display(eq))
        if eq["utanfor_95"].notna().any():
            items.append(
                Note(
                    "*Spridning jämfört med slumpen*: hur många gånger större skillnaderna mellan områdena är än vad "
                    "slumpen ensam ger (1 = bara slump). *Relativ spridning*: skillnaderna mellan områdena i förhållande "
                    "till måttets nivå (0 = alla lika). Eftersom områden alltid skiljer sig något åt räknas ett "
                    "område som avvikande bara utanför de *justerade gränserna*, som tar hänsyn till den vanliga "
                    "skillnaden mellan områden (metoden står under Metod och förbehåll). "
                    + false_flags_sentence(false_flags(eq))
                )
            )
    if _has_values(long, "erbjudande_andel"):
        items.append(
            charts.funnel_plot(long, "erbjudande_andel", focus=focus, omraden=_omraden(study), min_cell=min_cell)
        )
    items += _missing(study, OUTCOME_TABLES, "Likställigheten i erbjudanden, närvaro och utfall")
    return items
