"""Who the interventions reach (insats.reports.utvardering.rackvidd): hand counts on the small study, the
composition on the generated Sundbyberg study against pandas, disclosure control, and the section on studies
without the distance column and without assessments."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.analysis.measures import compute_measures
from insats.analysis.privacy import SUPPRESSED
from insats.contract import HINDERGRUPP
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import utvardering as U
from insats.reports.utvardering import rackvidd as R
from tests.reports.test_utvardering import small_study


def _row(comp, unit, char, group):
    r = comp[(comp["enhet"] == unit) & (comp["egenskap"] == char) & (comp["grupp"] == group)]
    assert len(r) == 1
    return r.iloc[0]


def test_composition_hand_count():
    """Small study: adults P1–P4 (P1, P2, P3 arbetslösa, P4 ohälsa); P1 and P4 in arbetsträning (I1), P2 and P3
    in coachning (I2, I3). Distance from the assessments: P1 nära, P2 mellan, P3 saknas, P4 långt."""
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    comp = R.participant_composition(ctx)
    assert set(comp["enhet"]) == {R.REFERENCE, "arbetstraning", "jobbsok_coachning"}
    assert _row(comp, R.REFERENCE, "hindergrupp", "arbetsloshet")[["antal", "personer"]].tolist() == [3, 4]
    assert _row(comp, "arbetstraning", "hindergrupp", "ohalsa")[["antal", "personer"]].tolist() == [1, 2]
    assert _row(comp, "jobbsok_coachning", "hindergrupp", "arbetsloshet")["andel"] == 1.0
    assert _row(comp, "arbetstraning", "arbetsmarknadsavstand", "langt")["antal"] == 1
    assert _row(comp, "jobbsok_coachning", "arbetsmarknadsavstand", "saknas")["antal"] == 1
    assert _row(comp, "jobbsok_coachning", "aldersgrupp", "18_24")["antal"] == 1  # P2, 21 years
    by_insats = R.participant_composition(ctx, by="insats_id")
    assert set(by_insats["enhet"]) == {R.REFERENCE, "I1", "I2", "I3"}
    # every characteristic's groups add up to the unit's persons
    sums = comp.groupby(["enhet", "egenskap"])["antal"].sum()
    persons = comp.groupby(["enhet", "egenskap"])["personer"].first()
    assert (sums == persons).all()


def test_small_counts_are_hidden_with_their_complements():
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=5)
    pub = R.protect_composition(R.participant_composition(ctx), 5)
    # every count is 1–4 (or 0 with a hidden partner): nothing of a category is published
    cats = pub[pub["enhet"] != R.REFERENCE]
    assert cats["undertryckt"].all() and cats["andel"].isna().all()
    table = R.composition_table(pub, "hindergrupp", {"arbetstraning": "Arbetsträning"})
    assert table.loc[0, "Personer"] == SUPPRESSED and table.loc[0, "Ohälsa"] == SUPPRESSED


def test_complement_of_a_hidden_group_is_hidden():
    comp = pd.DataFrame(
        {
            "enhet": ["k"] * 3,
            "egenskap": ["hindergrupp"] * 3,
            "grupp": ["arbetsloshet", "ohalsa", "sociala_skal"],
            "antal": [40.0, 3.0, 7.0],
            "personer": [50.0] * 3,
        }
    )
    comp["andel"] = comp["antal"] / comp["personer"]
    comp["lo"], comp["hi"] = comp["andel"] - 0.1, comp["andel"] + 0.1
    pub = R.protect_composition(comp, 5)
    hidden = dict(zip(pub["grupp"], pub["undertryckt"]))
    assert hidden["ohalsa"] and sum(hidden.values()) == 2  # 3 is hidden, and one more so it cannot be 50 − 40 − 7
    assert not pub["personer_undertryckt"].any()


@pytest.fixture(scope="module")
def sundbyberg():
    tables, _ = generate_tables("sundbyberg", seed=2016)
    return tables


def test_composition_on_sundbyberg_agrees_with_pandas(sundbyberg):
    """Per category: distinct adult recipients of 2015–2016 with a participation overlapping the period, and
    their hinder groups and distances, counted with pandas from the raw tables."""
    study = Study.from_frames(**sundbyberg)
    ctx = U.make_context(study, "2015-01", "2016-12")
    comp = R.participant_composition(ctx)
    p = sundbyberg["personer"].set_index("person_id")
    b = sundbyberg["bistand"].astype({"person_id": str})
    b = b[(b["manad"].dt.year - b["person_id"].map(p["fodelsear"]).astype(int)).to_numpy() >= 18]
    adults = set(b["person_id"])
    d = sundbyberg["deltaganden"].astype({"person_id": str})
    d = d[
        d["person_id"].isin(adults)
        & (d["start_datum"] <= "2016-12-31")
        & (d["slut_datum"].isna() | (d["slut_datum"] >= "2015-01-01"))
    ]
    d = d.merge(sundbyberg["insatser"][["insats_id", "kategori"]], on="insats_id")
    d = d.drop_duplicates(["kategori", "person_id"])
    d["grupp"] = d["person_id"].map(p["forsorjningshinder"]).map(HINDERGRUPP)
    d["avstand"] = d["person_id"].map(p["arbetsmarknadsavstand"])
    for (kat, g), n in d.groupby(["kategori", "grupp"]).size().items():
        assert _row(comp, kat, "hindergrupp", g)["antal"] == n
    for (kat, a), n in d.groupby(["kategori", "avstand"]).size().items():
        assert _row(comp, kat, "arbetsmarknadsavstand", a)["antal"] == n
    ref = pd.Series([p.loc[i, "arbetsmarknadsavstand"] for i in adults]).value_counts()
    for a, n in ref.items():
        assert _row(comp, R.REFERENCE, "arbetsmarknadsavstand", a)["antal"] == n


def _section(tables, *, drop_column=False, drop_assessments=False):
    tables = dict(tables)
    if drop_column:
        tables["personer"] = tables["personer"].drop(columns="arbetsmarknadsavstand")
    if drop_assessments:
        tables.pop("bedomningar")
    study = Study.from_frames(**tables)
    ctx = U.make_context(study, "2015-01", "2016-12")
    m = compute_measures(study, start="2015-01", end="2016-12", only=["utfall_arbete_studier_andel"])
    return U.section_interventions(ctx, m.table)


def test_section_names_whom_the_categories_reach(sundbyberg):
    sec = _section(sundbyberg)
    t = sec.tables[
        "Vilka insatserna når: deltagarnas avstånd till arbetsmarknaden per kategori, jämfört med alla vuxna biståndsmottagare"
    ]
    assert t.iloc[-1]["Insatser"] == "Alla vuxna biståndsmottagare"
    assert list(t.columns) == ["Insatser", "Personer", "Nära arbetsmarknaden", "Mellan", "Långt från arbetsmarknaden"]
    # the planted effect: långt is under-represented in most categories, and the conclusion says so
    assert (
        sec.findings["rackvidd_under"]["personer som står långt från arbetsmarknaden"]
        >= sec.findings["rackvidd_kategorier"] // 2
    )
    assert "långt från arbetsmarknaden" in sec.conclusion
    note = next(n for n in sec.notes if n.startswith("*Vilka insatserna når*"))
    assert "*Arbetsträning* når främst arbetslösa" in note and "når sällan" in note
    for text in [sec.conclusion, *sec.notes]:
        assert "Wilson" not in text and "KI" not in text.split()


def test_section_without_the_column_uses_assessments_and_says_so(sundbyberg):
    sec = _section(sundbyberg, drop_column=True)
    assert any("Avståndet till arbetsmarknaden saknas i uppgifterna" in n for n in sec.notes)
    t = sec.tables[
        "Vilka insatserna når: deltagarnas avstånd till arbetsmarknaden per kategori, jämfört med alla vuxna biståndsmottagare"
    ]
    assert "Uppgift saknas" in t.columns  # persons never assessed


def test_section_without_column_and_assessments_says_what_is_missing(sundbyberg):
    sec = _section(sundbyberg, drop_column=True, drop_assessments=True)
    assert any("kan inte visas" in n and "arbetsmarknadsavstand" in n for n in sec.notes)
    captions = [c for c in sec.tables if c.startswith("Vilka insatserna når")]
    assert len(captions) == 2 and not any("avstånd" in c for c in captions)
    assert "försörjningshinder" in captions[0]
    assert sec.findings["rackvidd_kategorier"] >= 5
