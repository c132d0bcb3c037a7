"""5. En väg in: from application to assessment of arbetsförmåga and on to an intervention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures import (
    Context,
)
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import wilson_interval
from insats.charts import flow_steps
from insats.contract import ALLA
from insats.reports.render import Section
from insats.reports.utvardering.common import (
    _missing,
    _names,
    _num,
    _pct,
    format_shown,
    protect_shares,
)

# --------------------------------------------------------------------------- 5. en väg in

PATH_STEPS = ("ansokan", "bedomd", "arbetsformaga", "insats_90")


def path_table(raw_long: pd.DataFrame) -> pd.DataFrame:
    """ "En väg in" per area and for all, from the *unprotected* measures table
    (``compute_measures(...).raw``): ``ansokan`` (applications in the period), ``bedomd``
    (assessed), ``arbetsformaga`` (assessed hel or delvis), ``insats_90`` (of those, starting a
    participation within 90 days), ``dagar_median``, ``dagar_p90``, ``andel_30`` (assessed within 30
    days of all applications) — the measures vagin_*."""
    r = raw_long.set_index(["matt", "omrade_kod"])

    def get(matt: str, col: str) -> pd.Series:
        if matt not in r.index.get_level_values(0):
            return pd.Series(dtype=float)
        return r.loc[matt][col].astype(float)

    codes = list(dict.fromkeys(raw_long.loc[raw_long["matt"] == "vagin_andel_bedomda", "omrade_kod"]))
    out = pd.DataFrame({"omrade_kod": codes})
    out["ansokan"] = out["omrade_kod"].map(get("vagin_andel_bedomda", "namnare"))
    out["bedomd"] = out["omrade_kod"].map(get("vagin_andel_bedomda", "taljare"))
    out["arbetsformaga"] = out["omrade_kod"].map(get("vagin_andel_insats_90_dagar", "namnare"))
    out["insats_90"] = out["omrade_kod"].map(get("vagin_andel_insats_90_dagar", "taljare"))
    out["dagar_median"] = out["omrade_kod"].map(get("vagin_dagar_median", "varde"))
    out["dagar_p90"] = out["omrade_kod"].map(get("vagin_dagar_p90", "varde"))
    out["andel_30"] = out["omrade_kod"].map(get("vagin_andel_30_dagar", "varde"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel_bedomda"] = out["bedomd"] / out["ansokan"].where(out["ansokan"] > 0)
        out["andel_insats_90"] = out["insats_90"] / out["arbetsformaga"].where(out["arbetsformaga"] > 0)
    return out


def section_path(ctx: Context, measures_raw, *, min_cell: int = 5) -> Section:
    """Area 5: en väg in — application → assessment → capacity → intervention within 90 days."""
    s = Section("En väg in")
    note = _missing(ctx.study, ["bedomningar", "personer", "deltaganden"], "En väg in")
    if note:
        s.note(note)
        s.conclusion = (
            "Organisationen kring bedömning av arbetsförmåga kan inte utvärderas utan uppgifter om bedömningar."
        )
        return s

    t = path_table(measures_raw)
    names = _names(ctx)
    s.extra["vag_in"] = t
    pub = t.copy()
    # every step is a count of persons whose areas add up to the total: protect each step as a line
    for step_num, step_den, share in (
        ("bedomd", "ansokan", "andel_bedomda"),
        ("insats_90", "arbetsformaga", "andel_insats_90"),
    ):
        p = protect_shares(t, min_cell, key="omrade_kod", num=step_num, den=step_den, values=(share,))
        pub[step_num], pub[step_den], pub[share] = p[step_num], p[step_den], p[share]
        pub[f"sup_{share}"] = p["undertryckt"]
    ans = protect_shares(
        t, min_cell, key="omrade_kod", num="ansokan", den=None, values=("dagar_median", "dagar_p90", "andel_30")
    )
    for c in ("dagar_median", "dagar_p90", "andel_30"):
        pub[c] = ans[c]
    pub["undertryckt"] = ans["undertryckt"]
    pub["grupp"] = pub["omrade_kod"].map(names).fillna(pub["omrade_kod"])
    shown = format_shown(
        pub,
        {
            "grupp": ("Område", "text"),
            "ansokan": ("Ansökningar", "antal"),
            "dagar_median": ("Dagar till bedömning, median", "dagar"),
            "dagar_p90": ("90:e percentilen", "dagar"),
            "andel_30": ("Bedömda inom 30 dagar", "andel"),
        },
    )
    shown["Andel bedömda"] = [
        SUPPRESSED if u else _pct(v, 1) if pd.notna(v) else ""
        for v, u in zip(pub["andel_bedomda"], pub["sup_andel_bedomda"])
    ]
    shown["Arbetsförmåga, börjar insats inom 90 dagar"] = [
        SUPPRESSED if u else _pct(v, 1) if pd.notna(v) else ""
        for v, u in zip(pub["andel_insats_90"], pub["sup_andel_insats_90"])
    ]
    s.table("En väg in per område", shown)
    tot = t[t["omrade_kod"] == ALLA].iloc[0]
    s.chart(flow_steps({k: tot[k] for k in PATH_STEPS}, min_cell=min_cell))
    totp = pub[pub["omrade_kod"] == ALLA].iloc[0]
    for key, col in (
        ("vagin_dagar_median", "dagar_median"),
        ("vagin_andel_bedomda", "andel_bedomda"),
        ("vagin_andel_insats_90", "andel_insats_90"),
    ):
        s.findings[key] = float(totp[col]) if pd.notna(totp[col]) else None
    if s.findings["vagin_andel_insats_90"] is not None and totp["arbetsformaga"] > 0:
        # the interval of the published share, from its published counts
        lo, hi = wilson_interval(float(totp["insats_90"]), float(totp["arbetsformaga"]))
        s.findings["vagin_andel_insats_90_lo"], s.findings["vagin_andel_insats_90_hi"] = float(lo), float(hi)
    if "vagin_andel_insats_90_dagar" in set(measures_raw["matt"]):
        s.extra["ranked"] = True
    s.conclusion = (
        f"Av {_num(totp['ansokan'])} ansökningar bedömdes {_pct(totp['andel_bedomda'])}, i median efter "
        f"{_num(totp['dagar_median'])} dagar (90 % inom {_num(totp['dagar_p90'])} dagar). Av dem med hel "
        f"eller delvis arbetsförmåga började {_pct(totp['andel_insats_90'])} en insats inom 90 dagar."
    )
    return s
