"""2. Närvarokrav, continued: drop-outs (``avslut`` avbrott) before and after the requirement, and what
happens after a drop-out (a new intervention within 90 days, assistance in the months after).

Definitions (``docs/antaganden.md``, U11–U13):

* the participations are those ended in the period (``measures.ended_participations``, as the outcome
  measures) with an ``avslut``; a participation is *before* the requirement when it started before
  ``reform_datum`` and *after* when it started on or after it (the requirement applies to
  participations started from the date, as in the attendance series, U3);
* the share of drop-outs is ``avbrott`` / ended, per requirement group (interventions with and without
  ``narvarokrav`` in ``insatser``, unknown) and for all, before and after, and the change after − before
  has Newcombe's score interval (``stats.newcombe_interval``; coverage simulated in
  ``tests/analysis/test_stats.py``);
* after an ended participation: *a new intervention within 90 days* = another participation of the same
  person that starts on or after the end date and at most 90 days after it, among the endings whose 90
  days lie inside the data (``common.data_end``); *assistance in the months after* = assistance in any of
  the ``uppfoljning_manader`` calendar months after the end month (the complement of the rule of
  utfall_sjalvforsorjning_andel, ``measures.aid_after_end``), among the endings whose months are inside
  the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.analysis.measures import Context, aid_after_end, ended_participations
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import newcombe_interval
from insats.contract import ALLA
from insats.reports.render import Section
from insats.reports.utvardering.common import (
    _participations,
    _pct,
    _pp,
    _with_wilson,
    data_end,
    format_shown,
    protect_shares,
    requirement_of,
)
from insats.reports.utvardering.delperioder import (
    BEFORE_COUNTS,
    FOLLOWED_COUNTS,
    register_before_after,
    register_followed,
)
from insats.reports.utvardering.lov_regim import _regime_note, regime_change
from insats.text import format_number

__all__ = [
    "NEW_INTERVENTION_DAYS",
    "REQUIREMENT_GROUPS",
    "after_dropout",
    "dropout_by_period",
    "dropout_change",
    "dropout_frame",
    "dropout_numbers",
    "dropout_sentence",
    "dropout_versus_without",
    "followup_table",
    "section_dropouts",
    "small_on_either_side",
]

NEW_INTERVENTION_DAYS = 90
"""Days after the end of a participation within which a new intervention counts as "soon after"."""

REQUIREMENT_GROUPS = {
    "med": "Insatser med närvarokrav",
    "utan": "Insatser utan närvarokrav",
    "okand": "Närvarokrav okänt",
}
"""Swedish row labels of the requirement groups of ``dropout_by_period``."""

ENDING_GROUPS = {"avbrott": "Efter avbrott", "annat": "Efter andra avslut"}
"""Swedish row labels of ``followup_table``."""


def dropout_frame(ctx: Context, reform_datum) -> pd.DataFrame:
    """Participations ended in the period with an ``avslut``: ``pos`` (person position), ``start``, ``slut``,
    ``avslut``, ``avbrott`` (avslut is avbrott), ``efter`` (started on or after ``reform_datum``) and
    ``krav`` (``med``/``utan``/``okand``: the intervention's ``narvarokrav``). The index is that of
    ``ctx.participations``."""
    q = ended_participations(ctx)
    q = q[pd.notna(q["avslut"])]
    ids = _participations(ctx).loc[q.index, "insats_id"]
    req = requirement_of(ctx, ids.to_numpy())
    reform = pd.Timestamp(reform_datum)
    return pd.DataFrame(
        {
            "pos": q["pos"].to_numpy(),
            "start": q["start"].to_numpy(),
            "slut": q["slut"].to_numpy(),
            "avslut": q["avslut"].astype(object).to_numpy(),
            "avbrott": (q["avslut"].astype(object) == "avbrott").to_numpy(dtype=bool),
            "efter": (pd.DatetimeIndex(q["start"]) >= reform),
            "krav": ["okand" if r is None else "med" if r else "utan" for r in req],
        },
        index=q.index,
    )


def dropout_by_period(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop-outs before and after the requirement, per requirement group (every group present; none when
    the requirement is unknown throughout) and for all (``ALLA``).

    Columns: ``krav``, ``k_fore``/``n_fore`` (drop-outs / ended, started before), ``k_efter``/``n_efter``
    (started on or after), ``andel_fore``, ``andel_efter``, ``skillnad`` (after − before) and its Newcombe
    95 % interval ``lo``/``hi`` (NaN unless both sides have endings). Unprotected."""
    groups = [g for g in REQUIREMENT_GROUPS if (frame["krav"] == g).any()]
    if groups == ["okand"]:
        groups = []
    rows = []
    for g in [*groups, ALLA]:
        f = frame if g == ALLA else frame[frame["krav"] == g]
        fore, efter = f[~f["efter"]], f[f["efter"]]
        rows.append(
            {
                "krav": g,
                "k_fore": float(fore["avbrott"].sum()),
                "n_fore": float(len(fore)),
                "k_efter": float(efter["avbrott"].sum()),
                "n_efter": float(len(efter)),
            }
        )
    out = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel_fore"] = out["k_fore"] / out["n_fore"].where(out["n_fore"] > 0)
        out["andel_efter"] = out["k_efter"] / out["n_efter"].where(out["n_efter"] > 0)
    out["skillnad"] = out["andel_efter"] - out["andel_fore"]
    out["lo"], out["hi"] = newcombe_interval(out["k_efter"], out["n_efter"], out["k_fore"], out["n_fore"])
    return out


def dropout_versus_without(t: pd.DataFrame) -> dict | None:
    """The change in drop-outs in interventions with the requirement against the change in those without it
    over the same months (a difference in differences), from a ``dropout_by_period`` table: ``med`` and
    ``utan`` (the two changes), ``skillnad`` = med − utan, and its 95 % interval ``lo``/``hi`` by the MOVER
    method (Zou & Donner 2008, *Stat Med* 27:1693) from the two Newcombe intervals::

        lo = D − sqrt((d1 − l1)² + (u2 − d2)²)
        hi = D + sqrt((u1 − d1)² + (d2 − l2)²)

    (d1, l1, u1: the change with the requirement and its interval; d2, l2, u2: without). None unless both
    groups have endings before and after. Coverage is simulated in ``tests/reports/test_avbrott.py``."""
    rows = t.set_index("krav")
    if not {"med", "utan"} <= set(rows.index):
        return None
    med, utan = rows.loc["med"], rows.loc["utan"]
    if min(med["n_fore"], med["n_efter"], utan["n_fore"], utan["n_efter"]) <= 0:
        return None
    d1, l1, u1 = (float(med[c]) for c in ("skillnad", "lo", "hi"))
    d2, l2, u2 = (float(utan[c]) for c in ("skillnad", "lo", "hi"))
    d = d1 - d2
    return {
        "med": d1,
        "utan": d2,
        "skillnad": d,
        "lo": d - float(np.sqrt((d1 - l1) ** 2 + (u2 - d2) ** 2)),
        "hi": d + float(np.sqrt((u1 - d1) ** 2 + (d2 - l2) ** 2)),
    }


def after_dropout(ctx: Context, frame: pd.DataFrame, days: int = NEW_INTERVENTION_DAYS) -> pd.DataFrame:
    """What happens after each ending of ``frame`` (``dropout_frame``): ``grupp`` (``avbrott``/``annat``),
    ``ny_ok`` (the ``days`` after the end lie inside the data), ``ny_insats`` (another participation of the
    person starts on or after the end date and at most ``days`` after it), ``bistand_ok`` and ``bistand``
    (assistance in any of the ``uppfoljning_manader`` months after the end month, ``aid_after_end``)."""
    end = data_end(ctx)
    slut = pd.DatetimeIndex(frame["slut"])
    limit = slut + pd.Timedelta(days=days)
    p = ctx.participations
    p = p[(p["pos"] >= 0) & p["start"].notna()]
    pairs = pd.DataFrame({"i": np.arange(len(frame)), "pos": frame["pos"].to_numpy(), "own": frame.index}).merge(
        pd.DataFrame({"pos": p["pos"].to_numpy(), "other": p.index, "start": p["start"].to_numpy()}), on="pos"
    )
    i = pairs["i"].to_numpy()
    hit = (
        (pairs["other"].to_numpy() != pairs["own"].to_numpy())
        & (pairs["start"].to_numpy() >= slut.to_numpy()[i])
        & (pairs["start"].to_numpy() <= limit.to_numpy()[i])
    )
    ny = np.zeros(len(frame), bool)
    ny[i[hit]] = True
    inside, aid = aid_after_end(ctx, frame.assign(slut=slut))
    return pd.DataFrame(
        {
            "grupp": np.where(frame["avbrott"].to_numpy(), "avbrott", "annat"),
            "ny_ok": np.asarray(limit <= end),
            "ny_insats": ny,
            "bistand_ok": inside,
            "bistand": aid,
        },
        index=frame.index,
    )


def followup_table(after: pd.DataFrame, flag: str, ok: str) -> pd.DataFrame:
    """Per ending group and for all (``ALLA``): ``namnare`` endings with ``ok``, ``taljare`` of them with
    ``flag``, share and Wilson interval. Unprotected."""
    rows = []
    for g in [*ENDING_GROUPS, ALLA]:
        f = after if g == ALLA else after[after["grupp"] == g]
        f = f[f[ok]]
        rows.append({"grupp": g, "taljare": float(f[flag].sum()), "namnare": float(len(f))})
    return _with_wilson(pd.DataFrame(rows))


def small_on_either_side(t: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Rows of a ``dropout_by_period`` table with a count of 1 … min_cell − 1 before or after (drop-outs,
    ended, or ended without drop-out). Before + after is the group's ended participations (for all: a
    count the outcome measures publish), so a small count on one side would follow from the other; such a
    row is hidden on both sides."""
    counts = [t[c] for c in ("k_fore", "n_fore", "k_efter", "n_efter")]
    counts += [t["n_fore"] - t["k_fore"], t["n_efter"] - t["k_efter"]]
    return np.logical_or.reduce([((c >= 1) & (c < min_cell)).to_numpy() for c in counts])


def _cell(value: float, hidden: bool, fmt) -> str:
    if hidden:
        return SUPPRESSED
    return fmt(value) if pd.notna(value) else ""


def _verdict(lo: float, hi: float) -> str:
    if not (pd.notna(lo) and pd.notna(hi)):
        return ""
    return "Fler avbrott" if lo > 0 else "Färre avbrott" if hi < 0 else "Kan vara slumpen"


def section_dropouts(s: Section, ctx: Context, reform_datum, *, min_cell: int = 5) -> None:
    """Add the drop-outs before and after the requirement, and what follows a drop-out, to the
    attendance section ``s`` (tables, findings ``avbrott_*``, method note). Says what is missing when the
    study has no ``avslut`` or no ended participations."""
    if "deltaganden" not in ctx.study or "personer" not in ctx.study:
        return
    when = pd.Timestamp(reform_datum).strftime("%Y-%m-%d")
    frame = dropout_frame(ctx, reform_datum)
    if frame.empty:
        s.note(
            "**Avbrotten kan inte mätas:** inga deltaganden som avslutades i perioden har ett avslut angivet "
            "(kolumnen `avslut` i `deltaganden` saknas eller är tom). För att följa upp avbrott behöver "
            "kommunen registrera hur varje deltagande slutade (koden avbrott när deltagaren slutar i förtid)."
        )
        return
    t = dropout_by_period(frame)
    t["namn"] = [("Alla" if k == ALLA else REQUIREMENT_GROUPS[k]) for k in t["krav"]]
    t["undertryckt"] = small_on_either_side(t, min_cell)
    fore = protect_shares(t, min_cell, key="krav", num="k_fore", den="n_fore", counts=BEFORE_COUNTS["fore"])
    efter = protect_shares(t, min_cell, key="krav", num="k_efter", den="n_efter", counts=BEFORE_COUNTS["efter"])
    register_before_after(ctx, t, reform_datum, min_cell)  # before + after against the ended (R10)
    hf, he = fore["undertryckt"].to_numpy(bool), efter["undertryckt"].to_numpy(bool)
    pct = lambda v: format_number(v, 1, percent=True)  # noqa: E731  (a one-line local formatter)
    num = lambda v: format_number(v, 0)  # noqa: E731
    s.table(
        f"Andel avbrott bland avslutade deltaganden, som började före och efter närvarokravet ({when})",
        pd.DataFrame(
            {
                "": t["namn"].to_numpy(),
                "Avslutade, före": [_cell(v, h, num) for v, h in zip(t["n_fore"], hf)],
                "Avbrott, före": [_cell(v, h, pct) for v, h in zip(t["andel_fore"], hf)],
                "Avslutade, efter": [_cell(v, h, num) for v, h in zip(t["n_efter"], he)],
                "Avbrott, efter": [_cell(v, h, pct) for v, h in zip(t["andel_efter"], he)],
                "Förändring, procentenheter": [_cell(v, a or b, _pp) for v, a, b in zip(t["skillnad"], hf, he)],
                "95 % konfidensintervall": [
                    SUPPRESSED if a or b else (f"{_pp(lo)} till {_pp(hi)}" if pd.notna(lo) else "")
                    for lo, hi, a, b in zip(t["lo"], t["hi"], hf, he)
                ],
                "Bedömning": ["" if a or b else _verdict(lo, hi) for lo, hi, a, b in zip(t["lo"], t["hi"], hf, he)],
            }
        ),
    )
    s.extra["avbrott"] = t
    # the headline: interventions with the requirement when they have endings on both sides, else all
    shown = ~(hf | he) & t["skillnad"].notna().to_numpy()
    pick = [i for i, k in enumerate(t["krav"]) if k == "med" and shown[i]] or [
        i for i, k in enumerate(t["krav"]) if k == ALLA and shown[i]
    ]
    if pick:
        r = t.iloc[pick[0]]
        s.findings.update(
            {
                "avbrott_grupp": "med" if r["krav"] == "med" else ALLA,
                "avbrott_fore": float(r["andel_fore"]),
                "avbrott_efter": float(r["andel_efter"]),
                "avbrott_skillnad": float(r["skillnad"]),
                "avbrott_lo": float(r["lo"]),
                "avbrott_hi": float(r["hi"]),
                "avbrott_reform": when,
            }
        )
    else:
        s.note(
            "Andelen avbrott före och efter närvarokravet kan inte jämföras: det finns inte avslutade deltaganden "
            "som började både före och efter reformdatum (eller så få att de inte visas)."
        )
    _regime_and_comparison(s, ctx, t, hf | he, reform_datum)
    after = after_dropout(ctx, frame)
    ny = followup_table(after, "ny_insats", "ny_ok")
    bi = followup_table(after, "bistand", "bistand_ok")
    for tab in (ny, bi):
        tab["namn"] = [("Alla avslut" if g == ALLA else ENDING_GROUPS[g]) for g in tab["grupp"]]
    ny_pub = protect_shares(ny, min_cell, key="grupp", values=("andel", "lo", "hi"), counts=FOLLOWED_COUNTS["ny"])
    bi_pub = protect_shares(bi, min_cell, key="grupp", values=("andel", "lo", "hi"), counts=FOLLOWED_COUNTS["bistand"])
    register_followed(ny, "ny")  # the endings followed up are a part of the endings (R10)
    register_followed(bi, "bistand")
    k = ctx.params.uppfoljning_manader
    cols_ny = {
        "namn": ("", "text"),
        "namnare": ("Avslutade (90 dagar följs)", "antal"),
        "andel": (f"Ny insats inom {NEW_INTERVENTION_DAYS} dagar", "andel"),
        "lo:hi": ("95 % konfidensintervall", "intervall"),
    }
    cols_bi = {
        "namnare": (f"Avslutade ({k} månader följs)", "antal"),
        "andel": (f"Bistånd någon av {k} månaderna efter", "andel"),
        "lo:hi": ("95 % konfidensintervall ", "intervall"),
    }
    s.table(
        "Efter ett avbrott: ny insats och ekonomiskt bistånd",
        pd.concat([format_shown(ny_pub, cols_ny), format_shown(bi_pub, cols_bi)], axis=1),
    )
    s.findings["avbrott_bistand_manader"] = k
    for key, pub in (("avbrott_ny_insats", ny_pub), ("avbrott_bistand", bi_pub)):
        row = pub[pub["grupp"] == "avbrott"].iloc[0]
        other = pub[pub["grupp"] == "annat"].iloc[0]
        if pd.notna(row["andel"]):
            s.findings[key] = float(row["andel"])
            s.findings[key + "_lo"] = float(row["lo"])
            s.findings[key + "_hi"] = float(row["hi"])
        if pd.notna(other["andel"]):
            s.findings[key + "_andra"] = float(other["andel"])
    s.note(ABSENCE_NOTE)
    s.method_note(
        "**Avbrott.** Deltaganden som avslutades i perioden och har ett avslut angivet; *före* = började före "
        f"närvarokravet ({when}), *efter* = började den dagen eller senare, som i närvaroserien. Andel avbrott = "
        "deltaganden med avslut avbrott delat med alla avslutade i gruppen. Förändringen är andelen efter minus "
        "andelen före, med Newcombes intervall för skillnaden mellan två andelar (byggt på Wilsonintervallen; "
        "täcker den sanna skillnaden i 94–96 % av simulerade fall). Jämförelsen är en enkel före–efter-jämförelse "
        "utan hänsyn till trender; deltaganden som började sent i efterperioden kommer bara med om de hann "
        "avslutas, och de är kortare. *Ny insats* = ett annat deltagande för samma person som börjar samma dag "
        f"eller inom {NEW_INTERVENTION_DAYS} dagar efter slutet, bland avslut vars {NEW_INTERVENTION_DAYS} dagar "
        f"ligger inom uppgifterna. *Bistånd efter* = bistånd någon av de {k} kalendermånaderna efter "
        "slutmånaden (motsatsen till måttet Andel utan bistånd efter avslutad insats). *Jämfört med insatser utan "
        "närvarokrav*: förändringen i insatser med krav minus förändringen i insatser utan krav, före och efter samma "
        "datum, med ett intervall som kombinerar de två Newcombeintervallen (MOVER-metoden). Se "
        "`docs/antaganden.md`, U11–U13 och U20."
    )


def _regime_and_comparison(s: Section, ctx: Context, t: pd.DataFrame, hidden: np.ndarray, reform_datum) -> None:
    """Say when LOV started inside the period (the note of the LOV section, ``_regime_note``), and compare the
    change with the change in interventions without the requirement over the same months (or say why not)."""
    change = regime_change(ctx, reform_datum)
    if change is not None:
        s.note(_regime_note(change, about="avbrott"))
        s.findings["avbrott_lov_start"] = f"{change.lov_start:%Y-%m-%d}"
        s.findings["avbrott_lov_samma_dag"] = bool(change.reform_same_day)
    pos = {k: i for i, k in enumerate(t["krav"])}
    if "med" not in pos:
        return
    if "utan" not in pos:
        s.note(
            "**Ingen jämförelse med insatser utan närvarokrav:** alla avslutade deltaganden med känt krav är i "
            "insatser med närvarokrav, så förändringen av avbrotten kan inte skiljas från annat som ändrades samtidigt."
        )
        return
    if hidden[pos["med"]] or hidden[pos["utan"]]:
        s.note(
            "Jämförelsen med insatser utan närvarokrav under samma månader visas inte: en av grupperna har för få "
            "avslut på någon sida om reformdatum."
        )
        return
    cmp = dropout_versus_without(t)
    if cmp is None:
        utan = t.iloc[pos["utan"]]
        side = "före" if utan["n_efter"] == 0 else "efter"
        s.note(
            f"**Ingen jämförelse under samma månader:** insatser utan närvarokrav har avslutade deltaganden bara "
            f"bland dem som började {side} reformdatum"
            + (
                " (de upphandlade avtalen utan krav slutade när LOV-utförarna började)"
                if change is not None and change.ended_before and side == "före"
                else ""
            )
            + ". Därför går det inte att visa hur avbrotten hade ändrats utan kravet; förändringen ovan kan bero på "
            "kravet, på nya utförare eller på annat som ändrades samtidigt."
        )
        s.findings["avbrott_jamforelse_saknas"] = True
        return
    s.table(
        "Förändring av avbrott under samma månader, insatser med och utan närvarokrav (procentenheter)",
        pd.DataFrame(
            {
                "": [REQUIREMENT_GROUPS["med"], REQUIREMENT_GROUPS["utan"], "Skillnad (med − utan krav)"],
                "Förändring, procentenheter": [_pp(cmp["med"]), _pp(cmp["utan"]), _pp(cmp["skillnad"])],
                "95 % konfidensintervall": [
                    *(
                        f"{_pp(lo)} till {_pp(hi)}"
                        for lo, hi in zip(
                            t.iloc[[pos["med"], pos["utan"]]]["lo"], t.iloc[[pos["med"], pos["utan"]]]["hi"]
                        )
                    ),
                    f"{_pp(cmp['lo'])} till {_pp(cmp['hi'])}",
                ],
            }
        ),
    )
    s.findings["avbrott_jamforelse"] = cmp["skillnad"]
    s.findings["avbrott_jamforelse_lo"] = cmp["lo"]
    s.findings["avbrott_jamforelse_hi"] = cmp["hi"]
    s.findings["avbrott_utan_skillnad"] = cmp["utan"]


ABSENCE_NOTE = (
    "**Frånvaro och vad den leder till – data saknas för detta.** Uppgifterna har närvarotimmar per deltagande "
    "och hur deltagandet slutade, men inte när deltagaren var frånvarande eller vad som hände efter frånvaron. "
    "Därför kan rapporten inte visa hur ofta frånvaro leder till en påminnelse, ett samtal, en varning, nedsatt "
    "eller indraget ekonomiskt bistånd eller ett avbrott. För att kunna följa upp det behöver kommunen registrera, "
    "per deltagande: datum (eller månad och timmar) för frånvaro, om frånvaron var giltig (till exempel sjukdom) "
    "och vilken åtgärd som följde och vilket datum."
)
"""The plain-Swedish note on what the data lack for absence and its consequences (U20)."""


def dropout_change(findings: dict) -> str | None:
    """The measured change in drop-outs for a recommendation: ``"okning"``, ``"minskning"`` (the 95 % interval
    wholly above / below 0), ``"ingen"`` (it contains 0), None without the numbers."""
    lo, hi = findings.get("avbrott_lo"), findings.get("avbrott_hi")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return "okning" if lo > 0 else "minskning" if hi < 0 else "ingen"


def dropout_numbers(findings: dict) -> str:
    """ "från 25 % till 35 % (10,1 procentenheter, troligen mellan 4,6 och 15,7)" for a recommendation
    (the 95 % interval, in words)."""
    return (
        f"från {_pct(findings['avbrott_fore'])} till {_pct(findings['avbrott_efter'])} av de avslutade deltagandena "
        f"({_pp(findings['avbrott_skillnad'])} procentenheter, troligen mellan {_pp(findings['avbrott_lo'])} "
        f"och {_pp(findings['avbrott_hi'])})"
    )


def dropout_sentence(findings: dict) -> str:
    """Plain-Swedish sentences on drop-outs for the section's conclusion (empty without the numbers)."""
    parts = []
    if findings.get("avbrott_skillnad") is not None:
        who = "i insatser med närvarokrav " if findings.get("avbrott_grupp") == "med" else ""
        lo, hi = findings["avbrott_lo"], findings["avbrott_hi"]
        verdict = (
            "fler avbrott än slumpen kan förklara"
            if lo > 0
            else "färre avbrott än slumpen kan förklara"
            if hi < 0
            else "ingen säker förändring"
        )
        parts.append(
            f"Av de avslutade deltagandena {who}slutade {_pct(findings['avbrott_fore'])} med avbrott bland dem "
            f"som började före närvarokravet och {_pct(findings['avbrott_efter'])} bland dem som började efter "
            f"({_pp(findings['avbrott_skillnad'])} procentenheter, 95 % konfidensintervall {_pp(lo)} till "
            f"{_pp(hi)}): {verdict}."
        )
    if findings.get("avbrott_skillnad") is not None:
        if findings.get("avbrott_jamforelse") is not None:
            lo, hi = findings["avbrott_jamforelse_lo"], findings["avbrott_jamforelse_hi"]
            parts.append(
                "Jämfört med insatser utan närvarokrav under samma månader (där avbrotten ändrades "
                f"{_pp(findings['avbrott_utan_skillnad'])} procentenheter) var skillnaden mellan förändringarna "
                f"{_pp(findings['avbrott_jamforelse'])} procentenheter (med minus utan krav, 95 % konfidensintervall "
                f"{_pp(lo)} till {_pp(hi)}): "
                + (
                    "skillnaden är större än slumpen kan förklara."
                    if lo > 0 or hi < 0
                    else "skillnaden kan vara slumpen."
                )
            )
        if findings.get("avbrott_lov_samma_dag"):
            parts.append(
                f"LOV-utförarna började samma dag som närvarokravet ({findings['avbrott_lov_start']}), så förändringen "
                "kan bero på de nya utförarna lika mycket som på kravet"
                + (
                    "; det fanns inga insatser utan krav under samma månader att jämföra med."
                    if findings.get("avbrott_jamforelse_saknas")
                    else "."
                )
            )
    # (verb, rest): the first clause puts the verb before the share (Swedish word order after "Av dem …")
    clauses = [
        (key, verb, rest)
        for key, verb, rest in (
            ("avbrott_ny_insats", "började", f"en ny insats inom {NEW_INTERVENTION_DAYS} dagar"),
            (
                "avbrott_bistand",
                "hade",
                f"ekonomiskt bistånd någon av de {findings.get('avbrott_bistand_manader', 3)} följande månaderna",
            ),
        )
        if findings.get(key) is not None
    ]
    if clauses:
        texts = [
            f"{verb} {_pct(findings[key])} {rest}" if i == 0 else f"{_pct(findings[key])} {verb} {rest}"
            for i, (key, verb, rest) in enumerate(clauses)
        ]
        others = [_pct(findings[key + "_andra"]) for key, _, _ in clauses if findings.get(key + "_andra") is not None]
        tail = f" (efter andra avslut: {' respektive '.join(others)})" if len(others) == len(clauses) else ""
        parts.append("Av dem som avbröt en insats " + ", och ".join(texts) + tail + ".")
    return " ".join(parts)
