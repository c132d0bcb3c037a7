"""4. Dagens insatser, who each intervention reaches: the participants' hinder group, distance to the labour
market and age group, per category, against every adult recipient (``docs/antaganden.md``, U19).

The unit is the category, not the single intervention: in a municipality of Sundbyberg's size most
interventions have a handful of participants with ohälsa or sociala skäl, so a table per intervention would
show mostly hidden cells (``..``). ``participant_composition`` can count per intervention (``by="insats_id"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats import contract
from insats.analysis.measures import Context
from insats.analysis.privacy import SUPPRESSED
from insats.analysis.stats import wilson_interval
from insats.contract import ALLA
from insats.reports.render import Section, literal
from insats.reports.utvardering.avstand import (
    COLUMN,
    MISSING,
    STANDING,
    Distance,
    distance_label,
    distance_note,
    distance_order,
    person_distance,
    standing,
)
from insats.reports.utvardering.common import AGE_GROUPS, _pct, protect_shares
from insats.reports.utvardering.erbjudande import ALL_ADULTS, offer_frame
from insats.text import format_number

REFERENCE = "REFERENS"
"""The unit of the comparison row: every adult recipient in the period."""

CHARACTERISTICS: dict[str, str] = {
    "hindergrupp": "försörjningshinder",
    COLUMN: "avstånd till arbetsmarknaden",
    "aldersgrupp": "ålder",
}
"""The participants' characteristics compared (column of ``offer_frame`` -> Swedish name)."""


def group_label(characteristic: str, code: str) -> str:
    """Swedish label of a group of a characteristic."""
    if characteristic == "hindergrupp":
        return contract.label("hindergrupp", code)
    if characteristic == COLUMN:
        return distance_label(code)
    return AGE_GROUPS.get(code, code)


def participant_composition(ctx: Context, *, by: str = "kategori", distance: Distance | None = None) -> pd.DataFrame:
    """Who the participants of each category (``by="kategori"``) or intervention (``by="insats_id"``) are.

    Persons: adult recipients in the period (``offer_frame`` with every hinder group). Participants of a unit:
    those of them with a participation in it that overlaps the period (start on or before its last day, not
    ended before its first), each counted once per unit. Characteristics: ``hindergrupp``,
    ``arbetsmarknadsavstand`` (``utvardering.avstand``; left out when there is nothing to go on) and
    ``aldersgrupp`` (the age the year of the person's first assistance month in the period, as in
    ``offer_frame``).

    One row per unit, characteristic and group, plus the unit ``REFERENCE`` (every adult recipient): ``enhet``,
    ``egenskap``, ``grupp``, ``antal`` (persons of the unit in the group), ``personer`` (persons of the unit),
    ``andel`` and its Wilson 95 % interval ``lo``/``hi``. Every group of a characteristic is listed (0 when
    nobody), ``saknas`` only when some recipient lacks a distance. Unprotected.
    """
    distance = distance if distance is not None else person_distance(ctx)
    people = offer_frame(ctx, all_groups=True, distance=distance)
    chars = [c for c in CHARACTERISTICS if c != COLUMN or distance.source is not None]
    units: list[tuple[str, pd.DataFrame]] = [(REFERENCE, people)]
    if "deltaganden" in ctx.study and len(people):
        p = ctx.participations
        first, last = ctx.params.first_day, ctx.params.last_day
        ids = ctx.study["deltaganden"]["insats_id"].astype(object).to_numpy()
        unit = p["kategori"].to_numpy(dtype=object) if by == "kategori" and "kategori" in p else ids
        ok = (p["pos"].to_numpy() >= 0) & (p["start"] <= last).to_numpy() & (p["slut"].isna() | (p["slut"] >= first))
        ok &= pd.notna(unit)
        taken = pd.DataFrame({"unit": unit[ok], "pos": p["pos"].to_numpy()[ok]}).drop_duplicates()
        merged = taken.merge(people, on="pos", how="inner")
        order = contract.codes("kategori") if by == "kategori" else sorted(set(merged["unit"].astype(str)))
        for u in [o for o in order if o in set(merged["unit"])]:
            units.append((u, merged[merged["unit"] == u]))
    groups = {c: [g for g in _order(c) if g != MISSING or MISSING in set(people[c].dropna().unique())] for c in chars}
    rows = []
    for u, part in units:
        for c in chars:
            counts = part[c].value_counts()
            for g in groups[c]:
                rows.append((u, c, g, float(counts.get(g, 0)), float(len(part))))
    out = pd.DataFrame(rows, columns=["enhet", "egenskap", "grupp", "antal", "personer"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["andel"] = np.where(out["personer"] > 0, out["antal"] / out["personer"].where(out["personer"] > 0), np.nan)
    out["lo"], out["hi"] = wilson_interval(out["antal"].to_numpy(float), out["personer"].to_numpy(float))
    return out


def _order(characteristic: str) -> list[str]:
    if characteristic == "hindergrupp":
        return contract.codes("hindergrupp")
    if characteristic == COLUMN:
        return distance_order()
    return list(AGE_GROUPS)


def protect_composition(comp: pd.DataFrame, min_cell: int, *, by: str = "kategori") -> pd.DataFrame:
    """``comp`` (``participant_composition``) with disclosure control: per unit and characteristic the groups'
    counts are the parts of the unit's number of persons (a share's complement is the rest of the unit), and
    the unit's number of persons is one count shared by its three characteristics. The comparison row's counts
    are the offer tables' counts of every adult recipient (``erbjudande.ALL_ADULTS``), the same cells. Hidden
    rows get NaN in ``antal``, ``personer``, ``andel``, ``lo``, ``hi`` and ``undertryckt`` True."""
    parts = []
    for (unit, char), t in comp.groupby(["enhet", "egenskap"], sort=False):
        table = pd.DataFrame({char: t["grupp"].astype(str).to_numpy(), "taljare": t["antal"].to_numpy(float)})
        n = float(t["personer"].iloc[0])
        table = pd.concat([table, pd.DataFrame({char: [ALLA], "taljare": [n]})], ignore_index=True)
        name = ALL_ADULTS["namnare"] if unit == REFERENCE else f"deltagare_{by}:{unit}"
        pub = protect_shares(table, min_cell, key=char, num="taljare", den=None, counts={"taljare": name})
        hidden = pub["undertryckt"].to_numpy(dtype=bool)
        total_hidden = bool(hidden[-1])
        part = t.copy()
        part["undertryckt"] = hidden[:-1] | total_hidden
        part["personer_undertryckt"] = total_hidden
        parts.append(part)
    out = pd.concat(parts).sort_index()
    for col in ("antal", "andel", "lo", "hi"):
        out[col] = out[col].astype(float).mask(out["undertryckt"])
    out["personer"] = out["personer"].astype(float).mask(out["personer_undertryckt"])
    return out


def composition_table(pub: pd.DataFrame, characteristic: str, unit_names: dict[str, str]) -> pd.DataFrame:
    """A display table of one characteristic: a row per unit (and the comparison row last), the number of
    participants and each group's share of them; hidden values ``..``."""
    t = pub[pub["egenskap"] == characteristic]
    units = [u for u in dict.fromkeys(t["enhet"]) if u != REFERENCE] + [REFERENCE]
    groups = list(dict.fromkeys(t["grupp"]))
    rows = []
    for u in units:
        r = t[t["enhet"] == u].set_index("grupp")
        if not len(r):
            continue
        first = r.iloc[0]
        row = {
            "Insatser": "Alla vuxna biståndsmottagare" if u == REFERENCE else unit_names.get(u, u),
            "Personer": SUPPRESSED if first["personer_undertryckt"] else format_number(first["personer"], 0),
        }
        for g in groups:
            row[group_label(characteristic, g)] = (
                SUPPRESSED if r.loc[g, "undertryckt"] else format_number(r.loc[g, "andel"], 0, percent=True)
            )
        rows.append(row)
    return pd.DataFrame(rows)


def reach_differences(pub: pd.DataFrame) -> pd.DataFrame:
    """Groups a unit reaches more or less often than their share of every adult recipient: published rows whose
    95 % interval lies wholly above (``riktning`` +1) or below (−1) the comparison row's published share.
    Columns ``enhet``, ``egenskap``, ``grupp``, ``andel``, ``referens``, ``riktning``. Groups without a known
    distance are left out."""
    ref = pub[(pub["enhet"] == REFERENCE) & ~pub["undertryckt"]].set_index(["egenskap", "grupp"])["andel"]
    t = pub[(pub["enhet"] != REFERENCE) & ~pub["undertryckt"] & (pub["grupp"] != MISSING)].copy()
    t["referens"] = [ref.get((c, g), np.nan) for c, g in zip(t["egenskap"], t["grupp"])]
    t = t[t["referens"].notna()]
    t["riktning"] = np.where(t["lo"] > t["referens"], 1, np.where(t["hi"] < t["referens"], -1, 0))
    return t.loc[t["riktning"] != 0, ["enhet", "egenskap", "grupp", "andel", "referens", "riktning"]]


def _phrase(characteristic: str, code: str) -> str:
    if characteristic == "hindergrupp":
        return {
            "arbetsloshet": "arbetslösa",
            "ohalsa": "personer med ohälsa",
            "sociala_skal": "personer med sociala skäl",
            "ovrigt": "personer med övriga försörjningshinder",
        }.get(code, contract.label("hindergrupp", code).lower())
    if characteristic == COLUMN:
        return f"personer som står {standing(code)}" if code in STANDING else standing(code)
    return {"18_24": "unga 18–24 år", "25_plus": "personer 25 år och äldre"}.get(code, code)


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def reach_sentences(diff: pd.DataFrame, unit_names: dict[str, str]) -> list[str]:
    """Plain Swedish per unit with a difference: whom it mostly reaches and whom it misses (share of its
    participants against the share of every adult recipient)."""
    out = []
    for unit, d in diff.groupby("enhet", sort=False):
        rows = list(d.itertuples())
        more = [r for r in rows if r.riktning > 0]
        less = [r for r in rows if r.riktning < 0]
        said = []
        if more:
            first, *rest = more
            listed = _list(
                [
                    f"{_phrase(first.egenskap, first.grupp)} ({_pct(first.andel)} av deltagarna, mot "
                    f"{_pct(first.referens)} av alla vuxna biståndsmottagare)",
                    *(f"{_phrase(r.egenskap, r.grupp)} ({_pct(r.andel)} mot {_pct(r.referens)})" for r in rest),
                ]
            )
            said.append(f"*{literal(unit_names.get(unit, unit))}* når främst {listed}.")
        if less:
            subject = "Den" if more else f"*{literal(unit_names.get(unit, unit))}*"
            listed = _list([f"{_phrase(r.egenskap, r.grupp)} ({_pct(r.andel)} mot {_pct(r.referens)})" for r in less])
            said.append(f"{subject} når sällan {listed}.")
        out.append(" ".join(said))
    return out


def reach_part(s: Section, ctx: Context, min_cell: int) -> None:
    """The part of *Dagens insatser* on whom the interventions reach: tables, sentences, findings
    ``rackvidd_over``/``rackvidd_under`` ({group label: number of categories}) and ``rackvidd_kategorier``."""
    if "personer" not in ctx.study or "bistand" not in ctx.study:
        return
    distance = person_distance(ctx)
    comp = participant_composition(ctx, by="kategori", distance=distance)
    s.extra["rackvidd"] = comp
    pub = protect_composition(comp, min_cell, by="kategori")
    names = {c: contract.label("kategori", c) for c in contract.codes("kategori")}
    for char, word in CHARACTERISTICS.items():
        if char in set(pub["egenskap"]):
            s.table(
                f"Vilka insatserna når: deltagarnas {word} per kategori, jämfört med alla vuxna biståndsmottagare",
                composition_table(pub, char, names),
            )
    if distance.source != "personer":
        s.note(distance_note(distance.source))
    diff = reach_differences(pub)
    sentences = reach_sentences(diff, names)
    tested = int(((pub["enhet"] != REFERENCE) & ~pub["undertryckt"]).groupby(pub["enhet"]).any().sum())
    s.findings["rackvidd_kategorier"] = tested
    for key, sign in (("rackvidd_over", 1), ("rackvidd_under", -1)):
        d = diff[diff["riktning"] == sign]
        s.findings[key] = {
            _phrase(c, g): int(n) for (c, g), n in d.groupby(["egenskap", "grupp"], sort=False).size().items()
        }
    s.note(
        "*Vilka insatserna når*: deltagare är vuxna biståndsmottagare under perioden som haft ett deltagande i "
        "kategorin under perioden (en person räknas en gång per kategori). Andelen jämförs med samma grupps andel "
        "av alla vuxna biståndsmottagare. En kategori sägs nå en grupp *främst* eller *sällan* när hela "
        "säkerhetsintervallet för andelen ligger över respektive under gruppens andel av alla. "
        + (" ".join(sentences) if sentences else "Ingen kategori skiljer sig så tydligt från alla mottagare.")
    )
    s.method_note(
        "**Vilka insatserna når.** Tabellerna visas per kategori och inte per insats: med Sundbybergs storlek har "
        "de flesta insatser bara ett fåtal deltagare med ohälsa eller sociala skäl, så de flesta rutor skulle "
        "döljas. Intervallen är 95 % Wilson-intervall för deltagarnas andel; gruppens andel av alla mottagare "
        "behandlas som känd. Många jämförelser görs samtidigt, så en enstaka avvikelse kan vara slumpen "
        "(`docs/antaganden.md`, U19)."
    )


def reach_conclusion(findings: dict) -> str:
    """One sentence for the section's conclusion: which groups the categories mostly miss."""
    tested = findings.get("rackvidd_kategorier") or 0
    under = findings.get("rackvidd_under") or {}
    if not tested or not under:
        return ""
    worst = sorted(under.items(), key=lambda kv: -kv[1])[:2]
    listed = _list([f"{who} (i {format_number(n)} av {format_number(tested)} kategorier)" for who, n in worst])
    return f"Insatserna når färre {listed} än deras andel av alla vuxna biståndsmottagare."
