"""What a study publishes, protected as one: the study period, its calendar years, every table.

Period policy (``docs/antaganden.md``, R5). Published figures are only for *publication periods*:
whole calendar years, and spans of consecutive whole calendar years, within the years the data
covers (data from 2015-03 to 2016-12 gives 2015, 2016 and 2015–2016). Any other period would let a
hidden count be worked out by subtracting two overlapping periods (January–November from
January–December gives December), so ``insats measures`` refuses it unless ``--min-cell 1`` marks
the output as internal, a params file's study period must be one of them, and the dashboards offer
only these. All publication periods of a study are protected together, in one disclosure model:
each span is related to its years count by count (``registry.Count.over_time``), and every report
table the study publishes is registered in the same model (``hooks`` from the reports layer), so a
count hidden in one place is hidden everywhere it appears, and the decisions depend only on the
data and the parameters — never on which report or dashboard asks.

``publish`` is the one entry point for everything published from a study: notebooks, profiles,
dashboards, the measures file. The same data and parameters always give the same decisions.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from insats.ahead import ahead
from insats.analysis.disclosure import Disclosure
from insats.analysis.measures.compute import MeasureResult, finish, make_params, raw_measures
from insats.analysis.measures.context import Params, default_period, month_start
from insats.analysis.measures.likstallighet import likstallighet
from insats.analysis.measures.publish import _relate_periods as relate_periods
from insats.analysis.measures.publish import apply, period_label, register_measures
from insats.analysis.overdispersion import add_dispersion_curves, dispersion_curves
from insats.data.study import READS, Study
from insats.errors import UsageError

__all__ = [
    "Publication",
    "active_publication",
    "data_years",
    "is_publication_period",
    "period_name",
    "publication_periods",
    "publish",
    "record",
    "replay",
]

Hook = Callable[["Publication"], None]
"""A report layer's contribution: registers its tables' counts in ``publication.disclosure``."""

_ACTIVE: contextvars.ContextVar[Publication | None] = contextvars.ContextVar("insats_publication", default=None)


def data_years(study: Study) -> tuple[int, int]:
    """The first and last calendar year of the data (``default_period``)."""
    start, end = default_period(study)
    return start.year, end.year


def publication_periods(first_year: int, last_year: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every span of consecutive whole calendar years between two years: the longest first, then by
    length and start (2015–2016, 2015, 2016)."""
    spans = [(a, b) for a in range(first_year, last_year + 1) for b in range(a, last_year + 1)]
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    return [(pd.Timestamp(a, 1, 1), pd.Timestamp(b, 12, 1)) for a, b in spans]


def is_publication_period(study: Study, start, end) -> bool:
    """Whether ``start``–``end`` is one of the study's publication periods."""
    return (month_start(start), month_start(end)) in publication_periods(*data_years(study))


def period_name(label: str) -> str:
    """``"2015-01:2016-12"`` → ``"2015–2016"``, ``"2015-01:2015-12"`` → ``"2015"``."""
    a, b = label.split(":")
    return a[:4] if a[:4] == b[:4] else f"{a[:4]}–{b[:4]}"


@dataclass
class Publication:
    """The published measures of every publication period of a study, and the disclosure model
    they (and every registered report table) were protected in."""

    study: Study = field(repr=False)
    params: Params
    results: dict[str, MeasureResult]
    disclosure: Disclosure = field(repr=False)
    raws: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    cells: dict[str, list] = field(default_factory=dict, repr=False)
    decided: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    table_period: str = ""
    """The period report tables are registered in or rendered for (set by ``active``)."""
    table_state: dict = field(default_factory=dict, repr=False)
    """Per activation: how many tables of each name were seen (the same order when rendering)."""
    recording: list[tuple[Callable[..., None], tuple, dict[str, Any]]] | None = field(default=None, repr=False)
    """While report tables are recorded (``record``): their registrations, to be done by ``replay``."""

    def register(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Register report tables' counts: ``fn(self, *args, **kwargs)``, now, or while recording
        (``record``) later, in another process (``replay``). ``fn`` is a module-level function that
        works only from its arguments and this publication (its disclosure model, ``table_period``,
        ``table_state``); the arguments must not change after the call, and must pickle."""
        if self.recording is not None:
            self.recording.append((fn, args, kwargs))
        else:
            fn(self, *args, **kwargs)

    @property
    def span(self) -> str:
        """The longest publication period (all the data's years)."""
        return next(iter(self.raws))

    @property
    def periods(self) -> list[str]:
        """The publication periods, the study period first."""
        return list(self.results) if self.results else list(self.raws)

    def result(self, start=None, end=None) -> MeasureResult:
        """The published measures of a publication period (by default the study period)."""
        if start is None and end is None:
            return self.results[self.span]
        if start is None or end is None:
            raise UsageError("ange både periodens första och sista månad, eller ingen av dem.")
        label = period_label(month_start(start), month_start(end))
        if label not in self.results:
            names = ", ".join(period_name(p) for p in self.periods)
            raise UsageError(
                f"perioden {label.replace(':', '–')} är ingen publiceringsperiod: siffror publiceras bara för "
                f"hela kalenderår och följder av hela år ({names}), så att ingen dold uppgift kan räknas fram "
                "genom att jämföra två perioder som överlappar. Välj en av dem, eller --min-cell 1 för en "
                "intern kontroll som inte publiceras."
            )
        return self.results[label]

    @property
    def log(self) -> list[dict[str, str]]:
        return self.disclosure.log()

    @contextmanager
    def active(self, start=None, end=None) -> Iterator[Publication]:
        """Make this the publication report tables register in, or are rendered from
        (``active_publication``), for a publication period (by default the longest)."""
        self.table_period = (
            self.span if start is None or end is None else period_label(month_start(start), month_start(end))
        )
        self.table_state = {}
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


def active_publication() -> Publication | None:
    """The publication report tables are being registered in or rendered from, if any."""
    return _ACTIVE.get()


class _NoModel:
    """The disclosure model of a publication that records (``record``): registering must go through
    ``Publication.register``, so any direct use is an error, not a silent loss."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"report tables being recorded reached the disclosure model directly ({name}); "
            "register them through Publication.register"
        )


def record(study: Study, raws: dict[str, pd.DataFrame], collect: Callable[[Publication], None]) -> list:
    """The registrations ``collect(pub)`` makes with a collecting publication of ``study`` active
    (``raws``: the measures of the publication periods, the longest first), without a disclosure
    model: ``replay`` does them later, in the same order, in the publication that needs them. The
    part of a publication a kernel that waits for it can work out for the kernel that computes it
    (``insats.reports.publication``); the result is a picklable list."""
    pub = Publication(study, cast("Params", None), {}, cast("Disclosure", _NoModel()), raws, recording=[])
    with pub.active():
        collect(pub)
    return cast("list", pub.recording)


def replay(pub: Publication, records: list) -> None:
    """Do the registrations ``record`` recorded, in order, in ``pub`` (collecting, active)."""
    for fn, args, kwargs in records:
        fn(pub, *args, **kwargs)


def _measures(study: Study, params: list[Params]) -> tuple[list[tuple[pd.DataFrame, list[str]]], frozenset]:
    """``raw_measures`` for each of ``params``, and the tables they read (``READS``)."""
    with READS.capture() as reads:
        out = [raw_measures(study, p) for p in params]
    return out, frozenset(reads)


def _curves(raws: dict[str, pd.DataFrame], min_cell: int) -> dict:
    """The dispersion curves the likställighet rows of ``finish`` need, simulated (the areas that
    protection leaves visible are nearly always all of them, so their curves are the same)."""
    for long in raws.values():
        likstallighet(long, min_cell)
        likstallighet(long, 1)
    return dispersion_curves()


def publish(
    study: Study,
    *,
    min_cell: int = 5,
    protection: float | None = None,
    hooks: Sequence[Hook] = (),
    first: Callable[[Params], tuple[pd.DataFrame, list[str]]] | None = None,
    **options: Any,
) -> Publication:
    """Compute and protect, together, the measures of every publication period of the study and
    the tables the ``hooks`` register. ``options`` set ``Params`` fields (as ``compute_measures``).
    ``first``: how the longest period's raw measures are worked out from its parameters (by
    default ``raw_measures``; the reports layer shares them between kernels)."""
    periods = publication_periods(*data_years(study))
    param_sets = {period_label(a, b): make_params(study, a, b, min_cell, **options) for a, b in periods}
    labels = list(param_sets)
    # the calendar years' measures in a child process on a spare core while this one does the
    # study period's (insats.ahead: the same values, only sooner); then the dispersion curves
    rest = [param_sets[label] for label in labels[1:]]
    years = ahead(lambda: _measures(study, rest), worth_it=bool(rest))
    longest = first(param_sets[labels[0]]) if first else raw_measures(study, param_sets[labels[0]])
    computed, reads = years.result(lambda: _measures(study, rest))
    READS.replay(reads)
    done = dict(zip(labels, [longest, *computed], strict=True))
    raws = {label: long for label, (long, _) in done.items()}
    notes = {label: skipped for label, (_, skipped) in done.items()}
    curves = ahead(lambda: _curves(raws, min_cell))
    d = Disclosure(min_cell=min_cell, protection=protection)
    all_groups = bool(options.get("erbjudande_alla_grupper", False))
    cells = {label: register_measures(d, long, label, all_groups=all_groups) for label, long in raws.items()}
    for a, b in periods:
        if b.year > a.year:  # a span: relate it to its years
            span = period_label(a, b)
            relate_periods(
                d,
                span,
                [period_label(pd.Timestamp(y, 1, 1), pd.Timestamp(y, 12, 1)) for y in range(a.year, b.year + 1)],
            )
    pub = Publication(study, param_sets[labels[0]], {}, d, raws, cells, options=dict(options))
    for hook in hooks:
        with pub.active():
            hook(pub)
    d.protect()
    add_dispersion_curves(curves.result(dict))
    for label, long in raws.items():
        published, raw = finish(apply(d, long, cells[label]), long, min_cell)
        pub.results[label] = MeasureResult(
            table=published, params=param_sets[label].as_dict(), skipped=notes[label], raw=raw, disclosure=d
        )
    pub.decided = True
    return pub
