"""What a report read and what changed since (insats.runner.inputs)."""

from __future__ import annotations

from insats.atomic import sha256_of
from insats.runner.inputs import FolderHashes, inputs_read, tables_text, what_changed


def _study(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    for name, text in {"medel.csv": "a\n1\n", "personer.csv": "b\n2\n", "studie.json": "{}\n"}.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / ".insats-kopia").mkdir()  # hidden: not a file of the study
    return folder


def test_only_changes_to_what_was_read_count(tmp_path):
    folder = _study(tmp_path)
    reads = [{"mapp": str(folder), "tabell": "medel", "fil": "medel.csv", "sha256": sha256_of(folder / "medel.csv")}]
    last = inputs_read(reads, folder, FolderHashes())
    dep = last[str(folder)]
    assert dep["tabeller"] == {"medel": "medel.csv"}
    assert set(dep["filer"]) == {"medel.csv", "studie.json"}  # the metadata counts as read
    assert dep["filnamn"] == ["medel.csv", "personer.csv", "studie.json"]
    assert tables_text(last) == "tabellerna medel"
    assert what_changed(last, FolderHashes()) == []

    (folder / "personer.csv").write_text("b\n3\n", encoding="utf-8")  # not read: no reason to rerun
    assert what_changed(last, FolderHashes()) == []
    (folder / "medel.csv").write_text("a\n9\n", encoding="utf-8")
    (folder / "studie.json").write_text('{"x": 1}\n', encoding="utf-8")
    assert what_changed(last, FolderHashes()) == ["tabellen medel har ändrats", "filen studie.json har ändrats"]
    (folder / "personer.csv").unlink()
    assert what_changed(last, FolderHashes())[0] == "filerna i studien har ändrats (borttagen fil personer.csv)"


def test_a_report_that_read_nothing_through_the_package_depends_on_every_file(tmp_path):
    folder = _study(tmp_path)
    last = inputs_read(None, folder, FolderHashes())
    assert last[str(folder)]["hela_mappen"] is True
    assert tables_text(last) == "alla filer i studien"
    (folder / "personer.csv").write_text("b\n3\n", encoding="utf-8")
    assert what_changed(last, FolderHashes()) == ["filen personer.csv har ändrats"]


def test_a_file_read_in_two_versions_never_counts_as_unchanged(tmp_path):
    folder = _study(tmp_path)
    sha = sha256_of(folder / "medel.csv")
    reads = [
        {"mapp": str(folder), "tabell": "medel", "fil": "medel.csv", "sha256": sha},
        {"mapp": str(folder), "tabell": "medel", "fil": "medel.csv", "sha256": "0" * 64},
    ]
    last = inputs_read(reads, folder, FolderHashes())
    assert what_changed(last, FolderHashes()) == ["tabellen medel har ändrats"]


def test_a_removed_folder_is_named(tmp_path):
    folder = _study(tmp_path)
    last = inputs_read(None, folder, FolderHashes())
    for p in folder.iterdir():
        if p.is_file():
            p.unlink()
    (folder / ".insats-kopia").rmdir()
    folder.rmdir()
    assert what_changed(last, FolderHashes()) == [f"mappen {folder} finns inte längre"]
