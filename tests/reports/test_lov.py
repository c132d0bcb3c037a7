"""Valfrihet och LOV (insats.reports.utvardering.lov): regimes that change inside the period, cost per regi,
the provider market and the wording of the volume table, on the small study, on variants lacking LOV or
costs, and on the generated Sundbyberg study against independent computations from its raw tables."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.contract import ALLA
from insats.data.load import load_study
from insats.data.study import Study
from insats.reports import utvardering as U
from insats.reports.utvardering import lov_regim as R
from tests.reports.test_utvardering import small_study
from tests.support import ROOT

SBG = ROOT / "data" / "exempel" / "sundbyberg"
DPM = 365.25 / 12


def _with(study: Study, **changes) -> Study:
    frames = {n: study[n] for n in study.tables}
    frames.update(changes)
    return Study.from_frames(**frames)


def _texts(sec) -> str:
    return " ".join(b.text for b in sec.blocks if hasattr(b, "text"))


def _tables(sec) -> dict[str, pd.DataFrame]:
    return {b.caption: b.frame for b in sec.blocks if hasattr(b, "caption")}


def _regime_study() -> Study:
    """The small study with both LOV interventions from 2016-07-01 and a procured contract that ended the day
    before (no participations)."""
    s = small_study()
    ins = s["insatser"].copy()
    ins["giltig_fran"] = ins["giltig_fran"].astype("datetime64[ns]")
    ins.loc[ins["insats_id"] == "I3", "giltig_fran"] = pd.Timestamp("2016-07-01")
    extra = ins.iloc[[1]].assign(
        insats_id="I4",
        regi="upphandlad",
        utforare="Gamla avtalet AB",
        lov=False,
        giltig_fran=pd.NaT,
        giltig_till=pd.Timestamp("2016-06-30"),
    )
    return _with(s, insatser=pd.concat([ins, extra], ignore_index=True))


def test_volume_column_says_what_it_means():
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    sec = U.section_lov(ctx, None, min_cell=1, lov_min_deltagare=20)
    vol = _tables(sec)["Utförare och volym per kategori"]
    assert "Utförare som volymen räcker till, vid minst 20 deltagare per år" in vol.columns
    assert not any(c.startswith("Utförare med minst") for c in vol.columns)
    assert "inte hur många utförare som finns i dag" in _texts(sec)


def test_regime_change_is_found_and_said():
    study = _regime_study()
    ctx = U.make_context(study, "2016-01", "2016-12", min_cell=1)
    change = R.regime_change(ctx, "2016-07-01")
    assert change.lov_start == pd.Timestamp("2016-07-01")
    assert change.ended_before == [("Gamla avtalet AB", pd.Timestamp("2016-06-30"))]
    assert change.reform_same_day
    assert not R.regime_change(ctx, "2016-01-01").reform_same_day
    assert R.lov_period_context(ctx, change).params.start == pd.Timestamp("2016-07-01")
    sec = U.section_lov(ctx, None, min_cell=1, reform_datum="2016-07-01")
    text = _texts(sec)
    assert "Två perioder med olika regler" in text and "samma dag som närvarokravet" in text
    assert "Gamla avtalet AB (till 2016-06-30)" in text
    assert any(c.startswith("Samma månader (2016-07 – 2016-12)") for c in _tables(sec))
    assert "samma månader" in sec.conclusion
    # LOV there from the start (the original small study: I3 has no giltig_fran): no regime change
    plain = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    assert R.regime_change(plain, "2016-07-01") is None
    assert "Två perioder" not in _texts(U.section_lov(plain, None, min_cell=1))


def test_provider_periods_show_when_each_provider_ended_participations():
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    # X: D1 ended 2016-03-01 and D4 2016-04-14; L1: D2 ended 2016-08-04; L2 has no ended participation
    assert R.provider_periods(ctx) == {"X": "2016-03 – 2016-04", "L1": "2016-08"}


def test_cost_by_regi_hand_count():
    ctx = U.make_context(small_study(), "2016-01", "2016-12", min_cell=1)
    out = R.cost_by_regi(ctx, U.outcomes_by_group(ctx, "regi")).set_index("regi")
    # egen_omrade (I1, 1000 kr): D1 02-01..03-01 (30 days), D4 01-15..04-14 (91 days); 1 exit (D1) of 2
    m = (30 + 91) / DPM
    assert out.loc["egen_omrade", "manader"] == pytest.approx(m)
    assert out.loc["egen_omrade", "kostnad"] == pytest.approx(1000 * m)
    assert out.loc["egen_omrade", "per_manad"] == pytest.approx(1000)
    assert out.loc["egen_omrade", "kpu"] == pytest.approx(1000 * m / 1)
    # lov: D2 at I2 (2000 kr) 07-05..08-04 (31 days), D3 at I3 (500 kr) 02-15..12-31 (321 days, ongoing)
    m2, c2 = (31 + 321) / DPM, (2000 * 31 + 500 * 321) / DPM
    assert out.loc["lov", "manader"] == pytest.approx(m2) and out.loc["lov", "kostnad"] == pytest.approx(c2)
    assert out.loc["lov", "per_manad"] == pytest.approx(c2 / m2)
    assert out.loc[ALLA, "kostnad"] == pytest.approx(1000 * m + c2)


def test_sections_say_what_is_missing_without_lov_or_costs():
    s = small_study()
    ins = s["insatser"].assign(lov=False, regi=["egen_omrade", "upphandlad", "upphandlad"])
    ctx = U.make_context(_with(s, insatser=ins), "2016-01", "2016-12", min_cell=1)
    sec = U.section_lov(ctx, None, min_cell=1, reform_datum="2016-07-01")
    text = _texts(sec)
    assert "LOV-utförare saknas" in text and "Två perioder" not in text
    assert "Administrationen av ett valfrihetssystem syns inte i uppgifterna" in text
    assert any(c.startswith("Utförarmarknaden per kategori") for c in _tables(sec))
    no_cost = _with(s, insatser=s["insatser"].drop(columns=["kostnad_per_plats_manad"]))
    sec = U.section_lov(U.make_context(no_cost, "2016-01", "2016-12", min_cell=1), None, min_cell=1)
    assert "Kostnaden per regi kan inte beräknas" in _texts(sec)
    assert "Kostnad per regi" not in _tables(sec)


@pytest.fixture(scope="module")
def sbg():
    if not SBG.exists():
        pytest.skip("exempeldata saknas: kör insats generate sundbyberg")
    study = load_study(SBG)
    ctx = U.make_context(study, "2015-01", "2016-12")
    return study, ctx, U.section_lov(ctx, None, reform_datum="2016-01-01")


def test_sundbyberg_lov_cost_in_the_same_months_from_raw_tables(sbg):
    """LOV's cost per participant-month and per exit in 2016, counted directly from deltaganden and insatser."""
    study, _, sec = sbg
    d = study["deltaganden"].merge(study["insatser"], on="insats_id")
    lov = d[d["lov"].astype(bool)]
    first, last = pd.Timestamp("2016-01-01"), pd.Timestamp("2016-12-31")
    run = lov[(lov["start_datum"] <= last) & (lov["slut_datum"].isna() | (lov["slut_datum"] >= first))]
    days = (run["slut_datum"].fillna(last).clip(upper=last) - run["start_datum"].clip(lower=first)).dt.days + 1
    months = days / DPM
    cost = float((months * run["kostnad_per_plats_manad"]).sum())
    ended = lov[lov["slut_datum"].between(first, last)]
    exits = int(ended["avslut"].isin(["arbete", "studier"]).sum())
    got = sec.findings["lov_samma_manader"]["lov"]
    assert got["per_manad"] == pytest.approx(cost / months.sum())
    assert got["kpu"] == pytest.approx(cost / exits)
    assert got["kpu_lo"] < got["kpu"] < got["kpu_hi"]
    assert "egen_central" in sec.findings["lov_samma_manader"]
    assert "Två perioder med olika regler" in _texts(sec)
    assert "samma dag som närvarokravet" in sec.conclusion


def test_sundbyberg_provider_market_from_raw_tables(sbg):
    study, ctx, sec = sbg
    d = study["deltaganden"].merge(study["insatser"], on="insats_id")
    started = d[d["start_datum"].between("2016-01-01", "2016-12-31")]
    coach = started[started["kategori"] == "jobbsok_coachning"]["utforare"].value_counts()
    m = R.provider_market(R.lov_period_context(ctx, R.regime_change(ctx)), 20).set_index("kategori")
    assert m.loc["jobbsok_coachning", "utforare"] == len(coach)
    assert m.loc["jobbsok_coachning", "storsta"] == coach.iloc[0]
    assert m.loc["jobbsok_coachning", "storsta_andel"] == pytest.approx(coach.iloc[0] / coach.sum())
    assert m.loc["jobbsok_coachning", "for_fa"] == (coach < 20).sum()  # one year: per year = count
    table = next(f for c, f in _tables(sec).items() if c.startswith("Utförarmarknaden per kategori (2016-01"))
    assert "Största utförarens andel av deltagandena" in table.columns
