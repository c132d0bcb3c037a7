"""What a report read, and whether any of it changed since: the basis of rerunning only what changed.

After a report, its kernel gives the read log (``insats.data.study.READS``): per study folder the
tables read and the SHA-256 of the file each came from. ``inputs_read`` turns that into what
``korning.json`` keeps per report (``lasta``): the tables, the files they came from (as read),
the study's ``studie.json`` (its metadata, read by every report that read the study) and the
folder's file names then. A report that did not read its ``data_dir`` through the package counts
as having read every file of it. ``what_changed`` compares that with the folders now and says,
in Swedish, what changed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from insats.data.files import META_FILE
from insats.data.validated import current_hashes

__all__ = ["FolderHashes", "hash_folder", "inputs_read", "tables_text", "what_changed"]


def hash_folder(folder: Path | str) -> dict[str, str]:
    """SHA-256 of every file of a study (hidden and ``~$`` files left out), reading only files
    whose size or times changed since they were last hashed (``insats.data.validated.current_hashes``)."""
    return current_hashes(folder) if Path(folder).exists() else {}


def _meta_files(names) -> list[str]:
    return [n for n in names if n.lower() == META_FILE]


class FolderHashes:
    """Current file hashes per folder, computed once per run (on demand for folders outside it)."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def of(self, folder: str | Path) -> dict[str, str]:
        key = str(folder)
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            value = hash_folder(key)
        except OSError:
            value = {}
        with self._lock:
            self._known[key] = value
        return value


def inputs_read(reads: list[dict] | None, data_dir: Path | None, hashes: FolderHashes) -> dict[str, dict[str, Any]]:
    """Per study folder a report read: the tables (``tabell -> fil``), the files it depends on
    (``fil -> SHA-256`` as read; ``studie.json`` included) and the folder's file names then."""
    out: dict[str, dict[str, Any]] = {}
    for entry in reads or []:
        folder = entry.get("mapp")
        if not folder:
            continue
        dep = out.setdefault(folder, {"tabeller": {}, "filer": {}, "hela_mappen": False})
        table, file, sha = entry.get("tabell"), entry.get("fil"), entry.get("sha256")
        if table and file:
            dep["tabeller"][table] = file
            if dep["filer"].get(file, sha) != sha:
                sha = ""  # read in two versions during the report: never counts as unchanged
            dep["filer"][file] = sha
    if data_dir is not None and str(data_dir) not in out:
        # nothing known about how the report read its data: every file counts
        now = hashes.of(data_dir)
        out[str(data_dir)] = {"tabeller": {}, "filer": dict(now), "hela_mappen": True}
    for folder, dep in out.items():
        now = hashes.of(folder)
        dep["filnamn"] = sorted(now)
        for name in _meta_files(now):
            dep["filer"].setdefault(name, now[name])
    return out


def what_changed(last: dict[str, dict[str, Any]], hashes: FolderHashes) -> list[str]:
    """Why the inputs a report read are not what they were (Swedish), or [] when unchanged."""
    reasons: list[str] = []
    for folder, dep in last.items():
        now = hashes.of(folder)
        if not now and not Path(folder).exists():
            reasons.append(f"mappen {folder} finns inte längre")
            continue
        if sorted(now) != dep.get("filnamn"):
            added = sorted(set(now) - set(dep.get("filnamn") or []))
            removed = sorted(set(dep.get("filnamn") or []) - set(now))
            what = ", ".join([f"ny fil {n}" for n in added] + [f"borttagen fil {n}" for n in removed])
            reasons.append(f"filerna i studien har ändrats ({what})")
        by_file: dict[str, list[str]] = {}
        for table, file in (dep.get("tabeller") or {}).items():
            by_file.setdefault(file, []).append(table)
        for file, sha in (dep.get("filer") or {}).items():
            if now.get(file) != sha:
                tables = by_file.get(file)
                if tables:
                    word = "tabellen" if len(tables) == 1 else "tabellerna"
                    reasons.append(f"{word} {', '.join(sorted(tables))} har ändrats")
                else:
                    reasons.append(f"filen {file} har ändrats")
    return list(dict.fromkeys(reasons))


def tables_text(last: dict[str, dict[str, Any]]) -> str:
    tables = sorted({t for dep in last.values() for t in (dep.get("tabeller") or {})})
    if any(dep.get("hela_mappen") for dep in last.values()):
        return "alla filer i studien"
    return ("tabellerna " + ", ".join(tables)) if tables else "inga tabeller"
