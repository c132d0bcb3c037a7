"""Uncertainty and suppression in the kartläggning's samverkan, en väg in and size-and-breadth parts
(insats.reports.kartlaggning): Wilson intervals from the published counts, checked against statsmodels and
counts made with plain pandas on the raw generated tables; suppressed cells stay hidden."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from scipy.stats import spearmanr
from statsmodels.stats.proportion import proportion_confint

from insats.analysis.measures import MEASURES, compute_measures
from insats.analysis.privacy import SUPPRESSED
from insats.contract import ALLA
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import kartlaggning as K
from insats.reports.kartlaggning.common import GAP_CATEGORIES, interval_text
from insats.reports.render import Table

FRAN, TILL = "2012-01", "2013-12"


@pytest.fixture(scope="module")
def generated():
    tables, _ = generate_tables("stockholm", seed=3, persons=1500)
    return Study.from_frames(**tables)


@pytest.fixture(scope="module")
def sthlm(generated):
    """Every count published (min_cell 1): the numbers can be checked against the raw tables."""
    return generated, compute_measures(generated, start=FRAN, end=TILL, min_cell=1).table


@pytest.fixture(scope="module")
def protected(generated):
    """The default protection: the 1 500-person study has small districts."""
    return generated, compute_measures(generated, start=FRAN, end=TILL).table


def _text(sec) -> str:
    return " ".join(sec.notes).replace("\xa0", " ")


def _ci(k, n) -> str:
    lo, hi = proportion_confint(k, n, method="wilson")
    return interval_text(lo, hi).replace("\xa0", " ")


def test_samverkan_table_and_sentence_have_wilson_intervals(sthlm):
    study, long = sthlm
    sec = K.section_samverkan(study, long)
    (table,) = sec.tables.values()
    label = MEASURES["samverkan_andel_eget_omrade"].label
    col = f"{label}, 95 %-intervall"
    assert list(table.columns).index(col) == list(table.columns).index(label) + 1
    # the whole study from the raw tables: participations started in the period in the own district's insatser
    d = study["deltaganden"]
    d = d[d["start_datum"].between(pd.Timestamp(FRAN + "-01"), pd.Timestamp("2013-12-31"))]
    run = d["insats_id"].map(study["insatser"].set_index("insats_id")["omrade_kod"].astype(str))
    home = d["person_id"].map(study["personer"].set_index("person_id")["omrade_kod"].astype(str))
    k, n = int((run == home).sum()), len(d)
    assert table.loc["Hela studien", col].replace("\xa0", " ") == _ci(k, n)
    assert f"(95 %-intervall {_ci(k, n)})" in _text(sec)


@pytest.mark.parametrize("section", ["section_samverkan", "section_vagin"])
def test_a_suppressed_share_never_gets_an_interval(protected, section):
    study, long = protected
    (table,) = getattr(K, section)(study, long).tables.values()
    hidden_any = False
    for col in [c for c in table.columns if c.endswith(", 95 %-intervall")]:
        shares = table[col.removesuffix(", 95 %-intervall")].to_numpy()
        assert ((shares == SUPPRESSED) == (table[col].to_numpy() == SUPPRESSED)).all(), col
        hidden_any |= bool((shares == SUPPRESSED).any())
    assert hidden_any  # the rule is exercised


def test_vagin_table_and_sentences_have_wilson_intervals(sthlm):
    study, long = sthlm
    sec = K.section_vagin(study, long)
    (table,) = sec.tables.values()
    for m in ("vagin_andel_bedomda", "vagin_andel_overlamnade", "vagin_andel_ombedomningar"):
        assert f"{MEASURES[m].label}, 95 %-intervall" in table.columns
    assert f"{MEASURES['vagin_dagar_median'].label}, 95 %-intervall" not in table.columns  # days: no share
    b = study["bedomningar"]
    b = b[b["ansokan_datum"].between(pd.Timestamp(FRAN + "-01"), pd.Timestamp("2013-12-31"))]
    bed = b[b["bedomning_datum"].notna()]
    handed = bed["overlamnad_till"].notna() & (bed["overlamnad_till"] != bed["enhet"])
    assert f"lämnades över till en annan enhet (95 %-intervall {_ci(int(handed.sum()), len(bed))})" in _text(sec)
    col = f"{MEASURES['vagin_andel_overlamnade'].label}, 95 %-intervall"
    assert table.loc["Hela studien", col].replace("\xa0", " ") == _ci(int(handed.sum()), len(bed))


def test_size_and_breadth_table_with_rho_and_p(sthlm):
    study, long = sthlm
    sec = K.section_gaps(study, FRAN, TILL, long=long)
    table = next(b for b in sec.blocks if isinstance(b, Table) and b.caption.startswith("Storlek och bredd"))
    t = table.frame
    # sizes are the published recipient counts; the breadth is recounted from the raw insatser
    size = long[(long["matt"] == "erbjudande_andel") & ~long["omrade_kod"].isin([ALLA, "CENTRAL"])]
    size = size[~size["undertryckt"].astype(bool) & size["namnare"].notna()]
    names = dict(zip(study["omraden"]["omrade_kod"].astype(str), study["omraden"]["omrade"].astype(str)))
    published = {names[c]: n for c, n in zip(size["omrade_kod"].astype(str), size["namnare"])}
    assert set(t.index) == set(published)
    got = t["Vuxna biståndsmottagare"].str.replace("\xa0", "").str.replace(" ", "").astype(float)
    assert got.to_dict() == pytest.approx(published)
    assert got.is_monotonic_increasing
    ins = study["insatser"]
    own = ins[ins["kategori"].isin(GAP_CATEGORIES) & ins["raknas_som_insats"].astype(bool) & (ins["platser"] > 0)]
    recount = own.groupby(own["omrade_kod"].astype(str))["kategori"].nunique()
    breadth = t[f"Kategorier i eget utbud (av {len(GAP_CATEGORIES)})"].astype(int)
    by_code = {names[c]: int(recount.get(c, 0)) for c in size["omrade_kod"].astype(str)}
    assert breadth.to_dict() == by_code
    rho = spearmanr(got.to_numpy(), breadth.to_numpy()).statistic
    assert K.size_and_breadth(study, long, FRAN, TILL).attrs["rho"] == pytest.approx(rho)
    # the nämnd reads the table; the correlation's number is for the method appendix
    assert table.caption.endswith(f"({len(t)} områden)") and "rangkorrelation" not in table.caption


def test_size_and_breadth_leaves_out_suppressed_areas(protected):
    study, long = protected
    size = long[(long["matt"] == "erbjudande_andel") & ~long["omrade_kod"].isin([ALLA, "CENTRAL"])]
    hidden = size[size["undertryckt"].astype(bool)]["omrade_kod"].astype(str)
    assert len(hidden) >= 1
    sec = K.section_gaps(study, FRAN, TILL, long=long)
    table = next(b for b in sec.blocks if isinstance(b, Table) and b.caption.startswith("Storlek och bredd"))
    names = dict(zip(study["omraden"]["omrade_kod"].astype(str), study["omraden"]["omrade"].astype(str)))
    assert not set(table.frame.index) & {names[c] for c in hidden}
    assert f"{len(hidden)} områden saknas i tabellen" in _text(sec) or f"{len(hidden)} område saknas" in _text(sec)


# --------------------------------------------------------------------------- Resultat i korthet


def test_summary_adds_size_and_breadth_and_en_vag_in_only_when_there_is_room(generated):
    from insats.reports import summary as S

    result = compute_measures(generated, start=FRAN, end=TILL)
    found = S.kartlaggning_findings(generated, result, start=FRAN, end=TILL)
    topics = [f.topic for f in found]
    utbud = next(f for f in found if f.topic == "Utbud")
    sb = K.size_and_breadth(generated, result.table, FRAN, TILL)
    rho = spearmanr(sb["mottagare"], sb["kategorier_egna"]).statistic
    assert "Små områden har smalare eget utbud" in utbud.meaning
    assert rho > 0.3 and "rangkorrelation" not in utbud.meaning  # plain Swedish in the summary
    assert len(found) == S.MAX_FINDINGS and "En väg in" not in topics  # it never pushes out the findings before it
    # a study without medel has room: the hand-over share comes in, with its Wilson interval
    frames = {n: generated[n] for n in generated.tables if n != "medel"}
    study = Study.from_frames(**frames)
    result = compute_measures(study, start=FRAN, end=TILL)
    found = S.kartlaggning_findings(study, result, start=FRAN, end=TILL)
    assert [f.topic for f in found if f.topic != "En väg in"] == [t for t in topics if t != "Medel"]
    vag = next(f for f in found if f.topic == "En väg in")
    b = study["bedomningar"]
    b = b[b["ansokan_datum"].between(pd.Timestamp(FRAN + "-01"), pd.Timestamp("2013-12-31"))]
    bed = b[b["bedomning_datum"].notna()]
    k, n = int((bed["overlamnad_till"].notna() & (bed["overlamnad_till"] != bed["enhet"])).sum()), len(bed)
    assert vag.value == pytest.approx(k / n)
    lo, hi = proportion_confint(k, n, method="wilson")
    assert [int(x) for x in re.findall(r"\d+", vag.uncertainty)][:2] == [round(100 * lo), round(100 * hi)]
