"""An attack on the utvärdering's hierarchy of tables (issue 12, attack 3): no hidden count of 1–4 may be pinned
down from what the report shows.

The attacker reads only the published tables (``..`` = hidden) of ``section_interventions`` (outcome and cost
per intervention), ``section_lov`` (outcome per provider, outcome and cost per regi, the volume per category)
and the capacity table of ``section_offer``, and knows what an outsider knows: the municipality's list of
interventions (which provider and regi each belongs to), so that a provider's ended participations and exits to
work or studies are the sum of its interventions', a regi's the sum of its interventions', all the sum of every
intervention; that exits ≤ ended; that counts are ≥ 0; and (generously) that the volume table and the capacity
table count the same participations where they do. For every hidden count it computes, by linear programming
(SciPy's ``linprog``, HiGHS), the least and the largest value consistent with all of that. The test fails if a
count of 1–4 is shown, or if a hidden count's interval reaches below ``min_cell`` and is narrower than the
protection level (the criterion of ``insats audit``), or if one count is shown in one table and hidden in
another.

The regression cases are the leaks found on HEAD before the hierarchy was registered (Motivationsgrupp at seed
7/900 persons, Matchningshuset AB at seed 7/1500, I-CENTRAL-06 at seed 2016/400); the negative control switches
the registration of the hierarchy off and checks that the attacker then finds a hidden count.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable

import numpy as np
import pandas as pd
import pytest

from insats import contract
from insats.data.study import Study
from insats.intake.synth import generate_tables
from insats.reports import utvardering as U
from insats.reports.publication import study_publication
from insats.reports.utvardering import utfall as UF
from insats.reports.utvardering.common import _n_months, intervention_labels
from insats.reports.utvardering.erbjudande import capacity_gap
from tests.support.attack import Attacker, shown_number

START, END = "2015-01", "2016-12"
MIN_CELL = 5


def _caption(tables: dict[str, pd.DataFrame], start: str) -> pd.DataFrame | None:
    return next((t for c, t in tables.items() if c.startswith(start)), None)


def published(study: Study, min_cell: int = MIN_CELL):
    """The three sections as the report publishes them (the study's one disclosure decision)."""
    pub = study_publication(study, min_cell=min_cell, evaluation={"reform_datum": "2016-01-01"})
    ctx = U.make_context(study, START, END, min_cell=min_cell)
    with pub.active(START, END):
        raw = pub.result(START, END).table
        offer = U.section_offer(ctx, raw, min_cell=min_cell)
        ins = U.section_interventions(ctx, raw, min_cell=min_cell)
        lov = U.section_lov(ctx, raw, min_cell=min_cell, reform_datum="2016-01-01")
    return ctx, offer, ins, lov


def attack(study: Study, min_cell: int = MIN_CELL, protection: float | None = None) -> list[str]:
    """Everything the attacker learns that it must not (Swedish-free, for the assertion message)."""
    protection = float(min_cell if protection is None else protection)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx, offer, ins, lov = published(study, min_cell)
    a = Attacker()
    # ---- what an outsider knows: the list of interventions, providers and regi forms
    insatser = study["insatser"]
    name_of = intervention_labels(insatser)
    id_of = {v: k for k, v in name_of.items()}
    frame = UF.outcome_frame_ext(ctx)  # only to know which interventions had ended participations (rows shown)
    f = frame.assign(
        **{c: frame[c].astype(object).fillna("(okänd)").astype(str) for c in ("insats_id", "utforare", "regi")}
    )
    pairs = f[["insats_id", "utforare", "regi"]].drop_duplicates()
    ids = sorted(pairs["insats_id"])
    for col in ("n", "k"):
        a.equal((col, "alla"), [(col, "insats", i) for i in ids])
        for level, short in (("utforare", "utf"), ("regi", "regi")):
            for g, part in pairs.groupby(level):
                a.equal((col, short, g), [(col, "insats", i) for i in part["insats_id"]])
    nodes = [("alla",)] + [("insats", i) for i in ids]
    nodes += [("utf", u) for u in sorted(set(pairs["utforare"]))] + [("regi", r) for r in sorted(set(pairs["regi"]))]
    for node in nodes:
        a.at_most(("k", *node), ("n", *node))
    # ---- the truth, for judging what the attacker learns (never used by it)
    truth: dict[Hashable, float] = {("n", "alla"): float(len(f)), ("k", "alla"): float(f["arbete_studier"].sum())}
    for level, short in (("insats_id", "insats"), ("utforare", "utf"), ("regi", "regi")):
        g = f.groupby(level)["arbete_studier"]
        for key, n in g.size().items():
            truth[("n", short, key)] = float(n)
        for key, k in g.sum().items():
            truth[("k", short, key)] = float(k)
    # ---- what the tables show
    t = _caption(ins.tables, "Utfall per insats")
    for _, row in t.iterrows():
        node = ("alla",) if row["Insats"] == "Alla insatser" else ("insats", id_of[row["Insats"]])
        a.show(("n", *node), shown_number(row["Avslutade"]), "insats")
        a.show(("k", *node), shown_number(row["Arbete/studier"]), "insats")
    t = _caption(ins.tables, "Kostnad per avslut")
    for _, row in t.iterrows():
        node = ("alla",) if row["Insats"] == "Alla insatser" else ("insats", id_of[row["Insats"]])
        a.show(("k", *node), shown_number(row["Avslut till arbete/studier"]), "insats, kostnad")
    t = _caption(lov.tables, "Avslut till arbete eller studier per utförare")
    for _, row in t.iterrows():
        node = ("alla",) if row["Utförare"] == "Alla utförare" else ("utf", row["Utförare"])
        a.show(("n", *node), shown_number(row["Avslutade"]), "utförare")
        a.show(("k", *node), shown_number(row["Arbete/studier"]), "utförare")
    regi_of = {contract.label("regi", r): r for r in set(pairs["regi"])}
    t = _caption(lov.tables, "Avslut till arbete eller studier per regi")
    for _, row in t.iterrows():
        node = ("alla",) if row["Regi"] == "Alla" else ("regi", regi_of.get(row["Regi"], row["Regi"]))
        a.show(("n", *node), shown_number(row["Avslutade"]), "regi")
        a.show(("k", *node), shown_number(row["Arbete/studier"]), "regi")
    t = _caption(lov.tables, "Kostnad per regi")
    if t is not None:
        for _, row in t.iterrows():
            node = ("alla",) if row["Regi"] == "Alla" else ("regi", regi_of.get(row["Regi"], row["Regi"]))
            a.show(("k", *node), shown_number(row["Avslut till arbete/studier"]), "regi, kostnad")
    # ---- the volume per category (LOV) beside the capacity table (offer): the same participations here
    vol = U.lov_volume(ctx).set_index("kategori")
    cap = capacity_gap(ctx).set_index("kategori")
    cat_of = {contract.label("kategori", c): c for c in vol.index}
    years = _n_months(ctx) / 12
    t = _caption(lov.tables, "Utförare och volym per kategori")
    for _, row in t.iterrows():
        c = cat_of[row["Kategori"]]
        v = shown_number(row["Deltaganden per år"])
        truth[("vol", c)] = float(vol.loc[c, "deltaganden"])
        a.show(("vol", c), None if v is None else truth[("vol", c)], "volym")  # a shown rate gives its count
        assert v is None or abs(v * years - truth[("vol", c)]) <= years
    t = _caption(offer.tables, "Platser i bruk i dag")
    if t is not None:
        cap_of = {contract.label("kategori", c): c for c in cap.index if c != "ALLA"}
        for _, row in t.iterrows():
            c = "ALLA" if row["Kategori"] == "Alla kategorier" else cap_of[row["Kategori"]]
            truth[("kap", c)] = float(cap.loc[c, "deltaganden"])
            a.show(("kap", c), shown_number(row["Deltaganden i perioden"]), "kapacitet")
        a.equal(("kap", "ALLA"), [("kap", c) for c in cap.index if c != "ALLA"])
        for c in vol.index:
            if c in cap.index and truth.get(("vol", c)) == float(cap.loc[c, "deltaganden"]):
                a.equal(("kap", c), [("vol", c)])  # generous: the attacker knows they are equal
    for plus, b in a.eqs:  # the attacker's equations hold in the data (a check on the attacker itself)
        if all(k in truth for k in plus):
            assert np.isclose(sum(c * truth[k] for k, c in plus.items()), b), plus
    # ---- what the attacker learns
    findings = []
    for name, values in a.shown.items():
        if len(values) > 1:
            findings.append(f"{name} shown as {sorted(map(str, values))} in different tables")
    members: dict[tuple, tuple] = {("alla",): tuple(ids)}  # a provider of one intervention is that intervention
    for level, short in (("insats_id", "insats"), ("utforare", "utf"), ("regi", "regi")):
        for g, part in pairs.groupby(level):
            members[(short, g)] = tuple(sorted(part["insats_id"]))
    for col in ("n", "k"):
        by_set: dict[tuple, set] = {}
        for node, atoms in members.items():
            if (col, *node) in a.shown:
                by_set.setdefault(atoms, set()).update(v is None for v in a.shown[(col, *node)])
        for atoms, hidden in by_set.items():
            if len(hidden) > 1:
                findings.append(f"{col} of {atoms} is shown in one table and hidden in another")
    forms: dict[Hashable, dict[Hashable, float]] = {}
    for name, values in a.shown.items():
        if values == {None}:
            forms[name] = {name: 1.0}
    for node in nodes:  # ended minus exits: the complement of every share
        n, k = ("n", *node), ("k", *node)
        if n in a.shown or k in a.shown:
            hidden = a.shown.get(n) == {None} or a.shown.get(k) == {None}
            if hidden:
                forms[("n-k", *node)] = {n: 1.0, k: -1.0}
            elif n in truth and 1 <= truth[n] - truth[k] < min_cell:
                findings.append(f"{node}: ended − exits = {truth[n] - truth[k]:.0f} is shown")
    for name, values in a.shown.items():
        v = next(iter(values))
        if v is not None and 1 <= v < min_cell:
            findings.append(f"{name} = {v:.0f} is shown")
    for name, form in forms.items():
        lo, hi = a.interval(form)
        value = sum(c * truth[k] for k, c in form.items())
        assert lo - 1e-6 <= value <= hi + 1e-6, (name, lo, value, hi)
        if lo < min_cell and hi - lo < protection - 1e-9:
            findings.append(f"{name} = {value:.0f} pinned to [{lo:.2f}, {hi:.2f}]")
    return findings


def _study(seed: int, persons: int | None) -> Study:
    kw = {"seed": seed} if persons is None else {"seed": seed, "persons": persons}
    tables, _ = generate_tables("sundbyberg", **kw)
    return Study.from_frames(**tables)


@pytest.mark.parametrize(
    ("seed", "persons"),
    [
        (7, 900),  # HEAD: Idéburen (IOP) 85/8 minus Språkcafé 41/6 gave Motivationsgrupp 44 ended, 2 to work
        pytest.param(7, None, marks=pytest.mark.slow),  # HEAD: LOV provider Matchningshuset AB, 4 to work
        pytest.param(2016, 400, marks=pytest.mark.slow),  # HEAD: I-CENTRAL-06, 4 to work
    ],
)
def test_hierarchy_of_outcome_tables_withstands_the_attacker(seed, persons):
    assert attack(_study(seed, persons)) == []


def test_the_attacker_finds_the_leak_without_the_hierarchy(monkeypatch):
    """The attack has teeth: with the hierarchy not registered (each table protected on its own, sharing only
    its total row), a hidden count follows from a regi or provider row minus the rows shown in another table."""
    monkeypatch.setattr(UF, "register_hierarchy", lambda *a, **k: None)
    found = attack(_study(7, 900))
    assert any("pinned" in f and ("insats" in f or "utf" in f) for f in found), found


def _toy_frame() -> pd.DataFrame:
    """Ended participations: I1 (provider A) 30 ended, 3 to work; I2 (B) 30/8; I3 (C) 20/10, all LOV;
    I4 (D, egen regi) 40/12; I5 (D) 25/9."""
    rows = []
    for ins, utf, regi, n, k in (
        ("I1", "A", "lov", 30, 3),
        ("I2", "B", "lov", 30, 8),
        ("I3", "C", "lov", 20, 10),
        ("I4", "D", "egen_omrade", 40, 12),
        ("I5", "D", "egen_omrade", 25, 9),
    ):
        rows += [{"insats_id": ins, "utforare": utf, "regi": regi, "arbete_studier": j < k} for j in range(n)]
    return pd.DataFrame(rows)


def test_a_section_on_its_own_protects_the_whole_hierarchy_in_one_model():
    """Without a publication (a section run by hand) the interventions, providers and regi forms are still one
    model: the provider of the small count is hidden with it, so is a second provider of its regi (not the regi
    row), and the intervention and provider tables decide alike (A is I1)."""
    from insats.analysis.disclosure import CellKey, dims_of
    from insats.contract import ALLA
    from insats.reports.utvardering.common import protect_shares

    frame = _toy_frame()
    d = UF.outcome_hierarchy(frame, MIN_CELL)
    assert d is not None and d.audit() == []
    hidden = lambda **dims: d.is_hidden(CellKey(UF.OUTCOME_COUNTS["taljare"], dims_of(**dims)))  # noqa: E731
    assert hidden(insats_id="I1") and hidden(utforare="A")
    assert hidden(utforare="B") or hidden(utforare="C")
    assert not hidden(regi="lov") and not hidden(regi="egen_omrade")
    g = frame.groupby("utforare")["arbete_studier"].agg(["sum", "size"])
    table = pd.DataFrame(
        {
            "utforare": [*g.index, ALLA],
            "taljare": [*g["sum"].astype(float), float(frame["arbete_studier"].sum())],
            "namnare": [*g["size"].astype(float), float(len(frame))],
        }
    )
    out = protect_shares(table, MIN_CELL, key="utforare", counts=UF.OUTCOME_COUNTS, model=d).set_index("utforare")
    assert out.loc["A", "undertryckt"] and np.isnan(out.loc["A", "taljare"]) and np.isnan(out.loc["A", "namnare"])
    assert out.loc["B", "undertryckt"] or out.loc["C", "undertryckt"]
    assert not out.loc[ALLA, "undertryckt"]
