"""Calibration of the utvärdering's claims: the cost comparison over many interventions holds its
family-wise level, and threshold recommendations fire only on Wilson intervals (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.analysis import costs
from insats.analysis.measures import OE_CATEGORICAL, OE_NUMERIC
from insats.analysis.stats import wilson_interval
from insats.reports import utvardering as U
from insats.reports.utvardering.insatser import certain_cost_gap, cost_comparison
from insats.reports.utvardering.utfall import outcomes_by_group


def _study_frame(rng, m: int, n: int) -> pd.DataFrame:
    """Ended participations in ``m`` interventions of ``n`` each; the outcome depends on the age group only
    (probabilities 0.15, 0.3, 0.45) and the interventions' age mix differs, so raw shares differ while every
    intervention has O/E 1 in truth."""
    rows = []
    for j in range(m):
        mix = rng.dirichlet([2.0, 2.0, 2.0])
        age = rng.choice(3, size=n, p=mix)
        y = rng.random(n) < np.array([0.15, 0.3, 0.45])[age]
        rows.append(pd.DataFrame({"insats_id": f"I{j:02d}", "aldersgrupp": age.astype(str), "arbete_studier": y}))
    f = pd.concat(rows, ignore_index=True)
    for col in OE_CATEGORICAL:
        if col not in f:
            f[col] = "x"
    for col in OE_NUMERIC:
        f[col] = 0.5
    return f


def _claims(frame: pd.DataFrame, m: int, n: int) -> tuple[bool, bool]:
    """(claim made with the Bonferroni intervals, claim made with plain 95 % intervals) for one study where every
    intervention costs 1000 kr per participant, so the true adjusted cost per outcome is the same for all."""
    t = outcomes_by_group(None, "insats_id", frame=frame)
    total = t[t["insats_id"] == "ALLA"].iloc[0]
    t = t[t["insats_id"] != "ALLA"].assign(kostnad=1000.0 * n, namn=lambda d: d["insats_id"])
    p_ref = float(total["taljare"] / total["namnare"])
    sim, level = cost_comparison(frame, t, p_ref)
    assert level == pytest.approx(1 - 0.05 / m)
    plain = costs.adjusted_cost_per_outcome(t["kostnad"], t["namnare"], t["oe"], t["oe_lo"], t["oe_hi"], p_ref)
    g_sim = certain_cost_gap(t["namn"], sim["lo"], sim["hi"])
    g_plain = certain_cost_gap(t["namn"], plain["lo_justerad"], plain["hi_justerad"])
    return bool(g_sim and g_sim["kvot"] > 1), bool(g_plain and g_plain["kvot"] > 1)


def test_cost_claim_holds_its_level_when_all_interventions_cost_the_same():
    """100 simulated studies of 16 interventions with the same true adjusted cost per outcome: the claim
    "certainly dearer" (dearest lower limit above cheapest upper limit) is made in at most about 5 % of them
    with the Bonferroni intervals, while plain 95 % intervals make it far more often (the test can fail)."""
    rng = np.random.default_rng(20240613)
    m, n, studies = 16, 60, 100
    sim = plain = 0
    for _ in range(studies):
        a, b = _claims(_study_frame(rng, m, n), m, n)
        sim += a
        plain += b
    # Bonferroni is conservative (about 1 % here); 8 % allows two binomial sd above the nominal 5 % in 100 studies.
    # Plain 95 % intervals make the claim in about 30 %.
    assert sim / studies <= 0.08, sim
    assert plain / studies >= 0.15, plain


def test_cost_claim_still_finds_a_real_difference():
    """One intervention that costs four times as much per participant is found dearer despite the correction."""
    rng = np.random.default_rng(7)
    m, n = 16, 150
    frame = _study_frame(rng, m, n)
    t = outcomes_by_group(None, "insats_id", frame=frame)
    total = t[t["insats_id"] == "ALLA"].iloc[0]
    t = t[t["insats_id"] != "ALLA"].assign(namn=lambda d: d["insats_id"])
    t["kostnad"] = np.where(t["insats_id"] == "I00", 4000.0, 1000.0) * n
    sim, _ = cost_comparison(frame, t, float(total["taljare"] / total["namnare"]))
    gap = certain_cost_gap(t["namn"], sim["lo"], sim["hi"])
    assert gap is not None and gap["dyr"] == "I00" and gap["kvot"] > 1


@pytest.fixture(scope="module")
def interventions():
    from insats.analysis.measures import compute_measures
    from insats.data.study import Study
    from insats.intake.synth import generate_tables

    # Sundbyberg: the study whose parameters run the utvärdering (Stockholm's small per-district
    # interventions are mostly hidden by the joint suppression of the hierarchy)
    tables, _ = generate_tables("sundbyberg", seed=3, persons=1500)
    study = Study.from_frames(**tables)
    ctx = U.make_context(study, "2015-01", "2016-12")
    return study, ctx, U.section_interventions(ctx, compute_measures(study, start="2015-01", end="2016-12").table)


@pytest.mark.slow
def test_section_interventions_makes_the_cost_claim_on_bonferroni_intervals(interventions):
    """In the section, the pair behind ``kostnad_saker_kvot`` comes from intervals at 1 − 0.05/m over the m
    interventions with an adjusted cost, each wider than the 95 % interval shown in the table."""
    _study, _ctx, sec = interventions
    f = sec.findings
    t = sec.extra["utfall"].set_index("namn")
    m = f["kostnad_jamforda"]
    assert m >= 3 and f["kostnad_niva"] == pytest.approx(1 - 0.05 / m)
    assert f["kostnad_dyr_lo"] < t.loc[f["kostnad_dyr_namn"], "kpu_justerad_lo"]
    assert f["kostnad_billig_hi"] > t.loc[f["kostnad_billig_namn"], "kpu_justerad_hi"]
    assert f["kostnad_saker_kvot"] == pytest.approx(f["kostnad_dyr_lo"] / f["kostnad_billig_hi"])


def _wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval by its formula (independent of ``stats.wilson_interval``)."""
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return mid - half, mid + half


@pytest.mark.parametrize(
    ("key", "lo_key", "hi_key", "limit_key", "limit"),
    [
        ("erbjudande_andel", "erbjudande_lo", "erbjudande_hi", "erbjudande_mal", 1.0),
        ("narvaro_andel_80", "narvaro_andel_80_lo", "narvaro_andel_80_hi", "narvaro_andel_80_min", 0.6),
        ("lov_andel_valt", "lov_andel_valt_lo", "lov_andel_valt_hi", "lov_andel_valt_min", 0.5),
        ("vagin_andel_bedomda", "vagin_andel_bedomda_lo", "vagin_andel_bedomda_hi", "vagin_andel_bedomda_min", 0.9),
        (
            "vagin_andel_insats_90",
            "vagin_andel_insats_90_lo",
            "vagin_andel_insats_90_hi",
            "vagin_andel_insats_90_min",
            0.7,
        ),
    ],
)
def test_threshold_recommendations_fire_on_the_wilson_interval(key, lo_key, hi_key, limit_key, limit):
    """A share below its threshold triggers a recommendation only when the whole Wilson interval is below it,
    and the text quotes the interval; a share without its interval triggers nothing."""
    assert U.DEFAULT_THRESHOLDS[limit_key] == limit

    def recs(k, n):
        lo, hi = _wilson(k, n)
        return [r for r in U.recommendations({key: k / n, lo_key: lo, hi_key: hi}) if r.threshold == limit]

    # a point value just below the threshold on few cases: the interval reaches above it, nothing fires (a
    # threshold of 100 % is missed by a single case with certainty: its Wilson upper limit is then below 1)
    if limit < 1.0:
        n = 20
        k = np.ceil(limit * n) - 1
        assert k / n < limit and _wilson(k, n)[1] >= limit
        assert recs(k, n) == []
    else:
        assert recs(20, 20) == []
    # the same share on many cases: the interval lies wholly below, the rule fires and quotes the interval
    big = 4000 if limit == 1.0 else 400
    k = np.ceil(limit * big) - (1 if limit == 1.0 else 0.12 * big)
    lo, hi = _wilson(k, big)
    assert hi < limit
    fired = recs(k, big)
    assert len(fired) == 1 and f"troligen mellan {round(100 * lo)} och {round(100 * hi)}" in fired[0].text
    assert [r for r in U.recommendations({key: 0.1}) if r.threshold == limit] == []  # no interval, no rule


def test_threshold_rule_rarely_fires_when_the_share_is_at_the_threshold():
    """Shares drawn at exactly the threshold (60 %, 150 cases): the interval rule fires in about 2.5 % of
    draws (one side of a 95 % interval), the bare point rule in about half."""
    rng = np.random.default_rng(13)
    n, limit = 150, 0.6
    k = rng.binomial(n, limit, size=2000).astype(float)
    lo, hi = wilson_interval(k, np.full_like(k, n))
    fired = sum(
        any(
            r.threshold == limit
            for r in U.recommendations({"narvaro_andel_80": a / n, "narvaro_andel_80_lo": b, "narvaro_andel_80_hi": c})
        )
        for a, b, c in zip(k, lo, hi)
    )
    assert fired / len(k) <= 0.04
    assert (k / n < limit).mean() >= 0.4


@pytest.mark.slow
def test_section_interventions_reports_the_case_mix_model_quality(interventions):
    """The method note gives the model's c-statistic and calibration as the kartläggning does (same model: the
    same in-sample c-statistic as ``kartlaggning.model_checks``), and the calibration table adds up to the
    ended participations and their exits to work or studies counted from the outcome frame."""
    from insats.analysis.measures import outcome_frame
    from insats.reports.kartlaggning import model_checks
    from insats.text import format_number

    study, ctx, sec = interventions
    note = next(n for n in sec.method_notes if "Fallmixmodellen bakom den justerade jämförelsen" in n)
    kart = model_checks(study, "2015-01", "2016-12")
    assert f"(c-statistik): {format_number(kart.attrs['c_statistic'], 2)}." in note
    assert "Kalibrering" in note and "korsvalidering" in note
    cal = sec.method_tables["Fallmixmodellen: observerade och förväntade avslut per tiondel"]
    total = cal.iloc[-1]
    frame = outcome_frame(ctx)
    assert total["Tiondel efter förväntad sannolikhet"] == "Alla"
    assert total["Avslutade deltaganden"] == format_number(len(frame), 0)
    assert total["Observerade avslut till arbete/studier"] == format_number(int(frame["arbete_studier"].sum()), 0)
