"""The Nämndsammanfattning: the 4–6 findings of a report that matter, on one page, in plain Swedish.

Every study report and områdesprofil opens with it. Each finding (``Finding``) is a sentence with its
number, the number's uncertainty in words ("troligen mellan 68 och 74 %", "osannolikt att det är
slumpen") and what it means. The findings are picked from the sections' published results only (the
measures table after disclosure control, a section's ``findings``, a profile's key figures): a value that
is hidden (``..``) is never quoted, and a finding whose value is hidden says that the basis is too small.

One picker per report (``kartlaggning_findings``, ``utvardering_findings``, ``profile_findings``) and one
renderer (``summary_html`` / ``show_summary``) for all three. How findings are chosen is logged in
``docs/antaganden.md`` (N1–N4). Method, statistical terms and parameter names belong in the appendix
(``Metod och förbehåll``), never here.
"""

from __future__ import annotations

from insats.reports.summary.common import (
    CHANCE_POSSIBLE,
    CHANCE_UNLIKELY,
    COMPLETE_COUNT,
    MAX_FINDINGS,
    SUMMARY_TITLE,
    Finding,
    share_range,
    show_summary,
    summary_html,
)
from insats.reports.summary.kartlaggning import kartlaggning_findings
from insats.reports.summary.profil import profile_findings
from insats.reports.summary.utvardering import utvardering_findings

__all__ = [
    "CHANCE_POSSIBLE",
    "CHANCE_UNLIKELY",
    "COMPLETE_COUNT",
    "MAX_FINDINGS",
    "SUMMARY_TITLE",
    "Finding",
    "kartlaggning_findings",
    "profile_findings",
    "share_range",
    "show_summary",
    "summary_html",
    "utvardering_findings",
]
