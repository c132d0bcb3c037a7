"""The Nämndsammanfattning's parts shared by all reports: ``Finding``, the wording of numbers and
uncertainty, and the one renderer."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from IPython.display import HTML, display

from insats.reports.render import markdown_html
from insats.text import format_number

SUMMARY_TITLE = "Nämndsammanfattning"
MAX_FINDINGS = 6
"""At most this many findings: the summary fits one A4 page."""

CHANCE_UNLIKELY = "osannolikt att det är slumpen"
CHANCE_POSSIBLE = "kan vara slumpen"
COMPLETE_COUNT = "räknat ur alla insatser i uppgifterna, inte ur ett urval – ingen osäkerhet av slump"
"""The uncertainty of a number counted from the whole register (places, categories, money)."""


@dataclass(frozen=True)
class Finding:
    """One finding of the Nämndsammanfattning.

    ``text`` states the finding and contains ``number`` verbatim; ``uncertainty`` says in words how sure
    the number is; ``meaning`` says what it means for the nämnd. ``value`` is the published value that
    ``number`` shows (None for a count or a list); tests compare it with the published tables."""

    topic: str
    text: str
    number: str
    uncertainty: str
    meaning: str
    value: float | None = None


# --------------------------------------------------------------------------- wording


def finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and np.isnan(x)) and bool(np.isfinite(float(x)))


def as_shown(x: float, percent: bool = True) -> float:
    """``x`` rounded as the report's tables show it (one decimal; shares in per cent), so that a whole
    number in the summary is the rounding of the figure a reader sees in the table (19,5 → 20, not the
    19 that 19,496 would give)."""
    value = Decimal(repr(float(x))) * (100 if percent else 1)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) / (100 if percent else 1)


def pct(x: float) -> str:
    return format_number(as_shown(x), 0, percent=True)


def share_range(lo: float, hi: float) -> str:
    """A share's 95 % interval in words: ``troligen mellan 68 och 74 %`` (``troligen omkring 71 %`` when
    both ends round to the same whole per cent)."""
    a, b = format_number(as_shown(lo), 0, percent=True)[:-2], format_number(as_shown(hi), 0, percent=True)[:-2]
    if a == b:
        return f"troligen omkring {a} %"
    return f"troligen mellan {a} och {b} %"


def points_range(lo: float, hi: float) -> str:
    """An interval of a change in percentage points in words."""
    lo, hi = as_shown(lo), as_shown(hi)

    def word(x: float) -> str:
        if round(100 * x) == 0:
            return "ingen förändring"
        return f"{'en ökning' if x > 0 else 'en minskning'} med {format_number(abs(100 * x), 0)}"

    if lo >= 0 or hi <= 0:
        a, b = sorted((abs(100 * lo), abs(100 * hi)))
        kind = "ökning" if hi > 0 else "minskning"
        return f"troligen en {kind} med mellan {format_number(a, 0)} och {format_number(b, 0)} procentenheter"
    return f"troligen mellan {word(lo)} och {word(hi)} procentenheter"


def tenths(x: float) -> str:
    """``0.71`` → ``omkring 7 av 10``."""
    return f"omkring {format_number(10 * x, 0)} av 10"


def areas_word(k: int) -> str:
    return f"{format_number(k)} {'område' if k == 1 else 'områden'}"


# --------------------------------------------------------------------------- rendering


def summary_html(findings: Sequence[Finding], *, lead: str | None = None, banner: str | None = None) -> str:
    """The summary as one HTML block (``<section class="insats-namndsammanfattning">``) with its ``<h2>``
    heading, an optional lead paragraph and synthetic-data banner (safe Markdown), and the findings as a
    numbered list. Every text is escaped; print CSS puts the block on a page of its own."""
    items = []
    for f in findings[:MAX_FINDINGS]:
        items.append(
            "<li>"
            f'<p class="insats-fynd"><strong>{html.escape(f.topic)}.</strong> {html.escape(f.text)}</p>'
            f'<p class="insats-osakerhet"><em>Hur säkert:</em> {html.escape(f.uncertainty)}.</p>'
            f'<p class="insats-betydelse"><em>Vad det betyder:</em> {html.escape(f.meaning)}</p>'
            "</li>"
        )
    body = f"<ol>{''.join(items)}</ol>" if items else "<p>Det finns inga resultat att sammanfatta.</p>"
    return (
        '<section class="insats-namndsammanfattning" aria-labelledby="namndsammanfattning">'
        f'<h2 id="namndsammanfattning">{SUMMARY_TITLE}</h2>'
        + (markdown_html(banner) if banner else "")
        + (markdown_html(lead) if lead else "")
        + body
        + '<p class="insats-sammanfattning-fot"><small>Siffrorna kommer från rapportens tabeller; små antal '
        "visas inte. Hur siffrorna räknas och vad de inte säger står sist i rapporten, under Metod och "
        "förbehåll.</small></p>"
        "</section>"
    )


def show_summary(findings: Sequence[Finding], *, lead: str | None = None, banner: str | None = None) -> None:
    """Display the summary in a notebook (``summary_html``)."""
    display(HTML(summary_html(findings, lead=lead, banner=banner)))
