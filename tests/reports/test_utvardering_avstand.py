"""Distance to the labour market per person (insats.reports.utvardering.avstand): the column, the stand-in
from the latest assessment, and nothing, each with its plain-Swedish note."""

from __future__ import annotations

import pandas as pd

from insats.data.study import Study
from insats.reports import utvardering as U
from insats.reports.utvardering import avstand as A
from tests.reports.test_utvardering import small_study


def _ctx(study: Study):
    return U.make_context(study, "2016-01", "2016-12", min_cell=1)


def _with(study: Study, **changes) -> Study:
    frames = {name: study[name].copy() for name in study.tables}
    for name, frame in changes.items():
        if frame is None:
            frames.pop(name)
        else:
            frames[name] = frame
    return Study.from_frames(**frames)


def test_column_is_used_when_it_has_values():
    s = small_study()
    p = s["personer"].copy()
    p["arbetsmarknadsavstand"] = pd.Series(["nara", None, "langt", "mellan", None], dtype="object")
    d = A.person_distance(_ctx(_with(s, personer=p)))
    assert d.source == "personer"
    assert d.codes.tolist() == ["nara", "saknas", "langt", "mellan", "saknas"]
    assert "handläggarens bedömning" in A.distance_note(d.source)


def test_latest_assessment_stands_in_when_the_column_is_empty():
    # small study: P1 hel, P2 delvis, P3 not yet assessed, P4 ingen, P5 none
    d = A.person_distance(_ctx(small_study()))
    assert d.source == "bedomningar"
    assert d.codes.tolist() == ["nara", "mellan", "saknas", "langt", "saknas"]
    note = A.distance_note(d.source)
    assert "saknas i uppgifterna" in note and "hel arbetsförmåga räknas som nära" in note
    assert "`arbetsmarknadsavstand`" in note and "data/README.md" in note


def test_the_latest_assessment_in_the_period_counts():
    s = small_study()
    b = s["bedomningar"].copy()
    extra = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P4"],
            "ansokan_datum": pd.to_datetime(["2016-05-01", "2016-06-01", "2016-02-01"]),
            "bedomning_datum": pd.to_datetime(["2016-05-20", "2017-03-01", "2016-03-01"]),
            "resultat": ["ingen", "hel", "oklar"],
        }
    )
    b = pd.concat([b, extra], ignore_index=True)
    d = A.person_distance(_ctx(_with(s, bedomningar=b)))
    # P1: the later 'ingen'; P2: the 2017 assessment is after the period; P4: the later 'oklar' says nothing
    assert d.codes.tolist()[:4] == ["langt", "mellan", "saknas", "saknas"]


def test_nothing_to_go_on_says_what_to_add():
    d = A.person_distance(_ctx(small_study(bedomningar=False)))
    assert d.source is None and (d.codes == "saknas").all()
    note = A.distance_note(None)
    assert "kan inte visas" in note and "`bedomningar`" in note and "`nara`, `mellan` eller `langt`" in note
