"""The measures of the design (``docs/design.md``, "Measures"), as pure functions over a loaded study.

Every measure returns a tidy table with one row per area and one for the whole study
(``omrade_kod == "ALLA"``) and the columns ``varde, taljare, namnare``; ``compute_measures``
stacks them into the long format ``matt, omrade_kod, varde, taljare, namnare, undertryckt`` and
sends the result through disclosure control (``insats.analysis.privacy``).

Where the design leaves an edge case open, the choice is made in the function's docstring and
logged in ``docs/antaganden.md``. Choices that hold for all measures:

* **Area of a person** is ``personer.omrade_kod`` (the district responsible for the person). A
  participation counts for the person's area, even when the intervention belongs to another
  area or is ``CENTRAL``.
* **Period** is whole months, ``start`` to ``end`` inclusive; a date is in the period when it
  falls between the first day of ``start`` and the last day of ``end``.
* **Adult recipient**: a person with at least one ``bistand`` month in the period in a year in
  which the person turns 18 or more (``manad.year - fodelsear >= 18``); *m0* is the first such
  month and *day0* its first day.
* **The data's end** (for follow-up) is the last month present in ``bistand``.

One module per family of measures, each registering its measures in ``registry.MEASURES`` on
import; the order of the imports below is the order of the published table. Speed: person ids are
turned into integer positions once, and assistance months into a dense person × month boolean
panel (``context.Context``), so that the 500,000-person study runs in seconds
(``benchmarks/measures.py``).
"""

# isort: off
# The families register their measures on import; this order is the order of the published table.
from insats.analysis.measures import utbud  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import medel  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import erbjudande  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import narvaro  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import utfall  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import vagin  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import lov  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import samverkan  # noqa: F401  (registers the family's measures)
from insats.analysis.measures import justerat  # noqa: F401  (registers the family's measures)

# isort: on
from insats.analysis.measures.compute import COLUMNS, MeasureResult, compute_measures
from insats.analysis.measures.context import (
    Context,
    Params,
    default_period,
    month_start,
    open_interventions,
    per_area,
    period_years,
    stat_per_area,
)
from insats.analysis.measures.justerat import OE_CATEGORICAL, OE_NUMERIC, outcome_frame, outcome_model
from insats.analysis.measures.likstallighet import likstallighet
from insats.analysis.measures.medel import medel_in_period
from insats.analysis.measures.output import SWEDISH_HEADERS, write_measures
from insats.analysis.measures.registry import (
    FUNNEL_CODES,
    MEASURES,
    SHARE_MEASURES_FOR_EQUALITY,
    Measure,
    labels_table,
    measure_label,
)
from insats.analysis.measures.utfall import aid_after_end, ended_participations

__all__ = [
    "COLUMNS",
    "FUNNEL_CODES",
    "MEASURES",
    "OE_CATEGORICAL",
    "OE_NUMERIC",
    "SHARE_MEASURES_FOR_EQUALITY",
    "SWEDISH_HEADERS",
    "Context",
    "Measure",
    "MeasureResult",
    "Params",
    "aid_after_end",
    "compute_measures",
    "default_period",
    "ended_participations",
    "labels_table",
    "likstallighet",
    "measure_label",
    "medel_in_period",
    "month_start",
    "open_interventions",
    "outcome_frame",
    "outcome_model",
    "per_area",
    "period_years",
    "stat_per_area",
    "write_measures",
]
