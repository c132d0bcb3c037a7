"""All measures of a study in the long format, through disclosure control."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from insats.analysis.disclosure import Disclosure
from insats.analysis.measures.context import Context, Params, default_period, month_start
from insats.analysis.measures.likstallighet import likstallighet
from insats.analysis.measures.publish import period_label, protect_periods
from insats.analysis.measures.registry import MEASURES
from insats.data.cache import memoize
from insats.data.study import Study
from insats.errors import UsageError

# --------------------------------------------------------------------------- all measures

COLUMNS = ["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"]


@dataclass
class MeasureResult:
    table: pd.DataFrame
    """Published long table (disclosure control applied)."""
    params: dict
    skipped: list[str] = field(default_factory=list)
    """Swedish notes on measures left out and why."""
    raw: pd.DataFrame | None = field(default=None, repr=False)
    """The table before disclosure control: internal quality checks only, never publish."""
    disclosure: Disclosure | None = field(default=None, repr=False)
    """The disclosure model the suppression was decided in (for the log and the audit)."""

    @property
    def log(self) -> list[dict[str, str]]:
        """The suppression log: every hidden count and why (never a hidden value)."""
        return self.disclosure.log() if self.disclosure is not None else []


def make_params(study: Study, start=None, end=None, min_cell: int = 5, **options) -> Params:
    """The parameters of a period (by default the whole study), checked."""
    d_start, d_end = default_period(study) if start is None or end is None else (None, None)
    params = Params(
        start=month_start(start) if start is not None else d_start,
        end=month_start(end) if end is not None else d_end,
        min_cell=min_cell,
        **options,
    )
    if params.end < params.start:
        raise UsageError(f"Perioden slutar ({params.end:%Y-%m}) före sin början ({params.start:%Y-%m}).")
    return params


def raw_measures(study: Study, params: Params, only: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every measure whose tables are present, unprotected, in the long format (without
    likställighet), and the Swedish notes on measures left out."""
    ctx = Context(study, params)
    parts, skipped = [], []
    for mid, m in MEASURES.items():
        if m.func is None or (only is not None and mid not in only):
            continue
        missing = [t for t in m.needs if t not in study]
        if missing:
            skipped.append((tuple(missing), mid))
            continue
        if mid.startswith("utbud_platser") and "bistand" not in study:
            continue
        res = m.func(ctx)
        parts.append(res.assign(matt=mid))
        parts.extend(res.attrs.get("extra", []))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS[:-1])
    long = long[["matt", "omrade_kod", "varde", "taljare", "namnare"]].astype(
        {"varde": "float64", "taljare": "float64", "namnare": "float64"}
    )
    # allocated places are sums of fractions: drop floating-point dust (215.00000000000003)
    long[["taljare", "namnare"]] = long[["taljare", "namnare"]].round(9)
    notes = []
    for needed in dict.fromkeys(m for m, _ in skipped):
        ids = [mid for m, mid in skipped if m == needed]
        word = "tabellen" if len(needed) == 1 else "tabellerna"
        notes.append(f"{', '.join(ids)}: kräver {word} {', '.join(needed)}, som saknas i studien")
    return long, notes


def finish(published: pd.DataFrame, raw: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the likställighet rows: from what is published (suppressed areas take no part), and for
    the raw table from everything."""
    visible = published[~published["undertryckt"]]
    published = pd.concat([published, likstallighet(visible, min_cell).assign(undertryckt=False)], ignore_index=True)
    raw = raw.assign(undertryckt=False)
    raw = pd.concat([raw, likstallighet(raw, 1).assign(undertryckt=False)], ignore_index=True)
    return _typed(published), _typed(raw)


@memoize
def compute_measures(
    study: Study,
    *,
    start=None,
    end=None,
    min_cell: int = 5,
    only: list[str] | None = None,
    protection: float | None = None,
    **options,
) -> MeasureResult:
    """Every measure whose tables are present, in the long format, through disclosure control.

    ``start``/``end`` are months (``"YYYY-MM"`` or timestamps); by default the whole study.
    ``options`` set ``Params`` fields (``erbjudande_dagar``, ``erbjudande_alla_grupper``,
    ``uppfoljning_manader``, ``insats_dagar_efter_bedomning``). The period is protected on its
    own; when a study publishes several periods (its years and the whole period), publish them
    together with ``insats.analysis.publication.publish``, which protects them jointly.
    """
    params = make_params(study, start, end, min_cell, **options)
    long, notes = raw_measures(study, params, only)
    period = period_label(params.start, params.end)
    tables, d = protect_periods(
        {period: long}, min_cell=min_cell, protection=protection, all_groups=params.erbjudande_alla_grupper
    )
    published, raw = finish(tables[period], long, min_cell)
    return MeasureResult(table=published, params=params.as_dict(), skipped=notes, raw=raw, disclosure=d)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    table = table[COLUMNS].reset_index(drop=True)
    # allocated places are sums of fractions: drop floating-point dust (215.00000000000003)
    table[["taljare", "namnare"]] = table[["taljare", "namnare"]].round(9)
    return table.astype(
        {
            "matt": object,
            "omrade_kod": object,
            "varde": "float64",
            "taljare": "float64",
            "namnare": "float64",
            "undertryckt": bool,
        }
    )


# --------------------------------------------------------------------------- writing
