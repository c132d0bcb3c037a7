"""The generated summary: a sentence per topic, every number from the measures."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    MEASURES,
    SHARE_MEASURES_FOR_EQUALITY,
    MeasureResult,
    measure_label,
)
from insats.contract import TABLES
from insats.data.study import Study
from insats.reports.kartlaggning.common import (
    GAP_CATEGORIES,
    OUTCOME_TABLES,
    _alla,
    _areas,
    _areas_word,
    _month,
    _name_list,
    _names,
    _pct,
    _published_areas,
    join_names,
)
from insats.reports.kartlaggning.medel import _feriejobb_sentence, feriejobb_comparison
from insats.reports.kartlaggning.uppfoljning import uncomputable_measures
from insats.reports.kartlaggning.utbud import category_gaps, organisation_table
from insats.reports.kartlaggning.utfall import (
    differing_areas,
    equality_table,
    false_flags,
    false_flags_sentence,
    outcome_sentences,
)
from insats.reports.render import literal
from insats.text import format_number

# --------------------------------------------------------------------------- summary


def _extremes(long: pd.DataFrame, matt: str, names: Mapping[str, str]) -> tuple | None:
    """(min value, names at min, max value, names at max) over published areas, or None."""
    part = _published_areas(long, matt)
    if part.empty:
        return None
    lo, hi = part["varde"].min(), part["varde"].max()
    at = lambda v: [literal(names.get(c, c)) for c in part.loc[np.isclose(part["varde"], v), "omrade_kod"]]  # noqa: E731  (a one-line local helper)
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
            yes = int((comp["raknar_feriejobb"] == True).sum())  # noqa: E712  (elementwise on a nullable boolean column)
            no = int((comp["raknar_feriejobb"] == False).sum())  # noqa: E712  (elementwise on a nullable boolean column)
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
        parts = []
        if alla is not None and pd.notna(alla["varde"]):
            parts.append(f"I hela studien avslutades {_pct(alla['varde'])} av deltagandena med arbete eller studier.")
        parts += outcome_sentences(differing_areas(long), names)
        if parts:
            out["utfall"] = " ".join(parts)

    eq_all = equality_table(long)
    eq = eq_all[
        eq_all["matt"].isin(SHARE_MEASURES_FOR_EQUALITY) | eq_all["matt"].str.startswith(("utbud_", "medel_andel"))
    ]
    eq = eq[np.isfinite(eq["cv"]) & (eq["n"] >= 2)]
    if len(eq):
        top = eq.loc[eq["cv"].idxmax()]
        out["likstallighet"] = (
            f"Störst skillnad mellan områdena, mätt som spridning i förhållande till nivån, har "
            f"måttet {measure_label(top['matt']).lower()} ({format_number(top['cv'], 2)})."
        )
        if eq_all["utanfor_95"].notna().any():
            out["likstallighet"] += " " + false_flags_sentence(false_flags(eq_all)).replace(
                "Tabellen gör", "Likställighetstabellen gör"
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


def _focus_sentence(study, result, start, end, code, names) -> str:
    long = result.table
    name = literal(names.get(code, code))
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
