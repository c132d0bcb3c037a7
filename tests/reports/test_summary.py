"""The Nämndsammanfattning: every number in its sentences is the one the report's published tables show
(read back from the displayed tables, intervals recomputed by hand), a hidden value never appears, and the
block renders escaped with its heading."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from insats.analysis.privacy import SUPPRESSED
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import kartlaggning as K
from insats.reports import profil
from insats.reports import summary as S
from insats.reports import utvardering as U
from insats.reports.common import measure_table
from insats.reports.publication import study_publication
from insats.reports.summary.common import points_range
from insats.text import format_number
from tests.reports.test_profil import small_study as small_profile_study
from tests.reports.test_profil import wilson
from tests.reports.test_utvardering import small_study as small_evaluation_study

JARGON = re.compile(
    r"\b(None|True|False|nan|NaN|p-värde|HAC|Newey|Poisson|Shannon|variationskoefficient|c-statistik|"
    r"konfidensintervall|KI|O/E|signifikan\w*|mål|[a-z]+_[a-z_]+)\b"
)


def _number(text: str) -> float:
    """``'71,1 %'`` / ``'12,1'`` / ``'1 234'`` → float (as shown, per cent as shown)."""
    clean = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("%", "").replace("−", "-")
    return float(clean.replace(",", "."))


def _r(x: float) -> int:
    """Half-up rounding to a whole number, as the report writes numbers (``insats.text.format_number``)."""
    return int(Decimal(repr(float(x))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _whole(text: str) -> int:
    """The leading whole number of a finding's number (``'12 procentenheter'`` → 12)."""
    return int(_number(re.match(r"−?[\d\u202f]+", text).group(0)))


def _plain(findings: list[S.Finding]) -> None:
    for f in findings:
        assert f.number in f.text
        for part in (f.topic, f.text, f.uncertainty, f.meaning):
            assert not JARGON.search(part), (part, JARGON.search(part))


# --------------------------------------------------------------------------- kartläggning


@pytest.fixture(scope="module")
def stockholm():
    tables, _ = generate_tables("stockholm", seed=2013, persons=3000)
    study = Study.from_frames(**tables)
    result = study_publication(study, min_cell=5).result("2012-01", "2013-12")
    return study, result


@pytest.mark.slow
def test_kartlaggning_numbers_are_the_published_tables(stockholm):
    study, result = stockholm
    found = {f.topic: f for f in S.kartlaggning_findings(study, result, start="2012-01", end="2013-12")}
    assert 4 <= len(found) <= S.MAX_FINDINGS
    _plain(list(found.values()))

    # the outcome: the displayed measures table's whole-study row (one decimal), and the interval by hand
    shown = measure_table(result.table, "utfall_arbete_studier_andel", omraden=study["omraden"])
    whole = _number(shown.loc["Hela studien"].iloc[0])
    f = found["Utfall"]
    assert _whole(f.number) == _r(whole)
    row = result.table[(result.table["matt"] == "utfall_arbete_studier_andel") & (result.table["omrade_kod"] == "ALLA")]
    lo, hi = wilson(float(row["taljare"].iloc[0]), float(row["namnare"].iloc[0]))
    ends = [int(x) for x in re.findall(r"\d+", f.uncertainty)]
    assert ends == [_r(100 * lo), _r(100 * hi)] or ends == [_r(100 * lo)]

    # the gaps: rows of the displayed gaps table with something missing in the own utbud
    gaps = K.section_gaps(study, "2012-01", "2013-12").blocks[0].frame
    missing_own = int((gaps["Saknas i eget utbud"] != "–").sum())
    assert found["Utbud"].number == f"{missing_own} av {len(gaps)}"

    # places per 100: the lowest and highest area in the displayed measures table
    places = measure_table(result.table, "utbud_platser_per_100", omraden=study["omraden"]).iloc[:, 0]
    areas = places.drop(index=[i for i in ("Hela studien", "Centralt (hela kommunen)") if i in places.index])
    values = [_number(v) for v in areas if v not in (SUPPRESSED, "")]
    lo_shown, hi_shown = found["Platser"].number.split(" och ")
    assert _whole(lo_shown) == _r(min(values))
    assert _whole(hi_shown) == _r(max(values))

    # the adjusted differences: the displayed table of differing areas
    diff_table = K.section_justerat(study, result.table).blocks[1].frame
    flags = diff_table["Efter justering"]
    tested = int((flags != "–").sum())
    differ = int(flags.isin(["Högre än förväntat", "Lägre än förväntat"]).sum())
    assert found["Skillnader mellan områdena"].number == f"{differ} av {tested}"


# --------------------------------------------------------------------------- utvärdering


def _evaluation(study: Study, *, start="2015-01", end="2016-12", reform="2016-01-01", min_cell: int = 5) -> list:
    ctx = U.make_context(study, start, end, min_cell=min_cell)
    pub = study_publication(study, min_cell=min_cell, evaluation={"reform_datum": reform})
    table = pub.result(start, end)
    with pub.active(start, end):
        return [
            U.section_offer(ctx, table.table, min_cell=min_cell),
            U.section_attendance(ctx, table.table, reform, min_cell=min_cell),
            U.section_lov(ctx, table.table, min_cell=min_cell),
            U.section_interventions(ctx, table.table, min_cell=min_cell),
            U.section_path(ctx, table.raw, min_cell=min_cell),
        ]


@pytest.fixture(scope="module")
def sundbyberg_sections():
    tables, _ = generate_tables("sundbyberg", seed=2016)
    return _evaluation(Study.from_frames(**tables))


def _interval_ends(text: str) -> list[float]:
    return [_number(x) for x in re.findall(r"−?\d+(?:,\d+)?", text)]


@pytest.mark.slow
def test_utvardering_numbers_are_the_published_tables(sundbyberg_sections):
    secs = sundbyberg_sections
    found = {f.topic: f for f in S.utvardering_findings(secs)}
    assert 4 <= len(found) <= S.MAX_FINDINGS
    _plain(list(found.values()))

    # the headline is every adult recipient: the first row of the first table
    offer = secs[0].tables["Erbjudandeandel, alla vuxna biståndsmottagare och per försörjningshinder"].iloc[0]
    assert offer["Grupp"] == "Alla vuxna biståndsmottagare"
    f = found["Erbjudande inom 90 dagar"]
    assert "av alla vuxna biståndsmottagare" in f.text
    assert _whole(f.number) == _r(_number(offer["Andel erbjudna"]))
    lo, hi = _interval_ends(offer["95 % konfidensintervall"])
    assert _interval_ends(f.uncertainty) == [_r(lo), _r(hi)]

    # distance groups named as offered clearly less often: those whose interval lies wholly below the top group's
    dist = secs[0].tables["Erbjudandeandel per avstånd till arbetsmarknaden (alla vuxna biståndsmottagare)"].iloc[1:]
    shares = {g: _number(a) for g, a in zip(dist["Grupp"], dist["Andel erbjudna"])}
    ends = {g: _interval_ends(ci) for g, ci in zip(dist["Grupp"], dist["95 % konfidensintervall"])}
    top = max(shares, key=shares.__getitem__)
    behind = {g for g in shares if g != top and ends[g][1] < ends[top][0]}
    meaning = found["Erbjudande inom 90 dagar"].meaning
    assert behind == {"Nära arbetsmarknaden", "Långt från arbetsmarknaden"}  # the planted pattern, on this seed
    assert "de som står nära arbetsmarknaden och de som står långt från arbetsmarknaden erbjuds klart mer sällan" in (
        meaning.lower()
    )
    assert f"varken nära eller långt från arbetsmarknaden ({format_number(_r(shares[top]), 0)}\u00a0%)" in meaning

    # drop-outs before and after the requirement, as published (interventions with the requirement)
    drop = (
        secs[1]
        .tables["Andel avbrott bland avslutade deltaganden, som började före och efter närvarokravet (2016-01-01)"]
        .iloc[0]
    )
    f = found["Närvarokrav"]
    before, after = _r(_number(drop["Avbrott, före"])), _r(_number(drop["Avbrott, efter"]))
    assert f"Avbrotten gick från {format_number(before, 0)}\u00a0% till {format_number(after, 0)}\u00a0%" in f.meaning
    lo, hi = _interval_ends(drop["95 % konfidensintervall"])
    assert ("fler avbrott" in f.meaning) == (lo > 0 and drop["Bedömning"] == "Fler avbrott")

    effect = secs[1].tables["Närvarokravets effekt på närvaron (procentenheter, nivå och trend tillsammans)"].iloc[0]
    assert _whole(f.number) == _r(abs(_number(effect["Förändring, procentenheter"])))
    lo, hi = _interval_ends(effect["95 % konfidensintervall"])
    assert _interval_ends(f.uncertainty) == sorted([abs(_r(lo)), abs(_r(hi))])
    assert ("osannolikt" in f.uncertainty) == (effect["Bedömning"] != "Kan vara slumpen")

    per = secs[3].tables["Utfall per insats, rått och justerat för deltagarnas egenskaper (ordnat efter O/E)"]
    flags = per.loc[per["Insats"] != "Alla insatser", "Avviker, justerat"]
    differ = int(flags.isin(["Högre än förväntat", "Lägre än förväntat"]).sum())
    assert found["Dagens insatser"].number == f"{differ} av {int((flags != '').sum())}"

    path = secs[4].tables["En väg in per område"].iloc[-1]
    f = found["En väg in"]
    assert _whole(f.number) == _r(_number(path["Arbetsförmåga, börjar insats inom 90 dagar"]))


def test_utvardering_never_quotes_a_hidden_value():
    # every count of the small study is 1–4: all shares of persons are hidden
    secs = _evaluation(small_evaluation_study(), start="2016-01", end="2016-12", reform="2016-07-01")
    assert secs[0].tables["Erbjudandeandel per område"]["Andel erbjudna"].eq(SUPPRESSED).all()
    found = S.utvardering_findings(secs)
    topics = {f.topic for f in found}
    assert "Erbjudande inom 90 dagar" not in topics and "En väg in" not in topics
    text = " ".join(f"{f.text} {f.uncertainty} {f.meaning}" for f in found)
    assert "%" not in text  # no share of persons survives: every one is hidden


# --------------------------------------------------------------------------- profile


def test_profile_numbers_and_hidden_values():
    study = small_profile_study()
    shown = profil.build_profile(study, "a", start="2013-01", end="2013-12")
    hidden = profil.build_profile(study, "c", start="2013-01", end="2013-12")  # three persons: suppressed

    found = {f.topic: f for f in S.profile_findings(shown.figures, shown.namn)}
    _plain(list(found.values()))
    key = shown.key_table()
    label = "Andel avslut till arbete eller studier"
    f = found[label]
    cell = key.loc[label].iloc[0] if label in key.index else key[key.iloc[:, 0] == label].iloc[0, 1]
    assert _whole(f.number) == _r(_number(cell))
    lo, hi = wilson(20, 20)  # area a: 20 of 20 ended participations to work or studies
    assert _interval_ends(f.uncertainty) == [_r(100 * lo), _r(100 * hi)] or "omkring" in f.uncertainty

    hid = S.profile_findings(hidden.figures, hidden.namn)
    outcome = [f for f in hid if f.topic == label]
    assert outcome and outcome[0].number == "" and "för litet" in outcome[0].uncertainty
    raw = "33"  # 1 of 3: the unpublished share
    assert not any(raw in f.text or raw in f.uncertainty for f in hid)


# --------------------------------------------------------------------------- rendering


def test_summary_html_is_one_escaped_block():
    evil = S.Finding(
        "<b>Rubrik</b>", "Ett <script>x</script> fynd 12 %.", "12 %", "troligen <i>", "Det [här](http://x)"
    )
    page = S.summary_html([evil] * 8, banner="> **Syntetiska exempeldata.**")
    assert page.startswith('<section class="insats-namndsammanfattning"') and page.endswith("</section>")
    assert '<h2 id="namndsammanfattning">Nämndsammanfattning</h2>' in page
    assert "<script>" not in page and "<b>Rubrik" not in page and "&lt;script&gt;" in page
    assert 'href="http' not in page
    assert page.count("<li>") == S.MAX_FINDINGS
    assert "Syntetiska exempeldata" in page


@pytest.mark.parametrize(
    ("lo", "hi", "words"),
    [
        (0.678, 0.742, "troligen mellan 68 och 74 %"),
        (0.7101, 0.7139, "troligen omkring 71 %"),
    ],
)
def test_share_range_words(lo, hi, words):
    assert S.share_range(lo, hi) == words


def test_points_range_words():
    assert points_range(0.047, 0.194) == "troligen en ökning med mellan 5 och 19 procentenheter"
    assert points_range(-0.109, 0.269) == ("troligen mellan en minskning med 11 och en ökning med 27 procentenheter")
    assert points_range(-0.2, -0.05) == "troligen en minskning med mellan 5 och 20 procentenheter"


def test_provenance_writes_parameters_for_readers():
    from insats.reports.common import provenance

    table = provenance(small_profile_study(), {"omrade": None, "granser": {}, "alla": True, "min_cell": 5})
    values = dict(zip(table["Vad"], table["Värde"]))
    assert values["omrade"] == "ej angiven" and values["granser"] == "programmets standardvärden"
    assert values["alla"] == "ja" and values["min_cell"] == "5"
    assert not table["Värde"].str.fullmatch(r"None|True|False|nan|\{\}").any()


def test_a_narrower_scope_names_its_gap_and_gives_everyones_too():
    """The offer finding quotes the scope's capacity gap as the scope's ('alla i målgruppen') and,
    when the scope is narrower than every recipient, also the gap for every adult recipient."""
    from insats.reports.render import Section

    base = {"erbjudande_andel": 0.5, "erbjudande_lo": 0.45, "erbjudande_hi": 0.55, "kapacitet_gap": 12.0}
    narrow = Section("Erbjudande")
    narrow.findings.update(base | {"kapacitet_gap_alla": 57.0})
    same = Section("Erbjudande")
    same.findings.update(base | {"kapacitet_gap_alla": 12.0})
    (a,) = [f for f in S.utvardering_findings([narrow]) if "platser" in f.meaning]
    (b,) = [f for f in S.utvardering_findings([same]) if "platser" in f.meaning]
    assert "Om alla i målgruppen ska nås saknas omkring 12 platser" in a.meaning
    assert "Om alla vuxna biståndsmottagare ska nås saknas omkring 57 platser" in a.meaning
    assert "Om alla ska nås saknas omkring 12 platser" in b.meaning and "vuxna biståndsmottagare" not in b.meaning
