"""The validated copy of a study on disk (insats.data.validated): reused until a source changes,
never for a study with errors."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from insats.data import cache, validated
from insats.data.load import load_cached, load_study
from insats.data.study import Study
from insats.errors import StudyError


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

    monkeypatch.setattr(validated, "check_study", refuse)
    return calls


def _bump(csv: Path, old: str, new: str) -> None:
    text = csv.read_text(encoding="utf-8")
    assert old in text
    csv.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- the copy on disk
def _plant_warning(study_dir: Path) -> None:
    """More attendance hours than planned in one participation: a warning, not an error (generated studies
    validate cleanly, so the test makes one)."""
    csv = study_dir / "deltaganden.csv"
    lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    i_plan, i_att = header.index("planerade_timmar"), header.index("narvarotimmar")
    for n, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(",")
        if cells[i_plan] and cells[i_att]:
            cells[i_att] = str(float(cells[i_plan]) + 10)
            lines[n] = ",".join(cells) + "\n"
            break
    csv.write_text("".join(lines), encoding="utf-8")


def test_copy_gives_the_same_study_and_is_used_until_a_source_changes(study_dir, monkeypatch):
    _plant_warning(study_dir)
    first = load_study(study_dir)
    validated.wait_for_copies()
    copy_dir = study_dir / validated.COPY_FOLDER
    manifest = json.loads((copy_dir / validated.MANIFEST).read_text(encoding="utf-8"))
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
    validated.wait_for_copies()
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
    monkeypatch.setattr(validated, "RACY_SECONDS", 0.0)
    load_study(study_dir)
    validated.wait_for_copies()
    hashed = []
    real = validated.sha256_of
    monkeypatch.setattr(validated, "sha256_of", lambda p: hashed.append(Path(p).name) or real(p))
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
    validated.wait_for_copies()
    hashed = []
    real = validated.sha256_of
    monkeypatch.setattr(validated, "sha256_of", lambda p: hashed.append(Path(p).name) or real(p))
    cache.forget()
    load_study(study_dir)
    assert "bistand.csv" in hashed


def test_validation_errors_are_never_cached(study_dir):
    good = load_study(study_dir)
    validated.wait_for_copies()
    assert (study_dir / validated.COPY_FOLDER).is_dir()
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
    assert not (study_dir / validated.COPY_FOLDER).exists()  # the old copy went with the good source
    loose = load_study(study_dir, strict=False)
    assert any(p.severity == "fel" for p in loose.warnings)
    persons.write_text(text, encoding="utf-8")
    _same(good, load_study(study_dir))


def test_copy_location_can_be_moved_and_turned_off(study_dir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "kopior"
    monkeypatch.setenv(validated.CACHE_ENV, str(elsewhere))
    load_study(study_dir)
    validated.wait_for_copies()
    assert not (study_dir / validated.COPY_FOLDER).exists()
    (copy,) = list(elsewhere.iterdir())
    assert (copy / validated.MANIFEST).is_file()
    monkeypatch.setenv(validated.SWITCH_ENV, "0")
    shutil.rmtree(elsewhere)
    load_study(study_dir)
    validated.wait_for_copies()
    assert not elsewhere.exists()


def test_a_copy_from_another_write_is_not_mixed_in(study_dir):
    load_study(study_dir)
    validated.wait_for_copies()
    manifest_path = study_dir / validated.COPY_FOLDER / validated.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["kopia_id"] = "en-annan-skrivning"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    cache.forget()
    again = load_study(study_dir)  # the Parquet files belong to another write: validated again
    _same(_fresh(study_dir), again)
