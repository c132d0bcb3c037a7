"""One area's profile ("områdesprofil"): its key figures against the rest of the study.

Pure functions over a loaded study and the *published* measures table (``compute_measures(...)
.table``, disclosure control applied), used by ``notebooks/omradesprofil.ipynb`` and by any
dashboard that shows one district at a time. Nothing here reads the unprotected table.

Per measure (``key_figures``): the area's value, the whole study's value (``ALLA``), the value of
**the rest of the study** (the whole study minus the area) where the measure is a ratio of sums
(``REST_MEASURES``), the area's rank among the areas whose value is published, and — for shares
of persons — the Wilson 95 % interval and the funnel-plot flag against the whole-study share
(``insats.analysis.stats``).

Disclosure control of the rest of the study. The rest is ``(T − t) / (N − n)`` from the published
numerator/denominator of ``ALLA`` (T, N) and of the area (t, n). It is shown only when

* neither the area's row nor the ``ALLA`` row is suppressed — with a suppressed area value,
  ``ALLA`` minus the rest would give the suppressed numerator and denominator back;
* for measures about persons, the rest's own counts are not 1 … ``min_cell − 1`` (the numerator
  only when it counts persons, as in ``insats.analysis.privacy``).

Otherwise the rest is suppressed (``..``) too. Measures not about persons (places, kronor) are
never suppressed.

The Swedish sentences (``standout_sentences``, ``interventions_sentences``,
``spending_sentences``) quote numbers formatted exactly as in the tables
(``insats.charts.format_value``), so a reader finds every number of the text in a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    MEASURES,
    Context,
    MeasureResult,
    Params,
    compute_measures,
    measure_label,
    medel_in_period,
    open_interventions,
    period_years,
)
from insats.analysis.privacy import SUPPRESSED, format_number
from insats.analysis.stats import funnel_flags, wilson_interval
from insats.charts import format_value, funnel_plot, ranked_bars, spending_bars
from insats.contract import ALLA, CENTRAL, TABLES
from insats.data.study import Study
from insats.errors import DataError, UsageError
from insats.reports.common import missing_note

__all__ = [
    "CHART_MEASURES",
    "OUTCOME_MEASURE",
    "PROFILE_MEASURES",
    "REST_MEASURES",
    "Profile",
    "area_interventions",
    "area_names",
    "build_profile",
    "choose_area",
    "interventions_sentences",
    "interventions_table",
    "key_figure_table",
    "key_figures",
    "missing_measures_text",
    "profile_result",
    "rest_of_study",
    "spending_comparison",
    "spending_sentences",
    "spending_table",
    "standout_sentences",
]

PROFILE_MEASURES: tuple[str, ...] = (
    "utbud_insatser",
    "utbud_kategorier",
    "utbud_platser_per_100",
    "utbud_andel_narvarokrav",
    "medel_totalt",
    "medel_andel_feriejobb",
    "medel_andel_raknas_som_insats",
    "medel_per_deltagare",
    "erbjudande_andel",
    "narvaro_andel_80",
    "utfall_arbete_studier_andel",
    "utfall_sjalvforsorjning_andel",
    "justerat_utfall_oe",
    "langvarigt_andel",
    "vagin_andel_30_dagar",
    "lov_andel_valt",
)
"""The measures a profile shows, in display order (only these are computed: a profile is fast)."""

CHART_MEASURES: tuple[str, ...] = (
    "erbjudande_andel",
    "utfall_arbete_studier_andel",
    "utbud_platser_per_100",
    "medel_andel_feriejobb",
    "utbud_insatser",
    "utbud_andel_narvarokrav",
)
"""Candidates for the ranked bar charts, in order of preference (the first four with values)."""

OUTCOME_MEASURE = "utfall_arbete_studier_andel"
"""The outcome shown in the profile's funnel plot."""

REST_MEASURES: dict[str, float] = {
    **dict.fromkeys(
        (
            "erbjudande_andel",
            "narvaro_andel_80",
            "utfall_arbete_studier_andel",
            "utfall_sjalvforsorjning_andel",
            "langvarigt_andel",
            "vagin_andel_bedomda",
            "vagin_andel_30_dagar",
            "vagin_andel_insats_90_dagar",
            "lov_andel_valt",
            "utbud_andel_narvarokrav",
            "medel_andel_feriejobb",
            "medel_andel_raknas_som_insats",
        ),
        1.0,
    ),
    **{f"utbud_andel_regi_{r}": 1.0 for r in contract.codes("regi")},
    "utbud_platser_per_100": 100.0,
    "medel_totalt": 0.0,
}
"""Measures whose ``ALLA`` numerator and denominator are sums over the areas (and ``CENTRAL``),
so that the rest of the study is ``scale · (T − t) / (N − n)``; scale 0 marks a sum
(``medel_totalt``: the rest is ``T − t``). Left out on purpose: counts of distinct interventions
or categories (a central intervention counts in every area), medians, the diversity index, O/E
(its expected count is model-based) and ``medel_per_deltagare`` (central money is only in
``ALLA``, so the rest would mix central money with other areas' participants)."""

FLAG_TEXT = {
    "over_998": "över trattdiagrammets 99,8 %-gräns, en skillnad som slumpen nästan aldrig ger",
    "over_95": "över trattdiagrammets 95 %-gräns (men inom 99,8 %-gränsen)",
    "under_95": "under trattdiagrammets 95 %-gräns (men inom 99,8 %-gränsen)",
    "under_998": "under trattdiagrammets 99,8 %-gräns, en skillnad som slumpen nästan aldrig ger",
}
FLAG_SHORT = {
    "over_998": "Över 99,8 %",
    "over_95": "Över 95 %",
    "inom": "Inom gränserna",
    "under_95": "Under 95 %",
    "under_998": "Under 99,8 %",
}
NOT_APPLICABLE = "–"
"""Shown where a figure cannot be computed or does not apply (never for a suppressed one)."""


# --------------------------------------------------------------------------- area


def _area_list(study: Study) -> list[tuple[str, str]]:
    """(code, name) of the study's areas in the order of ``omraden`` (latest name per code)."""
    if "omraden" in study and len(study["omraden"]):
        om = study["omraden"]
        codes = list(dict.fromkeys(om["omrade_kod"].astype(str)))
        names = dict(zip(om.sort_values("ar")["omrade_kod"].astype(str), om.sort_values("ar")["omrade"].astype(str)))
        return [(c, names.get(c, c)) for c in codes if c != CENTRAL]
    codes: list[str] = []
    for name in ("personer", "insatser", "medel"):
        if name in study:
            codes += [str(c) for c in study[name]["omrade_kod"].dropna().unique()]
    return [(c, c) for c in sorted(set(codes) - {CENTRAL})]


def area_names(study: Study) -> dict[str, str]:
    """omrade_kod -> name, plus ``ALLA`` ("Hela studien") and ``CENTRAL``."""
    names = {ALLA: "Hela studien", CENTRAL: "Centralt (hela kommunen)"}
    names.update(dict(_area_list(study)))
    return names


def choose_area(study: Study, omrade: str | None = None) -> str:
    """The area code to profile: ``omrade`` (a code, or a name in any case), or with None the
    first area of ``omraden`` (so the notebook runs as it is)."""
    areas = _area_list(study)
    if not areas:
        raise DataError("Studien har inga områden: tabellen omraden saknas eller är tom.")
    if omrade is None:
        return areas[0][0]
    wanted = str(omrade).strip()
    for code, name in areas:
        if wanted == code:
            return code
    for code, name in areas:
        if contract.fold(wanted) in (contract.fold(code), contract.fold(name)):
            return code
    listed = ", ".join(f"{c} ({n})" for c, n in areas)
    raise UsageError(f"Området {omrade!r} finns inte i studien. Områdena är: {listed}.")


# --------------------------------------------------------------------------- key figures


def _lc(text: str) -> str:
    """A label inside a sentence: first letter in lower case, acronyms (LOV) and the rest kept."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _is_small(x: float, min_cell: int) -> bool:
    return bool(np.isfinite(x) and 1 <= x < min_cell)


def rest_of_study(matt: str, area: pd.Series | dict, alla: pd.Series | dict, min_cell: int = 5) -> dict:
    """The rest of the study (whole study minus the area) for one measure.

    ``area``/``alla``: published rows (``varde, taljare, namnare, undertryckt``). Returns
    ``{"varde", "taljare", "namnare", "undertryckt"}``; ``varde`` NaN and ``undertryckt`` False
    when the rest cannot be computed for this measure (not in ``REST_MEASURES``, or no data).
    See the module docstring for when it is suppressed.
    """
    out = {"varde": np.nan, "taljare": np.nan, "namnare": np.nan, "undertryckt": False}
    if matt not in REST_MEASURES:
        return out
    if bool(area.get("undertryckt", False)) or bool(alla.get("undertryckt", False)):
        return {**out, "undertryckt": True}
    scale = REST_MEASURES[matt]
    t = float(alla["taljare"]) - float(area["taljare"])
    m = MEASURES.get(matt)
    personal = m is not None and m.personal
    if scale == 0.0:  # a sum
        if not np.isfinite(t):
            return out
        if personal and m.count_is_personal and _is_small(t, min_cell):
            return {**out, "undertryckt": True}
        return {**out, "varde": t, "taljare": t}
    n = float(alla["namnare"]) - float(area["namnare"])
    if not (np.isfinite(t) and np.isfinite(n)):
        return out
    # sums of fractions (allocated places) leave floating-point dust
    t, n = round(t, 9), round(n, 9)
    if personal and (_is_small(n, min_cell) or (m.count_is_personal and _is_small(t, min_cell))):
        return {**out, "undertryckt": True}
    value = scale * t / n if n > 0 else np.nan
    return {"varde": value, "taljare": t, "namnare": n, "undertryckt": False}


def _testable(matt: str) -> bool:
    """A share of persons (or of their participations): Wilson interval and funnel flag apply."""
    m = MEASURES.get(matt)
    return m is not None and m.unit == "andel" and m.personal and m.count_is_personal


FIGURE_COLUMNS = [
    "matt",
    "benamning",
    "enhet",
    "varde",
    "taljare",
    "namnare",
    "undertryckt",
    "ovriga_varde",
    "ovriga_taljare",
    "ovriga_namnare",
    "ovriga_undertryckt",
    "alla_varde",
    "alla_taljare",
    "alla_namnare",
    "alla_undertryckt",
    "plats",
    "antal_rankade",
    "tratt",
    "ki_lo",
    "ki_hi",
]


def key_figures(
    long: pd.DataFrame, omrade: str, *, min_cell: int = 5, measures: list[str] | tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The area's key figures against the rest of the study and the whole study, one row per measure.

    ``long``: the published measures table. ``measures``: ids in display order (default
    ``PROFILE_MEASURES``); ids without rows in ``long`` are left out. Columns (``FIGURE_COLUMNS``):

    * ``varde, taljare, namnare, undertryckt`` — the area's published row;
    * ``ovriga_*`` — the rest of the study (``rest_of_study``);
    * ``alla_*`` — the whole study (``ALLA``);
    * ``plats`` — rank among the areas with a published value (1 = highest; ties share the best
      rank), ``antal_rankade`` — how many areas were ranked (``CENTRAL`` is not an area);
    * ``tratt`` — ``insats.analysis.stats.funnel_flags`` code against the whole-study share, for shares of
      persons; ``ki_lo``/``ki_hi`` — the Wilson 95 % interval (O/E: its exact Poisson interval).
    """

    ids = list(PROFILE_MEASURES if measures is None else measures)
    present = set(long["matt"])
    omrade = str(omrade)
    rows = []
    for matt in ids:
        if matt not in present:
            continue
        part = long[long["matt"] == matt]
        codes = part["omrade_kod"].astype(str)
        area_rows = part[codes == omrade]
        alla_rows = part[codes == ALLA]
        if area_rows.empty:
            continue
        a = area_rows.iloc[0]
        tot = (
            alla_rows.iloc[0]
            if len(alla_rows)
            else pd.Series({"varde": np.nan, "taljare": np.nan, "namnare": np.nan, "undertryckt": False})
        )
        a_sup, tot_sup = bool(a["undertryckt"]), bool(tot["undertryckt"])
        rest = rest_of_study(matt, a, tot, min_cell)
        others = part[~codes.isin([ALLA, CENTRAL])]
        visible = others[~others["undertryckt"].astype(bool) & others["varde"].notna()]
        value = float(a["varde"])
        rank, n_ranked = np.nan, float(len(visible))
        if not a_sup and np.isfinite(value):
            rank = float(1 + (visible["varde"] > value).sum())
        flag, lo, hi = None, np.nan, np.nan
        if not a_sup and _testable(matt) and np.isfinite(a["taljare"]) and a["namnare"] > 0:
            l_, h_ = wilson_interval(a["taljare"], a["namnare"])
            lo, hi = float(l_), float(h_)
            if not tot_sup and np.isfinite(tot["taljare"]) and tot["namnare"] > 0:
                p0 = float(tot["taljare"]) / float(tot["namnare"])
                f = funnel_flags(np.array([a["taljare"]]), np.array([a["namnare"]]), p0).iloc[0]
                flag = f if isinstance(f, str) else None
        if matt == "justerat_utfall_oe" and not a_sup:
            for col, mid in (("lo", "justerat_utfall_oe_lo"), ("hi", "justerat_utfall_oe_hi")):
                src = long[(long["matt"] == mid) & (long["omrade_kod"].astype(str) == omrade)]
                if len(src) and not bool(src["undertryckt"].iloc[0]):
                    if col == "lo":
                        lo = float(src["varde"].iloc[0])
                    else:
                        hi = float(src["varde"].iloc[0])
        rows.append(
            {
                "matt": matt,
                "benamning": measure_label(matt),
                "enhet": MEASURES[matt].unit if matt in MEASURES else None,
                "varde": np.nan if a_sup else value,
                "taljare": np.nan if a_sup else float(a["taljare"]),
                "namnare": np.nan if a_sup else float(a["namnare"]),
                "undertryckt": a_sup,
                "ovriga_varde": rest["varde"],
                "ovriga_taljare": rest["taljare"],
                "ovriga_namnare": rest["namnare"],
                "ovriga_undertryckt": rest["undertryckt"],
                "alla_varde": np.nan if tot_sup else float(tot["varde"]),
                "alla_taljare": np.nan if tot_sup else float(tot["taljare"]),
                "alla_namnare": np.nan if tot_sup else float(tot["namnare"]),
                "alla_undertryckt": tot_sup,
                "plats": rank,
                "antal_rankade": n_ranked,
                "tratt": flag,
                "ki_lo": lo,
                "ki_hi": hi,
            }
        )
    return pd.DataFrame(rows, columns=FIGURE_COLUMNS)


def _cell(value: float, suppressed: bool, unit: str | None) -> str:
    if suppressed:
        return SUPPRESSED
    text = format_value(value, unit) if np.isfinite(value) else ""
    return text or NOT_APPLICABLE


def key_figure_table(figures: pd.DataFrame, name: str) -> pd.DataFrame:
    """Display table of ``key_figures``: Swedish headers, Swedish numbers, ``..`` where suppressed,
    ``–`` where a figure cannot be computed or does not apply."""
    rows = []
    for _, r in figures.iterrows():
        unit = r["enhet"]
        rank = (
            f"{int(r['plats'])} av {int(r['antal_rankade'])}"
            if np.isfinite(r["plats"])
            else (SUPPRESSED if r["undertryckt"] else NOT_APPLICABLE)
        )
        if r["undertryckt"]:
            interval, flag = SUPPRESSED, SUPPRESSED
        else:
            interval = (
                f"{format_value(r['ki_lo'], unit)} – {format_value(r['ki_hi'], unit)}"
                if np.isfinite(r["ki_lo"]) and np.isfinite(r["ki_hi"])
                else NOT_APPLICABLE
            )
            flag = FLAG_SHORT.get(r["tratt"], NOT_APPLICABLE) if isinstance(r["tratt"], str) else NOT_APPLICABLE
        rows.append(
            {
                "Mått": r["benamning"],
                name: _cell(r["varde"], r["undertryckt"], unit),
                "Övriga områden": _cell(r["ovriga_varde"], r["ovriga_undertryckt"], unit),
                "Hela studien": _cell(r["alla_varde"], r["alla_undertryckt"], unit),
                "Plats (1 = högst)": rank,
                "95 % konfidensintervall": interval,
                "Trattdiagram": flag,
            }
        )
    cols = [
        "Mått",
        name,
        "Övriga områden",
        "Hela studien",
        "Plats (1 = högst)",
        "95 % konfidensintervall",
        "Trattdiagram",
    ]
    return pd.DataFrame(rows, columns=cols).set_index("Mått")


def standout_sentences(figures: pd.DataFrame, name: str) -> list[str]:
    """Swedish sentences on where the area lies beyond the funnel plot's 95 % / 99,8 % limits.

    One sentence per flagged measure (99,8 % first), quoting the area's and the whole study's
    values as the key-figure table shows them; then one sentence when nothing stands out, and one
    naming the measures whose area value is suppressed (they cannot be tested).
    """
    testable = figures[figures["matt"].map(_testable)]
    flagged = testable[testable["tratt"].isin(list(FLAG_TEXT))]
    order = {"over_998": 0, "under_998": 0, "over_95": 1, "under_95": 1}
    flagged = flagged.assign(_o=flagged["tratt"].map(order)).sort_values("_o", kind="stable")
    out = []
    for _, r in flagged.iterrows():
        out.append(
            f"{r['benamning']} är {format_value(r['varde'], r['enhet'])} i {name} mot "
            f"{format_value(r['alla_varde'], r['enhet'])} i hela studien – {FLAG_TEXT[r['tratt']]}."
        )
    tested = testable[testable["tratt"].notna()]
    if len(tested) and flagged.empty:
        labels = ", ".join(_lc(m) for m in tested["benamning"])
        out.append(
            f"{name} ligger inom trattdiagrammets 95 %-gränser på alla {len(tested)} andelar som kan prövas "
            f"({labels}): skillnaderna mot hela studien är inte större än vad slumpen kan ge."
        )
    suppressed = testable[testable["undertryckt"]]
    if len(suppressed):
        labels = ", ".join(_lc(m) for m in suppressed["benamning"])
        out.append(f"För {labels} är underlaget i {name} för litet för att visas ({SUPPRESSED}); de kan inte prövas.")
    return out


def missing_measures_text(study: Study, measures: list[str] | tuple[str, ...] = PROFILE_MEASURES) -> list[str]:
    """A Swedish note (a list of one, or empty) naming the profile's measures that cannot be
    computed and the tables the study lacks for them."""
    labels, tables = [], []
    for mid in measures:
        if mid not in MEASURES:
            continue
        missing = [t for t in MEASURES[mid].needs if t not in study]
        if missing:
            labels.append(_lc(measure_label(mid)))
            tables += [t for t in missing if t not in tables]
    if not labels:
        return []
    tables = [t for t in contract.TABLE_ORDER if t in tables]
    names = ", ".join(f"`{t}` ({TABLES[t].label.lower()})" for t in tables)
    word = "tabellen" if len(tables) == 1 else "tabellerna"
    return [f"**Kan inte beräknas** – studien saknar {word} {names}: {', '.join(labels)}."]


# --------------------------------------------------------------------------- interventions


def _params(start, end) -> Params:
    return Params(
        start=pd.Timestamp(start).to_period("M").to_timestamp(), end=pd.Timestamp(end).to_period("M").to_timestamp()
    )


def area_interventions(study: Study, omrade: str, start, end) -> pd.DataFrame:
    """The interventions the area can use in the period: its own and the ``CENTRAL`` ones, open
    some day in the period (the rule of ``insats.analysis.measures.open_interventions``), also those not
    counted as intervention (column ``raknas_som_insats``). Column ``central`` marks city-wide
    ones. Own first, then central; within each by category (code-list order) and name."""
    ins = study["insatser"]
    every = Study(tables={"insatser": ins.assign(raknas_som_insats=True)})
    opened = open_interventions(Context(every, _params(start, end)))
    out = ins.loc[opened.index]
    out = out[out["omrade_kod"].astype(str).isin([str(omrade), CENTRAL])].copy()
    out["central"] = out["omrade_kod"].astype(str) == CENTRAL
    out["raknas_som_insats"] = out["raknas_som_insats"].fillna(False).astype(bool)
    order = {c: i for i, c in enumerate(contract.codes("kategori"))}
    out["_k"] = out["kategori"].astype(object).map(order)
    return out.sort_values(["central", "_k", "namn"], kind="stable").drop(columns="_k").reset_index(drop=True)


def interventions_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Display table of ``area_interventions``: Swedish headers and labels. Places are not
    counts of persons, so nothing is suppressed."""

    def malgrupp(v) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or not str(v):
            return ""
        return ", ".join(contract.label("malgrupp", c) for c in str(v).split(";") if c)

    yes_no = lambda b: "Ja" if bool(b) else "Nej"  # noqa: E731
    return pd.DataFrame(
        {
            "Insats": frame["namn"].astype(str).to_numpy(),
            "Var": np.where(frame["central"], "Central", "Eget område"),
            "Kategori": [contract.label("kategori", str(c)) for c in frame["kategori"].astype(object)],
            "Regi": [contract.label("regi", str(c)) for c in frame["regi"].astype(object)],
            "Målgrupp": [malgrupp(v) for v in frame["malgrupp"]],
            "Platser": [format_number(v, missing=NOT_APPLICABLE) for v in frame["platser"]],
            "Närvarokrav": [yes_no(v) for v in frame["narvarokrav"].fillna(False)],
            "Räknas som insats": [yes_no(v) for v in frame["raknas_som_insats"]],
        }
    ).set_index("Insats")


def interventions_sentences(frame: pd.DataFrame, name: str) -> list[str]:
    """Swedish sentences on the area's interventions (from ``area_interventions``).

    The count and categories of interventions counted as intervention equal the measures
    ``utbud_insatser`` and ``utbud_kategorier`` for the area.
    """
    counted = frame[frame["raknas_som_insats"]]
    own, central = counted[~counted["central"]], counted[counted["central"]]
    n_cat = counted["kategori"].astype(object).nunique()
    if counted.empty:
        out = [f"{name} har inga öppna insatser som räknas som insats under perioden."]
    else:
        out = [
            f"{name} kan använda {len(counted)} {'insats' if len(counted) == 1 else 'insatser'} under "
            f"perioden: {len(own)} {'egen' if len(own) == 1 else 'egna'} och {len(central)} "
            f"{'central' if len(central) == 1 else 'centrala'} (för hela kommunen), i {n_cat} "
            f"{'kategori' if n_cat == 1 else 'olika kategorier'}."
        ]
        places = lambda f: format_number(float(pd.to_numeric(f["platser"], errors="coerce").fillna(0).sum()))  # noqa: E731
        text = f"De egna insatserna har {places(own)} platser"
        if len(central):
            text += f"; de centrala har {places(central)} platser som delas med alla områden"
        out.append(text + ".")
    other = frame[~frame["raknas_som_insats"]]
    if len(other):
        names = ", ".join(other["namn"].astype(str))
        out.append(
            f"Dessutom finns {len(other)} {'verksamhet' if len(other) == 1 else 'verksamheter'} "
            f"som inte räknas som insats: {names}."
        )
    return out


# --------------------------------------------------------------------------- spending


def spending_comparison(study: Study, omrade: str, start, end) -> pd.DataFrame:
    """The area's spending by category against the whole study's (``CENTRAL`` included), for the
    years of the period (``medel`` is yearly: the rule of ``insats.analysis.measures.medel_totalt``).

    Index ``kategori`` (code-list order, categories with money in either); columns
    ``belopp_omrade, andel_omrade, belopp_studie, andel_studie, raknas_omrade, raknas_studie``
    (the last two: kronor counted as intervention). ``attrs["ar"]``: the years.
    """

    ctx = Context(study, _params(start, end))
    m = medel_in_period(ctx)
    years = period_years(ctx)
    belopp = m["belopp"].astype("float64").fillna(0.0)
    raknas = belopp.where(m["raknas_som_insats"].fillna(False).astype(bool), 0.0)
    kat = m["kategori"].astype(object)
    mine = (m["omrade_kod"].astype(str) == str(omrade)).to_numpy()
    frame = pd.DataFrame(
        {
            "belopp_omrade": belopp[mine].groupby(kat[mine]).sum(),
            "belopp_studie": belopp.groupby(kat).sum(),
            "raknas_omrade": raknas[mine].groupby(kat[mine]).sum(),
            "raknas_studie": raknas.groupby(kat).sum(),
        }
    ).fillna(0.0)
    order = [c for c in contract.codes("kategori_medel") if c in frame.index]
    order += sorted(set(frame.index) - set(order))
    frame = frame.reindex(order)
    frame = frame[(frame["belopp_omrade"] != 0) | (frame["belopp_studie"] != 0)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for who in ("omrade", "studie"):
            total = frame[f"belopp_{who}"].sum()
            frame[f"andel_{who}"] = frame[f"belopp_{who}"] / total if total > 0 else np.nan
    frame.index.name = "kategori"
    frame = frame[["belopp_omrade", "andel_omrade", "belopp_studie", "andel_studie", "raknas_omrade", "raknas_studie"]]
    frame.attrs["ar"] = years
    return frame


def _years_text(years: list[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def spending_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Display table of ``spending_comparison`` with a total row; kronor are not about persons."""
    rows = []
    for kat, r in frame.iterrows():
        rows.append(
            (
                contract.label("kategori_medel", str(kat)),
                r["belopp_omrade"],
                r["andel_omrade"],
                r["belopp_studie"],
                r["andel_studie"],
            )
        )
    tot_o, tot_s = frame["belopp_omrade"].sum(), frame["belopp_studie"].sum()
    rows.append(("Totalt", tot_o, 1.0 if tot_o > 0 else np.nan, tot_s, 1.0 if tot_s > 0 else np.nan))
    return pd.DataFrame(
        {
            "Kategori": [r[0] for r in rows],
            f"{name} (kr)": [format_value(r[1], "kr") for r in rows],
            f"{name}, andel": [format_value(r[2], "andel") or NOT_APPLICABLE for r in rows],
            "Hela studien (kr)": [format_value(r[3], "kr") for r in rows],
            "Hela studien, andel": [format_value(r[4], "andel") or NOT_APPLICABLE for r in rows],
        }
    ).set_index("Kategori")


def spending_sentences(frame: pd.DataFrame, name: str) -> list[str]:
    """Swedish sentences on the area's spending against the whole study's.

    The total, the feriejobb share and the share counted as intervention equal the measures
    ``medel_totalt``, ``medel_andel_feriejobb`` and ``medel_andel_raknas_som_insats``.
    """
    years = _years_text(frame.attrs.get("ar", [])) if frame.attrs.get("ar") else "perioden"
    tot_o, tot_s = frame["belopp_omrade"].sum(), frame["belopp_studie"].sum()
    if tot_o <= 0:
        return [f"{name} har inga medel redovisade för {years}."]
    pct = lambda x: format_value(x, "andel")  # noqa: E731
    feri_o = frame["belopp_omrade"].get("feriejobb", 0.0) / tot_o
    feri_s = frame["belopp_studie"].get("feriejobb", 0.0) / tot_s
    rak_o = frame["raknas_omrade"].sum() / tot_o
    rak_s = frame["raknas_studie"].sum() / tot_s
    out = [
        f"{name} redovisar {format_value(tot_o, 'kr')} i medel för {years}, {pct(tot_o / tot_s)} av hela "
        f"studiens {format_value(tot_s, 'kr')}.",
        f"Av områdets medel gick {pct(feri_o)} till feriejobb (hela studien {pct(feri_s)}) och "
        f"{pct(rak_o)} räknas som insats (hela studien {pct(rak_s)}).",
    ]
    diff = (frame["andel_omrade"] - frame["andel_studie"]).dropna()
    if len(diff):
        kat = diff.abs().idxmax()
        r = frame.loc[kat]
        out.append(
            f"Störst skillnad mot hela studien: {_lc(contract.label('kategori_medel', str(kat)))}, "
            f"{pct(r['andel_omrade'])} av områdets medel mot {pct(r['andel_studie'])}."
        )
    return out


# --------------------------------------------------------------------------- the profile


@dataclass
class Profile:
    """Everything one area's profile shows; built by ``build_profile``."""

    omrade: str
    namn: str
    study: Study = field(repr=False)
    result: MeasureResult = field(repr=False)
    figures: pd.DataFrame = field(repr=False)
    interventions: pd.DataFrame | None = field(default=None, repr=False)
    spending: pd.DataFrame | None = field(default=None, repr=False)
    min_cell: int = 5

    @property
    def params(self) -> dict:
        """The run's parameters (for ``report.provenance``)."""
        return {"omrade": self.omrade, **self.result.params}

    @property
    def long(self) -> pd.DataFrame:
        """The published measures of the profile (``CENTRAL`` rows left out: it is not an area)."""
        t = self.result.table
        return t[t["omrade_kod"].astype(str) != CENTRAL]

    @property
    def period_text(self) -> str:
        p = self.result.params
        return f"{p['fran']} – {p['till']}"

    def heading(self) -> str:
        return f"## {self.namn}\n\nPeriod: {self.period_text}. Minsta redovisade antal: {self.min_cell}."

    def _empty(self) -> pd.Series:
        """Measures with no value at all in the study (nothing to compare, e.g. no LOV providers)."""
        f = self.figures
        return (
            f["varde"].isna()
            & ~f["undertryckt"]
            & f["alla_varde"].isna()
            & ~f["alla_undertryckt"]
            & (f["antal_rankade"] == 0)
        )

    def key_table(self) -> pd.DataFrame:
        """The key-figure table (measures with no value anywhere in the study left out)."""
        return key_figure_table(self.figures[~self._empty()], self.namn)

    def key_notes(self) -> str:
        text = (
            f"*Övriga områden* = hela studien utom {self.namn} (för medel ingår centrala medel). "
            f"{NOT_APPLICABLE} = kan inte beräknas eller gäller inte måttet. Konfidensintervall och "
            "trattdiagram gäller andelar av personer och deras deltaganden."
        )
        empty = self.figures.loc[self._empty(), "benamning"]
        if len(empty):
            text += " Utan värden i studien under perioden (visas inte): " + ", ".join(_lc(m) for m in empty) + "."
        return text

    def standouts(self) -> list[str]:
        return standout_sentences(self.figures, self.namn)

    def missing(self) -> list[str]:
        return missing_measures_text(self.study)

    def interventions_text(self) -> list[str]:
        if self.interventions is None:
            return [
                f"Insatserna kan inte beskrivas: studien saknar tabellen `insatser` ({TABLES['insatser'].label.lower()})."
            ]
        return interventions_sentences(self.interventions, self.namn)

    def spending_text(self) -> list[str]:
        if self.spending is None:
            return [f"Medlen kan inte beskrivas: studien saknar tabellen `medel` ({TABLES['medel'].label.lower()})."]
        return spending_sentences(self.spending, self.namn)

    def summary(self) -> str:
        """The generated Swedish summary (Markdown): where the area stands out, its interventions,
        its spending."""
        parts = self.standouts()
        outcome_missing = [t for t in MEASURES[OUTCOME_MEASURE].needs if t not in self.study]
        if outcome_missing:
            parts = parts + [
                f"Utfall kan inte jämföras: studien saknar {', '.join(f'`{t}`' for t in outcome_missing)}."
            ]
        return "\n".join(f"- {s}" for s in parts + self.interventions_text() + self.spending_text())

    def chart_measures(self, n: int = 4) -> list[str]:
        """Up to ``n`` measures of ``CHART_MEASURES`` with at least one published area value."""
        long = self.long
        out = []
        for m in CHART_MEASURES:
            part = long[(long["matt"] == m) & (long["omrade_kod"] != ALLA)]
            if len(part) and part["varde"].notna().any():
                out.append(m)
            if len(out) == n:
                break
        return out

    def ranked_charts(self, n: int = 4) -> list:

        om = self.study["omraden"] if "omraden" in self.study else None
        return [
            ranked_bars(self.long, m, focus=self.omrade, omraden=om, min_cell=self.min_cell)
            for m in self.chart_measures(n)
        ]

    def outcome_note(self) -> str | None:
        """Why the outcome's funnel plot cannot be drawn (Swedish), else None."""

        note = missing_note(self.study, MEASURES[OUTCOME_MEASURE].needs, "Utfallet")
        if note:
            return note
        part = self.long[(self.long["matt"] == OUTCOME_MEASURE) & (self.long["omrade_kod"] == ALLA)]
        if part.empty or not (part["namnare"].iloc[0] > 0):
            return "**Utfallet kan inte visas:** inga deltaganden avslutades under perioden."
        return None

    def funnel_chart(self):
        """The outcome's funnel plot with the area highlighted (None when it cannot be drawn)."""

        if self.outcome_note():
            return None
        om = self.study["omraden"] if "omraden" in self.study else None
        return funnel_plot(self.long, OUTCOME_MEASURE, focus=self.omrade, omraden=om, min_cell=self.min_cell)

    def outcome_text(self) -> str:
        """One sentence on the area in the funnel plot (or why it is not there)."""
        note = self.outcome_note()
        if note:
            return note
        row = self.figures[self.figures["matt"] == OUTCOME_MEASURE]
        if row.empty:
            return f"{self.namn} har inga deltaganden som avslutades under perioden."
        r = row.iloc[0]
        if r["undertryckt"]:
            return (
                f"{self.namn} har för få avslutade deltaganden för att visas ({SUPPRESSED}) och "
                "finns därför inte i diagrammet."
            )
        if not np.isfinite(r["varde"]):
            return f"{self.namn} har inga deltaganden som avslutades under perioden."
        where = FLAG_TEXT.get(r["tratt"], "inom trattdiagrammets 95 %-gränser")
        return (
            f"{self.namn}: {format_value(r['varde'], 'andel')} av {format_number(r['namnare'])} avslutade "
            f"deltaganden ledde till arbete eller studier, mot {format_value(r['alla_varde'], 'andel')} i hela "
            f"studien – {where}."
        )

    def interventions_display(self) -> pd.DataFrame | None:
        return None if self.interventions is None else interventions_table(self.interventions)

    def spending_display(self) -> pd.DataFrame | None:
        return None if self.spending is None else spending_table(self.spending, self.namn)

    def spending_chart(self):
        """Each area's spending shares by category, the area highlighted (None without ``medel``)."""

        if self.spending is None:
            return None
        om = self.study["omraden"] if "omraden" in self.study else None
        return spending_bars(
            self.study["medel"], omraden=om, ar=self.spending.attrs["ar"], normalize=True, focus=self.omrade
        )


def profile_result(study: Study, start=None, end=None, min_cell: int = 5) -> MeasureResult:
    """The published measures a profile shows (``PROFILE_MEASURES`` only: a profile is fast), for
    the printed profile and the dashboard alike."""
    return compute_measures(study, start=start, end=end, min_cell=min_cell, only=list(PROFILE_MEASURES))


def build_profile(
    study: Study,
    omrade: str | None = None,
    *,
    start=None,
    end=None,
    min_cell: int = 5,
    result: MeasureResult | None = None,
) -> Profile:
    """One area's profile. ``omrade`` None: the study's first area. ``fran``/``till``: months
    (None: the whole study). ``result``: already computed measures (a dashboard computes them
    once for all areas); otherwise only ``PROFILE_MEASURES`` are computed."""
    code = choose_area(study, omrade)
    if result is None:
        result = profile_result(study, start, end, min_cell)
    name = area_names(study).get(code, code)
    figures = key_figures(result.table, code, min_cell=min_cell)
    start, end = result.params["fran"], result.params["till"]
    interventions = area_interventions(study, code, start, end) if "insatser" in study else None
    spending = spending_comparison(study, code, start, end) if "medel" in study else None
    return Profile(
        omrade=code,
        namn=name,
        study=study,
        result=result,
        figures=figures,
        interventions=interventions,
        spending=spending,
        min_cell=min_cell,
    )
