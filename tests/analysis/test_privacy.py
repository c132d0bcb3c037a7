"""Tests of insats.analysis.privacy: each rule by hand, and properties over random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insats.analysis.privacy import (
    FOOTNOTE,
    SUPPRESSED,
    TOTAL,
    footnote,
    format_number,
    format_table,
    protect_counts,
    protect_measures,
)
from insats.contract import ALLA

NNBSP = "\u202f"
NBSP = "\u00a0"


# --------------------------------------------------------------------------- footnote
def test_footnote_follows_min_cell():
    assert SUPPRESSED == ".."
    assert FOOTNOTE == ".. = uppgiften visas inte för att skydda enskildas integritet (färre än 5 personer)"
    assert "färre än 3 personer" in footnote(3)


# --------------------------------------------------------------------------- protect_counts by hand
def _table(rows, index=None, columns=None):
    rows = np.asarray(rows)
    return pd.DataFrame(
        rows,
        index=index or [f"r{i}" for i in range(rows.shape[0])],
        columns=columns or [f"c{j}" for j in range(rows.shape[1])],
    )


def test_primary_and_secondary_by_hand():
    t = _table([[3, 10, 20], [12, 0, 7], [8, 9, 30]], index=list("ABC"), columns=list("xyz"))
    values, mask = protect_counts(t, margins=False)
    # 3 is small; its row partner is the smallest other non-zero (10), whose column then needs
    # a partner (9, non-zero before 0), and the 3's column gets the 8 (row C already needs one).
    expected = _table([[1, 1, 0], [0, 0, 0], [1, 1, 0]], index=list("ABC"), columns=list("xyz")).astype(bool)
    pd.testing.assert_frame_equal(mask, expected)
    assert values.isna().equals(mask)
    assert values.loc["B", "x"] == 12 and values.loc["B", "y"] == 0


def test_zero_is_not_suppressed_and_not_a_risk():
    t = _table([[0, 10], [10, 20]])
    values, mask = protect_counts(t, margins=False)
    assert not mask.to_numpy().any()
    assert values.loc["r0", "c0"] == 0


def test_zero_used_as_partner_only_when_nothing_else():
    t = _table([[3, 0], [10, 20]])
    _, mask = protect_counts(t, margins=False)
    assert mask.loc["r0", "c0"] and mask.loc["r0", "c1"]  # the 0 is the only partner in row r0
    assert mask.loc["r1", "c0"]  # column c0: 3 needs a partner, 10 is the smallest
    assert mask.loc["r1", "c1"]  # row r1: 10 then needs a partner


def test_margins_added_and_small_totals_suppressed():
    t = _table([[1, 2], [10, 20], [30, 40]])
    values, mask = protect_counts(t)
    assert list(values.index) == ["r0", "r1", "r2", TOTAL]
    assert list(values.columns) == ["c0", "c1", TOTAL]
    assert mask.loc["r0", TOTAL]  # row total 3 is small
    assert values.loc[TOTAL, TOTAL] == 103 or mask.loc[TOTAL, TOTAL]
    # in the table with totals every line with a suppressed cell has at least two
    for line in [*mask.to_numpy(), *mask.to_numpy().T]:
        assert line.sum() != 1
    # the row total 3 is suppressed, so another row total must be too
    assert mask[TOTAL].sum() >= 2


def test_min_cell_one_changes_nothing():
    t = _table([[1, 2, 0], [3, 4, 5]])
    values, mask = protect_counts(t, min_cell=1, margins=False)
    assert not mask.to_numpy().any()
    assert (values.to_numpy() == t.to_numpy()).all()
    values, mask = protect_counts(t, min_cell=1)
    assert not mask.to_numpy().any()
    assert values.loc[TOTAL, TOTAL] == 15


def test_categorical_axes_get_totals():
    t = pd.crosstab(pd.Categorical(["a", "a", "b"] * 5), pd.Categorical(["x", "y", "x"] * 5))
    values, _mask = protect_counts(t)
    assert TOTAL in values.index and TOTAL in values.columns
    assert values.loc[TOTAL, TOTAL] == 15


# --------------------------------------------------------------------------- protect_counts property
counts = st.one_of(st.integers(0, 6), st.integers(0, 30))


@st.composite
def count_tables(draw):
    nrow = draw(st.integers(2, 8))
    ncol = draw(st.integers(2, 8))
    cells = draw(st.lists(counts, min_size=nrow * ncol, max_size=nrow * ncol))
    return _table(np.array(cells).reshape(nrow, ncol))


def _check_lines(vals: np.ndarray, sup: np.ndarray) -> None:
    for v, s in [*zip(vals, sup), *zip(vals.T, sup.T)]:
        if (s & (v != 0)).any():
            assert s.sum() >= 2, (v, s)


@settings(max_examples=200, deadline=None)
@given(count_tables(), st.sampled_from([3, 5, 10]))
def test_protect_counts_property(table, min_cell):
    vals = table.to_numpy(dtype=float)
    for margins in (False, True):
        values, mask = protect_counts(table, min_cell, margins=margins)
        sup = mask.to_numpy(bool)
        inner = sup[: vals.shape[0], : vals.shape[1]]
        # nothing small is visible, and what is visible is unchanged
        shown = values.to_numpy(dtype=float, na_value=np.nan)
        visible = ~np.isnan(shown)
        assert not ((shown[visible] >= 1) & (shown[visible] < min_cell)).any()
        assert np.array_equal(visible, ~sup)
        # no suppressed cell can be recovered from its row or column total
        _check_lines(vals, inner)
        if margins:
            ext = np.zeros((vals.shape[0] + 1, vals.shape[1] + 1))
            ext[:-1, :-1] = vals
            ext[:-1, -1] = vals.sum(axis=1)
            ext[-1, :-1] = vals.sum(axis=0)
            ext[-1, -1] = vals.sum()
            np.testing.assert_array_equal(shown[visible], ext[visible])
            _check_lines(ext, sup)
        else:
            np.testing.assert_array_equal(shown[visible], vals[visible])


@settings(max_examples=100, deadline=None)
@given(count_tables())
def test_protect_counts_min_cell_one_property(table):
    values, mask = protect_counts(table, 1, margins=False)
    assert not mask.to_numpy().any()
    np.testing.assert_array_equal(values.to_numpy(dtype=float), table.to_numpy(dtype=float))


# --------------------------------------------------------------------------- protect_measures by hand
def _long(matt, areas, taljare, namnare, alla=True, **extra):
    rows = pd.DataFrame({"matt": matt, "omrade_kod": areas, "taljare": taljare, "namnare": namnare})
    if alla:
        tot = pd.DataFrame(
            {
                "matt": [matt],
                "omrade_kod": [ALLA],
                "taljare": [rows["taljare"].sum(min_count=1)],
                "namnare": [rows["namnare"].sum(min_count=1)],
            }
        )
        rows = pd.concat([rows, tot], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["varde"] = np.where(rows["namnare"].isna(), rows["taljare"], rows["taljare"] / rows["namnare"])
    rows["undertryckt"] = False
    for k, v in extra.items():
        rows[k] = v
    return rows[["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt", *extra]]


def test_measures_small_numerator_suppressed():
    # a share with numerator 3 of 100: 3 % of 100 would reveal the 3
    df = _long("andel", ["A", "B", "C"], [3, 40, 50], [100, 100, 100], alla=False)
    out = protect_measures(df)
    assert out["undertryckt"].tolist() == [True, False, False]
    assert out.loc[0, ["varde", "taljare", "namnare"]].isna().all()
    assert out.loc[1, "varde"] == pytest.approx(0.4)


def test_measures_small_base_suppressed_zero_base_not():
    df = _long("andel", ["A", "B", "C"], [0, 0, 10], [4, 0, 20], alla=False)
    out = protect_measures(df)
    assert out["undertryckt"].tolist() == [True, False, False]
    assert pd.isna(out.loc[1, "varde"])  # 0/0 has no value, but is no disclosure


def test_measures_count_measure():
    df = _long("antal", ["A", "B", "C"], [2, 7, 0], [np.nan] * 3, alla=False)
    out = protect_measures(df)
    assert out["undertryckt"].tolist() == [True, False, False]
    assert out.loc[2, "varde"] == 0


def test_measures_secondary_against_alla_and_other_columns_kept():
    df = _long("andel", ["A", "B", "C", "D"], [3, 20, 8, 30], [10, 50, 40, 60], ar=2016)
    out = protect_measures(df)
    # A (3) is suppressed; ALLA = A + B + C + D, so the next smallest taljare (C: 8) goes too
    assert out.set_index("omrade_kod")["undertryckt"].to_dict() == {
        "A": True,
        "B": False,
        "C": True,
        "D": False,
        ALLA: False,
    }
    assert (out["ar"] == 2016).all()
    assert list(out.columns) == list(df.columns)


def test_measures_no_secondary_when_not_additive():
    df = _long("andel", ["A", "B", "C"], [3, 20, 8], [10, 50, 40])
    df.loc[df["omrade_kod"] == ALLA, ["taljare", "namnare"]] = [40, 120]  # e.g. CENTRAL counted too
    out = protect_measures(df)
    assert out["undertryckt"].tolist() == [True, False, False, False]


def test_measures_exempt_and_min_cell_one():
    df = _long("utbud_insatser", ["A", "B"], [2, 3], [np.nan, np.nan])
    out = protect_measures(df, exempt=["utbud_insatser"])
    assert not out["undertryckt"].any()
    out = protect_measures(df, min_cell=1)
    assert not out["undertryckt"].any()
    pd.testing.assert_frame_equal(out[["varde", "taljare"]], df[["varde", "taljare"]].astype(float))


def test_measures_already_suppressed_kept():
    df = _long("andel", ["A", "B", "C"], [30, 20, 18], [100, 50, 40])
    df.loc[0, "undertryckt"] = True
    out = protect_measures(df)
    assert out["undertryckt"].sum() == 2  # A, and a partner because ALLA adds up
    assert out.loc[0, ["varde", "taljare", "namnare"]].isna().all()


# --------------------------------------------------------------------------- protect_measures property
@st.composite
def long_tables(draw):
    frames = []
    for m in range(draw(st.integers(1, 3))):
        k = draw(st.integers(2, 10))
        tal = np.array(draw(st.lists(counts, min_size=k, max_size=k)), dtype=float)
        if draw(st.booleans()):
            nam = tal + np.array(draw(st.lists(counts, min_size=k, max_size=k)), dtype=float)
        else:
            nam = np.full(k, np.nan)  # a count measure
        frames.append(_long(f"m{m}", [f"O{i}" for i in range(k)], tal, nam))
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=200, deadline=None)
@given(long_tables(), st.sampled_from([3, 5, 10]))
def test_protect_measures_property(df, min_cell):
    out = protect_measures(df, min_cell)
    sup = out["undertryckt"].to_numpy(bool)
    visible = out.loc[~sup]
    for col in ("taljare", "namnare"):
        v = visible[col].dropna()
        assert not ((v >= 1) & (v < min_cell)).any()
    assert out.loc[sup, ["varde", "taljare", "namnare"]].isna().all().all()
    assert out.loc[~sup, "taljare"].equals(df.loc[~sup, "taljare"].astype(float))
    for _, idx in df.groupby("matt").groups.items():
        s = sup[idx]
        risky = s & ((df.loc[idx, "taljare"].fillna(0) != 0) | (df.loc[idx, "namnare"].fillna(0) != 0)).to_numpy()
        if risky.any():
            assert s.sum() >= 2


@settings(max_examples=100, deadline=None)
@given(long_tables())
def test_protect_measures_min_cell_one_property(df):
    out = protect_measures(df, 1)
    assert not out["undertryckt"].any()
    for col in ("varde", "taljare", "namnare"):
        pd.testing.assert_series_equal(out[col], df[col].astype(float))


# --------------------------------------------------------------------------- formatting
@pytest.mark.parametrize(
    "x, decimals, percent, text",
    [
        (0, 0, False, "0"),
        (1234567, 0, False, f"1{NNBSP}234{NNBSP}567"),
        (999, 0, False, "999"),
        (1000, 0, False, f"1{NNBSP}000"),
        (12.25, 1, False, "12,3"),  # half away from zero, not banker's rounding
        (2.5, 0, False, "3"),
        (-3, 0, False, "\u22123"),
        (-1234.5, 1, False, f"\u22121{NNBSP}234,5"),
        (-0.0001, 1, False, "0,0"),
        (0.455, 0, True, f"46{NBSP}%"),
        (0.1234, 1, True, f"12,3{NBSP}%"),
        (1, 0, True, f"100{NBSP}%"),
        (np.int64(5000), 0, False, f"5{NNBSP}000"),
        (np.nan, 0, False, ""),
        (None, 1, True, ""),
        (pd.NA, 0, False, ""),
    ],
)
def test_format_number(x, decimals, percent, text):
    assert format_number(x, decimals, percent) == text


def test_format_table():
    t = _table([[3, 10, 20], [12, 0, 7], [8, 9, 30]], index=list("ABC"), columns=list("xyz"))
    values, mask = protect_counts(t, margins=False)
    out = format_table(values, mask)
    assert out.loc["A", "x"] == SUPPRESSED and out.loc["B", "x"] == "12" and out.loc["B", "y"] == "0"
    shares = pd.DataFrame({"andel": [0.5, np.nan, 0.25], "antal": [1200.0, 3.0, 40.0]}, index=list("abc"))
    m = pd.DataFrame({"andel": [False, False, True], "antal": [False, True, False]}, index=list("abc"))
    out = format_table(shares, m, decimals={"andel": 1}, percent={"andel": True}, missing="–")
    assert out.to_dict("list") == {
        "andel": [f"50,0{NBSP}%", "–", SUPPRESSED],
        "antal": [f"1{NNBSP}200", SUPPRESSED, "40"],
    }
    assert format_table(shares).loc["a", "antal"] == f"1{NNBSP}200"
