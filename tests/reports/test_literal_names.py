"""Names from the data are text in generated sentences (issue 14): ``**fet**``, `` `kod` ``, ``_x_`` or
``[länk](x.html)`` in an insats, area, unit or provider name comes out in the HTML as written — never as
bold, code, emphasis or a link — in every sentence of the three reports (``insats.reports.render.literal``
at the point a name goes into a sentence; ``markdown_html`` honours its backslashes)."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from insats.analysis.measures import compute_measures
from insats.data.study import Study
from insats.intake import synth
from insats.reports import kartlaggning as K
from insats.reports import profil
from insats.reports import utvardering as U
from insats.reports.common import synthetic_banner
from insats.reports.render import Section, block_html, literal, markdown_html

MARK = "**fet** `kod` _x_ [länk](x.html)"
LIVE = re.compile(r"<strong>fet</strong>|<code>kod</code>|<em>x</em>|<em>fet</em>|href=\"x\.html\"")
"""The mark read as Markdown: what must never be in the HTML."""

FREE_TEXT = [
    ("omraden", "omrade"),
    ("omraden", "kommun"),
    ("insatser", "namn"),
    ("insatser", "utforare"),
    ("bedomningar", "enhet"),
    ("bedomningar", "metod"),
    ("bedomningar", "overlamnad_till"),
]
"""Every column of the contract whose text a report can quote in a sentence."""


def marked(tables: dict[str, pd.DataFrame]) -> Study:
    """The study with ``MARK`` after every value of every free-text column."""
    out = {name: frame.copy() for name, frame in tables.items()}
    for table, column in FREE_TEXT:
        if table in out and column in out[table].columns:
            values = out[table][column].astype(object)
            out[table][column] = values.where(values.isna(), values.astype(str) + " " + MARK)
    return Study.from_frames(**out)


def html_of(item) -> list[str]:
    """Every text of a section (blocks, method appendix, conclusion) or a Markdown text, as HTML."""
    if isinstance(item, Section):
        pieces = [block_html(b) for b in item.blocks + item.method]
        return [p for p in pieces if p] + ([markdown_html(item.conclusion)] if item.conclusion else [])
    return [markdown_html(item)]


def assert_literal(pages: dict[str, list[str]]) -> None:
    shown = 0
    for where, parts in pages.items():
        for page in parts:
            live = LIVE.search(page)
            assert live is None, f"{where}: {page[max(0, live.start() - 200) : live.end() + 40]}"
            shown += page.count(MARK)
    assert shown, "no name was quoted: the test saw nothing"


@pytest.fixture(scope="module")
def utvardering_pages() -> dict[str, list[str]]:
    tables, meta = synth.generate_tables("sundbyberg", seed=3, persons=1500)
    study = marked(tables)
    fran, till, reform = meta["period"]["fran"], meta["period"]["till"], meta["reform_datum"]
    ctx = U.make_context(study, fran, till, min_cell=5)
    result = compute_measures(study, start=fran, end=till)
    sections = [
        U.section_offer(ctx, result.table, min_cell=5),
        U.section_attendance(ctx, result.table, reform, min_cell=5),
        U.section_lov(ctx, result.table, min_cell=5, lov_min_deltagare=20, reform_datum=reform),
        U.section_interventions(ctx, result.table, min_cell=5),
        U.section_path(ctx, result.raw, min_cell=5),
    ]
    recs = U.recommendations(U.all_findings(sections), {})
    pages = {s.title: html_of(s) for s in sections}
    pages["sammanfattning"] = html_of(U.summary(sections, recs))
    pages["rekommendationer"] = html_of(U.recommendations_markdown(recs))
    return pages


@pytest.fixture(scope="module")
def kartlaggning_pages() -> dict[str, list[str]]:
    tables, meta = synth.generate_tables("stockholm", seed=3, persons=1500)
    study = marked(tables)
    fran, till = meta["period"]["fran"], meta["period"]["till"]
    result = compute_measures(study, start=fran, end=till)
    long = result.table
    focus = str(study["omraden"]["omrade_kod"].iloc[0])
    sections = [
        K.section_organisation(study, fran, till),
        K.section_utbud(study, long, fran, till, focus=focus, min_cell=5),
        K.section_gaps(study, fran, till, long=long),
        K.section_samverkan(study, long),
        K.section_vagin(study, long),
        K.section_medel(study, long, fran, till, focus=focus),
        K.section_feriejobb(study, long, fran, till, focus=focus, min_cell=5),
        K.section_utfall(study, long, focus=focus, min_cell=5),
        K.section_justerat(study, long, focus=focus, min_cell=5),
        K.section_likstallighet(study, long, focus=focus, min_cell=5),
        K.section_uppfoljning(study, result),
        K.section_metod(study, fran, till, min_cell=5, long=long),
    ]
    pages = {s.title: html_of(s) for s in sections}
    pages["sammanfattning"] = html_of(K.summary_markdown(K.summary(study, result, start=fran, end=till, focus=focus)))
    return pages


@pytest.fixture(scope="module")
def profile_pages() -> dict[str, list[str]]:
    tables, _ = synth.generate_tables("sundbyberg", seed=11, persons=700)
    study = marked(tables)
    pages: dict[str, list[str]] = {}
    for code in study["omraden"]["omrade_kod"].astype(str).unique():
        p = profil.build_profile(study, code, min_cell=5)
        texts = [p.heading(), p.summary(), p.key_notes(), p.outcome_text(), p.trend_text(), *p.missing()]
        texts += ["\n".join(f"- {s}" for s in p.interventions_text() + p.spending_text())]
        pages[code] = [h for t in texts for h in html_of(t)]
    return pages


@pytest.mark.slow
def test_names_are_literal_in_every_sentence_of_the_utvardering(utvardering_pages):
    assert_literal(utvardering_pages)


@pytest.mark.slow
def test_names_are_literal_in_every_sentence_of_the_kartlaggning(kartlaggning_pages):
    assert_literal(kartlaggning_pages)


@pytest.mark.slow
def test_names_are_literal_in_every_sentence_of_the_profiles(profile_pages):
    assert_literal(profile_pages)
    first = next(iter(profile_pages.values()))[0]
    assert first.startswith("<h1>Områdesprofil: ") and f"{MARK}</h1>" in first


# --------------------------------------------------------------------------- the helper and the renderer
@pytest.mark.parametrize(
    "name",
    [
        "**fet**",
        "`kod`",
        "_x_",
        "*kursiv*",
        "[länk](x.html)",
        "C:\\mapp\\*",
        "# Rubrik",
        "### Rubrik",
        "- punkt",
        "* punkt",
        "1. första",
        "> notis",
        "två\nrader",
        "två\n\n- stycken",
        "<b>fet</b> & 'citat'",
        "\U000f0001 privat tecken",
    ],
)
def test_a_literal_name_is_shown_as_written_wherever_it_is_in_a_sentence(name):
    escaped = html.escape(" ".join(name.splitlines()), quote=True)  # a name is one line
    for sentence in (f"{literal(name)} har **3** platser.", f"I {literal(name)} finns `insatser`.", literal(name)):
        shown = markdown_html(sentence)
        assert shown.startswith("<p>") and shown.count("<p>") == 1, shown  # one paragraph: no heading, list, note
        assert not re.search(r"<(?!/?(p|strong|code)>)", shown), shown  # no tag from the name
        assert escaped in shown, (escaped, shown)
    assert markdown_html(f"{literal(name)} har **3** platser.").endswith(" har <strong>3</strong> platser.</p>")


def test_the_template_around_a_name_keeps_its_markup():
    assert (
        markdown_html(f"*{literal('a*b')}* når **{literal('`x`')}**.")
        == "<p><em>a*b</em> når <strong>`x`</strong>.</p>"
    )
    assert markdown_html(f"- {literal('- x')}\n- {literal('1. y')}") == "<ul><li>- x</li><li>1. y</li></ul>"


def test_a_backslash_makes_punctuation_plain_and_is_kept_elsewhere():
    assert markdown_html(r"\*\*a\*\* \[b](c) \`d\` \\") == "<p>**a** [b](c) `d` \\</p>"
    assert markdown_html(r"C:\mapp\fil och 5\% och \&") == "<p>C:\\mapp\\fil och 5% och &amp;</p>"


def test_the_synthetic_banner_quotes_the_seed_from_the_study_file_literally():
    study = Study(tables={}, meta={"syntetisk": True, "seed": "**1**"})
    assert "(frö **1**)" in markdown_html(synthetic_banner(study))
