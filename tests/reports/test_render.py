"""The one renderer (``insats.reports.render``) against hostile text: nothing from the data becomes markup."""

import re

import pandas as pd
import pytest

from insats.data.study import Study
from insats.reports import profil
from insats.reports.render import literal, markdown_html
from tests.reports.test_profil import small_study

ATTRIBUTE = 'Duvbo [klick](x"onmouseover="alert(1))'
"""An area name that, read as Markdown, would be a link with an event-handler attribute (issue 14)."""


def live_markup(html: str) -> list[str]:
    """Tags or attributes in ``html`` that could run script: ``<script``, an ``on…=`` attribute
    inside a tag, a ``javascript:`` target."""
    found = re.findall(r"<script", html, re.I)
    for tag in re.findall(r"<[a-z][^>]*>", html, re.I):
        found += re.findall(r"""[\s"']on[a-z]+\s*=""", tag, re.I)
        found += re.findall(r"javascript:", tag, re.I)
    return found


@pytest.mark.parametrize(
    "text",
    [
        ATTRIBUTE,
        "[a](x'onclick='alert(1))",
        '[a](#x"style="color:red)',
        "[a](javascript:alert(1))",
        "[a](JaVaScRiPt:alert(1))",
        "[a](&#106;avascript:alert(1))",
        "<script>alert('x')</script>Tvätteri",
        '<img src=x onerror="alert(1)">',
        '- **[a](x"onfocus="alert(1))**',
        '> [a](x"onmouseover="alert(1))',
    ],
)
def test_hostile_text_never_becomes_markup(text):
    html = markdown_html(text)
    assert live_markup(html) == [], html
    # every attribute value is quoted and free of quotes of its own
    for tag in re.findall(r"<[a-z][^>]*>", html, re.I):
        assert re.fullmatch(r'<[a-z0-9]+(?: [a-z-]+="[^"<>]*")*>', tag, re.I), tag


def test_link_attribute_injection_shown_as_text():
    html = markdown_html(ATTRIBUTE)
    assert "<a " not in html
    assert "klick" in html and "&quot;" in html  # the text is still there, escaped


def test_safe_links_still_work():
    assert markdown_html("Se [metod](#metod).") == '<p>Se <a href="#metod">metod</a>.</p>'
    assert markdown_html("Se [docs](../docs/antaganden.md).") == '<p>Se <a href="../docs/antaganden.md">docs</a>.</p>'
    assert markdown_html("Se [x](http://example.org).") == "<p>Se x.</p>"  # another host: text only


def test_profile_summary_with_hostile_area_name():
    base = small_study()
    omraden = base["omraden"].copy()
    omraden.loc[omraden["omrade_kod"] == "a", "omrade"] = ATTRIBUTE
    frames = {t: base[t] for t in ("personer", "bistand", "deltaganden", "insatser", "medel")}
    study = Study.from_frames(omraden=omraden, **frames)
    p = profil.build_profile(study, "a", start="2013-01", end="2013-12")
    summary = p.summary()
    assert literal(ATTRIBUTE) in summary  # the name is in the text, its Markdown escaped …
    html = markdown_html(summary)
    assert live_markup(html) == [] and "<a " not in html  # … and shown as text only
    assert "Duvbo [klick](x&quot;onmouseover=&quot;alert(1))" in html


def test_data_frame_values_escaped():
    from insats.reports.render import table_html

    html = table_html(pd.DataFrame({"namn": [ATTRIBUTE, "<script>alert(1)</script>"]}))
    assert live_markup(html) == []


# --------------------------------------------------------------------------- issue 14, finding 1 as filed
SCRIPT_NAME = "<script>alert('x')</script>Tvätteri"
ATTRIBUTE_NAME = 'Städ [k](x"onmouseover="alert(1)) <img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def hostile_utvardering():
    """The närvaro and "Dagens insatser" sections of a small generated study whose first two
    interventions (both with an attendance requirement) have hostile names; every block as HTML."""
    from insats.analysis.measures import compute_measures
    from insats.intake import synth
    from insats.reports import utvardering as U
    from insats.reports.render import block_html

    tables, meta = synth.generate_tables("sundbyberg", seed=3, persons=1500)
    insatser = tables["insatser"].copy()
    insatser["namn"] = insatser["namn"].astype(object)
    assert insatser["narvarokrav"].iloc[:2].all()
    insatser.loc[insatser.index[0], "namn"] = SCRIPT_NAME
    insatser.loc[insatser.index[1], "namn"] = ATTRIBUTE_NAME
    tables["insatser"] = insatser
    study = Study.from_frames(**tables)
    fran, till = meta["period"]["fran"], meta["period"]["till"]
    ctx = U.make_context(study, fran, till, min_cell=5)
    table = compute_measures(study, start=fran, end=till).table
    sections = [
        U.section_attendance(ctx, table, meta["reform_datum"], min_cell=5),
        U.section_interventions(ctx, table, min_cell=5),
    ]
    return {s.title: "\n".join(block_html(b) or "" for b in s.blocks + s.method) for s in sections}


@pytest.mark.parametrize("title", ["Närvarokrav", "Dagens insatser"])
def test_hostile_intervention_names_are_text_in_the_utvardering(hostile_utvardering, title):
    html = hostile_utvardering[title]
    assert "&lt;script&gt;alert(" in html and "Tvätteri" in html  # the names are shown …
    assert "onerror=alert(1)&gt;" in html
    assert live_markup(html) == []  # … as text: no script, no event handler, no link made from them
    assert "<img" not in html and 'href="x' not in html
