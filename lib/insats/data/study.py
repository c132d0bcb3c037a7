"""A loaded study: the contract's tables as typed pandas DataFrames, with their provenance.

Reads are recorded: every time a table's data is taken from a loaded study (``study["bistand"]``,
``study.tables["medel"]``, ``study.tables.items()``), the study folder, the table and its source
file's SHA-256 go to ``READS``. The batch runner asks a report's kernel for that log after the
report, so a rerun can skip a report none of whose tables changed (``insats.runner.batch``).
Checking whether a table is present (``"medel" in study``, ``study.has``, ``study.missing``) is
not a read: the runner treats a change in which files a study holds as a change for every report.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from insats.contract import TABLES, empty_table


# --------------------------------------------------------------------------- the read log
class ReadLog:
    """Which tables of which study folders a process has read (thread-safe).

    An entry is ``(folder, table, file, sha256)``: the study folder (absolute), the table, the
    file it came from (a name in the folder) and that file's SHA-256. ``table`` is None for an
    entry that only says the study was loaded. ``capture()`` collects the entries made inside a
    block as well, so a memoised computation can replay what it read (``insats.data.cache``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: set[tuple] = set()
        self._captures: list[set[tuple]] = []

    def record(self, folder: str, table: str | None, file: str | None, sha256: str | None) -> None:
        entry = (folder, table, file, sha256)
        with self._lock:
            self._entries.add(entry)
            for capture in self._captures:
                capture.add(entry)

    def replay(self, entries: Iterable[tuple]) -> None:
        for entry in entries:
            self.record(*entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @contextlib.contextmanager
    def capture(self) -> Iterator[set[tuple]]:
        got: set[tuple] = set()
        with self._lock:
            self._captures.append(got)
        try:
            yield got
        finally:
            with self._lock:
                self._captures.remove(got)

    def entries(self) -> list[dict]:
        """The log as plain records: ``{"mapp", "tabell", "fil", "sha256"}``, sorted."""
        with self._lock:
            items = sorted(self._entries, key=lambda e: tuple("" if v is None else v for v in e))
        return [{"mapp": f, "tabell": t, "fil": n, "sha256": s} for f, t, n, s in items]


READS = ReadLog()
"""This process's read log (a report kernel clears it before each report)."""


class _Tables(dict):
    """The tables of a study: a dict that tells its study when data is taken out or put in.

    ``__iter__`` is overridden (unchanged) so that ``dict(tables)`` and ``{**tables}`` go through
    ``keys()`` and ``__getitem__`` and are recorded too.
    """

    def __init__(self, owner: Study, tables: dict[str, pd.DataFrame]):
        super().__init__(dict.items(tables) if isinstance(tables, dict) else tables)  # not a read
        self._owner = owner

    def __getitem__(self, name):
        value = super().__getitem__(name)
        self._owner._record(name)
        return value

    def get(self, name, default=None):
        if name in self:
            return self[name]  # recorded as a read
        return default

    def __iter__(self):
        return super().__iter__()

    def values(self):
        self._owner._record_all()
        return super().values()

    def items(self):
        self._owner._record_all()
        return super().items()

    def copy(self) -> dict:
        self._owner._record_all()
        return dict(super().items())

    def __reduce__(self):
        return (dict, (dict(super().items()),))

    def _changed(self) -> None:
        self._owner.content_key = None

    def __setitem__(self, name, value):
        self._changed()
        super().__setitem__(name, value)

    def __delitem__(self, name):
        self._changed()
        super().__delitem__(name)

    def pop(self, *args):
        self._changed()
        return super().pop(*args)

    def popitem(self):
        self._changed()
        return super().popitem()

    def clear(self):
        self._changed()
        super().clear()

    def update(self, *args, **kwargs):
        self._changed()
        super().update(*args, **kwargs)

    def setdefault(self, name, default=None):
        if name not in self:
            self._changed()
        return super().setdefault(name, default)


# --------------------------------------------------------------------------- the study
@dataclass(frozen=True)
class SourceFile:
    """Where a table came from: file, sheet (XLSX workbook) and the file's SHA-256."""

    table: str
    path: Path
    format: str  # csv | xlsx | parquet
    sha256: str
    sheet: str | None = None

    @property
    def display(self) -> str:
        """The name a user recognises: ``insatser.csv`` or ``studie.xlsx, blad insatser``."""
        return f"{self.path.name}, blad {self.sheet}" if self.sheet else self.path.name


@dataclass
class Study:
    """The tables of one study, typed as ``insats.contract`` says; absent tables are absent."""

    tables: dict[str, pd.DataFrame]
    path: Path | None = None
    sources: dict[str, SourceFile] = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    """Validation warnings (``insats.data.validate.Problem``) found while loading."""
    meta: dict = field(default_factory=dict)
    """Contents of the study folder's ``studie.json`` (e.g. ``{"syntetisk": true, ...}``)."""
    content_key: str | None = field(default=None, compare=False)
    """SHA-256 over the study's source files, set by the loader; None once a table is replaced.
    Results computed from the study may be reused under this key (``insats.data.cache``)."""

    def __setattr__(self, name, value) -> None:
        if name == "tables":
            value = _Tables(self, value)
            object.__setattr__(self, "content_key", None)
        object.__setattr__(self, name, value)

    def __setstate__(self, state: dict) -> None:  # pickle and copy: the tables get this study as owner
        for name, value in list(state.items()):
            setattr(self, name, value)
        object.__setattr__(self, "content_key", state.get("content_key"))

    # -- reads
    def _folder(self) -> str | None:
        if self.path is None:
            return None
        folder = self.__dict__.get("_folder_abs")
        if folder is None or folder[0] != self.path:
            folder = (self.path, str(Path(self.path).resolve()))
            object.__setattr__(self, "_folder_abs", folder)
        return folder[1]

    def _record(self, name: str) -> None:
        source = self.sources.get(name)
        folder = self._folder()
        if source is not None and folder is not None:
            READS.record(folder, name, source.path.name, source.sha256)

    def _record_all(self) -> None:
        for name in dict.keys(self.tables):
            self._record(name)

    def record_loaded(self) -> None:
        """Note in ``READS`` that this study was loaded (even if no table is read)."""
        folder = self._folder()
        if folder is not None:
            READS.record(folder, None, None, None)

    # -- access
    @property
    def synthetic(self) -> bool:
        """True for generated example data, which every report must label *syntetiska exempeldata*."""
        return bool(self.meta.get("syntetisk"))

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"studien saknar tabellen {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the study does not have it."""
        return self.tables.get(name)

    def has(self, *names: str) -> bool:
        """True when every named table is present."""
        return all(n in self.tables for n in names)

    @property
    def missing(self) -> list[str]:
        return [n for n in TABLES if n not in self.tables]

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> Study:
        """A study from DataFrames that already hold canonical values (tests, generators).

        Columns the contract knows are cast to its dtypes; optional columns that are absent are
        added empty, so code can rely on every contract column being there.
        """
        tables = {}
        for name, df in frames.items():
            spec = TABLES[name]
            out = pd.DataFrame(index=pd.RangeIndex(len(df)))
            for col in spec.columns:
                if col.name in df:
                    values = df[col.name].reset_index(drop=True)
                    if col.kind in ("date", "month"):
                        values = pd.to_datetime(values, format="ISO8601").astype("datetime64[ns]")
                        if col.kind == "month":
                            values = values.dt.to_period("M").dt.to_timestamp()
                    out[col.name] = values.astype(col.dtype)
                else:
                    out[col.name] = empty_table(name)[col.name].reindex(out.index)
            tables[name] = out
        return cls(tables=tables)
