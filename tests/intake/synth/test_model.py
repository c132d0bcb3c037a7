"""The real figures and planted effects of the generated studies (insats.intake.synth.model)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from insats.intake import synth
from tests.support import REFERENCE


def test_constants_match_reference():
    pop_file = REFERENCE / "sthlm_district_population_2000_2011.csv"
    rec_file = REFERENCE / "sthlm_district_bistand_persons_2015_2017.csv"
    if not (pop_file.exists() and rec_file.exists()):
        pytest.skip("shared/reference saknas")
    pop = pd.read_csv(pop_file)
    pop = pop[(pop["area_level"] == "district") & (pop["year"] == 2011) & (pop["kind"] == "observed")]
    rec = pd.read_csv(rec_file)
    rec = rec[(rec["area_level"] == "district") & (rec["year"] == 2015)]
    assert {d[0] for d in synth.STOCKHOLM_DISTRICTS} == set(pop["area"]) == set(rec["area"])
    p = pop.set_index("area")["population_31dec"]
    r = rec.set_index("area")
    for name, population, recipients, pct in synth.STOCKHOLM_DISTRICTS:
        assert p[name] == population, name
        assert r.loc[name, "persons_with_bistand"] == recipients, name
        assert r.loc[name, "pct_of_population"] == pytest.approx(pct), name


def test_planted_effects_are_well_formed():
    for kind in synth.KINDS:
        eff = synth.planted_effects(kind)
        areas = eff["omrade"]
        assert abs(sum(areas.values())) < 1e-9
        assert 0.5 <= max(areas.values()) <= 0.7 and -0.7 <= min(areas.values()) <= -0.5
        order = eff["kategori_ordning"]
        assert order[0] == "praktik_privat" and order[-1] == "kurs"
        k = eff["kategori"]
        chain = [
            "praktik_privat",
            "arbetstraning",
            "praktik_offentlig",
            "matchning",
            "jobbsok_coachning",
            "vagledning",
            "kurs",
        ]
        assert all(k[a] - k[b] >= 0.2 - 1e-9 for a, b in itertools.pairwise(chain))
        assert abs(k["arbetstraning"] - k["kommunal_anstallning"]) <= 0.1
