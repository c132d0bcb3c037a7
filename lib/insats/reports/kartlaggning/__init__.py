"""The Stockholm kartläggning (2013) as reusable logic: what ``notebooks/kartlaggning.ipynb`` shows.

The 2013 mapping of Stockholm's district councils found differences in *organisation* (who runs
the interventions), in *utbud* (which categories a district offers; small districts had too few
participants for a broad range), in the *use of money* (some districts counted summer jobs,
feriejobb, as an intervention, others did not) and asked for *one follow-up system* and
*likställighet*. This module turns each finding into a function of a loaded study; the
notebook is a sequence of calls to it, to ``insats.analysis.measures``, ``insats.reports.common`` and
``insats.charts``.

Everything here works on the survey level (``omraden`` + ``insatser`` + ``medel``); the outcome
parts need ``personer``, ``bistand`` and ``deltaganden`` and say so when they are missing.

Definitional choices made here (logged in ``docs/antaganden.md``, rows K1–K8):

* **Own utbud** of an area: interventions that the area itself counts as intervention
  (``raknas_som_insats``) and that are open in the period (``insats.analysis.measures.open_interventions``),
  with ``omrade_kod`` equal to the area. ``CENTRAL`` interventions are a row of their own.
* **Category gaps** are judged over ``GAP_CATEGORIES``: the national typology without feriejobb
  (summer jobs for school youth, not an intervention for adults on assistance) and ovrigt (a
  residual, not a kind of intervention).
* **Feriejobb comparison**: money per inhabitant aged 18–64 and year under three definitions —
  each area's own (lines it marks ``raknas_som_insats``), and two common ones that ignore the
  areas' marks: every category but administration *without* feriejobb, and *with* feriejobb.
"""

from __future__ import annotations

from insats.reports.kartlaggning.common import (
    COMMON_DEFINITIONS,
    EQUALITY_MEASURES,
    GAP_CATEGORIES,
    OUTCOME_TABLES,
    SURVEY_TABLES,
    check_parameters,
    join_names,
    period_years,
    present,
)
from insats.reports.kartlaggning.medel import (
    feriejobb_comparison,
    feriejobb_table,
    section_feriejobb,
    section_medel,
    spending_by_category,
    spending_table,
)
from insats.reports.kartlaggning.metod import calibration_table, model_checks, model_sentences, section_metod
from insats.reports.kartlaggning.samverkan import SAMVERKAN_MEASURES, samverkan_sentences, section_samverkan
from insats.reports.kartlaggning.summary import summary, summary_markdown
from insats.reports.kartlaggning.uppfoljning import (
    data_flow,
    indicator_set,
    section_uppfoljning,
    uncomputable_measures,
    uncomputable_table,
)
from insats.reports.kartlaggning.utbud import (
    category_gaps,
    gaps_table,
    open_places,
    organisation_display,
    organisation_sentences,
    organisation_table,
    place_matrix,
    regi_matrix,
    section_gaps,
    section_organisation,
    section_utbud,
    size_and_breadth,
    size_breadth_sentence,
    who_runs_what,
    who_runs_what_display,
)
from insats.reports.kartlaggning.utfall import (
    differing_areas,
    differing_table,
    equality_display,
    equality_table,
    false_flags,
    false_flags_sentence,
    outcome_sentences,
    raw_and_adjusted,
    section_justerat,
    section_likstallighet,
    section_utfall,
)
from insats.reports.kartlaggning.utveckling import section_utveckling, trend_sentence
from insats.reports.kartlaggning.vagin import VAGIN_MEASURES, section_vagin, vagin_sentences
from insats.reports.render import Note, Section, show

__all__ = [
    "COMMON_DEFINITIONS",
    "EQUALITY_MEASURES",
    "GAP_CATEGORIES",
    "OUTCOME_TABLES",
    "SAMVERKAN_MEASURES",
    "SURVEY_TABLES",
    "VAGIN_MEASURES",
    "Note",
    "Section",
    "calibration_table",
    "category_gaps",
    "check_parameters",
    "data_flow",
    "differing_areas",
    "differing_table",
    "equality_display",
    "equality_table",
    "false_flags",
    "false_flags_sentence",
    "feriejobb_comparison",
    "feriejobb_table",
    "gaps_table",
    "indicator_set",
    "join_names",
    "model_checks",
    "model_sentences",
    "open_places",
    "organisation_display",
    "organisation_sentences",
    "organisation_table",
    "outcome_sentences",
    "period_years",
    "place_matrix",
    "present",
    "raw_and_adjusted",
    "regi_matrix",
    "samverkan_sentences",
    "section_feriejobb",
    "section_gaps",
    "section_justerat",
    "section_likstallighet",
    "section_medel",
    "section_metod",
    "section_organisation",
    "section_samverkan",
    "section_uppfoljning",
    "section_utbud",
    "section_utfall",
    "section_utveckling",
    "section_vagin",
    "show",
    "size_and_breadth",
    "size_breadth_sentence",
    "spending_by_category",
    "spending_table",
    "summary",
    "summary_markdown",
    "trend_sentence",
    "uncomputable_measures",
    "uncomputable_table",
    "vagin_sentences",
    "who_runs_what",
    "who_runs_what_display",
]
