"""The study's name in report titles (``reports.common.study_name``) and the line that carries it."""

from __future__ import annotations

import pandas as pd

from insats.data.study import Study
from insats.reports.common import study_name, study_subtitle, study_subtitle_html


def _omraden(**columns) -> pd.DataFrame:
    base = {"omrade_kod": ["a", "b", "a"], "omrade": ["A", "B", "A"], "ar": [2012, 2012, 2013], "folkmangd": [1, 2, 3]}
    return pd.DataFrame({**base, **columns})


def test_study_name_from_studie_json_then_municipality_then_code():
    study = Study.from_frames(omraden=_omraden(kommun_kod=["0180"] * 3, kommun=["Stockholm", None, " Stockholm "]))
    assert study_name(study) == "Stockholm"
    study.meta = {"namn": "  Stockholms  stad, kartläggning 2013 "}
    assert study_name(study) == "Stockholms stad, kartläggning 2013"
    study.meta = {"namn": "   "}  # an empty name is no name
    assert study_name(study) == "Stockholm"
    two = Study.from_frames(omraden=_omraden(kommun_kod=["0180", "0183", "0180"], kommun=["Stockholm", "Solna", None]))
    assert study_name(two) == "Stockholm och Solna"
    code_only = Study.from_frames(omraden=_omraden(kommun_kod=["0183"] * 3))
    assert study_name(code_only) == "kommun 0183"
    assert study_name(Study(tables={})) is None
    assert study_subtitle(Study(tables={})) is None


def test_subtitle_escapes_the_name():
    assert study_subtitle_html(None) == ""
    piece = study_subtitle_html('Kommun "A" & <b>B</b>')
    assert "<b>" not in piece and "&lt;b&gt;B&lt;/b&gt;" in piece
    assert 'data-insats-studie="Kommun &quot;A&quot; &amp; &lt;b&gt;B&lt;/b&gt;"' in piece
    study = Study.from_frames(omraden=_omraden(kommun_kod=["0180"] * 3, kommun=["Stockholm"] * 3))
    assert study_subtitle(study).data == study_subtitle_html("Stockholm")
