"""Synthetic example data ("syntetiska exempeldata") for the two studies, with planted effects.

``generate(kind, out)`` writes a study folder that follows the data contract
(``insats.contract``): one file per table plus ``studie.json`` saying that the data is synthetic,
how it was made and which effects were planted. ``generate_tables`` is the same without files.
Nothing here describes real persons: every person, household, participation and amount is drawn
from the random generator ``numpy.random.default_rng(seed)``; only the names, populations and
2015 recipient counts of the Stockholm districts are real public figures (constants in ``model``,
with their source). The same seed gives byte-identical files.

Kinds
-----
``stockholm``
    The 14 stadsdelsområden of 2007–2020, years 2012–2013, ≈25,000 adult recipients distributed
    like the districts' 2015 recipient counts. Organisation differs per district the way the 2013
    kartläggning found: own units (``egen_omrade``), the central jobbtorg (``CENTRAL``,
    ``egen_central``), procured providers, civil society, the Public Employment Service; small
    districts offer few categories; some districts count feriejobb as an intervention; work-capacity
    assessments (``bedomningar``) for "en väg in".
``sundbyberg``
    One municipality, 7 neighbourhoods, years 2015–2016, ≈1,500 adult recipients, a central
    Jobbcenter, a reform on 2016-01-01 (närvarokrav and LOV providers) and work-capacity
    assessments (``bedomningar``).

``generate_municipalities(out, count)`` (``insats generate kommuner --count N``) writes N
generated municipalities of varied size into ``out/kommun_01 …``, for testing runs over many
studies: each is the Stockholm model on a random subset of 3–14 of its districts, with a
log-uniform number of persons around ``persons`` (a quarter to four times it), its own seed and
a made-up name and code (``Exempelkommun 1``, ``9001``; codes from 9001 are not used by any
Swedish municipality).

Model
-----
*Areas* have a disadvantage score ``z`` in [-1, 1] (Stockholm: from the district's 2015 share of
inhabitants on assistance). A higher ``z`` means more persons born abroad, more with only
förgymnasial education, older recipients and more long-term recipients (who are on assistance
from the data's first month and stay longer, so they have more months on assistance before a
participation starts) — all of which lower the chance of exiting to work or studies.

*Assistance* is one contiguous spell per person (monthly ``belopp`` ≈ 4,000–15,000 kr): about
40 % of a year's recipients are long-term (10–12 months), ≈10.5 assistance months per person over
the two years. A person leaves when the spell ends inside the data; ``avslut.manad`` is then the
first month without assistance, with an ``avslutsorsak``.

*Participations* (``deltaganden``) are sequential, mostly for persons in hinder group
arbetsloshet (≈0.75 per person in Stockholm, ≈0.95 in Sundbyberg); the probability of any
participation is area-specific (planted, ``sannolikhet_deltagande``). The intervention is drawn among the area's own and the CENTRAL interventions (weighted
by places, respecting age-restricted target groups and validity dates). Feriejobb have no
participations (their participants are school youth, not adult recipients). About 1 % of persons
move: their later participations are at another area's interventions, while
``personer.omrade_kod`` keeps their first area.

*Planted outcome model.* For each ended participation::

    P(avslut in {arbete, studier}) = logistic(b0 + individual + district_effect[area] + category_effect[kategori])

with ``individual`` = age effect per 10 years over 35 + sex + born abroad + education + hinder
group + per month on assistance in the 12 calendar months before the start month (computed from
``bistand`` exactly as ``insats.analysis.measures`` does). The coefficients are in ``OUTCOME_MODEL``; the
district and category effects in ``planted_effects(kind)``. District effects are NEGATIVELY related
to the composition advantage (disadvantaged areas have positive true effects), so the raw share of
exits to work or studies ranks areas differently from the true effects, while a case-mix adjusted
observed/expected (a logistic model of the individual characteristics fitted without area)
recovers their order. Areas also differ in category mix, which adds to their observed/expected.
A person whose participation ends in arbete/studier stops participating and, with probability
0.85, leaves assistance after the participation's end month (``avslut`` row with the same reason).

*Attendance.* ``narvarotimmar / planerade_timmar`` is Beta-distributed: Stockholm mean 0.80 with
närvarokrav and 0.68 without; Sundbyberg mean 0.70 for participations starting before the reform
and 0.82 from it. Attended hours never exceed planned hours (a generated study validates without
warnings; the draw that once planted over-attendance is still made and discarded so the stream is
unchanged); some planned hours are 0 or empty.

*Drop-outs* (Sundbyberg, planted): an ended participation that is not arbete/studier is
``avbrott`` with probability 0.30, and 0.40 for participations started on or after the reform in
interventions with närvarokrav (``model.AVBROTT``; drawn from a stream of its own,
``default_rng([seed, 18])``, so nothing else changes).

*Work-capacity assessments* (Sundbyberg): new applicants are assessed after Gamma(2, 12) days
(median ≈ 20), 7 % never; those assessed hel/delvis start a participation within 90 days of the
assessment with probability 0.70/0.50 (planted). Both kinds (``synth.assessments``, a random stream
of its own so the other tables do not change): Stockholm's new applicants are assessed the same way,
their result weighted towards hel/delvis when an insats follows within 90 days; every assessment has
an assessing unit (``enhet``); it is handed over to another unit (``overlamnad_till``) with probability
0.10 when the person starts an insats within 90 days, else 0.35 (planted: hand-overs go with a longer
wait); a person is assessed again after a new application with probability 0.40 after an oklar
result, else 0.05 (``planted_effects(kind)["vagin_organisation"]``).

*Distance to the labour market* (``personer.arbetsmarknadsavstand``, ``distance``): nära, mellan or långt, by
hinder group (ohälsa and sociala skäl mostly långt, arbetslöshet mostly nära or mellan), further away in
disadvantaged areas and for long-term recipients. Planted (Sundbyberg's press release, 2016): persons in the
middle get an intervention clearly more often than those nearest to or furthest from the labour market — log
odds nära −1.5, mellan +0.8, långt −2.2, calibrated per person so that the area's and group's probability of
any participation stays as planted. The distance is drawn from its own stream (``default_rng([seed, 17])``)
given whether the person got an intervention, which gives the same joint distribution and leaves every other
generated value as it was without the distance.

*Catalogues and money.* Places scale with the number of persons. ``medel`` has one line per area,
year and category (plus administration, not counted as intervention), from places × cost per
place and month; a line that would reach 10 digits (only in studies of hundreds of thousands of
persons) is split into equal lines, because no value may look like a personnummer. Sundbyberg's
catalogue is the one at the end of 2016: närvarokrav everywhere except in the procured contracts
that ended with 2015.

Formats: CSV (UTF-8, comma, ISO dates, months ``YYYY-MM``, booleans ``Ja``/``Nej``, empty cell for
missing) or Parquet (dates as ``date32``, months as ``YYYY-MM`` text, booleans as nullable
booleans). The folder is built in a temporary sibling and renamed into place.

Modules
-------
``model`` (kinds, real figures, planted effects and rates), ``draws`` (random-draw helpers),
``catalogue`` (areas, interventions, money), ``tables`` (persons and events; ``generate_tables``),
``distance`` (distance to the labour market),
``files`` (CSV/Parquet forms; ``generate``), ``kommuner`` (``generate_municipalities``). What the
modules share beyond the names below is the package's own, not an interface for other code.
"""

from __future__ import annotations

from insats.intake.synth.files import generate
from insats.intake.synth.kommuner import generate_municipalities
from insats.intake.synth.model import (
    CATEGORY_EFFECTS,
    KINDS,
    OUTCOME_MODEL,
    STOCKHOLM_DISTRICTS,
    SUNDBYBERG_AREAS,
    planted_effects,
)
from insats.intake.synth.tables import generate_tables

__all__ = [
    "CATEGORY_EFFECTS",
    "KINDS",
    "OUTCOME_MODEL",
    "STOCKHOLM_DISTRICTS",
    "SUNDBYBERG_AREAS",
    "generate",
    "generate_municipalities",
    "generate_tables",
    "planted_effects",
]
