"""The validated copy of a study, reuse within a process, and the read log (insats.data.cache, study)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from insats.data import cache
from insats.data.load import load_cached, load_study
from insats.data.study import READS, Study
from insats.errors import StudyError
from insats.intake.synth import generate

PERSONS = 300


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A small generated Stockholm study, written once (tests copy it)."""
    return generate("stockholm", tmp_path_factory.mktemp("mall") / "studie", seed=5, persons=PERSONS)


@pytest.fixture
def study_dir(template, tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.delenv(cache.SWITCH_ENV, raising=False)
    cache.forget()
    folder = tmp_path / "studie"
    shutil.copytree(template, folder)
    yield folder
    cache.wait_for_copies()
    cache.forget()


def _fresh(path: Path) -> Study:
    return load_study(path, cache=False)


def _same(a: Study, b: Study) -> None:
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    assert a.sources == b.sources
    assert a.warnings == b.warnings
    assert a.meta == b.meta
    assert a.path == b.path


def _no_validation(monkeypatch) -> list:
    """Make check_study fail loudly and count calls: a load from the copy must not validate."""
    calls = []

    def refuse(path):
        calls.append(path)
        raise AssertionError("check_study was called")

    monkeypatch.setattr(cache, "check_study", refuse)
    return calls


def _bump(csv: Path, old: str, new: str) -> None:
    text = csv.read_text(encoding="utf-8")
    assert old in text
    csv.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- the copy on disk
def test_copy_gives_the_same_study_and_is_used_until_a_source_changes(study_dir, monkeypatch):
    first = load_study(study_dir)
    cache.wait_for_copies()
    copy_dir = study_dir / cache.COPY_FOLDER
    manifest = json.loads((copy_dir / cache.MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["filer"]) == {p.name for p in study_dir.iterdir() if p.is_file()}
    assert manifest["filer"]["medel.csv"]["sha256"] == first.sources["medel"].sha256
    assert first.warnings, "the generated study has warnings; they must survive the copy"

    calls = _no_validation(monkeypatch)
    again = load_study(study_dir)
    assert calls == []
    _same(_fresh_unpatched(study_dir), again)
    assert again.content_key == first.content_key is not None

    # a changed source file: validated again (the real check_study), new values
    monkeypatch.undo()
    medel = study_dir / "medel.csv"
    _bump(medel, ",feriejobb,", ",kurs,")
    changed = load_study(study_dir)
    assert changed.content_key != first.content_key
    _same(_fresh(study_dir), changed)
    assert (changed["medel"]["kategori"] == "kurs").sum() > (first["medel"]["kategori"] == "kurs").sum()


def _fresh_unpatched(path: Path) -> Study:
    from insats.data.validate import check_study

    study, report = check_study(path)
    assert not report.errors
    return study


@pytest.mark.parametrize("change", ["add", "remove", "same_size"])
def test_added_removed_or_rewritten_files_are_noticed(study_dir, change):
    load_study(study_dir)
    cache.wait_for_copies()
    before = load_study(study_dir)
    if change == "add":  # a new table
        shutil.copy(study_dir / "medel.csv", study_dir / "Medel kopia.txt")
        (study_dir / "anteckning.txt").write_text("x", encoding="utf-8")
    elif change == "remove":
        (study_dir / "medel.csv").unlink()
    else:  # same size, same modification time: only the content tells
        omraden = study_dir / "omraden.csv"
        st = omraden.stat()
        text = omraden.read_text(encoding="utf-8")
        digit = next(c for c in text.splitlines()[1].split(",")[-1] if c.isdigit() and c != "9")
        line = text.splitlines()[1]
        new_line = line[: line.rindex(digit)] + str(int(digit) + 1) + line[line.rindex(digit) + 1 :]
        omraden.write_text(text.replace(line, new_line, 1), encoding="utf-8")
        os.utime(omraden, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert omraden.stat().st_size == st.st_size
    after = load_study(study_dir)
    assert after.content_key != before.content_key
    _same(_fresh(study_dir), after)


def test_trusted_stat_values_skip_hashing_but_not_a_change(study_dir, monkeypatch):
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    load_study(study_dir)
    cache.wait_for_copies()
    hashed = []
    real = cache.sha256_of
    monkeypatch.setattr(cache, "sha256_of", lambda p: hashed.append(Path(p).name) or real(p))
    load_study(study_dir)  # settles the stat values in the manifest
    hashed.clear()
    cache.forget()  # a new process: only the manifest is known
    load_study(study_dir)
    assert hashed == []
    time.sleep(0.01)
    _bump(study_dir / "medel.csv", ",feriejobb,", ",kurs,")
    load_study(study_dir)
    assert "medel.csv" in hashed


def test_racy_files_are_hashed_again(study_dir, monkeypatch):
    load_study(study_dir)  # the files were written just now: racily clean
    cache.wait_for_copies()
    hashed = []
    real = cache.sha256_of
    monkeypatch.setattr(cache, "sha256_of", lambda p: hashed.append(Path(p).name) or real(p))
    cache.forget()
    load_study(study_dir)
    assert "bistand.csv" in hashed


def test_validation_errors_are_never_cached(study_dir):
    good = load_study(study_dir)
    cache.wait_for_copies()
    assert (study_dir / cache.COPY_FOLDER).is_dir()
    persons = study_dir / "personer.csv"
    text = persons.read_text(encoding="utf-8")
    header, first, rest = text.split("\n", 2)
    bad = first.split(",")
    bad[header.split(",").index("fodelsear")] = "nittonhundra"
    persons.write_text("\n".join([header, ",".join(bad), rest]), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(StudyError, match="fodelsear"):
            load_study(study_dir)
        with pytest.raises(StudyError):
            load_cached(study_dir)
    assert not (study_dir / cache.COPY_FOLDER).exists()  # the old copy went with the good source
    loose = load_study(study_dir, strict=False)
    assert any(p.severity == "fel" for p in loose.warnings)
    persons.write_text(text, encoding="utf-8")
    _same(good, load_study(study_dir))


def test_copy_location_can_be_moved_and_turned_off(study_dir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "kopior"
    monkeypatch.setenv(cache.CACHE_ENV, str(elsewhere))
    load_study(study_dir)
    cache.wait_for_copies()
    assert not (study_dir / cache.COPY_FOLDER).exists()
    (copy,) = list(elsewhere.iterdir())
    assert (copy / cache.MANIFEST).is_file()
    monkeypatch.setenv(cache.SWITCH_ENV, "0")
    shutil.rmtree(elsewhere)
    load_study(study_dir)
    cache.wait_for_copies()
    assert not elsewhere.exists()


def test_a_copy_from_another_write_is_not_mixed_in(study_dir):
    load_study(study_dir)
    cache.wait_for_copies()
    manifest_path = study_dir / cache.COPY_FOLDER / cache.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["kopia_id"] = "en-annan-skrivning"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    cache.forget()
    again = load_study(study_dir)  # the Parquet files belong to another write: validated again
    _same(_fresh(study_dir), again)


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
    assert "medel" in study and study.has("insatser") and study.missing == ["bedomningar"]
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
