"""One area's profile ("områdesprofil"): its key figures against the rest of the study.

Pure functions over a loaded study and the *published* measures table (``compute_measures(...)
.table``, disclosure control applied), used by ``notebooks/omradesprofil.ipynb`` and by any
dashboard that shows one district at a time. Nothing here reads the unprotected table.

Per measure (``key_figures``): the area's value, the whole study's value (``ALLA``), the value of
**the rest of the study** (the whole study minus the area) where the measure is a ratio of sums
(``REST_MEASURES``), the area's rank among the areas whose value is published, and — for shares
of persons — the Wilson 95 % interval and the funnel-plot flag against the whole-study share
(``insats.analysis.stats``).

Disclosure control of the rest of the study. The rest is ``(T − t) / (N − n)`` from the published
numerator/denominator of ``ALLA`` (T, N) and of the area (t, n). It is shown only when

* neither the area's row nor the ``ALLA`` row is suppressed — with a suppressed area value,
  ``ALLA`` minus the rest would give the suppressed numerator and denominator back;
* for measures about persons, the rest's own counts are not 1 … ``min_cell − 1`` (the numerator
  only when it counts persons, as in ``insats.analysis.privacy``).

Otherwise the rest is suppressed (``..``) too. Measures not about persons (places, kronor) are
never suppressed.

The Swedish sentences (``standout_sentences``, ``interventions_sentences``,
``spending_sentences``) quote numbers formatted exactly as in the tables
(``insats.charts.format_value``), so a reader finds every number of the text in a table.
"""

from __future__ import annotations

from insats.reports.profil.figures import (
    CHART_MEASURES,
    OUTCOME_MEASURE,
    PROFILE_MEASURES,
    REST_MEASURES,
    area_names,
    choose_area,
    key_figure_table,
    key_figures,
    missing_measures_text,
    rest_of_study,
    standout_sentences,
)
from insats.reports.profil.interventions import area_interventions, interventions_sentences, interventions_table
from insats.reports.profil.profile import Profile, build_profile, profile_result
from insats.reports.profil.spending import spending_comparison, spending_sentences, spending_table

__all__ = [
    "CHART_MEASURES",
    "OUTCOME_MEASURE",
    "PROFILE_MEASURES",
    "REST_MEASURES",
    "Profile",
    "area_interventions",
    "area_names",
    "build_profile",
    "choose_area",
    "interventions_sentences",
    "interventions_table",
    "key_figure_table",
    "key_figures",
    "missing_measures_text",
    "profile_result",
    "rest_of_study",
    "spending_comparison",
    "spending_sentences",
    "spending_table",
    "standout_sentences",
]
