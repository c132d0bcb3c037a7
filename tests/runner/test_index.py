"""The run's front page (index.html) and run log (korning.html): what a reader starts from."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from insats.runner.index import LOG_PAGE, read_report_page, render_front_page, render_index, write_index

REPORT = """<!DOCTYPE html><html lang="sv"><head><title>x</title><style>h1 {{}}</style></head><body>
<div class="insats-notis" role="note"><p>Syntetiska exempeldata – inga verkliga personer.</p></div>
<h1 id="k">{title}<a class="anchor-link" href="#k">¶</a></h1>
<p>Inledning.</p>
<h2>{heading}<a class="anchor-link" href="#s">¶</a></h2>
<ul><li>{first}</li><li>Andra fyndet.</li></ul>
<h2>Utbud</h2><ul><li>Inte en sammanfattning.</li></ul>
</body></html>"""


def _report(path, title="Kartläggning av insatser", heading="Nämndsammanfattning", first="Första fyndet: 21,7 %."):
    path.write_text(REPORT.format(title=title, heading=heading, first=first), encoding="utf-8")
    return path


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def _links(page: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def _run(reports):
    return {
        "namn": "stockholm_2013",
        "start": "2026-12-01T10:00:00",
        "slut": "2026-12-01T10:05:00",
        "rapporter": reports,
    }


def test_report_page_is_read_for_title_summary_and_marker(tmp_path):
    got = read_report_page(_report(tmp_path / "k.html"))
    assert got == {"titel": "Kartläggning av insatser", "sammanfattning": "Första fyndet: 21,7 %.", "syntetisk": True}
    # an older report with a plain "Sammanfattning" heading still gives its first finding
    assert read_report_page(_report(tmp_path / "u.html", heading="Sammanfattning"))["sammanfattning"] == (
        "Första fyndet: 21,7 %."
    )
    # a Nämndsammanfattning finding (blocks inside the item): the finding and how sure, words apart
    nested = (
        '<p class="insats-fynd"><strong>Utfall.</strong> 20 % slutade med arbete.</p>'
        '<p class="insats-osakerhet"><em>Hur säkert:</em> troligen mellan 19 och 21 %.</p>'
        '<p class="insats-betydelse"><em>Vad det betyder:</em> Två av tio.</p>'
    )
    got = read_report_page(_report(tmp_path / "n.html", first=nested))["sammanfattning"]
    assert got == "Utfall. 20 % slutade med arbete. Hur säkert: troligen mellan 19 och 21 %."
    # a long finding is cut at a word
    long = " ".join(["ord"] * 200)
    cut = read_report_page(_report(tmp_path / "l.html", first=long))["sammanfattning"]
    assert cut.endswith(" …") and len(cut) <= 285
    # a missing page gives empty fields, not an error
    assert read_report_page(tmp_path / "saknas.html")["titel"] == ""


def test_report_page_is_parsed_once_until_it_changes(tmp_path, monkeypatch):
    from insats.runner import index  # the module's parser, counted below

    parsed = []
    real = index._parse_report_page
    monkeypatch.setattr(index, "_parse_report_page", lambda text: parsed.append(1) or real(text))
    page = _report(tmp_path / "p.html", first="Första fyndet: 21,7 %.")
    assert read_report_page(page)["sammanfattning"] == "Första fyndet: 21,7 %."
    assert read_report_page(page)["sammanfattning"] == "Första fyndet: 21,7 %."
    assert len(parsed) == 1  # the second read came from memory
    # the page replaced as a run replaces it (a new file renamed into place), same length: read anew
    new = _report(tmp_path / "ny.html", first="Första fyndet: 31,7 %.")
    new.replace(page)
    assert read_report_page(page)["sammanfattning"] == "Första fyndet: 31,7 %."
    assert len(parsed) == 2
    # a caller changing what it got does not change what the next caller gets
    read_report_page(page)["titel"] = "ändrad"
    assert read_report_page(page)["titel"] == "Kartläggning av insatser"


def test_profile_pages_are_read_only_until_one_is_marked_synthetic(tmp_path, monkeypatch):
    from insats.runner import index  # the module's parser, counted below

    parsed: list[str] = []
    real = index._parse_report_page
    monkeypatch.setattr(index, "_parse_report_page", lambda text: parsed.append(text) or real(text))
    real_page = REPORT.replace("Syntetiska exempeldata", "Uppgifter")
    reports = []
    for code, name in (("01", "Bromma"), ("02", "Farsta"), ("03", "Kista")):
        (tmp_path / f"p{code}.html").write_text(
            real_page.format(title=f"Profil {name}", heading="Sammanfattning", first="Ett fynd."), encoding="utf-8"
        )
        reports.append({"namn": f"p{code}", "typ": "profil", "omrade_namn": name, "html": f"p{code}.html"})
    # no page has the marker: every page is read, and the front page has no notice
    page = render_front_page(_run(reports), tmp_path)
    assert len(parsed) == 3 and "Syntetiska exempeldata" not in page
    # the second profile (in name order) has it: the first two are read, the third is not needed
    _report(tmp_path / "p02.html", title="Profil Farsta")
    parsed.clear()
    page = render_front_page(_run(reports), tmp_path)
    assert "Syntetiska exempeldata" in page
    assert [("Profil Farsta" in text) for text in parsed] == [True]  # Bromma's page was read before
    monkeypatch.setattr(index, "_PAGES", {})  # nothing read yet, without touching the shared memory
    parsed.clear()
    assert "Syntetiska exempeldata" in render_front_page(_run(reports), tmp_path)
    assert [re.search(r"Profil (\w+)", text)[1] for text in parsed] == ["Bromma", "Farsta"]


def test_front_page_links_reports_pdf_excel_and_profiles_by_name(tmp_path):
    _report(tmp_path / "kartlaggning.html")
    (tmp_path / "kartlaggning.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "kartlaggning.xlsx").write_bytes(b"PK")
    names = {"01": "Östermalm", "02": "Bromma", "03": "Älvsjö", "04": "Hägersten-Liljeholmen"}
    profiles = []
    for code, name in names.items():
        _report(tmp_path / f"omradesprofil_{code}.html", title=f"Områdesprofil {name}")
        profiles.append(
            {
                "namn": f"omradesprofil_{code}",
                "typ": "profil",
                "omrade": code,
                "omrade_namn": name,
                "html": f"omradesprofil_{code}.html",
                "status": "ok",
            }
        )
    (tmp_path / "omradesprofil_02.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "omradesprofil_02.xlsx").write_bytes(b"PK")
    (tmp_path / "omradesprofil_03.xlsx").write_bytes(b"PK")
    study = {
        "namn": "kartlaggning",
        "typ": "studie",
        "notebook": "notebooks/kartlaggning.ipynb",
        "html": "kartlaggning.html",
        "status": "ok",
    }
    write_index(tmp_path / "index.html", _run([study, *profiles]))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    links = _links(page)
    assert ("kartlaggning.html", "Rapport (webbsida)") in links
    assert ("kartlaggning.pdf", "PDF för utskrift") in links
    assert ("kartlaggning.xlsx", "Tabellerna i Excel") in links
    # profiles in Swedish alphabetical order (å, ä, ö last), linked by district name
    shown = [text for href, text in links if href.startswith("omradesprofil_") and href.endswith(".html")]
    assert shown == ["Bromma", "Hägersten-Liljeholmen", "Älvsjö", "Östermalm"]
    # a PDF and an Excel link only where the file exists
    assert ("omradesprofil_02.pdf", "PDF") in links and ("omradesprofil_01.pdf", "PDF") not in links
    assert ("omradesprofil_02.xlsx", "Excel") in links and ("omradesprofil_03.xlsx", "Excel") in links
    assert not [href for href, _ in links if href in ("omradesprofil_01.xlsx", "omradesprofil_04.xlsx")]
    assert not [href for href, _ in links if href == "omradesprofil_03.pdf"]
    # each profile's links sit in its own list item, beside its name
    items = {
        re.sub(r"<[^>]+>", "", m).split(" (")[0]: m
        for m in re.findall(r"<li>(.*?)</li>", page)
        if "omradesprofil_" in m
    }
    assert "omradesprofil_02.xlsx" in items["Bromma"] and "omradesprofil_02.pdf" in items["Bromma"]
    assert "omradesprofil_03.xlsx" in items["Älvsjö"] and ".pdf" not in items["Älvsjö"]
    assert ".xlsx" not in items["Östermalm"] and ".pdf" not in items["Östermalm"]
    assert "Första fyndet: 21,7 %." in page and "Syntetiska exempeldata" in page
    assert "<h1>Kartläggning av insatser</h1>" in page
    # the run log is its own page, linked both ways
    assert (LOG_PAGE, "Körningslogg") in links
    log = (tmp_path / LOG_PAGE).read_text(encoding="utf-8")
    assert ("index.html", "Till framsidan") in _links(log) and "Körningslogg – stockholm_2013" in log
    # no run-log detail on the front page
    assert "Parametrar" not in page and "sha256" not in page.lower()
    assert not re.search(r"(?:src|href)=['\"]?(?:https?:)?//", page)


def test_front_page_says_why_kolada_is_missing_and_links_it_when_present(tmp_path):
    _report(tmp_path / "utvardering.html", title="Utvärdering")
    study = {
        "namn": "utvardering",
        "typ": "studie",
        "notebook": "notebooks/utvardering.ipynb",
        "html": "utvardering.html",
        "status": "ok",
    }
    without = render_front_page(_run([study]), tmp_path)
    assert "Ingen Kolada-jämförelse" in without and "insats kolada fetch" in without
    _report(tmp_path / "kolada.html", title="Kommunen i nationell jämförelse")
    kolada = {
        "namn": "kolada",
        "typ": "studie",
        "notebook": "notebooks/kolada.ipynb",
        "html": "kolada.html",
        "status": "ok",
    }
    with_it = render_front_page(_run([study, kolada]), tmp_path)
    assert "Ingen Kolada-jämförelse" not in with_it
    assert ("kolada.html", "Rapport (webbsida)") in _links(with_it)


def test_front_page_escapes_hostile_names_and_mentions_failures(tmp_path):
    hostile = "<script>alert(1)</script>"
    _report(tmp_path / "k.html", title=hostile.replace("<", "&lt;"), first="x &lt;img src=x onerror=alert(1)&gt;")
    reports = [
        {"namn": "k", "typ": "studie", "html": "k.html", "status": "ok"},
        {"namn": "p", "typ": "profil", "omrade": "x", "omrade_namn": hostile, "html": "k.html", "status": "ok"},
        {"namn": "q", "typ": "profil", "omrade": "y", "omrade_namn": "Kista", "html": None, "status": "fel"},
    ]
    page = render_front_page(_run(reports), tmp_path)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1 av rapporterna kunde inte skapas" in page
    # a report that has no page (failed, never succeeded) has no link
    assert "Kista" not in page


def test_run_log_escapes_text_from_data():
    page = render_index(
        {
            "namn": "t",
            "rapporter": [
                {
                    "namn": "<b>",
                    "status": "fel",
                    "parametrar": {"a": 1},
                    "fel": {"typ": "ValueError", "meddelande": "x<y", "cell": 3},
                }
            ],
        }
    )
    assert "&lt;b&gt;" in page and "x&lt;y" in page and "cell 3" in page and "<script" not in page


@pytest.mark.browser
def test_front_page_and_run_log_are_accessible(tmp_path):
    """The front page a reader starts from and the run log, opened in Chromium: axe-core finds nothing
    serious, the language is Swedish, one h1, and every link can be reached with the keyboard."""
    from tests.support.axe import assert_accessible
    from tests.support.browser import offline_page

    _report(tmp_path / "kartlaggning.html")
    (tmp_path / "kartlaggning.pdf").write_bytes(b"%PDF-1.7")
    profiles = [
        {"namn": f"p{c}", "typ": "profil", "omrade": c, "omrade_namn": n, "html": "kartlaggning.html", "status": "ok"}
        for c, n in (("01", "Östermalm"), ("02", "Bromma"))
    ]
    failed = {"namn": "q", "typ": "profil", "omrade": "03", "omrade_namn": "Kista", "html": None, "status": "fel"}
    study = {
        "namn": "kartlaggning",
        "typ": "studie",
        "html": "kartlaggning.html",
        "status": "ok",
        "parametrar": {"a": 1},
    }
    write_index(tmp_path / "index.html", _run([study, *profiles, failed]))
    with offline_page() as page:
        for name in ("index.html", LOG_PAGE):
            page.goto((tmp_path / name).as_uri())
            assert page.evaluate("document.documentElement.lang") == "sv"
            assert page.evaluate("document.querySelectorAll('h1').length") == 1
            assert_accessible(page, f"på {name}")
            n_links = page.evaluate("document.querySelectorAll('a[href]').length")
            assert n_links >= 1
            reached = set()
            for _ in range(n_links + 2):
                page.keyboard.press("Tab")
                href = page.evaluate("document.activeElement && document.activeElement.getAttribute('href')")
                if href:
                    reached.add(href)
            hrefs = set(
                page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
            )
            assert reached == hrefs
        assert page.blocked == []


def test_run_log_counts_suppressed_cells_by_reason_and_links_the_log():
    """The audit trail: how many counts the publication hides, by reason, and where the full log is."""
    rec = {
        "fil": "s/publicering.json",
        "antal": 120,
        "logg": "s/undertryckningar.csv",
        "undertryckta": {"sekundär": 7, "primär": 3, "följer": 1},
        "granskning": [],
    }
    page = render_index({"namn": "t", "rapporter": [], "publicering": {"s": rec}})
    assert "Undertryckta antal: 11 (sekundär 7, primär 3, följer 1)" in page
    assert ("s/undertryckningar.csv", "s/undertryckningar.csv") in _links(page)
    # a record from before the log (or without it) still renders
    old = {k: v for k, v in rec.items() if k not in ("logg", "undertryckta")}
    assert "Undertryckta" not in render_index({"namn": "t", "rapporter": [], "publicering": {"s": old}})
