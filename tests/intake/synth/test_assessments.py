"""insats.intake.synth.assessments: the planted organisation around the assessment, recovered from
the raw frames by a computation of its own (no package measure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.intake import synth
from insats.intake.synth import assessments


def _go90(t: dict) -> pd.Series:
    """Per bedomningar row: a participation of the person starts 0–90 days after the assessment."""
    b = t["bedomningar"].reset_index(drop=True)
    d = t["deltaganden"][["person_id", "start_datum"]]
    m = b.reset_index().merge(d, on="person_id", how="left")
    days = (m["start_datum"] - m["bedomning_datum"]).dt.days
    m["hit"] = (days >= 0) & (days <= 90)
    return m.groupby("index")["hit"].any().reindex(range(len(b)), fill_value=False)


def test_both_kinds_have_units_and_hand_overs(both):
    kind, (t, meta) = both
    b = t["bedomningar"]
    assert b["enhet"].notna().all()
    handed = b["overlamnad_till"].notna()
    assert (b.loc[handed, "overlamnad_till"] != b.loc[handed, "enhet"]).all()
    assert b.loc[handed, "bedomning_datum"].notna().all()
    assert "vagin_organisation" in meta["planterade_effekter"]
    if kind == "stockholm":
        assert b["enhet"].str.startswith("Försörjningsstöd ").any() and (b["enhet"] == "Jobbtorg Stockholm").any()


def test_planted_hand_over_and_second_assessments_are_recovered(sthlm_large):
    t, meta = sthlm_large
    planted = meta["planterade_effekter"]["vagin_organisation"]
    b = t["bedomningar"].reset_index(drop=True)
    go = _go90(t)
    # hand-overs are drawn for first assessments (a second one is made where the first handed over to)
    assessed = b["bedomning_datum"].notna() & ~b.sort_values("ansokan_datum").duplicated("person_id").sort_index()
    handed = b["overlamnad_till"].notna()
    assert not handed[b.sort_values("ansokan_datum").duplicated("person_id").sort_index()].any()
    p = planted["sannolikhet_overlamnad"]
    assert handed[assessed & go].mean() == pytest.approx(p["insats_inom_90_dagar"], abs=0.02)
    assert handed[assessed & ~go].mean() == pytest.approx(p["ingen_insats_inom_90_dagar"], abs=0.02)
    # so the handed over wait longer: fewer of them start within 90 days
    assert go[assessed & handed].mean() < go[assessed & ~handed].mean() - 0.15
    # second assessments, by the first result (first = the person's earliest application)
    first = b.sort_values("ansokan_datum").drop_duplicates("person_id")
    first = first[first["bedomning_datum"].notna()]
    again = first["person_id"].map(b["person_id"].value_counts()) >= 2
    q = planted["sannolikhet_bedomd_igen"]
    # drawn with the planted probability, then dropped when the new application falls after the data
    # or the person's assistance: the observed share is lower, never higher
    oklar = again[first["resultat"] == "oklar"].mean()
    other = again[first["resultat"] != "oklar"].mean()
    assert 0.6 * q["oklar"] < oklar <= q["oklar"] + 0.03
    assert 0.6 * q["ovriga"] < other <= q["ovriga"] + 0.01


def test_stockholm_results_lean_towards_capacity_when_an_insats_follows(sthlm_large):
    t, _ = sthlm_large
    b = t["bedomningar"].reset_index(drop=True)
    first = ~b.duplicated("person_id")
    go = _go90(t)[first & b["bedomning_datum"].notna()]
    res = b.loc[go.index, "resultat"]
    got = go.groupby(res).mean()
    assert got["hel"] > got["ingen"] + 0.15 and got["delvis"] > got["oklar"]


def test_the_assessment_stream_leaves_the_other_tables_alone(monkeypatch):
    a, _ = synth.generate_tables("sundbyberg", seed=4, persons=600)
    monkeypatch.setattr(assessments, "ASSESSMENT_STREAM", 77)
    b, _ = synth.generate_tables("sundbyberg", seed=4, persons=600)
    for name in a:
        if name != "bedomningar":
            pd.testing.assert_frame_equal(a[name], b[name])
    # Sundbyberg's first assessments come from the main stream and stay; units and second ones change
    cols = ["person_id", "ansokan_datum", "bedomning_datum", "metod", "resultat"]
    firsts = [x["bedomningar"].drop_duplicates("person_id")[cols].reset_index(drop=True) for x in (a, b)]
    pd.testing.assert_frame_equal(*firsts)
    assert not np.array_equal(
        a["bedomningar"]["enhet"].to_numpy(dtype=object), b["bedomningar"]["enhet"].to_numpy(dtype=object)
    ) or len(a["bedomningar"]) != len(b["bedomningar"])
