"""Reuse within a process and the read log (insats.data.cache, insats.data.study)."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.data import cache
from insats.data.load import load_cached, load_study
from insats.data.study import READS, Study


# --------------------------------------------------------------------------- reuse in a process
def test_load_cached_hands_out_copies_that_do_not_leak(study_dir):
    a = load_cached(study_dir)
    original = a["personer"]["fodelsear"].iloc[0]
    a["personer"].loc[0, "fodelsear"] = 1800
    a.tables["medel"] = a["medel"].iloc[:0]
    b = load_cached(study_dir)
    assert b["personer"]["fodelsear"].iloc[0] == original
    assert len(b["medel"]) > 0
    assert b.content_key == a.content_key or a.content_key is None
    assert a.content_key is None  # replacing a table drops the key


def test_memoize_reuses_results_but_never_stale_ones(study_dir):
    calls = []

    @cache.memoize
    def count_rows(study: Study, *, table: str = "medel", factor: int = 1) -> dict:
        calls.append(table)
        return {"rader": len(study[table]) * factor, "tabell": pd.DataFrame({"n": [len(study[table])]})}

    first = count_rows(load_cached(study_dir), table="medel")
    second = count_rows(load_cached(study_dir), table="medel")
    assert second["rader"] == first["rader"] and second["tabell"].equals(first["tabell"])
    assert calls == ["medel"]
    # the kept result cannot be changed through a copy handed out
    got = count_rows(load_cached(study_dir), table="medel")
    got["tabell"].loc[0, "n"] = -1
    got["rader"] = -1
    assert count_rows(load_cached(study_dir), table="medel")["rader"] == first["rader"]
    assert count_rows(load_cached(study_dir), table="medel")["tabell"].loc[0, "n"] == len(
        load_cached(study_dir)["medel"]
    )
    assert calls == ["medel"]
    # other arguments, exact types: computed again
    count_rows(load_cached(study_dir), table="medel", factor=2)
    count_rows(load_cached(study_dir), table="omraden")
    assert calls == ["medel", "medel", "omraden"]
    # a study changed in memory: computed every time
    changed = load_cached(study_dir)
    changed["medel"].loc[0, "belopp"] = 0.0
    count_rows(changed, table="medel")
    count_rows(changed, table="medel")
    assert calls[-2:] == ["medel", "medel"]
    # a study loaded another way (no content key from load_cached): computed every time
    plain = load_study(study_dir, cache=False)
    n = len(calls)
    count_rows(plain)
    count_rows(plain)
    assert len(calls) == n + 2
    # a changed file: a new key, new numbers
    medel = study_dir / "medel.csv"
    lines = medel.read_text(encoding="utf-8").splitlines()
    medel.write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    fewer = count_rows(load_cached(study_dir), table="medel")
    assert fewer["rader"] == first["rader"] - 3


def test_measures_are_computed_once_per_content_and_parameters(study_dir):
    from insats.analysis.measures import compute_measures

    study = load_cached(study_dir)
    a = compute_measures(study, start="2012-01", end="2013-12", min_cell=5)
    b = compute_measures(load_cached(study_dir), start="2012-01", end="2013-12", min_cell=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.table is not b.table
    direct = compute_measures.__wrapped__(
        load_study(study_dir, cache=False), start="2012-01", end="2013-12", min_cell=5
    )
    pd.testing.assert_frame_equal(direct.table, b.table)
    other = compute_measures(load_cached(study_dir), start="2012-01", end="2013-12", min_cell=3)
    assert not other.table.equals(a.table)  # min_cell is part of the key


def test_reads_are_recorded_and_replayed(study_dir):
    calls = []

    @cache.memoize
    def medel_rows(study: Study) -> int:
        calls.append(1)
        return len(study["medel"])

    READS.clear()
    study = load_cached(study_dir)
    folder = str(study_dir.resolve())
    assert "medel" in study and study.has("insatser", "bedomningar") and study.missing == []
    assert [e["tabell"] for e in READS.entries()] == [None]  # loaded, nothing read yet
    medel_rows(study)
    assert {e["tabell"] for e in READS.entries()} == {None, "medel"}
    READS.clear()
    medel_rows(load_cached(study_dir))  # from memory: the read is recorded again
    assert calls == [1]
    entries = [e for e in READS.entries() if e["tabell"]]
    assert entries == [{"mapp": folder, "tabell": "medel", "fil": "medel.csv", "sha256": study.sources["medel"].sha256}]
    READS.clear()
    dict(load_cached(study_dir).tables)
    assert {e["tabell"] for e in READS.entries() if e["tabell"]} == set(study.tables)


# --------------------------------------------------------------------------- pure functions of numbers
def test_memoize_values_keeps_results_by_exact_values_and_hands_out_copies(monkeypatch):
    from fractions import Fraction

    import numpy as np

    from insats.data import validated

    monkeypatch.delenv(validated.SWITCH_ENV, raising=False)
    cache.forget()
    calls = []

    @cache.memoize_values
    def shares(k, n, p0: float, *, index=None) -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"andel": k / n, "over": k / n > p0}, index=index)

    k, n = np.array([1.0, 2.0, 3.0]), np.array([4.0, 4.0, 4.0])
    codes = np.array(["01", "02", "03"])
    first = shares(k, n, 0.5, index=codes)
    again = shares(k.copy(), n.copy(), 0.5, index=codes.copy())  # equal values, other arrays
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    # a caller that changes its result changes neither the kept one nor the next caller's
    again.loc["01", "andel"] = 99.0
    first.loc["02", "andel"] = 98.0
    third = shares(k, n, 0.5, index=codes)
    assert third.loc["01", "andel"] == 0.25 and third.loc["02", "andel"] == 0.5 and len(calls) == 1

    # any changed value is another key: an element, a parameter, its type, the index, the dtype
    shares(np.array([1.0, 2.0, 3.5]), n, 0.5, index=codes)
    shares(k, n, 0.25, index=codes)
    shares(k, n, np.float32(0.5), index=codes)
    shares(k, n, 0.5, index=np.array(["01", "02", "04"]))
    shares(k.astype(np.float32), n, 0.5, index=codes)
    shares(k, n, 0.5, index=None)
    assert len(calls) == 7
    assert cache.COUNTS["minne_varden"] >= 2

    # an argument without an exact key is computed every time, and so is everything when switched off
    shares(k, n, Fraction(1, 2))
    shares(k, n, Fraction(1, 2))
    assert len(calls) == 9
    monkeypatch.setenv(validated.SWITCH_ENV, "0")
    shares(k, n, 0.5, index=codes)
    assert len(calls) == 10


def test_memoize_values_never_keeps_an_error():
    cache.forget()
    calls = []

    @cache.memoize_values
    def fails(x: float) -> float:
        calls.append(x)
        raise ValueError("nej")

    for _ in range(2):
        with pytest.raises(ValueError, match="nej"):
            fails(1.0)
    assert calls == [1.0, 1.0]
