"""Property: no published measure table shows a count of persons from 1 to min_cell − 1,
whatever the study. Random studies come from the synthetic generator with few persons (so
small cells are everywhere) and random seeds; min_cell varies too."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insats.analysis.measures import MEASURES, compute_measures
from insats.data.study import Study
from insats.intake.synth import generate_tables


def _personal(mid: str) -> bool:
    return MEASURES[mid].personal if mid in MEASURES else False


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["stockholm", "sundbyberg"]),
    seed=st.integers(0, 10_000),
    persons=st.integers(40, 400),
    min_cell=st.integers(3, 8),
)
def test_no_small_counts_in_published_measures(kind, seed, persons, min_cell):
    tables, _ = generate_tables(kind, seed=seed, persons=persons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compute_measures(Study.from_frames(**tables), min_cell=min_cell)
    t = res.table
    personal = t["matt"].map(_personal).astype(bool)
    visible = t[personal & ~t["undertryckt"]]
    for col in ("namnare",) + (("taljare",)):
        counts = visible.loc[
            visible["matt"].map(lambda m, col=col: MEASURES[m].count_is_personal if col == "taljare" else True), col
        ]
        small = counts[(counts >= 1) & (counts < min_cell)]
        assert small.empty, f"visible {col} below {min_cell}: {visible.loc[small.index].to_dict('records')[:3]}"
    # suppressed rows carry no numbers at all
    hidden = t[t["undertryckt"]]
    assert hidden[["varde", "taljare", "namnare"]].isna().all().all()
    # a lone suppressed area could be recomputed from the whole-study row: never alone
    raw = res.raw.set_index(["matt", "omrade_kod"])
    for mid, part in t[personal].groupby("matt"):
        areas = part[part["omrade_kod"] != "ALLA"]
        sup = areas[areas["undertryckt"]]
        if len(sup) != 1 or "ALLA" not in set(part["omrade_kod"]):
            continue
        r = raw.loc[mid]
        area_sum = r.drop(index="ALLA")["taljare"].sum()
        additive = np.isclose(area_sum, r.loc["ALLA", "taljare"])
        total_visible = not part.loc[part["omrade_kod"] == "ALLA", "undertryckt"].iloc[0]
        assert not (additive and total_visible and r.loc[sup["omrade_kod"].iloc[0], "taljare"] > 0), (
            f"{mid}: one suppressed area recoverable from ALLA"
        )
