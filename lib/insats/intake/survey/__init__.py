"""The kartläggning survey: one Excel template per district, and reading the answers back.

``write_templates`` writes ``enkat_<omrade_kod>.xlsx`` per district with the sheets
*Instruktioner*, *Insatser* (table ``insatser``), *Medel* (table ``medel``) and a hidden *Koder*
(the code lists' Swedish labels, used by the drop-down lists, plus the template's metadata).
Headers are the contract's Swedish column labels; coded columns get drop-down lists of labels.

``read_surveys`` reads filled-in templates back into canonical ``insatser`` and ``medel`` tables
(labels -> codes through :func:`insats.contract.normalise_code`) and lists every problem with file,
sheet, Excel row and column. ``write_survey_tables`` writes them as a study folder's CSV files.

Rows whose first cell starts with ``EXEMPEL`` are the template's example and are skipped; so are
rows where nothing but the prefilled cells is filled in.
"""

from __future__ import annotations

from insats.errors import SurveyError
from insats.intake.survey.layout import EXAMPLE_MARK, SHEET_CODES, SHEET_INFO, SHEET_INSATSER, SHEET_MEDEL, SHEETS
from insats.intake.survey.read import read_surveys, write_survey_tables
from insats.intake.survey.template import parse_areas, read_areas_file, write_templates

__all__ = [
    "EXAMPLE_MARK",
    "SHEETS",
    "SHEET_CODES",
    "SHEET_INFO",
    "SHEET_INSATSER",
    "SHEET_MEDEL",
    "SurveyError",
    "parse_areas",
    "read_areas_file",
    "read_surveys",
    "write_survey_tables",
    "write_templates",
]
