"""Problems found in a study and the report that collects them, in Swedish.

Every problem names the file, the spreadsheet row (header = row 1), the column, the value as the
user wrote it and what was expected. A value that looks like a personnummer is never repeated:
``Problem`` redacts any that slips into a value or a message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from insats.data.personnummer import redact

FEL, VARNING = "fel", "varning"
SHOW_LIMIT = 20
"""Problems of one rule in one column shown by ``format`` before '… och N rader till'."""
STORE_LIMIT = 1000
"""Problems of one rule in one column kept as objects; the rest are only counted."""


# --------------------------------------------------------------------------- problems and report
@dataclass(frozen=True)
class Problem:
    """One finding: ``fel`` (the study cannot be used) or ``varning`` (check it)."""

    severity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    rule: str = ""

    def __post_init__(self) -> None:
        if self.severity not in (FEL, VARNING):
            raise ValueError(f"severity must be 'fel' or 'varning', not {self.severity!r}")
        if self.value is not None:
            object.__setattr__(self, "value", redact(str(self.value)))
        object.__setattr__(self, "message", redact(self.message))

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" rad {self.row}"
        if self.column:
            where += f"{',' if self.row is not None else ''} kolumn {self.column}"
        return f"{'FEL' if self.severity == FEL else 'VARNING'}  {where}: {self.message}"


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass
class ValidationReport:
    """All problems of a study, plus notes (missing tables, ignored files)."""

    path: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    more: Counter = field(default_factory=Counter)
    """(file, rule, column, severity) -> problems counted but not kept (beyond STORE_LIMIT)."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == FEL]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == VARNING]

    @property
    def n_errors(self) -> int:
        return len(self.errors) + sum(n for k, n in self.more.items() if k[3] == FEL)

    @property
    def n_warnings(self) -> int:
        return len(self.warnings) + sum(n for k, n in self.more.items() if k[3] == VARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def add_rows(
        self,
        severity: str,
        file: str,
        rule: str,
        column: str | None,
        rows,
        one: Callable[[int], tuple[str | None, str]],
    ) -> None:
        """Problems for many rows of one rule; ``one(row)`` gives (value, message).

        The first ``STORE_LIMIT`` become ``Problem`` objects, the rest are only counted.
        """
        for row in rows[:STORE_LIMIT]:
            value, message = one(row)
            self.problems.append(Problem(severity, file, int(row), column, value, message, rule))
        self.count_more(severity, file, rule, column, len(rows) - STORE_LIMIT)

    def count_more(self, severity: str, file: str, rule: str, column: str | None, n: int) -> None:
        if n > 0:
            self.more[(file, rule, column, severity)] += n

    def summary(self) -> str:
        files = _n(len(self.files), "fil", "filer")
        warn = _n(self.n_warnings, "varning", "varningar")
        if self.n_errors:
            return (
                f"{self.n_errors} fel och {warn} i {files}." if self.n_warnings else f"{self.n_errors} fel i {files}."
            )
        if self.n_warnings:
            return f"Inga fel. {warn[0].upper()}{warn[1:]} i {files}."
        return f"Inga fel eller varningar i {files}."

    def format(self) -> str:
        """The report for people: notes, problems grouped by file (floods capped), a summary."""
        lines: list[str] = []
        if self.path is not None:
            lines.append(f"Kontroll av {self.path}")
        lines += [f"Info: {note}" for note in self.info]
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        for file, problems in by_file.items():
            lines += ["", f"{file}:"]
            shown: Counter = Counter()
            hidden: dict[tuple, int] = {}
            order: list[tuple] = []
            for p in problems:
                key = (p.rule, p.column, p.severity)
                if key not in shown and key not in hidden:
                    order.append(key)
                if shown[key] < SHOW_LIMIT or p.row is None:
                    shown[key] += 1
                    lines.append(f"  {p}")
                else:
                    hidden[key] = hidden.get(key, 0) + 1
            for (f, rule, column, sev), n in self.more.items():
                if f == file:
                    hidden[(rule, column, sev)] = hidden.get((rule, column, sev), 0) + n
            for key in order:
                if hidden.get(key):
                    what = "fel" if key[2] == FEL else "varning"
                    col = f" i kolumn {key[1]}" if key[1] else ""
                    lines.append(f"  … och {hidden[key]} rader till med samma {what}{col}.")
        lines += ["", self.summary()]
        return redact("\n".join(lines))

    def __str__(self) -> str:
        return self.format()
