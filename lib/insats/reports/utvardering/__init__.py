"""Sundbyberg's evaluation (2016) in five areas, as pure functions over a loaded study.

The notebook ``notebooks/utvardering.ipynb`` is a thin report over this package: one module per
area. Each area has analysis functions (tables with counts, shares and intervals, unprotected), and
a ``section_*`` function that runs them, sends every published table through disclosure control
(``insats.analysis.privacy``), builds the charts and writes a short Swedish conclusion, returned as
an ``insats.reports.render.Section``. ``recommendations`` turns the sections' key numbers
(``Section.findings``) into a list of recommendations, each naming the number and the threshold
that triggered it.

Areas (``docs/design.md``, Sundbyberg's utvärdering):

1. *Alla erbjuds en insats* — ``offer_frame``, ``offer_rates``, ``capacity_gap``; every adult recipient first,
   then by hinder group and by distance to the labour market (``avstand.person_distance``).
2. *Närvarokrav* — ``attendance_frame``, ``attendance_by``, ``monthly_attendance``,
   ``interrupted_time_series`` (``insats.analysis.its``), ``attendance_verdict``; drop-outs before and after
   the requirement and what follows them in ``avbrott`` (``dropout_frame``, ``dropout_by_period``,
   ``after_dropout``).
3. *Valfrihet och LOV* — ``has_lov``, ``providers_per_category``, ``lov_volume``, ``chosen_by_provider``,
   ``outcomes_by_group``, ``lov_questions``; across regimes (when LOV started, the same months, cost per regi,
   the provider market) in ``lov_regim``.
4. *Dagens insatser* — ``intervention_outcomes``, ``cost_per_outcome``; outcomes per group with the
   adjusted flags are in ``utfall`` (``outcomes_by_group``, ``adjusted_flags``); whom each category reaches in
   ``rackvidd`` (``participant_composition``).
5. *En väg in* — ``path_table``; the organisation around the assessment: ``assessment_frame``,
   ``unit_table``, ``handover_table``, ``route_table``, ``multiple_table``, ``result_table``, ``kind_table``.

Definitions reuse ``insats.analysis.measures`` (``Context``, ``ended_participations``, ``outcome_frame``
and the measures' definitions); choices this module makes are in the docstrings and in
``docs/antaganden.md`` (rows U1–U19 and S1–S21).
"""

from __future__ import annotations

from insats.reports.render import Section, show
from insats.reports.utvardering.avbrott import after_dropout, dropout_by_period, dropout_frame
from insats.reports.utvardering.avstand import person_distance
from insats.reports.utvardering.common import (
    AGE_GROUPS,
    DAYS_PER_MONTH,
    OMFATTNING,
    format_shown,
    intervention_labels,
    make_context,
    protect_shares,
)
from insats.reports.utvardering.erbjudande import capacity_gap, offer_frame, offer_rates, section_offer
from insats.reports.utvardering.insatser import cost_per_outcome, intervention_outcomes, section_interventions
from insats.reports.utvardering.lov import (
    chosen_by_provider,
    has_lov,
    lov_questions,
    lov_volume,
    providers_per_category,
    section_lov,
)
from insats.reports.utvardering.narvaro import (
    ItsResult,
    attendance_by,
    attendance_frame,
    attendance_verdict,
    interrupted_time_series,
    its_chart,
    monthly_attendance,
    section_attendance,
)
from insats.reports.utvardering.rackvidd import participant_composition
from insats.reports.utvardering.rekommendationer import (
    DEFAULT_THRESHOLDS,
    THRESHOLD_LABELS,
    Recommendation,
    all_findings,
    recommendations,
    recommendations_markdown,
    show_recommendations,
    summary,
    thresholds_table,
)
from insats.reports.utvardering.utfall import adjusted_flags, outcome_frame_ext, outcomes_by_group
from insats.reports.utvardering.vagin import (
    PATH_STEPS,
    RESULT_ORDER,
    assessment_frame,
    handover_table,
    intervals_apart,
    kind_table,
    multiple_table,
    path_table,
    result_table,
    route_table,
    section_path,
    unit_table,
)

__all__ = [
    "AGE_GROUPS",
    "DAYS_PER_MONTH",
    "DEFAULT_THRESHOLDS",
    "OMFATTNING",
    "PATH_STEPS",
    "RESULT_ORDER",
    "THRESHOLD_LABELS",
    "ItsResult",
    "Recommendation",
    "Section",
    "adjusted_flags",
    "after_dropout",
    "all_findings",
    "assessment_frame",
    "attendance_by",
    "attendance_frame",
    "attendance_verdict",
    "capacity_gap",
    "chosen_by_provider",
    "cost_per_outcome",
    "dropout_by_period",
    "dropout_frame",
    "format_shown",
    "handover_table",
    "has_lov",
    "interrupted_time_series",
    "intervals_apart",
    "intervention_labels",
    "intervention_outcomes",
    "its_chart",
    "kind_table",
    "lov_questions",
    "lov_volume",
    "make_context",
    "monthly_attendance",
    "multiple_table",
    "offer_frame",
    "offer_rates",
    "outcome_frame_ext",
    "outcomes_by_group",
    "participant_composition",
    "path_table",
    "person_distance",
    "protect_shares",
    "providers_per_category",
    "recommendations",
    "recommendations_markdown",
    "result_table",
    "route_table",
    "section_attendance",
    "section_interventions",
    "section_lov",
    "section_offer",
    "section_path",
    "show",
    "show_recommendations",
    "summary",
    "thresholds_table",
    "unit_table",
]
