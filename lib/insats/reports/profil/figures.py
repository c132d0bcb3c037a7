"""The profile's key figures: the area against the rest of the study and the whole study."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    FUNNEL_CODES,
    MEASURES,
    measure_label,
)
from insats.analysis.overdispersion import shrunken_ranks
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import wilson_interval
from insats.charts import format_value
from insats.contract import ALLA, CENTRAL, TABLES
from insats.data.study import Study
from insats.errors import DataError, UsageError
from insats.reports.publication import REST_MEASURES
from insats.reports.render import literal

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


FLAG_TEXT = {
    "over_998": "över trattdiagrammets 99,8 %-gräns, en skillnad som varken slumpen eller de vanliga skillnaderna "
    "mellan områden nästan någonsin ger",
    "over_95": "över trattdiagrammets 95 %-gräns (men inom 99,8 %-gränsen), mer än områden brukar skilja sig åt",
    "under_95": "under trattdiagrammets 95 %-gräns (men inom 99,8 %-gränsen), mer än områden brukar skilja sig åt",
    "under_998": "under trattdiagrammets 99,8 %-gräns, en skillnad som varken slumpen eller de vanliga skillnaderna "
    "mellan områden nästan någonsin ger",
}
"""Where an area lies in the funnel plot whose limits are adjusted for overdispersion (the flags of
``likstallighet_tratt__<matt>``: the plain limits are widened by how much areas usually differ)."""
_FLAG_OF_CODE = {v: k for k, v in FUNNEL_CODES.items()}
FLAG_SHORT = {
    "over_998": "Över 99,8 %",
    "over_95": "Över 95 %",
    "inom": "Inom gränserna",
    "under_95": "Under 95 %",
    "under_998": "Under 99,8 %",
}
UNRANKED = ("justerat_utfall_oe",)
"""Measures given no rank: a ratio to a model's expectation ranks mostly on chance (its interval says more)."""
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
    "plats_lo",
    "plats_hi",
    "krympt",
    "tratt",
    "tratt_vanlig",
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
      rank), ``antal_rankade`` — how many areas were ranked (``CENTRAL`` is not an area); for shares of
      persons ``plats`` is NaN and the rank is an interval instead (a rank of shares that rest on few
      persons is mostly chance): ``plats_lo``/``plats_hi`` — the central 95 % of the area's rank under the
      empirical-Bayes model, and ``krympt`` — its shrunken share (``overdispersion.shrunken_ranks`` over the
      published areas, τ² from ``likstallighet_tau2__<matt>``); NaN with fewer than three published areas;
    * ``tratt`` — the funnel-plot code against the whole-study share with limits adjusted for
      overdispersion (``likstallighet_tratt__<matt>``), ``tratt_vanlig`` against the plain limits, for
      shares of persons; ``ki_lo``/``ki_hi`` — the Wilson 95 % interval (O/E: its score interval).

    Nothing is given for a suppressed area: no rank, no shrunken share, no flag, no interval.
    """

    ids = list(PROFILE_MEASURES if measures is None else measures)
    by_measure = _rows_by_measure(long)
    omrade = str(omrade)
    rows = []
    for matt in ids:
        part = by_measure.get(matt, [])
        a = _first(part, omrade)
        if a is None:
            continue
        tot = _first(part, ALLA) or {"varde": np.nan, "taljare": np.nan, "namnare": np.nan, "undertryckt": False}
        a_sup, tot_sup = bool(a["undertryckt"]), bool(tot["undertryckt"])
        rest = rest_of_study(matt, a, tot, min_cell)
        others = [r for r in part if r["omrade_kod"] not in (ALLA, CENTRAL)]
        visible = [r for r in others if not bool(r["undertryckt"]) and not pd.isna(r["varde"])]
        value = float(a["varde"])
        rank, n_ranked = np.nan, float(len(visible))
        rank_lo, rank_hi, shrunk = np.nan, np.nan, np.nan
        if not a_sup and np.isfinite(value) and matt not in UNRANKED:
            rank = float(1 + sum(1 for r in visible if r["varde"] > value))
        flag, flag_plain, lo, hi = None, None, np.nan, np.nan
        if not a_sup and _testable(matt) and np.isfinite(a["taljare"]) and a["namnare"] > 0:
            l_, h_ = wilson_interval(a["taljare"], a["namnare"])
            lo, hi = float(l_), float(h_)
            flag = _published_flag(by_measure, f"likstallighet_tratt__{matt}", omrade)
            flag_plain = _published_flag(by_measure, f"likstallighet_tratt_vanlig__{matt}", omrade)
            rank = np.nan
            if not tot_sup and np.isfinite(tot["taljare"]) and tot["namnare"] > 0:
                rank_lo, rank_hi, shrunk = _rank_interval(by_measure, matt, visible, omrade, tot)
        if matt == "justerat_utfall_oe" and not a_sup:
            for col, mid in (("lo", "justerat_utfall_oe_lo"), ("hi", "justerat_utfall_oe_hi")):
                src = _first(by_measure.get(mid, []), omrade)
                if src is not None and not bool(src["undertryckt"]):
                    if col == "lo":
                        lo = float(src["varde"])
                    else:
                        hi = float(src["varde"])
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
                "plats_lo": rank_lo,
                "plats_hi": rank_hi,
                "krympt": shrunk,
                "tratt": flag,
                "tratt_vanlig": flag_plain,
                "ki_lo": lo,
                "ki_hi": hi,
            }
        )
    return pd.DataFrame(rows, columns=FIGURE_COLUMNS)


_ROW_COLUMNS = ("omrade_kod", "varde", "taljare", "namnare", "undertryckt")


def _rows_by_measure(long: pd.DataFrame) -> dict[str, list[dict]]:
    """``long``'s rows per measure as plain dicts (``_ROW_COLUMNS``, ``omrade_kod`` as text), in
    their order: read once, instead of the table being filtered again for each measure and each
    looked-up row (a profile's table has a few hundred rows; each pandas filter cost more than
    the arithmetic on them)."""
    columns = {c: long[c].tolist() for c in _ROW_COLUMNS}
    columns["omrade_kod"] = [str(c) for c in columns["omrade_kod"]]
    parts: dict[str, list[dict]] = {}
    for i, matt in enumerate(long["matt"].tolist()):
        parts.setdefault(str(matt), []).append({c: columns[c][i] for c in _ROW_COLUMNS})
    return parts


def _first(rows: list[dict], omrade: str) -> dict | None:
    """The first of ``rows`` for area ``omrade``, or None."""
    return next((r for r in rows if r["omrade_kod"] == omrade), None)


def _published_flag(by_measure: dict[str, list[dict]], mid: str, omrade: str) -> str | None:
    """The funnel flag of a published likställighet row (``FUNNEL_CODES`` back to its code), or None."""
    row = _first(by_measure.get(mid, []), omrade)
    if row is None or not np.isfinite(row["varde"]):
        return None
    return _FLAG_OF_CODE.get(int(row["varde"]))


def _rank_interval(
    by_measure: dict[str, list[dict]], matt: str, visible: list[dict], omrade: str, tot: dict
) -> tuple[float, float, float]:
    """(rank low, rank high, shrunken share) of the area among the published areas (``shrunken_ranks``);
    NaN with fewer than three of them (the between-area variance cannot be estimated)."""
    ok = [r for r in visible if np.isfinite(float(r["taljare"])) and r["namnare"] > 0]
    if len(ok) < 3 or omrade not in {r["omrade_kod"] for r in ok}:
        return np.nan, np.nan, np.nan
    p0 = float(tot["taljare"]) / float(tot["namnare"])
    tau = _first(by_measure.get(f"likstallighet_tau2__{matt}", []), ALLA)
    tau2 = float(tau["varde"]) if tau is not None and np.isfinite(tau["varde"]) else None
    try:
        sr = shrunken_ranks(
            np.array([r["taljare"] for r in ok], dtype=float),
            np.array([r["namnare"] for r in ok], dtype=float),
            p0,
            tau2=tau2,
            index=np.array([r["omrade_kod"] for r in ok]),
        )
    except DataError:
        return np.nan, np.nan, np.nan
    r = sr.loc[omrade]
    return float(r["rang_lo"]), float(r["rang_hi"]), float(r["skattning"])


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
        if r["undertryckt"]:
            rank = SUPPRESSED
        elif np.isfinite(r["plats_lo"]) and np.isfinite(r["plats_hi"]):
            lo_, hi_ = int(r["plats_lo"]), int(r["plats_hi"])
            rank = f"{lo_} av {int(r['antal_rankade'])}" if lo_ == hi_ else f"{lo_}–{hi_} av {int(r['antal_rankade'])}"
        elif np.isfinite(r["plats"]):
            rank = f"{int(r['plats'])} av {int(r['antal_rankade'])}"
        else:
            rank = NOT_APPLICABLE
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
                "Justerad för litet underlag": SUPPRESSED
                if r["undertryckt"]
                else (format_value(r["krympt"], unit) if np.isfinite(r["krympt"]) else NOT_APPLICABLE),
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
        "Justerad för litet underlag",
        "95 % konfidensintervall",
        "Trattdiagram",
    ]
    return pd.DataFrame(rows, columns=cols).set_index("Mått")


def standout_sentences(figures: pd.DataFrame, name: str) -> list[str]:
    """Swedish sentences on where the area lies beyond the funnel plot's 95 % / 99,8 % limits.

    The limits are those adjusted for overdispersion (``tratt``). One sentence per flagged measure (99,8 %
    first), quoting the area's and the whole study's values as the key-figure table shows them; one naming
    the measures outside only the plain limits (a difference beyond chance, but of the size areas usually
    have); one when nothing stands out; one where the raw outcome and the case-mix adjusted O/E point
    different ways, saying which to trust (``outcome_sentence``); and one naming the measures whose area
    value is suppressed (they cannot be tested).
    """
    shown = literal(name)  # the name as it goes into the sentences (Markdown)
    testable = figures[figures["matt"].map(_testable)]
    flagged = testable[testable["tratt"].isin(list(FLAG_TEXT))]
    order = {"over_998": 0, "under_998": 0, "over_95": 1, "under_95": 1}
    flagged = flagged.assign(_o=flagged["tratt"].map(order)).sort_values("_o", kind="stable")
    out = []
    for _, r in flagged.iterrows():
        out.append(
            f"{r['benamning']} är {format_value(r['varde'], r['enhet'])} i {shown} mot "
            f"{format_value(r['alla_varde'], r['enhet'])} i hela studien – {FLAG_TEXT[r['tratt']]}."
        )
    tested = testable[testable["tratt"].notna()]
    if len(tested) and flagged.empty:
        labels = ", ".join(_lc(m) for m in tested["benamning"])
        which = "den enda andel som kan prövas" if len(tested) == 1 else f"alla {len(tested)} andelar som kan prövas"
        gaps = "skillnaden" if len(tested) == 1 else "skillnaderna"
        out.append(
            f"{shown} ligger inom trattdiagrammets 95 %-gränser på {which} ({labels}): {gaps} mot hela studien "
            "är inte större än vad slumpen och de vanliga skillnaderna mellan områden ger."
        )
    plain_only = testable[testable["tratt"].isin(["inom"]) & testable["tratt_vanlig"].isin(list(FLAG_TEXT))]
    if len(plain_only):
        labels = ", ".join(_lc(m) for m in plain_only["benamning"])
        out.append(
            f"För {labels} skiljer sig {shown} från hela studien mer än slumpen ger, men inte mer än områden brukar "
            "skilja sig åt: en sådan skillnad finns mellan de flesta områden och pekar inte ut området."
        )
    adjusted = outcome_sentence(figures, name)
    if adjusted:
        out.append(adjusted)
    suppressed = testable[testable["undertryckt"]]
    if len(suppressed):
        labels = ", ".join(_lc(m) for m in suppressed["benamning"])
        out.append(f"För {labels} är underlaget i {shown} för litet för att visas ({SUPPRESSED}); de kan inte prövas.")
    return out


def outcome_sentence(figures: pd.DataFrame, name: str) -> str | None:
    """Where the raw outcome (its funnel flag) and the case-mix adjusted O/E (its 95 % interval) point
    different ways, a Swedish sentence saying so and that the adjusted comparison is the one to trust;
    None when they agree or either is missing or suppressed."""
    f = figures.set_index("matt")
    if OUTCOME_MEASURE not in f.index or "justerat_utfall_oe" not in f.index:
        return None
    raw, oe = f.loc[OUTCOME_MEASURE], f.loc["justerat_utfall_oe"]
    if raw["undertryckt"] or oe["undertryckt"] or not isinstance(raw["tratt"], str):
        return None
    if not (np.isfinite(oe["ki_lo"]) and np.isfinite(oe["ki_hi"]) and np.isfinite(oe["varde"])):
        return None
    raw_sign = {"over_998": 1, "over_95": 1, "under_95": -1, "under_998": -1}.get(raw["tratt"], 0)
    adj_sign = 1 if oe["ki_lo"] > 1 else -1 if oe["ki_hi"] < 1 else 0
    if raw_sign == adj_sign:
        return None
    ratio = (
        f"observerat/förväntat är {format_value(oe['varde'], 'kvot')} (95 % konfidensintervall "
        f"{format_value(oe['ki_lo'], 'kvot')}–{format_value(oe['ki_hi'], 'kvot')})"
    )
    word = {1: "högre än", -1: "lägre än", 0: "som"}
    if raw_sign == 0:
        head = f"Andelen avslut till arbete eller studier i {literal(name)} skiljer sig inte från hela studiens mer än väntat"
    else:
        head = f"Andelen avslut till arbete eller studier i {literal(name)} är {word[raw_sign]} i hela studien"
    tail = "som väntat för områdets deltagare" if adj_sign == 0 else f"{word[adj_sign]} väntat för områdets deltagare"
    return (
        f"{head}, men justerat för deltagarnas ålder, kön, bakgrund, utbildning och tid med bistånd är "
        f"utfallet {tail}: {ratio}. Lita på den justerade jämförelsen; den råa andelen speglar också vilka "
        "deltagare området har."
    )


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
