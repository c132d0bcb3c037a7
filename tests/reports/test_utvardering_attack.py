"""An attack on the tables of who is offered an intervention and whom the categories reach: no hidden count of
people 1–4 may be worked out from what the report shows.

The attacker reads the published tables of ``section_offer`` (every adult recipient by hinder group and by
distance to the labour market) and of the reach part of ``section_interventions`` (each category's persons and
their shares per group, and the same for every adult recipient), and is generous to itself: it knows that the
groups of a table add up to its total, that the same count appears in several tables (every adult recipient by
hinder group in the offer table and in the comparison row; a category's persons in its three tables), that
offered + not offered = persons, and it reads every shown share as its exact count. It then solves every
equation with one unknown, over and over. The test fails if it learns a count of 1–4.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from insats import contract
from insats.analysis.privacy import SUPPRESSED
from insats.contract import ALLA
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import utvardering as U
from insats.reports.publication import study_publication
from insats.reports.utvardering import rackvidd as R
from insats.reports.utvardering.avstand import COLUMN, distance_label
from insats.reports.utvardering.erbjudande import CAPTION_ALL, CAPTION_DISTANCE
from tests.support.attack import propagate


def _num(text: str) -> float | None:
    return None if text == SUPPRESSED or text == "" else float(re.sub(r"[^\d,]", "", text).replace(",", "."))


def attack(study: Study, min_cell: int, start="2015-01", end="2016-12") -> list[str]:
    pub = study_publication(study, min_cell=min_cell, evaluation={"reform_datum": "2016-01-01"})
    ctx = U.make_context(study, start, end, min_cell=min_cell)
    with pub.active(start, end):
        offer = U.section_offer(ctx, pub.result(start, end).table, min_cell=min_cell)
        reach = U.section_interventions(ctx, pub.result(start, end).table, min_cell=min_cell)
    # the truth, unprotected
    people = U.offer_frame(ctx, all_groups=True)
    truth: dict[tuple, float] = {("vuxna", ALLA): len(people), ("erbj", ALLA): float(people["erbjuden"].sum())}
    truth[("ej", ALLA)] = truth[("vuxna", ALLA)] - truth[("erbj", ALLA)]
    for char in ("hindergrupp", COLUMN):
        for g, part in people.groupby(char):
            truth[("vuxna", char, g)] = len(part)
            truth[("erbj", char, g)] = float(part["erbjuden"].sum())
            truth[("ej", char, g)] = len(part) - float(part["erbjuden"].sum())
    comp = R.participant_composition(ctx)
    for r in comp.itertuples():
        if r.enhet == R.REFERENCE:
            truth.setdefault(("vuxna", r.egenskap, r.grupp), r.antal)
        else:
            truth[("kat", r.enhet, r.egenskap, r.grupp)] = r.antal
            truth[("katn", r.enhet)] = r.personer
    labels = {
        "hindergrupp": {R.group_label("hindergrupp", g): g for g in set(people["hindergrupp"])},
        COLUMN: {distance_label(g): g for g in set(people[COLUMN])},
    }
    # what is shown
    known: dict[tuple, float] = {}
    shown_small = []
    for caption, char in ((CAPTION_ALL, "hindergrupp"), (CAPTION_DISTANCE, COLUMN)):
        if caption not in offer.tables:
            continue
        t = offer.tables[caption]
        for row in t.itertuples(index=False):
            g = ALLA if row.Grupp == "Alla vuxna biståndsmottagare" else labels[char][row.Grupp]
            key = (ALLA,) if g == ALLA else (char, g)
            for name, text in (("vuxna", row.Personer), ("erbj", row.Erbjudna)):
                v = _num(text)
                if v is not None:
                    known[(name, *key)] = v
    names = {contract.label("kategori", k): k for k in set(comp["enhet"]) - {R.REFERENCE}}
    for char, word in R.CHARACTERISTICS.items():
        caption = f"Vilka insatserna når: deltagarnas {word} per kategori, jämfört med alla vuxna biståndsmottagare"
        if caption not in reach.tables:
            continue
        t = reach.tables[caption]
        for _, row in t.iterrows():
            unit = R.REFERENCE if row["Insatser"] == "Alla vuxna biståndsmottagare" else names[row["Insatser"]]
            n = _num(row["Personer"])
            if n is not None:
                known[("vuxna", ALLA) if unit == R.REFERENCE else ("katn", unit)] = n
            for col in t.columns[2:]:
                code = next(g for g in comp["grupp"] if R.group_label(char, g) == col)
                key = ("vuxna", char, code) if unit == R.REFERENCE else ("kat", unit, char, code)
                if _num(row[col]) is not None and key in truth:
                    known[key] = truth[key]  # a shown share gives its count (generous)
    for key, v in known.items():
        if 1 <= v < min_cell:
            shown_small.append(f"{key} = {v} is shown")
    # equations Σ plus = Σ minus
    eqs: list[tuple[list, list]] = []
    for key in truth:
        if key[0] == "ej":
            eqs.append(([("erbj", *key[1:]), key], [("vuxna", *key[1:])]))
    for char in ("hindergrupp", COLUMN, "aldersgrupp"):
        for name in ("vuxna", "erbj", "ej"):
            parts = [k for k in truth if k[0] == name and len(k) == 3 and k[1] == char]
            if parts:
                eqs.append((parts, [(name, ALLA)]))
        for unit in set(comp["enhet"]) - {R.REFERENCE}:
            parts = [k for k in truth if k[0] == "kat" and k[1] == unit and k[2] == char]
            if parts:
                eqs.append((parts, [("katn", unit)]))
    for plus, minus in eqs:  # the equations hold in the data (a check on the attacker itself)
        assert np.isclose(sum(truth[k] for k in plus), sum(truth[k] for k in minus))
    return shown_small + propagate(eqs, known, truth, min_cell)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "persons"), [(7, 900), (2016, 400)])
def test_offer_and_reach_tables_withstand_the_attacker(seed, persons):
    tables, _ = generate_tables("sundbyberg", seed=seed, persons=persons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert attack(Study.from_frames(**tables), 5) == []


@pytest.mark.slow
def test_the_attacker_finds_what_primary_suppression_alone_leaves(monkeypatch):
    """The attack is not toothless: if a category's composition hid only its counts of 1–4 (no complementary
    cell), the attacker would get them back as the category's persons minus the other groups."""

    def primary_only(comp, min_cell, *, by="kategori"):
        out = comp.copy()
        small = (out["antal"] >= 1) & (out["antal"] < min_cell) & (out["enhet"] != R.REFERENCE)
        out["undertryckt"], out["personer_undertryckt"] = small, False
        out.loc[small, ["antal", "andel", "lo", "hi"]] = np.nan
        return out

    monkeypatch.setattr(R, "protect_composition", primary_only)
    tables, _ = generate_tables("sundbyberg", seed=7, persons=900)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = attack(Study.from_frames(**tables), 5)
    assert any("recovered by subtraction" in f and "'kat'" in f for f in found)
