"""The profile's key figures: the area against the rest of the study and the whole study."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    MEASURES,
    measure_label,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import funnel_flags, wilson_interval
from insats.charts import format_value
from insats.contract import ALLA, CENTRAL, TABLES
from insats.data.study import Study
from insats.errors import DataError, UsageError

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
    codes = []
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
    for code, _name in areas:
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
    count_personal = m is not None and m.count_is_personal
    if scale == 0.0:  # a sum
        if not np.isfinite(t):
            return out
        if personal and count_personal and _is_small(t, min_cell):
            return {**out, "undertryckt": True}
        return {**out, "varde": t, "taljare": t}
    n = float(alla["namnare"]) - float(area["namnare"])
    if not (np.isfinite(t) and np.isfinite(n)):
        return out
    # sums of fractions (allocated places) leave floating-point dust
    t, n = round(t, 9), round(n, 9)
    if personal and (_is_small(n, min_cell) or (count_personal and _is_small(t, min_cell))):
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
