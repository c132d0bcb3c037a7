"""All measures of a study in the long format, through disclosure control."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from insats.analysis.measures.context import Context, Params, default_period, month_start
from insats.analysis.measures.likstallighet import likstallighet
from insats.analysis.measures.registry import MEASURES
from insats.analysis.privacy import protect_measures
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


@memoize
def compute_measures(
    study: Study, *, start=None, end=None, min_cell: int = 5, only: list[str] | None = None, **options
) -> MeasureResult:
    """Every measure whose tables are present, in the long format, through disclosure control.

    ``start``/``end`` are months (``"YYYY-MM"`` or timestamps); by default the whole study.
    ``options`` set ``Params`` fields (``erbjudande_dagar``, ``erbjudande_alla_grupper``,
    ``uppfoljning_manader``, ``insats_dagar_efter_bedomning``).
    """

    d_start, d_end = default_period(study) if start is None or end is None else (None, None)
    params = Params(
        start=month_start(start) if start is not None else d_start,
        end=month_start(end) if end is not None else d_end,
        min_cell=min_cell,
        **options,
    )
    if params.end < params.start:
        raise UsageError(f"Perioden slutar ({params.end:%Y-%m}) före sin början ({params.start:%Y-%m}).")
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
    published = _protect(long, min_cell, protect_measures)
    # likställighet is computed from what is published: suppressed areas take no part in it
    visible = published[~published["undertryckt"]]
    published = pd.concat([published, likstallighet(visible, min_cell).assign(undertryckt=False)], ignore_index=True)
    raw = long.assign(undertryckt=False)
    raw = pd.concat([raw, likstallighet(raw, 1).assign(undertryckt=False)], ignore_index=True)
    notes = []
    for needed in dict.fromkeys(m for m, _ in skipped):
        ids = [mid for m, mid in skipped if m == needed]
        word = "tabellen" if len(needed) == 1 else "tabellerna"
        notes.append(f"{', '.join(ids)}: kräver {word} {', '.join(needed)}, som saknas i studien")
    return MeasureResult(table=_typed(published), params=params.as_dict(), skipped=notes, raw=_typed(raw))


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


def _is_personal(mid: str) -> bool:
    return MEASURES[mid].personal if mid in MEASURES else True


def _protect(long: pd.DataFrame, min_cell: int, protect) -> pd.DataFrame:
    """Disclosure control for person-based measures; counts of interventions and kronor are not
    about persons and pass unchanged. Where only the denominator counts persons (places per 100,
    SEK per participant), the numerator is not treated as a count of persons."""
    personal = long["matt"].map(_is_personal).astype(bool)
    out = long.copy()
    out["undertryckt"] = False
    if personal.any():
        sub = long[personal].copy()
        num_not_people = sub["matt"].map(lambda m: m in MEASURES and not MEASURES[m].count_is_personal).astype(bool)
        kept_num = sub["taljare"].copy()
        sub.loc[num_not_people, "taljare"] = np.nan
        prot = protect(sub, min_cell=min_cell).set_index(sub.index)
        prot.loc[num_not_people & ~prot["undertryckt"], "taljare"] = kept_num[num_not_people & ~prot["undertryckt"]]
        out.loc[personal, ["varde", "taljare", "namnare", "undertryckt"]] = prot[
            ["varde", "taljare", "namnare", "undertryckt"]
        ].to_numpy()
    out["undertryckt"] = out["undertryckt"].astype(bool)
    for col in ("varde", "taljare", "namnare"):
        out[col] = out[col].astype("float64")
    return out


# --------------------------------------------------------------------------- writing
