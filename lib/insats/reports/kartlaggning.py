"""The Stockholm kartläggning (2013) as reusable logic: what ``notebooks/kartlaggning.ipynb`` shows.

The 2013 mapping of Stockholm's district councils found differences in *organisation* (who runs
the interventions), in *utbud* (which categories a district offers; small districts had too few
participants for a broad range), in the *use of money* (some districts counted summer jobs,
feriejobb, as an intervention, others did not) and asked for *one follow-up system* and
*likställighet*. This module turns each finding into a function of a loaded study; the
notebook is a sequence of calls to it, to ``insats.analysis.measures``, ``insats.reports.common`` and
``insats.charts``.

Everything here works on the survey level (``omraden`` + ``insatser`` + ``medel``); the outcome
parts need ``personer``, ``bistand`` and ``deltaganden`` and say so when they are missing.

Definitional choices made here (logged in ``docs/antaganden.md``, rows K1–K8):

* **Own utbud** of an area: interventions that the area itself counts as intervention
  (``raknas_som_insats``) and that are open in the period (``insats.analysis.measures.open_interventions``),
  with ``omrade_kod`` equal to the area. ``CENTRAL`` interventions are a row of their own.
* **Category gaps** are judged over ``GAP_CATEGORIES``: the national typology without feriejobb
  (summer jobs for school youth, not an intervention for adults on assistance) and ovrigt (a
  residual, not a kind of intervention).
* **Feriejobb comparison**: money per inhabitant aged 18–64 and year under three definitions —
  each area's own (lines it marks ``raknas_som_insats``), and two common ones that ignore the
  areas' marks: every category but administration *without* feriejobb, and *with* feriejobb.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from insats import charts, contract
from insats.analysis.measures import (
    MEASURES,
    SHARE_MEASURES_FOR_EQUALITY,
    Context,
    MeasureResult,
    Params,
    measure_label,
    open_interventions,
)
from insats.analysis.privacy import format_number, format_table
from insats.analysis.stats import variation
from insats.charts import format_value
from insats.contract import ALLA, CENTRAL, TABLES
from insats.data.study import Study
from insats.errors import UsageError
from insats.reports.common import area_names, measure_table, missing_note
from insats.reports.render import Note, Section, section_of, show

__all__ = [
    "COMMON_DEFINITIONS",
    "EQUALITY_MEASURES",
    "GAP_CATEGORIES",
    "OUTCOME_TABLES",
    "SURVEY_TABLES",
    "Note",
    "Section",
    "category_gaps",
    "check_parameters",
    "differing_areas",
    "differing_table",
    "equality_display",
    "equality_table",
    "feriejobb_comparison",
    "feriejobb_table",
    "gaps_table",
    "join_names",
    "open_places",
    "organisation_display",
    "organisation_table",
    "period_years",
    "place_matrix",
    "present",
    "regi_matrix",
    "section_feriejobb",
    "section_gaps",
    "section_justerat",
    "section_likstallighet",
    "section_medel",
    "section_organisation",
    "section_uppfoljning",
    "section_utbud",
    "section_utfall",
    "show",
    "spending_by_category",
    "spending_table",
    "summary",
    "summary_markdown",
    "uncomputable_measures",
    "uncomputable_table",
]

SURVEY_TABLES = ("omraden", "insatser", "medel")
"""The survey level: what the kartläggning's organisation, utbud and medel sections need."""

OUTCOME_TABLES = ("personer", "bistand", "deltaganden")
"""What the outcome sections need (DESIGN.md: outcome analyses)."""

GAP_CATEGORIES: tuple[str, ...] = tuple(c for c in contract.codes("kategori") if c not in ("feriejobb", "ovrigt"))
"""Categories whose absence counts as a gap in an area's utbud (typology without feriejobb and övrigt)."""

COMMON_DEFINITIONS: dict[str, str] = {
    "egen": "Områdets egen definition",
    "utan_feriejobb": "Gemensam definition utan feriejobb",
    "med_feriejobb": "Gemensam definition med feriejobb",
}
"""The three definitions of money spent on interventions in the feriejobb comparison."""

EQUALITY_MEASURES: tuple[str, ...] = (
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_diversitet",
    "utbud_andel_narvarokrav",
    "medel_andel_feriejobb",
    "medel_andel_raknas_som_insats",
    "medel_per_deltagare",
    *SHARE_MEASURES_FOR_EQUALITY,
    "justerat_utfall_oe",
)
"""Measures whose variation across areas the likställighet section describes, in display order."""

SUPPORTED_LANGUAGES = ("sv",)


# --------------------------------------------------------------------------- helpers


def period_years(start, end) -> list[int]:
    """Calendar years that the period touches (``medel`` is yearly: each counts whole)."""
    return list(range(_month(start).year, _month(end).year + 1))


def present(long: pd.DataFrame, ids: Iterable[str]) -> list[str]:
    """The measure ids of ``ids`` that have at least one row in the long table, in order."""
    have = set(long["matt"])
    return [m for m in ids if m in have]


def _has_values(long: pd.DataFrame, matt: str) -> bool:
    return not _published_areas(long, matt).empty


def _month(value) -> pd.Timestamp:
    return pd.Timestamp(str(value)).to_period("M").to_timestamp()


def _context(study: Study, start, end) -> Context:
    return Context(study, Params(start=_month(start), end=_month(end)))


def _areas(study: Study) -> list[str]:
    """The study's area codes (without CENTRAL), sorted, as ``insats.analysis.measures`` orders them."""
    return _context(study, "2000-01", "2000-01").areas


def _names(study: Study) -> dict[str, str]:
    return area_names(study["omraden"] if "omraden" in study else None)


def join_names(names: Sequence[str]) -> str:
    """Swedish enumeration: ``"A"``, ``"A och B"``, ``"A, B och C"``."""
    names = [str(n) for n in names]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " och " + names[-1]


def _areas_word(k: int) -> str:
    """``"1 område"``, ``"3 områden"``."""
    return f"{format_number(k)} {'område' if k == 1 else 'områden'}"


def _name_list(names: Sequence[str], limit: int = 3) -> str:
    """Names joined, or ``"7 områden"`` when there are more than ``limit``."""
    return join_names(names) if len(names) <= limit else _areas_word(len(names))


def _pct(x: float) -> str:
    return format_number(x, 0, percent=True)


def _published_areas(long: pd.DataFrame, matt: str) -> pd.DataFrame:
    """Published, non-suppressed area rows (not ALLA, not CENTRAL) of one measure with a value."""
    part = long[(long["matt"] == matt) & ~long["omrade_kod"].isin([ALLA, CENTRAL])]
    part = part[~part["undertryckt"].astype(bool) & part["varde"].notna()]
    return part


def _alla(long: pd.DataFrame, matt: str) -> pd.Series | None:
    part = long[(long["matt"] == matt) & (long["omrade_kod"] == ALLA)]
    return part.iloc[0] if len(part) else None


def check_parameters(
    study: Study, *, start: str, end: str, min_cell: int = 5, focus: str | None = None, language: str = "sv"
) -> dict:
    """Validate the notebook's parameters against the study; Swedish ``ValueError`` when wrong.

    Returns the parameters as a dict (for the provenance table).
    """
    if language not in SUPPORTED_LANGUAGES:
        raise UsageError(f'Språket {language!r} stöds inte ännu; välj sprak = "sv".')
    start, end = _month(start), _month(end)
    if end < start:
        raise UsageError(f"Perioden slutar ({end:%Y-%m}) före sin början ({start:%Y-%m}).")
    if int(min_cell) < 1:
        raise UsageError(f"min_cell måste vara minst 1, fick {min_cell!r}.")
    if focus is not None:
        areas = _areas(study)
        if str(focus) not in areas:
            raise UsageError(f"fokus_omrade {focus!r} finns inte i studien; områdena är: {', '.join(areas)}.")
    return {
        "fran": f"{start:%Y-%m}",
        "till": f"{end:%Y-%m}",
        "min_cell": int(min_cell),
        "fokus_omrade": focus,
        "sprak": language,
    }


# --------------------------------------------------------------------------- utbud


def open_places(study: Study, start, end) -> pd.DataFrame:
    """Places of the interventions counted as intervention and open in the period, unallocated:
    columns ``omrade_kod`` (an area or ``CENTRAL``), ``kategori``, ``regi``, ``platser``."""
    ins = open_interventions(_context(study, start, end))
    return pd.DataFrame(
        {
            "omrade_kod": ins["omrade_kod"].astype(str).to_numpy(),
            "kategori": ins["kategori"].astype(object).to_numpy(),
            "regi": ins["regi"].astype(object).to_numpy(),
            "platser": ins["platser"].astype("float64").fillna(0.0).to_numpy(),
        }
    )


def place_matrix(study: Study, start, end) -> pd.DataFrame:
    """Places per area (rows, every area of the study, then ``CENTRAL`` when it has any) and
    category (columns, code-list order, only categories with places); 0 where none."""
    places = open_places(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (places["omrade_kod"] == CENTRAL).any() else [])
    cols = [c for c in contract.codes("kategori") if c in set(places["kategori"])]
    wide = places.pivot_table(
        index="omrade_kod", columns="kategori", values="platser", aggfunc="sum", fill_value=0.0, observed=True
    )
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    wide.index.name, wide.columns.name = "omrade_kod", "kategori"
    return wide


def category_gaps(study: Study, start, end, categories: Sequence[str] = GAP_CATEGORIES) -> pd.DataFrame:
    """Which areas lack which categories (among ``categories``).

    One row per area: ``kategorier_egna`` (categories with places in the area's own utbud),
    ``saknas_eget`` (categories missing from its own utbud, list of codes), ``saknas_helt``
    (missing also centrally: nobody in the area can be offered them).
    """
    matrix = place_matrix(study, start, end)
    central = set(matrix.columns[matrix.loc[CENTRAL] > 0]) if CENTRAL in matrix.index else set()
    rows = []
    for code in _areas(study):
        own = set(matrix.columns[matrix.loc[code] > 0])
        missing = [c for c in categories if c not in own]
        rows.append(
            {
                "omrade_kod": code,
                "kategorier_egna": len(own & set(categories)),
                "saknas_eget": missing,
                "saknas_helt": [c for c in missing if c not in central],
            }
        )
    return pd.DataFrame(rows, columns=["omrade_kod", "kategorier_egna", "saknas_eget", "saknas_helt"])


def gaps_table(gaps: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``category_gaps`` for display: Swedish labels, one row per area."""
    names = _names(study)

    def labels(codes):
        return ", ".join(contract.label("kategori", c) for c in codes) or "–"

    out = pd.DataFrame(
        {
            "Kategorier i eget utbud": [f"{n} av {len(GAP_CATEGORIES)}" for n in gaps["kategorier_egna"]],
            "Saknas i eget utbud": [labels(c) for c in gaps["saknas_eget"]],
            "Saknas även centralt": [labels(c) for c in gaps["saknas_helt"]],
        },
        index=[names.get(c, c) for c in gaps["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


# --------------------------------------------------------------------------- organisation


def regi_matrix(study: Study, start, end) -> pd.DataFrame:
    """Places of each area's *own* interventions by regi (rows: areas, then ``CENTRAL``;
    columns: regi codes in code-list order, all of them); 0 where none."""
    places = open_places(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (places["omrade_kod"] == CENTRAL).any() else [])
    wide = places.pivot_table(
        index="omrade_kod", columns="regi", values="platser", aggfunc="sum", fill_value=0.0, observed=True
    )
    wide = wide.reindex(index=rows, columns=contract.codes("regi"), fill_value=0.0).astype(float)
    wide.index.name, wide.columns.name = "omrade_kod", "regi"
    return wide


def organisation_table(study: Study, start, end) -> pd.DataFrame:
    """Per area: own places, the share of them in each regi that occurs, the main regi (most
    places; ties name every one) and the number of regi forms used. Numeric values."""
    m = regi_matrix(study, start, end)
    used = [c for c in m.columns if m[c].sum() > 0]
    total = m.sum(axis=1)
    out = pd.DataFrame(index=m.index)
    out["platser"] = total
    for regi in used:
        out[f"andel_{regi}"] = np.where(total > 0, m[regi] / total.where(total > 0, 1), np.nan)
    out["huvudsaklig_regi"] = [
        ";".join(c for c in m.columns if m.loc[a, c] == m.loc[a].max()) if total[a] > 0 else "" for a in m.index
    ]
    out["antal_regiformer"] = (m > 0).sum(axis=1)
    return out


def organisation_display(org: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``organisation_table`` for display (Swedish headers, per cent, area names)."""
    names = _names(study)
    share_cols = [c for c in org.columns if c.startswith("andel_")]
    values = org[["platser", *share_cols]]
    shown = format_table(values, decimals=dict.fromkeys(values.columns, 0), percent=dict.fromkeys(share_cols, True))
    shown.columns = ["Egna platser"] + [contract.label("regi", c[len("andel_") :]) for c in share_cols]
    shown["Huvudsaklig regi"] = [
        ", ".join(contract.label("regi", r) for r in v.split(";")) if v else "–" for v in org["huvudsaklig_regi"]
    ]
    shown["Antal regiformer"] = [format_number(v) for v in org["antal_regiformer"]]
    shown.index = [names.get(c, c) for c in org.index]
    shown.index.name = "Område"
    return shown


# --------------------------------------------------------------------------- medel


def _medel(study: Study, start, end) -> pd.DataFrame:
    m = study["medel"]
    m = m[m["ar"].isin(period_years(start, end))]
    return pd.DataFrame(
        {
            "omrade_kod": m["omrade_kod"].astype(str).to_numpy(),
            "ar": m["ar"].astype("int64").to_numpy(),
            "kategori": m["kategori"].astype(object).to_numpy(),
            "belopp": m["belopp"].astype("float64").fillna(0.0).to_numpy(),
            "raknas": m["raknas_som_insats"].fillna(False).astype(bool).to_numpy(),
        }
    )


def spending_by_category(study: Study, start, end) -> pd.DataFrame:
    """Kronor per area (rows; then ``CENTRAL``) and category (columns, ``kategori_medel`` order,
    only categories with money) for the period's years, with a ``Totalt`` column."""
    m = _medel(study, start, end)
    rows = _areas(study) + ([CENTRAL] if (m["omrade_kod"] == CENTRAL).any() else [])
    cols = [c for c in contract.codes("kategori_medel") if c in set(m["kategori"])]
    wide = m.pivot_table(index="omrade_kod", columns="kategori", values="belopp", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0).astype(float)
    wide["Totalt"] = wide.sum(axis=1)
    wide.index.name, wide.columns.name = "omrade_kod", "kategori"
    return wide


def spending_table(study: Study, start, end) -> pd.DataFrame:
    """``spending_by_category`` for display, in thousands of kronor (tkr)."""
    wide = spending_by_category(study, start, end) / 1000.0
    shown = format_table(wide)
    names = _names(study)
    shown.columns = [contract.label("kategori_medel", c) if c != "Totalt" else "Totalt" for c in wide.columns]
    shown.index = [names.get(c, c) for c in wide.index]
    shown.index.name = "Område (tkr)"
    return shown


def _population(study: Study, years: Iterable[int]) -> tuple[pd.DataFrame, str]:
    """Population per area and year: folkmangd_18_64 when given for every row, else folkmangd."""
    o = study["omraden"]
    o = o[o["ar"].isin(list(years))]
    col = "folkmangd_18_64" if "folkmangd_18_64" in o and len(o) and o["folkmangd_18_64"].notna().all() else "folkmangd"
    pop = pd.DataFrame(
        {
            "omrade_kod": o["omrade_kod"].astype(str).to_numpy(),
            "ar": o["ar"].astype("int64").to_numpy(),
            "befolkning": o[col].astype("float64").to_numpy(),
        }
    )
    return pop.groupby(["omrade_kod", "ar"], as_index=False)["befolkning"].sum(), col


def feriejobb_comparison(study: Study, start, end) -> pd.DataFrame:
    """Money for interventions per inhabitant and year under the three ``COMMON_DEFINITIONS``,
    and each area's rank under each (1 = most kronor per inhabitant).

    * ``egen``: lines the area itself marks ``raknas_som_insats`` (its own definition);
    * ``utan_feriejobb``: every category except administration and feriejobb, whatever the mark;
    * ``med_feriejobb``: every category except administration, whatever the mark.

    Per inhabitant and year = Σ kronor / Σ inhabitants over the period's years for which the area
    has a population (``folkmangd_18_64``, else ``folkmangd``, in ``omraden``). ``CENTRAL`` money
    belongs to no area and is left out. ``raknar_feriejobb`` is True when the area marks its
    feriejobb lines as intervention, False when not, None when it has none (or marks them
    differently in different years: ``"delvis"``). ``flytt_utan``/``flytt_med``: places gained in
    the ranking (positive = moves up) when going from the own definition to the common one.
    """
    m = _medel(study, start, end)
    pop, col = _population(study, period_years(start, end))
    m = m.merge(pop, on=["omrade_kod", "ar"], how="inner")[["omrade_kod", "ar", "kategori", "belopp", "raknas"]]
    rows = []
    for code in _areas(study):
        mine = m[m["omrade_kod"] == code]
        inv = float(pop.loc[pop["omrade_kod"] == code, "befolkning"].sum())
        feri = mine[mine["kategori"] == "feriejobb"]
        marks = set(feri["raknas"])
        counts = None if not marks else (True if marks == {True} else False if marks == {False} else "delvis")
        no_admin = mine["kategori"] != "administration"
        sums = {
            "egen": float(mine.loc[mine["raknas"], "belopp"].sum()),
            "utan_feriejobb": float(mine.loc[no_admin & (mine["kategori"] != "feriejobb"), "belopp"].sum()),
            "med_feriejobb": float(mine.loc[no_admin, "belopp"].sum()),
        }
        row = {
            "omrade_kod": code,
            "raknar_feriejobb": counts,
            "feriejobb_kr": float(feri["belopp"].sum()),
            "invanare": inv,
        }
        for key, kr in sums.items():
            row[f"kr_{key}"] = kr
            row[f"per_inv_{key}"] = kr / inv if inv > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for key in COMMON_DEFINITIONS:
        out[f"plats_{key}"] = out[f"per_inv_{key}"].rank(ascending=False, method="min").astype("Int64")
    out["flytt_utan"] = out["plats_egen"] - out["plats_utan_feriejobb"]
    out["flytt_med"] = out["plats_egen"] - out["plats_med_feriejobb"]
    out.attrs["befolkning"] = col
    return out


def feriejobb_table(comp: pd.DataFrame, study: Study) -> pd.DataFrame:
    """``feriejobb_comparison`` for display, ordered by the own definition's ranking."""
    names = _names(study)
    comp = comp.sort_values(["plats_egen", "omrade_kod"])
    pop = "invånare 18–64 år" if comp.attrs.get("befolkning") == "folkmangd_18_64" else "invånare"

    def mark(v):
        return {True: "Ja", False: "Nej", "delvis": "Delvis"}.get(v, "–")

    def move(v):
        if pd.isna(v):
            return ""
        return "±0" if v == 0 else (f"+{int(v)}" if v > 0 else format_number(int(v)))

    out = pd.DataFrame(
        {
            "Räknar feriejobb som insats": [mark(v) for v in comp["raknar_feriejobb"]],
            f"Egen definition, kr per {pop} och år": [format_number(v) for v in comp["per_inv_egen"]],
            "Plats (egen)": [format_number(v) for v in comp["plats_egen"]],
            f"Utan feriejobb, kr per {pop} och år": [format_number(v) for v in comp["per_inv_utan_feriejobb"]],
            "Plats (utan feriejobb)": [format_number(v) for v in comp["plats_utan_feriejobb"]],
            "Flyttar (utan)": [move(v) for v in comp["flytt_utan"]],
            f"Med feriejobb, kr per {pop} och år": [format_number(v) for v in comp["per_inv_med_feriejobb"]],
            "Plats (med feriejobb)": [format_number(v) for v in comp["plats_med_feriejobb"]],
            "Flyttar (med)": [move(v) for v in comp["flytt_med"]],
        },
        index=[names.get(c, c) for c in comp["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


# --------------------------------------------------------------------------- utfall and likställighet


def differing_areas(long: pd.DataFrame, matt: str = "utfall_arbete_studier_andel") -> pd.DataFrame:
    """Areas that differ from the whole study beyond chance, from the published measures.

    ``ratt``: the funnel-plot flag of the raw share ``matt`` (``likstallighet_tratt__<matt>``:
    -2 … 2, see ``insats.analysis.measures.FUNNEL_CODES``); ``justerat``: +1 when the 95 % interval of
    ``justerat_utfall_oe`` lies wholly above 1, −1 wholly below, 0 when it contains 1. Areas with
    neither value are left out; suppressed areas never appear.
    """
    flags = long[long["matt"] == f"likstallighet_tratt__{matt}"].set_index("omrade_kod")["varde"]
    lo = long[(long["matt"] == "justerat_utfall_oe_lo") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    hi = long[(long["matt"] == "justerat_utfall_oe_hi") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    oe = long[(long["matt"] == "justerat_utfall_oe") & ~long["undertryckt"]].set_index("omrade_kod")["varde"]
    codes = sorted((set(flags.index) | set(lo.dropna().index)) - {ALLA, CENTRAL})
    rows = []
    for code in codes:
        a, b = lo.get(code, np.nan), hi.get(code, np.nan)
        adj = (1 if a > 1 else -1 if b < 1 else 0) if np.isfinite(a) and np.isfinite(b) else np.nan
        rows.append(
            {
                "omrade_kod": code,
                "ratt": flags.get(code, np.nan),
                "oe": oe.get(code, np.nan),
                "oe_lo": a,
                "oe_hi": b,
                "justerat": adj,
            }
        )
    return pd.DataFrame(rows, columns=["omrade_kod", "ratt", "oe", "oe_lo", "oe_hi", "justerat"])


_FLAG_TEXT = {
    -2: "Lägre (utanför 99,8 %)",
    -1: "Lägre (utanför 95 %)",
    0: "Inom gränserna",
    1: "Högre (utanför 95 %)",
    2: "Högre (utanför 99,8 %)",
}


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
            "Andel till arbete/studier, trattdiagram": [
                _FLAG_TEXT.get(int(v), "–") if not pd.isna(v) else "–" for v in diff["ratt"]
            ],
            "Observerat / förväntat": [format_number(v, 2) or "–" for v in diff["oe"]],
            "95 % intervall": [
                f"{format_number(a, 2)}–{format_number(b, 2)}" if np.isfinite(a) and np.isfinite(b) else "–"
                for a, b in zip(diff["oe_lo"], diff["oe_hi"])
            ],
            "Efter justering": [adj(v) for v in diff["justerat"]],
        },
        index=[names.get(c, c) for c in diff["omrade_kod"]],
    )
    out.index.name = "Område"
    return out


def equality_table(long: pd.DataFrame, measures: Sequence[str] = EQUALITY_MEASURES) -> pd.DataFrame:
    """Variation across areas of each measure present (published, non-suppressed area values):
    ``min, max, range, cv, n`` (``insats.analysis.stats.variation``) and, for shares with funnel-plot
    flags, ``utanfor_95`` / ``utanfor_998`` (areas outside the 95 % / 99,8 % limits); for
    ``justerat_utfall_oe`` ``utanfor_95`` counts areas whose 95 % interval excludes 1."""

    rows = []
    diff = differing_areas(long)
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
        }
        flags = long[long["matt"] == f"likstallighet_tratt__{m}"]["varde"]
        if len(flags):
            row["utanfor_95"] = float((flags.abs() >= 1).sum())
            row["utanfor_998"] = float((flags.abs() >= 2).sum())
        elif m == "justerat_utfall_oe" and len(diff):
            row["utanfor_95"] = float((diff["justerat"].abs() == 1).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["matt", "min", "max", "range", "cv", "n", "utanfor_95", "utanfor_998"])


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
                "Variationskoefficient": format_number(r.cv, 2) or "–",
                "Områden": format_number(r.n),
                "Utanför 95 %": format_number(r.utanfor_95) or "–",
                "Utanför 99,8 %": format_number(r.utanfor_998) or "–",
            }
        )
    return pd.DataFrame(rows).set_index("Mått")


# --------------------------------------------------------------------------- follow-up system

_COLUMN_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "narvaro_median": (("deltaganden", "planerade_timmar"), ("deltaganden", "narvarotimmar")),
    "narvaro_andel_80": (("deltaganden", "planerade_timmar"), ("deltaganden", "narvarotimmar")),
    "utfall_arbete_studier_andel": (("deltaganden", "avslut"),),
    "justerat_utfall_oe": (("deltaganden", "avslut"),),
    "lov_andel_valt": (("deltaganden", "vald_utforare"),),
    "vagin_dagar_median": (("bedomningar", "bedomning_datum"),),
    "vagin_dagar_p90": (("bedomningar", "bedomning_datum"),),
    "vagin_andel_30_dagar": (("bedomningar", "bedomning_datum"),),
    "vagin_andel_insats_90_dagar": (("bedomningar", "resultat"),),
}
"""Optional contract columns a measure rests on: empty throughout, the measure says nothing."""


def uncomputable_measures(study: Study, result: MeasureResult | None = None) -> pd.DataFrame:
    """The measures of DESIGN.md that today's data cannot give, and why.

    One row per measure (those with a function; the derived O/E limits and likställighet rows
    follow their measure): ``matt``, ``skal`` (``tabell`` — a table is missing; ``kolumn`` — an
    optional column the measure rests on is empty throughout; ``underlag`` — computed, but no
    value for the whole study, e.g. no participations at LOV providers) and ``saknas`` (the
    missing tables or ``table.column``s, or ``""``).
    """
    rows = []
    for mid, m in MEASURES.items():
        if m.func is None:
            continue
        missing = [t for t in m.needs if t not in study]
        if missing:
            rows.append({"matt": mid, "skal": "tabell", "saknas": ", ".join(missing)})
            continue
        empty = [f"{t}.{c}" for t, c in _COLUMN_NEEDS.get(mid, ()) if t in study and study[t][c].isna().all()]
        if empty:
            rows.append({"matt": mid, "skal": "kolumn", "saknas": ", ".join(empty)})
            continue
        if result is not None:
            alla = _alla(result.table, mid)
            if alla is not None and pd.isna(alla["varde"]) and not bool(alla["undertryckt"]):
                rows.append({"matt": mid, "skal": "underlag", "saknas": ""})
    return pd.DataFrame(rows, columns=["matt", "skal", "saknas"])


def uncomputable_table(unc: pd.DataFrame) -> pd.DataFrame:
    """``uncomputable_measures`` for display: what the common follow-up system must collect."""

    def reason(r):
        if r.skal == "tabell":
            parts = r.saknas.split(", ")
            word = "tabellen" if len(parts) == 1 else "tabellerna"
            return f"Kräver {word} " + join_names([f"{t} ({TABLES[t].label.lower()})" for t in parts])
        if r.skal == "kolumn":
            cols = []
            for item in r.saknas.split(", "):
                t, c = item.split(".")
                cols.append(f"{c} ({contract.column_label(t, c).lower()}) i {t}")
            return "Kolumnen är tom: " + join_names(cols)
        return "Underlag saknas i perioden (inga observationer att räkna på)"

    out = pd.DataFrame(
        {
            "Mått": [measure_label(m) for m in unc["matt"]],
            "Definition": [MEASURES[m].definition for m in unc["matt"]],
            "Vad som saknas": [reason(r) for r in unc.itertuples()],
        }
    )
    return out.set_index("Mått")


# --------------------------------------------------------------------------- summary


def _extremes(long: pd.DataFrame, matt: str, names: Mapping[str, str]) -> tuple | None:
    """(min value, names at min, max value, names at max) over published areas, or None."""
    part = _published_areas(long, matt)
    if part.empty:
        return None
    lo, hi = part["varde"].min(), part["varde"].max()
    at = lambda v: [names.get(c, c) for c in part.loc[np.isclose(part["varde"], v), "omrade_kod"]]  # noqa: E731
    return lo, at(lo), hi, at(hi)


def _range_sentence(long, matt, names, what, fmt) -> str | None:
    ext = _extremes(long, matt, names)
    if ext is None:
        return None
    lo, lo_names, hi, hi_names = ext
    if np.isclose(lo, hi):
        return f"{what} är {fmt(lo)} i alla områden som redovisas."
    return f"{what} varierar från {fmt(lo)} ({_name_list(lo_names)}) till {fmt(hi)} ({_name_list(hi_names)})."


def summary(study: Study, result: MeasureResult, *, start, end, focus: str | None = None) -> dict[str, str]:
    """The Sammanfattning: Swedish sentences generated from the published measures and the
    functions above, keyed by topic (``omfattning``, ``utbud``, ``luckor``, ``platser``,
    ``organisation``, ``medel``, ``feriejobb``, ``utfall``, ``likstallighet``, ``uppfoljning``,
    ``fokus``). A topic whose data is missing says so or is left out; no number is typed in."""
    long = result.table
    names = _names(study)
    areas = _areas(study)
    n = len(areas)
    out: dict[str, str] = {}
    start, end = _month(start), _month(end)
    out["omfattning"] = (
        f"Kartläggningen omfattar {format_number(n)} områden och perioden {start:%Y-%m} till {end:%Y-%m}."
    )

    if "insatser" in study:
        s = _range_sentence(
            long,
            "utbud_kategorier",
            names,
            "Antalet kategorier av insatser som de boende i ett område kan erbjudas (egna och centrala)",
            lambda v: format_number(v),
        )
        if s:
            out["utbud"] = s
        gaps = category_gaps(study, start, end)
        own = int(sum(len(g) > 0 for g in gaps["saknas_eget"]))
        whole = int(sum(len(g) > 0 for g in gaps["saknas_helt"]))
        out["luckor"] = (
            f"{format_number(own)} av {format_number(n)} områden saknar i sitt eget utbud minst en av de "
            f"{format_number(len(GAP_CATEGORIES))} kategorierna i den nationella indelningen (feriejobb "
            f"och övrigt oräknade); {format_number(whole)} saknar någon kategori helt, "
            "även bland de centrala insatserna."
        )
        s = _range_sentence(
            long,
            "utbud_platser_per_100",
            names,
            "Antalet platser per 100 arbetslösa biståndsmottagare",
            lambda v: format_number(v, 1),
        )
        if s:
            out["platser"] = s
        org = organisation_table(study, start, end).reindex(areas)
        share_own = org.get("andel_egen_omrade", pd.Series(0.0, index=org.index)).fillna(0.0)
        k = int((share_own > 0.5).sum())
        mains = pd.Series([r for v in org["huvudsaklig_regi"] for r in v.split(";") if r]).value_counts()
        common = (
            (
                f"; den vanligaste huvudsakliga regin är {contract.label('regi', mains.index[0]).lower()} "
                f"({format_number(int(mains.iloc[0]))} områden)"
            )
            if len(mains)
            else ""
        )
        forms = org["antal_regiformer"]
        out["organisation"] = (
            f"I {format_number(k)} av {format_number(n)} områden drivs mer än hälften av de egna "
            f"platserna i egen regi{common}. Områdena använder mellan {format_number(forms.min())} "
            f"och {format_number(forms.max())} olika regiformer."
        )
    if "medel" in study:
        s = _range_sentence(long, "medel_andel_feriejobb", names, "Andelen av medlen som går till feriejobb", _pct)
        comp = feriejobb_comparison(study, start, end) if "omraden" in study else pd.DataFrame()
        if len(comp):
            yes = int((comp["raknar_feriejobb"] == True).sum())  # noqa: E712
            no = int((comp["raknar_feriejobb"] == False).sum())  # noqa: E712
            s = (s + " " if s else "") + (
                f"{_areas_word(yes)} räknar feriejobb som arbetsmarknadsinsats, {format_number(no)} gör det inte."
            )
        if s:
            out["medel"] = s
        if len(comp):
            out["feriejobb"] = _feriejobb_sentence(comp, names)

    missing = [t for t in OUTCOME_TABLES if t not in study]
    if missing:
        out["utfall"] = (
            "Utfallen kan inte beräknas: studien saknar "
            + join_names(missing)
            + " (individdata om biståndsmottagare och deltaganden)."
        )
    else:
        alla = _alla(long, "utfall_arbete_studier_andel")
        diff = differing_areas(long)
        parts = []
        if alla is not None and pd.notna(alla["varde"]):
            parts.append(f"I hela studien avslutades {_pct(alla['varde'])} av deltagandena med arbete eller studier.")
        if len(diff):
            raw = diff[diff["ratt"].abs() >= 1]
            raw_names = [names.get(c, c) for c in raw["omrade_kod"]]
            parts.append(
                f"{_areas_word(len(raw))} ligger utanför trattdiagrammets 95 %-gränser"
                + (f" ({join_names(raw_names)})" if raw_names else "")
                + "."
            )
            adj = diff[diff["justerat"].abs() == 1]
            adj_names = [names.get(c, c) for c in adj["omrade_kod"]]
            parts.append(
                f"Efter justering för deltagarnas ålder, kön, bakgrund, utbildning och tid med bistånd skiljer "
                f"sig {_areas_word(len(adj))} från det förväntade mer än slumpen förklarar"
                + (f" ({join_names(adj_names)})" if adj_names else "")
                + "."
            )
        if parts:
            out["utfall"] = " ".join(parts)

    eq = equality_table(long)
    eq = eq[eq["matt"].isin(SHARE_MEASURES_FOR_EQUALITY) | eq["matt"].str.startswith(("utbud_", "medel_andel"))]
    eq = eq[np.isfinite(eq["cv"]) & (eq["n"] >= 2)]
    if len(eq):
        top = eq.loc[eq["cv"].idxmax()]
        out["likstallighet"] = (
            f"Störst skillnad mellan områdena, mätt som variationskoefficient, har "
            f"måttet {measure_label(top['matt']).lower()} ({format_number(top['cv'], 2)})."
        )

    unc = uncomputable_measures(study, result)
    total = sum(1 for m in MEASURES.values() if m.func is not None)
    if len(unc):
        tables = sorted(
            {t for s in unc.loc[unc["skal"] == "tabell", "saknas"] for t in s.split(", ")}, key=list(TABLES).index
        )
        tail = f"; tabeller som saknas: {join_names(tables)}" if tables else ""
        out["uppfoljning"] = (
            f"{format_number(len(unc))} av {format_number(total)} mått kan inte beräknas med "
            f"dagens data{tail}. Ett gemensamt uppföljningssystem behöver samla in dem."
        )
    else:
        out["uppfoljning"] = f"Alla {format_number(total)} mått kan beräknas med dagens data."

    if focus is not None:
        out["fokus"] = _focus_sentence(study, result, start, end, str(focus), names)
    return out


def _feriejobb_sentence(comp: pd.DataFrame, names: Mapping[str, str]) -> str:
    """How the ranking by money per inhabitant changes under the two common definitions."""
    pop = "invånare 18–64 år" if comp.attrs.get("befolkning") == "folkmangd_18_64" else "invånare"
    parts = []
    for col, plats, text in (
        ("flytt_utan", "plats_utan_feriejobb", "inte räknas någonstans"),
        ("flytt_med", "plats_med_feriejobb", "räknas överallt"),
    ):
        moved = comp[comp[col].fillna(0) != 0]
        if not len(moved):
            parts.append(f"Om feriejobb {text} ändras inte rangordningen.")
            continue
        big = moved.loc[moved[col].abs() == moved[col].abs().max()]
        who = join_names(
            [
                f"{names.get(r.omrade_kod, r.omrade_kod)} (från plats {int(r.plats_egen)} till "
                f"{int(getattr(r, plats))})"
                for r in big.itertuples()
            ]
        )
        parts.append(
            f"Om feriejobb {text} byter {format_number(len(moved))} av {_areas_word(len(comp))} plats; "
            f"störst är flytten för {who}."
        )
    return f"Områdena rangordnas efter insatsmedel per {pop} och år med sin egen definition. " + " ".join(parts)


def _focus_sentence(study, result, start, end, code, names) -> str:
    long = result.table
    name = names.get(code, code)
    bits = []
    row = long[(long["matt"] == "utbud_kategorier") & (long["omrade_kod"] == code)]
    if len(row) and pd.notna(row["varde"].iloc[0]):
        bits.append(f"{format_number(row['varde'].iloc[0])} kategorier av insatser")
    row = long[(long["matt"] == "medel_andel_feriejobb") & (long["omrade_kod"] == code)]
    if len(row) and pd.notna(row["varde"].iloc[0]):
        bits.append(f"{_pct(row['varde'].iloc[0])} av medlen till feriejobb")
    if "medel" in study and "omraden" in study:
        comp = feriejobb_comparison(study, start, end)
        r = comp[comp["omrade_kod"] == code]
        if len(r) and pd.notna(r["plats_egen"].iloc[0]):
            bits.append(f"plats {int(r['plats_egen'].iloc[0])} av {len(comp)} i insatsmedel per invånare")
    return f"Fokusområdet {name} har " + join_names(bits) + "." if bits else f"Fokusområdet {name} saknar uppgifter."


def summary_markdown(sentences: Mapping[str, str]) -> str:
    """The summary sentences as a Markdown bullet list."""
    return "\n".join(f"- {s}" for s in sentences.values())


# --------------------------------------------------------------------------- report sections
# Each returns the ``Section`` one part of the notebook shows (``show(section)``): Swedish notes,
# formatted tables and charts, in order. A part whose tables are missing holds the note that says so.

UTBUD_MEASURES = (
    "utbud_insatser",
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_diversitet",
    "utbud_andel_narvarokrav",
)
MEDEL_MEASURES = ("medel_totalt", "medel_andel_feriejobb", "medel_andel_raknas_som_insats", "medel_per_deltagare")


def sectioned(func: Callable[..., list]) -> Callable[..., Section]:
    """A section function written as a list of items, returned as a ``Section`` (``section_of``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Section:
        return section_of(func(*args, **kwargs))

    return wrapper


def _omraden(study: Study):
    return study["omraden"] if "omraden" in study else None


def _missing(study: Study, needs: Sequence[str], what: str) -> list:

    note = missing_note(study, list(needs), what)
    return [note] if note else []


@sectioned
def section_organisation(study: Study, start, end) -> Section:
    """Regi per area: the table of ``organisation_display``."""
    missing = _missing(study, ["insatser"], "Organisationen")
    if missing:
        return missing
    return [organisation_display(organisation_table(study, start, end), study)]


@sectioned
def section_utbud(
    study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None, min_cell: int = 5
) -> Section:
    """Place matrix (chart), the utbud measures per area (table) and a ranked chart of places per
    100 unemployed recipients (diversity when there are no individual data)."""

    missing = _missing(study, ["insatser"], "Utbudet")
    if missing:
        return missing
    items: list = [charts.utbud_matrix(open_places(study, start, end), omraden=_omraden(study), focus=focus)]
    ids = present(long, UTBUD_MEASURES)
    if ids:
        items.append(measure_table(long, ids, omraden=_omraden(study)))
    matt = "utbud_platser_per_100" if _has_values(long, "utbud_platser_per_100") else "utbud_diversitet"
    if _has_values(long, matt):
        items.append(charts.ranked_bars(long, matt, focus=focus, omraden=_omraden(study), min_cell=min_cell))
    if matt == "utbud_diversitet":
        items += _missing(study, ["personer", "bistand"], "Platser per 100 arbetslösa biståndsmottagare")
    return items


@sectioned
def section_gaps(study: Study, start, end) -> Section:
    """Which areas lack which categories (table)."""
    missing = _missing(study, ["insatser"], "Luckorna i utbudet")
    if missing:
        return missing
    return [gaps_table(category_gaps(study, start, end), study)]


@sectioned
def section_medel(study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None) -> Section:
    """Spending by category: the share chart, kronor per area and category, the medel measures."""

    missing = _missing(study, ["medel"], "Användningen av medel")
    if missing:
        return missing
    medel = study["medel"]
    medel = medel[medel["ar"].isin(period_years(start, end))]
    items: list = [
        charts.spending_bars(medel, omraden=_omraden(study), normalize=True, focus=focus),
        spending_table(study, start, end),
    ]
    ids = present(long, MEDEL_MEASURES)
    if ids:
        items.append(measure_table(long, ids, omraden=_omraden(study)))
    return items


@sectioned
def section_feriejobb(
    study: Study, long: pd.DataFrame, start, end, *, focus: str | None = None, min_cell: int = 5
) -> Section:
    """The feriejobb question: share of the money to feriejobb (chart), and the ranking by money
    per inhabitant under each area's own and the two common definitions (sentence and table)."""

    missing = _missing(study, ["medel", "omraden"], "Jämförelsen av feriejobb")
    if missing:
        return missing
    items: list = []
    if _has_values(long, "medel_andel_feriejobb"):
        # kronor, not persons: no sampling interval; CENTRAL money belongs to no area
        items.append(
            charts.ranked_bars(
                long[long["omrade_kod"] != CENTRAL],
                "medel_andel_feriejobb",
                focus=focus,
                intervals=False,
                omraden=_omraden(study),
                min_cell=min_cell,
            )
        )
    comp = feriejobb_comparison(study, start, end)
    if len(comp):
        items += [Note(_feriejobb_sentence(comp, _names(study))), feriejobb_table(comp, study)]
    return items


@sectioned
def section_utfall(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> Section:
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
def section_justerat(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> Section:
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
    return [
        charts.ranked_bars(long, "justerat_utfall_oe", focus=focus, omraden=_omraden(study), min_cell=min_cell),
        differing_table(differing_areas(long), study),
    ]


@sectioned
def section_likstallighet(study: Study, long: pd.DataFrame, *, focus: str | None = None, min_cell: int = 5) -> Section:
    """Variation across areas of every measure present (table) and the funnel plot of the share
    offered an intervention within 90 days, when it can be computed."""

    items: list = []
    eq = equality_table(long)
    if len(eq):
        items.append(equality_display(eq))
    if _has_values(long, "erbjudande_andel"):
        items.append(
            charts.funnel_plot(long, "erbjudande_andel", focus=focus, omraden=_omraden(study), min_cell=min_cell)
        )
    items += _missing(study, OUTCOME_TABLES, "Likställigheten i erbjudanden, närvaro och utfall")
    return items


@sectioned
def section_uppfoljning(study: Study, result: MeasureResult) -> Section:
    """The measures that today's data cannot give (table), and the tables a common follow-up
    system has to collect (sentence)."""
    unc = uncomputable_measures(study, result)
    if unc.empty:
        return [Note("Alla mått i `insats` kan beräknas med dagens data.")]
    tables = sorted(
        {t for v in unc.loc[unc["skal"] == "tabell", "saknas"] for t in v.split(", ")}, key=list(TABLES).index
    )
    items: list = [uncomputable_table(unc)]
    if tables:
        items.append(
            Note(
                "Ett gemensamt uppföljningssystem behöver samla in:\n\n"
                + "\n".join(f"- **{TABLES[t].label}** (`{t}`): en rad per {TABLES[t].row}." for t in tables)
            )
        )
    return items
