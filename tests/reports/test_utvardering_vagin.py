"""En väg in in the utvärdering (insats.reports.utvardering.vagin): the organisation findings — hand-overs,
persons assessed more than once — with Wilson intervals in the section's conclusion, checked by hand on the
small study, against plain pandas on the raw generated Sundbyberg tables and statsmodels' Wilson interval,
and hidden when the counts are small."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from insats.analysis.measures import compute_measures
from insats.data.load import load_study
from insats.reports import utvardering as U
from tests.reports.test_utvardering import organised_study
from tests.support import ROOT

SBG = ROOT / "data" / "exempel" / "sundbyberg"


def _section(study, start="2016-01", end="2016-12", min_cell=1):
    c = U.make_context(study, start, end, min_cell=min_cell)
    return U.section_path(c, compute_measures(study, start=start, end=end, min_cell=min_cell).raw, min_cell=min_cell)


def _wilson(k, n):
    return proportion_confint(k, n, method="wilson")


def test_organisation_findings_with_intervals_hand_count():
    s = _section(organised_study())
    f = s.findings
    # assessed applications: P1 twice, P2, P4 (P3 not assessed); one hand-over (P2 → Arbetsmarknad)
    assert f["vagin_andel_overlamnade"] == pytest.approx(1 / 4)
    assert (f["vagin_andel_overlamnade_lo"], f["vagin_andel_overlamnade_hi"]) == pytest.approx(_wilson(1, 4))
    # persons assessed: P1, P2, P4; more than once: P1
    assert (f["vagin_andel_flera_bedomningar_lo"], f["vagin_andel_flera_bedomningar_hi"]) == pytest.approx(
        _wilson(1, 3)
    )
    # 4 of 5 applications assessed
    assert (f["vagin_andel_bedomda_lo"], f["vagin_andel_bedomda_hi"]) == pytest.approx(_wilson(4, 5))
    # handed over with capacity: P2 (no insats within 90 days); not handed over: P1 (insats after 17 days)
    assert (f["vagin_overlamnade_andel_lo"], f["vagin_overlamnade_andel_hi"]) == pytest.approx(_wilson(0, 1))
    c = s.conclusion.replace("\xa0", " ")
    assert "25 % av bedömningarna lämnades över till en annan enhet (95 % konfidensintervall" in c
    assert "33 % av de bedömda personerna bedömdes mer än en gång" in c
    assert "Av de överlämnade med hel eller delvis arbetsförmåga" in c and "kan vara slump" in c
    multi = s.tables["Personer som bedöms mer än en gång"].set_index("Område")
    assert (
        multi.loc["Hela studien", "95 %-intervall"].replace("\xa0", " ") == "6,1 % – 79,2 %"
    )  # Wilson 1/3: 0,0615–0,7923


def test_small_counts_keep_the_organisation_out_of_the_conclusion():
    s = _section(organised_study(), min_cell=5)
    assert "vagin_andel_overlamnade" not in s.findings
    assert s.findings.get("vagin_andel_flera_bedomningar") is None
    assert "lämnades över" not in s.conclusion and "mer än en gång" not in s.conclusion


def test_without_hand_over_column_no_hand_over_sentence():
    s = _section(organised_study(overlamnad=False))
    assert "vagin_andel_overlamnade" not in s.findings and "lämnades över" not in s.conclusion
    assert "bedömdes mer än en gång" in s.conclusion


def test_sundbyberg_organisation_agrees_with_raw_tables():
    if not SBG.exists():
        pytest.skip("exempeldata saknas: kör insats generate sundbyberg")
    study = load_study(SBG)
    period = json.loads((SBG / "studie.json").read_text())["period"]
    s = _section(study, period["fran"], period["till"], min_cell=5)
    b = pd.read_csv(SBG / "bedomningar.csv", dtype=str)
    inside = b["ansokan_datum"].between("2015-01-01", "2016-12-31") & b["bedomning_datum"].notna()
    a = b[inside]
    norm = lambda v: v.fillna("").str.strip().str.lower()  # noqa: E731
    handed = (norm(a["overlamnad_till"]) != "") & (norm(a["overlamnad_till"]) != norm(a["enhet"]))
    f = s.findings
    assert f["vagin_andel_overlamnade"] == pytest.approx(handed.sum() / len(a))
    assert (f["vagin_andel_overlamnade_lo"], f["vagin_andel_overlamnade_hi"]) == pytest.approx(
        _wilson(handed.sum(), len(a))
    )
    per_person = a.groupby("person_id").size()
    k, n = int((per_person >= 2).sum()), len(per_person)
    assert f["vagin_andel_flera_bedomningar"] == pytest.approx(k / n)
    assert (f["vagin_andel_flera_bedomningar_lo"], f["vagin_andel_flera_bedomningar_hi"]) == pytest.approx(
        _wilson(k, n)
    )
    # the planted hand-over gap (10 % vs 35 % hand-over by early start) shows with intervals apart
    assert f["vagin_overlamnade_andel_hi"] < f["vagin_ej_overlamnade_andel_lo"]
    assert "intervallen överlappar inte" in s.conclusion
