"""The interventions an area can use in the period, as a table and in sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    Context,
    Params,
    open_interventions,
)
from insats.contract import CENTRAL
from insats.data.study import Study
from insats.reports.profil.figures import NOT_APPLICABLE
from insats.reports.render import literal
from insats.text import format_number

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

    yes_no = lambda b: "Ja" if bool(b) else "Nej"  # noqa: E731  (a one-line local helper)
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
        out = [f"{literal(name)} har inga öppna insatser som räknas som insats under perioden."]
    else:
        out = [
            f"{literal(name)} kan använda {len(counted)} {'insats' if len(counted) == 1 else 'insatser'} under "
            f"perioden: {len(own)} {'egen' if len(own) == 1 else 'egna'} och {len(central)} "
            f"{'central' if len(central) == 1 else 'centrala'} (för hela kommunen), i {n_cat} "
            f"{'kategori' if n_cat == 1 else 'olika kategorier'}."
        ]
        places = lambda f: format_number(float(pd.to_numeric(f["platser"], errors="coerce").fillna(0).sum()))  # noqa: E731  (a one-line local helper)
        text = f"De egna insatserna har {places(own)} platser"
        if len(central):
            text += f"; de centrala har {places(central)} platser som delas med alla områden"
        out.append(text + ".")
    other = frame[~frame["raknas_som_insats"]]
    if len(other):
        names = ", ".join(literal(n) for n in other["namn"].astype(str))
        out.append(
            f"Dessutom finns {len(other)} {'verksamhet' if len(other) == 1 else 'verksamheter'} "
            f"som inte räknas som insats: {names}."
        )
    return out
