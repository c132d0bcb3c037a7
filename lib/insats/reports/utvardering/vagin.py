"""5. En väg in: from application to assessment of arbetsförmåga and on to an intervention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import (
    Context,
)
from insats.analysis.measures.vagin import assessment_rows, recorded, with_followup
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import wilson_interval
from insats.charts import flow_steps
from insats.contract import ALLA
from insats.reports.render import Section, literal
from insats.reports.utvardering.common import (
    _missing,
    _names,
    _num,
    _pct,
    _pp,
    _with_wilson,
    collecting,
    format_shown,
    protect_shares,
)
from insats.text import format_number

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
    # hand-overs among the assessed applications (V3; NaN when `overlamnad_till` is not recorded)
    out["overlamnad"] = out["omrade_kod"].map(get("vagin_andel_overlamnade", "taljare"))
    out["bedomd_overlamning"] = out["omrade_kod"].map(get("vagin_andel_overlamnade", "namnare"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel_bedomda"] = out["bedomd"] / out["ansokan"].where(out["ansokan"] > 0)
        out["andel_insats_90"] = out["insats_90"] / out["arbetsformaga"].where(out["arbetsformaga"] > 0)
        out["andel_overlamnade"] = out["overlamnad"] / out["bedomd_overlamning"].where(out["bedomd_overlamning"] > 0)
    return out


def _interval_findings(s: Section, key: str, k, n) -> None:
    """``key``, ``key_lo``, ``key_hi``: a published share and its Wilson 95 % interval from its published counts
    (nothing when a count is hidden or the denominator is 0)."""
    if pd.isna(k) or pd.isna(n) or n <= 0:
        return
    lo, hi = wilson_interval(float(k), float(n))
    s.findings[key] = float(k) / float(n)
    s.findings[key + "_lo"], s.findings[key + "_hi"] = float(lo), float(hi)


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
    if not collecting():
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
    if s.findings["vagin_andel_bedomda"] is not None:
        _interval_findings(s, "vagin_andel_bedomda", totp["bedomd"], totp["ansokan"])
    if len(t) and t[["overlamnad", "bedomd_overlamning"]].notna().all().all():
        # the whole study's hand-over share as the measure vagin_andel_overlamnade publishes it (V3)
        po = protect_shares(t, min_cell, key="omrade_kod", num="overlamnad", den="bedomd_overlamning")
        tot_o = po[po["omrade_kod"] == ALLA].iloc[0]
        if not tot_o["undertryckt"]:
            _interval_findings(s, "vagin_andel_overlamnade", tot_o["overlamnad"], tot_o["bedomd_overlamning"])
    if "vagin_andel_insats_90_dagar" in set(measures_raw["matt"]):
        s.extra["ranked"] = True
    organisation(ctx, s, measures_raw, min_cell=min_cell)
    s.conclusion = path_conclusion(s.findings, totp)
    return s


def _ci(findings: dict, key: str) -> str:
    """The text " (95 % konfidensintervall 40–52 %)" for a finding with ``_lo``/``_hi``, else empty."""
    lo, hi = findings.get(key + "_lo"), findings.get(key + "_hi")
    if lo is None or hi is None:
        return ""
    return f" (95 % konfidensintervall {format_number(100 * lo, 0)}–{_pct(hi)})"


def path_conclusion(findings: dict, totp: pd.Series) -> str:
    """The section's conclusion: waiting times, then the organisation (hand-overs, what they go with, persons
    assessed more than once), each share with its Wilson interval; only published numbers (``findings`` and
    the protected total row ``totp``)."""
    parts = [
        f"Av {_num(totp['ansokan'])} ansökningar bedömdes {_pct(totp['andel_bedomda'])}"
        f"{_ci(findings, 'vagin_andel_bedomda')}, i median efter {_num(totp['dagar_median'])} dagar (90 % inom "
        f"{_num(totp['dagar_p90'])} dagar). Av dem med hel eller delvis arbetsförmåga började "
        f"{_pct(totp['andel_insats_90'])} en insats inom 90 dagar{_ci(findings, 'vagin_andel_insats_90')}."
    ]
    if findings.get("vagin_andel_overlamnade") is not None:
        parts.append(
            f"{_pct(findings['vagin_andel_overlamnade'])} av bedömningarna lämnades över till en annan enhet"
            f"{_ci(findings, 'vagin_andel_overlamnade')}, så en väg in blev i praktiken flera för dem."
        )
    if findings.get("vagin_overlamnade_andel") is not None:
        apart = findings.get("vagin_overlamnade_saker")
        parts.append(
            f"Av de överlämnade med hel eller delvis arbetsförmåga började {_pct(findings['vagin_overlamnade_andel'])} "
            f"en insats inom 90 dagar{_ci(findings, 'vagin_overlamnade_andel')}, mot "
            f"{_pct(findings['vagin_ej_overlamnade_andel'])} av dem som stannade hos den bedömande enheten"
            f"{_ci(findings, 'vagin_ej_overlamnade_andel')}: "
            + (
                "intervallen överlappar inte, så skillnaden är större än slumpen brukar ge (ett samband, inte "
                "nödvändigtvis en effekt av överlämningen)."
                if apart
                else "intervallen överlappar, så skillnaden kan vara slump."
            )
        )
    if findings.get("vagin_andel_flera_bedomningar") is not None:
        parts.append(
            f"{_pct(findings['vagin_andel_flera_bedomningar'])} av de bedömda personerna bedömdes mer än en gång "
            f"under perioden{_ci(findings, 'vagin_andel_flera_bedomningar')}."
        )
    return " ".join(parts)


# --------------------------------------------------------------------------- the organisation around the assessment

RESULT_ORDER = (*contract.codes("resultat"), "saknas")
"""Rows of the table by result; ``saknas``: assessed without a result recorded."""


def assessment_frame(ctx: Context) -> pd.DataFrame:
    """One row per application in the period with the measures' definitions (``assessment_rows``) and
    the follow-up (``with_followup``): first start on or after the assessment, its category,
    ``insats_90``. Unassessed applications have no follow-up."""
    a = assessment_rows(ctx)
    a = a[a["pos"] >= 0].reset_index(drop=True)
    if "deltaganden" not in ctx.study:
        a["start_dagar"], a["start_kategori"], a["insats_90"] = np.nan, None, False
        return a
    f = with_followup(ctx, a)
    f.loc[~f["bedomd"], ["start_dagar", "insats_90"]] = [np.nan, False]
    return f


def unit_table(a: pd.DataFrame) -> pd.DataFrame:
    """Per assessing unit (``grupp`` e1, e2, … by number of applications; ``ALLA`` last): ``enhet``,
    ``ansokan``, ``bedomd``, ``dagar_median`` (application to assessment), ``overlamnad`` (of the
    assessed), ``arbetsformaga`` (assessed hel/delvis), ``insats_90`` (of those)."""
    a = a[a["enhet"].notna()]
    rows = []
    counts = a["enhet"].value_counts(sort=True)
    groups = [(f"e{i + 1}", name, a[a["enhet"] == name]) for i, name in enumerate(counts.index)]
    for code, name, g in [*groups, (ALLA, "Alla enheter", a)]:
        bed = g[g["bedomd"]]
        cap = bed[bed["resultat"].isin(["hel", "delvis"])]
        rows.append(
            {
                "grupp": code,
                "enhet": name,
                "ansokan": len(g),
                "bedomd": len(bed),
                "dagar_median": float(bed["days"].median()) if len(bed) else np.nan,
                "overlamnad": float(bed["overlamnad"].sum()),
                "arbetsformaga": len(cap),
                "insats_90": float(cap["insats_90"].sum()),
            }
        )
    out = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel_overlamnad"] = out["overlamnad"] / out["bedomd"].where(out["bedomd"] > 0)
        out["andel_insats_90"] = out["insats_90"] / out["arbetsformaga"].where(out["arbetsformaga"] > 0)
    return out


def handover_table(a: pd.DataFrame) -> pd.DataFrame:
    """Assessed with hel or delvis arbetsförmåga, handed over or not (``grupp`` ``overlamnad`` /
    ``ej_overlamnad``, ``ALLA``): ``taljare`` starting an insats within 90 days of ``namnare``,
    share with Wilson interval, ``dagar_median``: median days from assessment to the first start
    among those who started one at all."""
    cap = a[a["bedomd"] & a["resultat"].isin(["hel", "delvis"])]
    rows = []
    for code, g in (("overlamnad", cap[cap["overlamnad"]]), ("ej_overlamnad", cap[~cap["overlamnad"]]), (ALLA, cap)):
        started = g["start_dagar"].dropna()
        rows.append(
            {
                "grupp": code,
                "taljare": float(g["insats_90"].sum()),
                "namnare": float(len(g)),
                "startade": float(len(started)),
                "dagar_median": float(started.median()) if len(started) else np.nan,
            }
        )
    return _with_wilson(pd.DataFrame(rows))


def multiple_table(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """Persons assessed more than once: per area (the person's) and ``ALLA``, ``namnare`` persons
    with at least one assessed application in the period, ``taljare`` of them with two or more,
    ``varde`` the share."""
    n = a[a["bedomd"]].groupby("pos").size()
    area = pd.Series(ctx.person_area[n.index.to_numpy(dtype=np.int64)], index=n.index)
    rows = []
    for code in [*ctx.areas, ALLA]:
        sel = n if code == ALLA else n[area == code]
        rows.append({"omrade_kod": code, "taljare": float((sel >= 2).sum()), "namnare": float(len(sel))})
    out = pd.DataFrame(rows)
    out["varde"] = out["taljare"] / out["namnare"].where(out["namnare"] > 0)
    return out


def route_table(a: pd.DataFrame) -> pd.DataFrame:
    """Hand-overs by route (from unit → to unit), most frequent first, ``ALLA`` last: ``antal``."""
    h = a[a["bedomd"] & a["overlamnad"]]
    counts = h.groupby(["enhet", "till"], dropna=False).size().sort_values(ascending=False, kind="stable")
    rows = [
        {"grupp": f"r{i + 1}", "fran": frm, "till": till, "antal": float(n)}
        for i, ((frm, till), n) in enumerate(counts.items())
    ]
    rows.append({"grupp": ALLA, "fran": "Alla överlämningar", "till": "", "antal": float(len(h))})
    return pd.DataFrame(rows)


def result_table(a: pd.DataFrame) -> pd.DataFrame:
    """Assessed applications by result (``RESULT_ORDER``, ``ALLA``): ``taljare`` starting an
    insats within 90 days of ``namnare`` assessed, with Wilson interval."""
    bed = a[a["bedomd"]]
    res = bed["resultat"].astype(object).where(bed["resultat"].notna(), "saknas")
    rows = [
        {"grupp": r, "taljare": float(bed.loc[res == r, "insats_90"].sum()), "namnare": float((res == r).sum())}
        for r in RESULT_ORDER
        if (res == r).any()
    ]
    rows.append({"grupp": ALLA, "taljare": float(bed["insats_90"].sum()), "namnare": float(len(bed))})
    return _with_wilson(pd.DataFrame(rows))


def kind_table(a: pd.DataFrame) -> pd.DataFrame:
    """Which kind of insats the assessed with hel or delvis arbetsförmåga start within 90 days:
    ``antal`` per category of the first start (``ALLA``: all such starts), ``andel`` of them."""
    cap = a[a["bedomd"] & a["resultat"].isin(["hel", "delvis"]) & a["insats_90"]]
    kat = cap["start_kategori"].astype(object).fillna("ovrigt")
    rows = [{"grupp": k, "antal": float((kat == k).sum())} for k in contract.codes("kategori") if (kat == k).any()]
    rows.append({"grupp": ALLA, "antal": float(len(cap))})
    out = pd.DataFrame(rows)
    out["andel"] = out["antal"] / max(float(len(cap)), 1.0)
    return out


def intervals_apart(lo1, hi1, lo2, hi2):
    """Whether two 95 % intervals do not overlap: the report calls a difference of two shares larger
    than chance only then. Conservative: for two Wilson intervals it happens by chance far less
    often than 5 % (tested by simulation)."""
    return (np.asarray(hi1) < np.asarray(lo2)) | (np.asarray(hi2) < np.asarray(lo1))


def _share_cell(v, sup) -> str:
    return SUPPRESSED if sup else (_pct(v, 1) if pd.notna(v) else "")


def organisation(ctx: Context, s: Section, measures_raw: pd.DataFrame, *, min_cell: int) -> None:
    """The organisation around the assessment: who assesses, hand-overs, persons assessed more
    than once, and what the assessment leads to (by result and kind of insats). Adds tables and
    notes to ``s``; each part says in plain Swedish what is missing when the data lack it."""
    a = assessment_frame(ctx)
    s.extra["bedomningar"] = a
    has_unit = recorded(ctx.study, "enhet")
    has_handover = recorded(ctx.study, "overlamnad_till")
    if not has_handover:
        a["overlamnad"] = False

    # who assesses
    if has_unit:
        u = unit_table(a)
        s.extra["enheter"] = u
        pu = protect_shares(u, min_cell, key="grupp", num="bedomd", den=None, values=("dagar_median",))
        pub = u.copy()
        pub["bedomd"], pub["dagar_median"], pub["undertryckt"] = pu["bedomd"], pu["dagar_median"], pu["undertryckt"]
        shown = format_shown(
            pub,
            {
                "enhet": ("Bedömande enhet", "text"),
                "bedomd": ("Bedömda", "antal"),
                "dagar_median": ("Dagar till bedömning, median", "dagar"),
            },
        )
        if has_handover:
            po = protect_shares(u, min_cell, key="grupp", num="overlamnad", den="bedomd", values=("andel_overlamnad",))
            shown["Andel överlämnade"] = [_share_cell(v, x) for v, x in zip(po["andel_overlamnad"], po["undertryckt"])]
        pi = protect_shares(u, min_cell, key="grupp", num="insats_90", den="arbetsformaga", values=("andel_insats_90",))
        shown["Arbetsförmåga, börjar insats inom 90 dagar"] = [
            _share_cell(v, x) for v, x in zip(pi["andel_insats_90"], pi["undertryckt"])
        ]
        s.table("Bedömningar per bedömande enhet", shown)
        tot, top = pu[pu["grupp"] == ALLA].iloc[0], pu.iloc[0]
        n_units = int((u["grupp"] != ALLA).sum())
        if top["grupp"] != ALLA and pd.notna(top["bedomd"]) and tot["bedomd"] > 0:
            s.note(
                f"{n_units} enheter bedömer arbetsförmåga. Den största, {literal(u.iloc[0]['enhet'])}, gjorde "
                f"{_pct(top['bedomd'] / tot['bedomd'])} av de {_num(tot['bedomd'])} bedömningarna."
            )
    else:
        s.note(
            "**Vem som bedömer kan inte redovisas:** studiens bedömningar saknar uppgift om bedömande enhet "
            "(kolumnen `enhet` i `bedomningar` finns inte eller är tom). Med den uppgiften visar rapporten hur "
            "många varje enhet bedömer, hur länge det tar och vad bedömningarna leder till."
        )

    # hand-overs
    if has_handover:
        h = handover_table(a)
        s.extra["overlamningar"] = h
        ph = protect_shares(h, min_cell, key="grupp", values=("andel", "lo", "hi", "dagar_median"))
        ph["grupp_namn"] = ph["grupp"].map(
            {"overlamnad": "Överlämnade till annan enhet", "ej_overlamnad": "Inte överlämnade", ALLA: "Alla"}
        )
        s.table(
            "Hel eller delvis arbetsförmåga: insats inom 90 dagar efter överlämning eller inte",
            format_shown(
                ph,
                {
                    "grupp_namn": ("Grupp", "text"),
                    "namnare": ("Bedömda", "antal"),
                    "andel": ("Börjar insats inom 90 dagar", "andel"),
                    "lo:hi": ("95 %-intervall", "intervall"),
                    "dagar_median": ("Dagar till första insats, median", "dagar"),
                },
            ),
        )
        r = route_table(a)
        s.extra["overlamningsvagar"] = r
        pr = protect_shares(r, min_cell, key="grupp", num="antal", den=None)
        s.table(
            "Överlämningar mellan enheter",
            format_shown(
                pr, {"fran": ("Från enhet", "text"), "till": ("Till enhet", "text"), "antal": ("Antal", "antal")}
            ),
        )
        ho, no = (ph[ph["grupp"] == g].iloc[0] for g in ("overlamnad", "ej_overlamnad"))
        if not ho["undertryckt"] and not no["undertryckt"] and pd.notna(ho["andel"]) and pd.notna(no["andel"]):
            diff = float(ho["andel"] - no["andel"])
            s.findings["vagin_skillnad_overlamnade"] = diff
            overlap = not intervals_apart(ho["lo"], ho["hi"], no["lo"], no["hi"])
            s.findings["vagin_overlamnade_saker"] = not overlap
            for key, row in (("vagin_overlamnade_andel", ho), ("vagin_ej_overlamnade_andel", no)):
                s.findings[key] = float(row["andel"])
                s.findings[key + "_lo"], s.findings[key + "_hi"] = float(row["lo"]), float(row["hi"])
            s.note(
                f"Av dem med hel eller delvis arbetsförmåga som lämnades över till en annan enhet började "
                f"{_pct(ho['andel'])} en insats inom 90 dagar, mot {_pct(no['andel'])} av dem som stannade hos "
                f"den bedömande enheten ({_pp(abs(diff))} procentenheter {'lägre' if diff < 0 else 'högre'}). "
                + (
                    "Intervallen överlappar: skillnaden kan vara slump."
                    if overlap
                    else "Intervallen överlappar inte: skillnaden är större än slumpen brukar ge."
                )
                + " Det visar ett samband, inte att överlämningen i sig orsakar väntan."
            )
    else:
        s.note(
            "**Överlämningar kan inte redovisas:** studiens bedömningar saknar uppgift om överlämning "
            "(kolumnen `overlamnad_till` i `bedomningar` finns inte eller är tom överallt). En tom kolumn kan inte "
            "skiljas från att inga överlämningar registreras; fyll i den enhet personen lämnas över till."
        )

    # assessed more than once (persons; registered for the report's period only)
    m = multiple_table(ctx, a)
    s.extra["flera_bedomningar"] = m
    # keyed by "omrade", not "omrade_kod": counts of persons are cells of their own, never taken for a
    # measure's count of applications that happens to have the same values area by area
    m["lo"], m["hi"] = wilson_interval(m["taljare"].to_numpy(float), m["namnare"].to_numpy(float))
    pm = protect_shares(
        m.rename(columns={"omrade_kod": "omrade"}), min_cell, key="omrade", values=("varde", "lo", "hi")
    )
    pm["omrade_kod"] = pm["omrade"]
    pm["grupp"] = pm["omrade_kod"].map(_names(ctx)).fillna(pm["omrade_kod"])
    s.table(
        "Personer som bedöms mer än en gång",
        format_shown(
            pm,
            {
                "grupp": ("Område", "text"),
                "namnare": ("Bedömda personer", "antal"),
                "taljare": ("Bedömda mer än en gång", "antal"),
                "varde": ("Andel", "andel"),
                "lo:hi": ("95 %-intervall", "intervall"),
            },
        ),
    )
    tot = pm[pm["omrade_kod"] == ALLA].iloc[0]
    s.findings["vagin_andel_flera_bedomningar"] = float(tot["varde"]) if pd.notna(tot["varde"]) else None
    if pd.notna(tot["varde"]):
        s.findings["vagin_andel_flera_bedomningar_lo"] = float(tot["lo"])
        s.findings["vagin_andel_flera_bedomningar_hi"] = float(tot["hi"])
        s.note(
            f"{_pct(tot['varde'], 1)} av de bedömda personerna bedömdes mer än en gång under perioden"
            f"{_ci(s.findings, 'vagin_andel_flera_bedomningar')}. Små tal visas inte per område."
        )

    # what the assessment leads to
    if not recorded(ctx.study, "resultat"):
        s.note(
            "**Vad bedömningen leder till kan inte redovisas:** bedömningarna saknar resultat (kolumnen "
            "`resultat` i `bedomningar` är tom)."
        )
        return
    rt = result_table(a)
    s.extra["resultat"] = rt
    pr = protect_shares(rt, min_cell, key="grupp", values=("andel", "lo", "hi"))
    pr["grupp_namn"] = [
        contract.label("resultat", g)
        if g in contract.CODE_LISTS["resultat"]
        else ("Resultat saknas" if g == "saknas" else "Alla")
        for g in pr["grupp"]
    ]
    s.table(
        "Bedömningens resultat och insats inom 90 dagar",
        format_shown(
            pr,
            {
                "grupp_namn": ("Resultat", "text"),
                "namnare": ("Bedömda", "antal"),
                "andel": ("Börjar insats inom 90 dagar", "andel"),
                "lo:hi": ("95 %-intervall", "intervall"),
            },
        ),
    )
    if "insatser" not in ctx.study:
        s.note(
            "**Vilken sorts insats bedömningen leder till kan inte redovisas:** studien saknar tabellen `insatser` "
            "(insatsernas kategori)."
        )
        return
    kt = kind_table(a)
    s.extra["insatstyp"] = kt
    pk = protect_shares(kt, min_cell, key="grupp", num="antal", den=None, values=("andel",))
    pk["namn"] = [contract.label("kategori", g) if g != ALLA else "Alla" for g in pk["grupp"]]
    s.table(
        "Hel eller delvis arbetsförmåga: första insatsen inom 90 dagar, per kategori",
        format_shown(pk, {"namn": ("Kategori", "text"), "antal": ("Antal", "antal"), "andel": ("Andel", "andel")}),
    )
    s.method_note(
        "**En väg in, organisationen.** En bedömning räknas till den enhet som står i kolumnen *Bedömande enhet*. "
        "En överlämning är en bedömning där *Överlämnad till* är ifylld med en annan enhet än den bedömande. "
        "*Insats inom 90 dagar* betyder att personens första deltagande som börjar på eller efter bedömningsdagen "
        "börjar högst 90 dagar efter den; intervallen är Wilsons 95 %-intervall. *Bedömda mer än en gång*: "
        "personer med minst två bedömda ansökningar under perioden. Definitionerna står i docs/antaganden.md."
    )
