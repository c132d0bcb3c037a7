"""Reuse within a process and the read log (insats.data.cache, insats.data.study)."""

from __future__ import annotations

import pandas as pd

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
