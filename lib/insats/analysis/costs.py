"""Cost per outcome with an interval, raw and adjusted for who the participants are.

The cost of an intervention in a period (``C``, kronor) is known; its number of outcomes (exits to
work or studies, ``O`` of ``n`` ended participations) is a random count: with ``O = 8`` the cost per
outcome could as well have been a third lower or twice as high. The cost is treated as fixed and
the uncertainty comes from the outcome share ``p = O / n``::

    kostnad_per_utfall = C / O = C / (n·p̂)
    (lo, hi)           = (C / (n·p_hi), C / (n·p_lo))       (p_lo, p_hi) = Wilson interval of O / n

i.e. the interval for the expected cost per outcome ``C / (n·p)`` of the intervention's own
participants. ``O = 0`` gives no estimate and ``hi = ∞`` (the lower limit still says "at least …").

*Adjusted* for the participants' case mix with the intervention's observed/expected ratio ``θ̂ = O/E``
and its interval (``stats.observed_expected``, group = intervention) and the whole study's share
``p_ref`` (fixed)::

    kostnad_per_utfall_justerad = C / (n·p_ref·θ̂)
    (lo, hi)_justerad           = (C / (n·p_ref·θ_hi), C / (n·p_ref·θ_lo))

= the cost per outcome if the intervention had participants like the whole study's and kept its own
effect θ. An intervention that takes the participants furthest from work gets a lower adjusted cost
than raw cost. Both intervals are monotone transforms of an interval for the share (or θ), so they
cover exactly as often as those (``tests/analysis/test_costs.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.stats import wilson_interval

__all__ = ["adjusted_cost_per_outcome", "cost_per_outcome"]


def _index(*values):
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def cost_per_outcome(cost, outcomes, n, *, level: float = 0.95) -> pd.DataFrame:
    """``C / O`` with the interval ``C / (n·p_hi)`` – ``C / (n·p_lo)`` from the Wilson interval of ``O / n``.

    Vectorised over ``cost``, ``outcomes`` and ``n`` (arrays or Series; the index of the first Series is
    kept). Columns: ``kostnad``, ``utfall``, ``namnare``, ``kostnad_per_utfall`` (NaN when ``O`` is 0 or
    the cost unknown), ``lo``, ``hi`` (``inf`` when ``O`` is 0). ``n`` = 0 gives NaN throughout.
    """
    index = _index(cost, outcomes, n)
    c, o, nn = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (cost, outcomes, n)))
    p_lo, p_hi = wilson_interval(o, nn, level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(o > 0, c / o, np.nan)
        lo = np.where(nn > 0, c / (nn * p_hi), np.nan)
        hi = np.where(nn > 0, np.where(o > 0, c / (nn * p_lo), np.inf), np.nan)
    return pd.DataFrame(
        {"kostnad": c, "utfall": o, "namnare": nn, "kostnad_per_utfall": point, "lo": lo, "hi": hi}, index=index
    )


def adjusted_cost_per_outcome(cost, n, oe, oe_lo, oe_hi, p_ref: float) -> pd.DataFrame:
    """``C / (n·p_ref·θ̂)`` with the interval from ``θ_lo``/``θ_hi`` (the O/E interval); module docstring.

    Columns: ``kostnad_per_utfall_justerad``, ``lo_justerad``, ``hi_justerad`` (``inf`` when θ_lo is 0).
    """
    index = _index(cost, n, oe)
    c, nn, t, t_lo, t_hi = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=float)) for v in (cost, n, oe, oe_lo, oe_hi))
    )
    base = nn * float(p_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where((t > 0) & (base > 0), c / (base * t), np.nan)
        lo = np.where(base > 0, c / (base * t_hi), np.nan)
        hi = np.where(base > 0, np.where(t_lo > 0, c / (base * t_lo), np.inf), np.nan)
    return pd.DataFrame({"kostnad_per_utfall_justerad": point, "lo_justerad": lo, "hi_justerad": hi}, index=index)
