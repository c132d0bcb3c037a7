"""Distance to the labour market of generated persons (insats.intake.synth.distance): every person has one,
it depends on hinder group, area and long-term assistance, the planted effect on getting an intervention is
recovered from the raw tables with plain pandas, and drawing it changes no other generated value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.contract import HINDERGRUPP
from insats.intake import synth
from insats.intake.synth import distance as D
from insats.intake.synth import tables as T
from insats.intake.synth.draws import choose_rows
from insats.intake.synth.model import DISTANCE


def _wilson(k: float, n: float) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_every_person_has_a_distance_from_the_code_list(both):
    _kind, (tables, meta) = both
    d = tables["personer"]["arbetsmarknadsavstand"]
    assert d.notna().all() and set(d) == set(DISTANCE["koder"])
    assert meta["planterade_effekter"]["arbetsmarknadsavstand"]["insats_logit"] == DISTANCE["insats_logit"]


def test_distance_follows_hinder_group(sbg):
    p = sbg[0]["personer"]
    share = pd.crosstab(p["forsorjningshinder"].map(HINDERGRUPP), p["arbetsmarknadsavstand"], normalize="index")
    assert share.loc["ohalsa", "langt"] > 0.5 > share.loc["arbetsloshet", "langt"]
    assert share.loc["arbetsloshet", "nara"] > 2 * share.loc["ohalsa", "nara"]


def test_planted_effect_recovered_from_raw_tables(sbg):
    """Persons in the middle get an intervention clearly more often than those nearest or furthest: the share
    of persons with any participation, counted straight from personer and deltaganden, with 95 % intervals
    that do not overlap; and within the hinder groups other than arbetslöshet too."""
    tables, _ = sbg
    p = tables["personer"].copy()
    p["insats"] = p["person_id"].isin(set(tables["deltaganden"]["person_id"]))
    g = p.groupby("arbetsmarknadsavstand", observed=True)["insats"].agg(["sum", "size"])
    lo = {d: _wilson(g.loc[d, "sum"], g.loc[d, "size"]) for d in g.index}
    assert lo["mellan"][0] > lo["nara"][1]
    assert lo["mellan"][0] > lo["langt"][1]
    p["grupp"] = p["forsorjningshinder"].map(HINDERGRUPP)
    others = p[p["grupp"] != "arbetsloshet"].groupby("arbetsmarknadsavstand", observed=True)["insats"].mean()
    assert others["mellan"] > others["nara"] + 0.1 and others["mellan"] > others["langt"] + 0.1


def test_planted_effect_recovered_on_the_example_study():
    """The seed of data/exempel/sundbyberg (2016): offered within 90 days, adults in 2015–2016, counted with
    pandas from the tables (first assistance month in the period + 90 days, erbjuden_datum else start_datum)."""
    tables, _ = synth.generate_tables("sundbyberg", seed=2016)
    b = tables["bistand"].astype({"person_id": str})
    p = tables["personer"].set_index("person_id")
    b = b[(b["manad"].dt.year - b["person_id"].map(p["fodelsear"]).astype(int)).to_numpy() >= 18]
    first = b.groupby("person_id")["manad"].min()
    d = tables["deltaganden"].astype({"person_id": str})
    d = d[d["person_id"].isin(first.index)]
    offer = d["erbjuden_datum"].fillna(d["start_datum"])
    day0 = d["person_id"].map(first)
    ok = (offer <= day0 + pd.Timedelta(days=90)) & (d["slut_datum"].isna() | (d["slut_datum"] >= day0))
    offered = set(d.loc[ok, "person_id"])
    frame = pd.DataFrame({"d": p.loc[first.index, "arbetsmarknadsavstand"].to_numpy(), "o": first.index.isin(offered)})
    g = frame.groupby("d")["o"].agg(["sum", "size"])
    ci = {k: _wilson(g.loc[k, "sum"], g.loc[k, "size"]) for k in g.index}
    assert ci["mellan"][0] > max(ci["nara"][1], ci["langt"][1])


def test_calibration_keeps_each_persons_rate():
    rng = np.random.default_rng(3)
    n = 2000
    groups = np.array(list(DISTANCE["andelar"]), dtype=object)[rng.integers(0, 4, n)]
    prior = D.distance_probabilities(groups, rng.uniform(-1, 1, n), rng.random(n) < 0.4)
    assert np.allclose(prior.sum(axis=1), 1)
    rate = rng.uniform(0.02, 0.97, n)
    q = D.intervention_probabilities(rate, prior)
    assert np.allclose((prior * q).sum(axis=1), rate, atol=1e-9)
    assert (q[:, 1] > q[:, 0]).all() and (q[:, 1] > q[:, 2]).all()  # mellan above nära and långt


def test_drawing_given_the_intervention_is_the_forward_model():
    """Simulation with known truth: drawing the distance first and then the intervention (the model as stated)
    and drawing the intervention first and then the distance given it (what the generator does) give the same
    joint distribution."""
    n = 60_000
    rng = np.random.default_rng(11)
    groups = np.full(n, "ohalsa", dtype=object)
    z, long = np.full(n, 0.3), np.zeros(n, bool)
    rate = np.full(n, 0.4)
    prior = D.distance_probabilities(groups, z, long)
    q = D.intervention_probabilities(rate, prior)
    fwd_d = choose_rows(rng, prior)
    fwd_got = rng.random(n) < q[np.arange(n), fwd_d]
    got = rng.random(n) < rate
    codes = D.labour_market_distance(5, groups, z, long, rate, got)
    back_d = pd.Series(codes).map({c: i for i, c in enumerate(DISTANCE["koder"])}).to_numpy()
    for k in range(3):
        for g in (True, False):
            a = np.mean((fwd_d == k) & (fwd_got == g))
            b = np.mean((back_d == k) & (got == g))
            assert a == pytest.approx(b, abs=0.01)


def test_distance_changes_no_other_generated_value(monkeypatch):
    """The distance has its own random stream: with the draw replaced by a constant, every other table and
    column is identical."""
    real, _ = synth.generate_tables("sundbyberg", seed=9, persons=600)
    monkeypatch.setattr(T, "labour_market_distance", lambda seed, *a: np.full(len(a[0]), "nara", dtype=object))
    stub, _ = synth.generate_tables("sundbyberg", seed=9, persons=600)
    assert real.keys() == stub.keys()
    for name in real:
        a, b = real[name], stub[name]
        if name == "personer":
            assert (b["arbetsmarknadsavstand"] == "nara").all() and (a["arbetsmarknadsavstand"] != "nara").any()
            a, b = a.drop(columns="arbetsmarknadsavstand"), b.drop(columns="arbetsmarknadsavstand")
        pd.testing.assert_frame_equal(a, b)
