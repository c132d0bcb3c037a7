"""The kartläggning's method part: how good the case-mix model behind the adjusted outcome is, and how the
funnel plots' limits are set."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from insats.analysis.measures import outcome_model
from insats.analysis.privacy import SUPPRESSED, protect_measures
from insats.contract import ALLA
from insats.data.study import Study
from insats.reports.kartlaggning.common import OUTCOME_TABLES, _context, _missing, sectioned
from insats.reports.kartlaggning.utbud import size_and_breadth
from insats.reports.render import Note
from insats.text import format_number

CV_FOLDS = 5
"""Folds of the cross-validated model checks (``stats.observed_expected``)."""


def model_checks(study: Study, start, end) -> pd.DataFrame | None:
    """The case-mix model of ``justerat_utfall_oe`` with its checks (``measures.outcome_model`` with
    ``CV_FOLDS`` folds): the O/E per area in the frame, the checks in ``attrs``. None without outcomes."""
    return outcome_model(_context(study, start, end), folds=CV_FOLDS)


def calibration_table(oe: pd.DataFrame, min_cell: int = 5) -> pd.DataFrame:
    """Observed and expected outcomes by tenths of the predicted probability, for display, with a total row.

    A tenth whose observed outcomes or participations are 1 … ``min_cell`` − 1 is suppressed, and one more
    so that it cannot be recomputed from the total (``privacy.protect_measures``); the expected count is
    blanked with it."""
    cal = oe.attrs["calibration"].reset_index()
    rows = pd.DataFrame(
        {
            "grupp": [str(g) for g in cal["grupp"]] + [ALLA],
            "n": [*cal["n"].astype(float), float(cal["n"].sum())],
            "observerat": [*cal["observerat"].astype(float), float(cal["observerat"].sum())],
            "forvantat": [*cal["forvantat"].astype(float), float(cal["forvantat"].sum())],
        }
    )
    long = pd.DataFrame(
        {
            "matt": "kalibrering",
            "omrade_kod": rows["grupp"],
            "varde": 0.0,
            "taljare": rows["observerat"],
            "namnare": rows["n"],
        }
    )
    sup = protect_measures(long, min_cell=min_cell)["undertryckt"].to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        obs_share = rows["observerat"] / rows["n"]
        exp_share = rows["forvantat"] / rows["n"]

    def cell(values, fmt):
        return [SUPPRESSED if s else fmt(v) for v, s in zip(values, sup)]

    return pd.DataFrame(
        {
            "Tiondel efter förväntad sannolikhet": ["Alla" if g == ALLA else g for g in rows["grupp"]],
            "Avslutade deltaganden": cell(rows["n"], lambda v: format_number(v, 0)),
            "Observerade avslut till arbete/studier": cell(rows["observerat"], lambda v: format_number(v, 0)),
            "Förväntade": cell(rows["forvantat"], lambda v: format_number(v, 1)),
            "Andel observerad": cell(obs_share, lambda v: format_number(v, 1, percent=True)),
            "Andel förväntad": cell(exp_share, lambda v: format_number(v, 1, percent=True)),
        }
    )


def model_sentences(oe: pd.DataFrame) -> list[str]:
    """Swedish sentences on the model's discrimination and calibration (``observed_expected``'s checks)."""
    a = oe.attrs
    out = []
    c = a.get("c_statistic", np.nan)
    c_cv = a.get("c_statistic_cv", np.nan)
    if np.isfinite(c):
        out.append(
            f"**Hur väl modellen skiljer** (c-statistik): {format_number(c, 2)}. Av alla par av ett deltagande som "
            "ledde till arbete eller studier och ett som inte gjorde det, gav modellen det förra den högre "
            f"sannolikheten i {format_number(c, 0, percent=True)} av "
            "paren (0,5 = ingen förmåga, 1 = perfekt)"
            + (
                f"; prövat på deltaganden som modellen inte skattats på (femfaldig korsvalidering) "
                f"{format_number(c_cv, 2)}."
                if np.isfinite(c_cv)
                else "."
            )
        )
    slope = a.get("calibration_slope_cv", np.nan)
    large = a.get("calibration_in_the_large_cv", np.nan)
    if np.isfinite(slope):
        out.append(
            f"**Kalibrering** (korsvaliderad): lutning {format_number(slope, 2)} (1 = de förväntade sannolikheterna "
            "är lagom spridda; under 1 = modellen överdriver skillnaderna mellan deltagarna) och nivå "
            f"{format_number(large, 2)} (0 = modellen väntar sig lagom många avslut totalt)."
        )
    elif a.get("folds", 0) == 0 and "c_statistic_cv" in a:
        out.append(
            "Korsvalideringen görs inte: det finns för få avslut till arbete eller studier (eller för få andra "
            "avslut) för att dela upp deltagandena."
        )
    hl = a.get("hosmer_lemeshow")
    if hl:
        out.append(
            f"Observerat och förväntat per tiondel av den förväntade sannolikheten står i tabellen; Hosmer–"
            f"Lemeshows test ger p = {format_number(hl['p'], 2)} "
            + (
                "(ingen säker skillnad mellan observerat och förväntat)."
                if hl["p"] >= 0.05
                else "(observerat och förväntat skiljer sig mer än slumpen förklarar i någon del av skalan; "
                "läs det justerade utfallet med försiktighet)."
            )
        )
    dropped = int(a.get("n_dropped", 0))
    if dropped:
        out.append(
            f"{format_number(dropped)} avslutade deltaganden saknar någon uppgift som modellen behöver och ingår inte."
        )
    return out


@sectioned
def section_metod(study: Study, start, end, *, min_cell: int = 5, long: pd.DataFrame | None = None) -> list[Any]:
    """The method part: the case-mix model's discrimination and calibration (table by tenths), and how the
    funnel plots' limits handle overdispersion and many comparisons at once."""
    items: list[Any] = [
        Note(
            "**Trattdiagram och överspridning.** Varje trattdiagram visar två gränser: de vanliga, som säger om ett "
            "område skiljer sig från hela studien mer än slumpen förklarar, och gränser som också tar hänsyn till "
            "att områden alltid skiljer sig något åt (överspridning, skattad med Spiegelhalters metod med "
            "winsorisering, korrigerad för att det bara finns ett fåtal områden). Rapportens flaggor använder de "
            "justerade gränserna; tabellen om likställighet visar båda och hur många gånger större skillnaderna "
            "mellan områdena är än slumpen. När många områden och mått prövas samtidigt anges hur många flaggor "
            "slumpen ensam skulle ge. Rangordningar av andelar ersätts av intervall för platsen (se "
            "`docs/antaganden.md`, S9–S13)."
        )
    ]
    if long is not None and "insatser" in study:
        sb = size_and_breadth(study, long, start, end)
        rho, p = sb.attrs.get("rho"), sb.attrs.get("p")
        if rho is not None and np.isfinite(rho):
            items.append(
                Note(
                    f"**Storlek och bredd.** Rangkorrelation (Spearman) mellan områdenas antal biståndsmottagare och "
                    f"antalet kategorier i deras eget utbud: {format_number(rho, 2)} bland {sb.attrs.get('n', 0)} "
                    f"områden; p = {format_number(p, 3)} från ett permutationstest (se `docs/antaganden.md`, K10)."
                )
            )
    missing = _missing(study, OUTCOME_TABLES, "Fallmixmodellen")
    if missing:
        return items + missing
    oe = model_checks(study, start, end)
    if oe is None:
        return [
            *items,
            Note("Fallmixmodellen kan inte skattas: det behövs avslutade deltaganden med båda slagen av avslut."),
        ]
    items.append(
        Note(
            "**Fallmixmodellen bakom det justerade utfallet.** Det förväntade antalet avslut till arbete eller "
            "studier kommer från en logistisk regression av ålder, kön, utrikes född, utbildning, "
            "försörjningshinder och bistånd under de tolv månaderna före start (andel av de observerade "
            "månaderna, och hur många av dem som finns i uppgifterna), skattad på alla områden tillsammans. "
            "Intervallet för observerat/förväntat kommer från samma test som avgör om området avviker (se "
            "`docs/antaganden.md`, M14, S7 och S8). " + " ".join(model_sentences(oe))
        )
    )
    items.append(calibration_table(oe, min_cell))
    return items
