"""Trends (``insats.reports.trend``, ``insats.charts.trend``, the kartläggning's *Utveckling över tid*).

Checked against the study's publication year by year (``pub.result`` of each calendar year), on a
small generated two-year study (four Stockholm districts, 400 persons) and on the one-year study of
the profile tests; the chart's gaps and its reading on hand-made tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.analysis.measures import measure_label
from insats.analysis.privacy import SUPPRESSED
from insats.charts.accessible import text_alternative
from insats.charts.trend import trend_small_multiples
from insats.contract import ALLA, CENTRAL
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import kartlaggning as K
from insats.reports import profil
from insats.reports.publication import study_publication
from insats.reports.trend import TREND_MEASURES, area_trend_table, trend_display, trend_table, trend_years
from insats.text import format_number
from tests.reports.test_profil import small_study

AREAS = ["alvsjo", "bromma", "farsta", "skarholmen"]
NAMES = {"alvsjo": "Älvsjö", "bromma": "Bromma", "farsta": "Farsta", "skarholmen": "Skärholmen"}


@pytest.fixture(scope="module")
def study() -> Study:
    tables, _ = generate_tables("stockholm", seed=3, persons=400, area_codes=AREAS)
    return Study.from_frames(**tables)


@pytest.fixture(scope="module")
def pub(study):
    return study_publication(study, min_cell=5)


@pytest.fixture(scope="module")
def trend(pub):
    return trend_table(pub)


def year_result(pub, year: int) -> pd.DataFrame:
    return pub.result(f"{year}-01", f"{year}-12").table


def test_trend_table_is_the_publication_of_each_year(pub, trend):
    assert trend_years(pub) == [2012, 2013]
    assert set(trend["matt"]) == set(TREND_MEASURES)
    assert CENTRAL not in set(trend["omrade_kod"])
    for year in (2012, 2013):
        published = year_result(pub, year)
        published = published[published["matt"].isin(TREND_MEASURES) & (published["omrade_kod"] != CENTRAL)]
        mine = trend[trend["ar"] == year]
        assert len(mine) == len(published) == len(TREND_MEASURES) * (len(AREAS) + 1)
        merged = mine.merge(published, on=["matt", "omrade_kod"], suffixes=("", "_pub"))
        assert len(merged) == len(mine)
        assert (merged["undertryckt"] == merged["undertryckt_pub"].astype(bool)).all()
        shown = merged[~merged["undertryckt"]]
        np.testing.assert_allclose(shown["varde"], shown["varde_pub"].astype(float), equal_nan=True)
        assert merged.loc[merged["undertryckt"], ["varde", "taljare", "namnare"]].isna().all().all()
    # the test means something: both hidden and shown values occur
    assert trend["undertryckt"].any() and (~trend["undertryckt"]).any()


def test_no_hidden_value_in_chart_or_table(pub, trend, study):
    codes = {**{v: k for k, v in NAMES.items()}}
    for matt in TREND_MEASURES:
        chart = trend_small_multiples(trend, matt, omraden=study.get("omraden"))
        spec = chart.to_dict()
        points = pd.DataFrame(spec["data"]["values"])
        assert not {"taljare", "namnare", "undertryckt"} & set(points.columns)  # only what is drawn
        area_points = points[points["serie"] == "Området"]
        drawn = {(o, int(y)) for o, y in zip(area_points["omrade"], area_points["ar"])}
        part = trend[(trend["matt"] == matt) & (trend["omrade_kod"] != ALLA)]
        expected = {(NAMES[c], int(y)) for c, y, s in zip(part["omrade_kod"], part["ar"], part["undertryckt"]) if not s}
        assert drawn == expected
        # every drawn value is the published value of its area (or the whole study) and year
        for p in points.itertuples():
            code = ALLA if p.serie == "Hela studien" else codes[p.omrade]
            r = year_result(pub, int(p.ar))
            r = r[(r["matt"] == matt) & (r["omrade_kod"] == code)].iloc[0]
            assert not r["undertryckt"]
            assert p.varde == pytest.approx(float(r["varde"]))
        table = trend_display(trend, matt, study.get("omraden"))
        rows = {r[0]: r[1:] for r in text_alternative(spec)["tabell"]["rader"]}
        for r in part[part["undertryckt"]].itertuples():
            assert table.loc[NAMES[r.omrade_kod], str(r.ar)] == SUPPRESSED
            assert table.loc[NAMES[r.omrade_kod]].iloc[-1] == SUPPRESSED  # no change next to a hidden year
            assert rows[NAMES[r.omrade_kod]][[2012, 2013].index(r.ar)] == SUPPRESSED


def test_display_table_values_and_change(pub, trend, study):
    matt = "langvarigt_andel"
    table = trend_display(trend, matt, study.get("omraden"))
    assert list(table.columns) == ["2012", "2013", "Förändring 2012–2013 (procentenheter)"]
    assert list(table.index) == ["Bromma", "Farsta", "Skärholmen", "Älvsjö", "Hela studien"]
    for code, name in [*NAMES.items(), (ALLA, "Hela studien")]:
        values = {}
        for year in (2012, 2013):
            r = year_result(pub, year)
            r = r[(r["matt"] == matt) & (r["omrade_kod"] == code)].iloc[0]
            values[year] = None if r["undertryckt"] else float(r["varde"])
            shown = SUPPRESSED if r["undertryckt"] else format_number(r["varde"], 1, percent=True)
            assert table.loc[name, str(year)] == shown
        change = table.loc[name].iloc[-1]
        if None in values.values():
            assert change == SUPPRESSED
        else:
            assert change == format_number(round((values[2013] - values[2012]) * 100, 1), 1)


def test_reading_counts_rises_against_the_data(pub, trend, study):
    for matt in ("langvarigt_andel", "utbud_platser_per_100", "erbjudande_andel"):
        spec = trend_small_multiples(trend, matt, omraden=study.get("omraden")).to_dict()
        reading = text_alternative(spec)["lasning"]
        assert spec["description"].endswith(reading)
        a = year_result(pub, 2012)
        b = year_result(pub, 2013)
        diffs = {}
        hidden = []
        for code in AREAS:
            ra = a[(a["matt"] == matt) & (a["omrade_kod"] == code)].iloc[0]
            rb = b[(b["matt"] == matt) & (b["omrade_kod"] == code)].iloc[0]
            if ra["undertryckt"] or rb["undertryckt"]:
                hidden.append(NAMES[code])
            else:
                diffs[NAMES[code]] = float(rb["varde"]) - float(ra["varde"])
        rose = sum(d > 0 for d in diffs.values())
        area_word = "område" if len(diffs) == 1 else "områden"
        assert f"ökade i {rose} av {len(diffs)} {area_word} från 2012 till 2013" in reading
        if rose:
            assert f"störst ökning i {max(diffs, key=lambda k: diffs[k])} (" in reading
        if any(d < 0 for d in diffs.values()):
            assert f"störst minskning i {min(diffs, key=lambda k: diffs[k])} (" in reading
        if hidden:
            assert "visas inte alla år (..)" in reading
            for name in hidden if len(hidden) <= 3 else []:
                assert name in reading
        else:
            assert ".." not in reading


def hand_table(values: dict[str, list[float | None]], years=(2011, 2012, 2013)) -> pd.DataFrame:
    rows = []
    for code, vals in values.items():
        for y, v in zip(years, vals):
            rows.append(
                {
                    "matt": "erbjudande_andel",
                    "ar": y,
                    "omrade_kod": code,
                    "varde": np.nan if v is None else v,
                    "undertryckt": v is None,
                }
            )
    return pd.DataFrame(rows)


def test_a_hidden_year_breaks_the_line_and_is_named():
    long = hand_table({"a": [0.5, None, 0.7], "b": [0.4, 0.3, 0.2], ALLA: [0.45, 0.4, 0.42]})
    spec = trend_small_multiples(long, "erbjudande_andel", omraden={"a": "Aby", "b": "Bby"}).to_dict()
    points = pd.DataFrame(spec["data"]["values"])
    a = points[(points["omrade"] == "Aby") & (points["serie"] == "Området")]
    assert list(a["ar"]) == ["2011", "2013"]
    assert a["segment"].nunique() == 2  # no line across the hidden 2012
    b = points[(points["omrade"] == "Bby") & (points["serie"] == "Området")]
    assert b["segment"].nunique() == 1
    reading = text_alternative(spec)["lasning"]
    assert reading == (
        "Andel som erbjudits insats inom 90 dagar: ökade i 1 av 2 områden från 2011 till 2013; "
        "störst ökning i Aby (20,0 procentenheter); störst minskning i Bby (20,0 procentenheter); "
        "hela studien 45,0\u00a0% (2011) och 42,0\u00a0% (2013); för Aby visas inte alla år (..) och de "
        "punkterna saknas i diagrammet."
    )
    # the whole study's reference line is in both panels
    assert set(points.loc[points["serie"] == "Hela studien", "omrade"]) == {"Aby", "Bby"}


def test_one_year_study_has_no_trend():
    one = study_publication(small_study(), min_cell=5)
    assert trend_years(one) == [2013]
    sec = K.section_utveckling(one)
    assert sec.notes == [
        "Studien omfattar bara ett kalenderår (2013), så utvecklingen över tid kan inte visas. "
        "Med data för flera år visar avsnittet huvudmåtten per år och område."
    ]
    assert not sec.charts and not sec.tables
    trend = trend_table(one)
    assert set(trend["ar"]) == {2013}
    table = trend_display(trend, "utfall_arbete_studier_andel")
    assert list(table.columns) == ["2013"]  # no change column with one year
    spec = trend_small_multiples(trend, "utfall_arbete_studier_andel").to_dict()
    assert (
        text_alternative(spec)["lasning"] == "Studien omfattar bara ett år (2013): ingen utveckling över tid att visa."
    )


def test_kartlaggning_section(pub, trend):
    sec = K.section_utveckling(pub, min_cell=5)
    assert len(sec.charts) == len(sec.tables) == len(TREND_MEASURES)
    total = trend[(trend["matt"] == "langvarigt_andel") & (trend["omrade_kod"] == ALLA)].set_index("ar")["varde"]
    note = next(n for n in sec.notes if n.startswith("**Andel långvarigt"))
    a, b = format_number(total[2012], 1, percent=True), format_number(total[2013], 1, percent=True)
    direction = "högre" if total[2013] > total[2012] else "lägre"
    assert f"{a} år 2012 och {b} år 2013" in note and direction in note


def test_area_trend_table_for_the_profile(pub, trend):
    table = area_trend_table(trend, "farsta", "Farsta")
    assert list(table.columns) == ["Mått", "År", "Farsta", "Hela studien"]
    assert len(table) == 2 * len(TREND_MEASURES)
    for r in table.itertuples(index=False):
        year = int(r[1])
        published = year_result(pub, year)
        matt = next(m for m in TREND_MEASURES if measure_label(m) == r[0])
        for code, cell in (("farsta", r[2]), (ALLA, r[3])):
            row = published[(published["matt"] == matt) & (published["omrade_kod"] == code)].iloc[0]
            if row["undertryckt"]:
                assert cell == SUPPRESSED
            else:
                assert cell not in ("", SUPPRESSED)


def test_survey_only_study_says_what_is_missing(study):
    survey = Study.from_frames(**{t: study[t] for t in ("omraden", "insatser", "medel")})
    sec = K.section_utveckling(study_publication(survey, min_cell=5))
    assert len(sec.notes) == 1 and sec.notes[0].startswith("**Utvecklingen över tid kan inte beräknas:**")
    assert not sec.charts


def test_profile_shows_the_area_per_year(study, pub, trend):
    p = profil.build_profile(study, "farsta", min_cell=5)
    table = p.trend_display()
    assert table is not None
    pd.testing.assert_frame_equal(table, area_trend_table(trend, "farsta", "Farsta"))
    assert p.trend_text().startswith("Huvudmåtten för Farsta och hela studien per kalenderår, 2012–2013.")
    one = profil.build_profile(small_study(), "a", min_cell=5)
    assert one.trend_display() is None
    assert one.trend_text() == "Studien omfattar bara ett kalenderår (2013): utvecklingen över tid kan inte visas."
