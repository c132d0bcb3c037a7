"""``insats new-study NAME --data DIR``: start a study by copying the closest example params file.

The new ``params/NAME.yaml`` is the text of ``params/stockholm_2013.yaml`` (a kartläggning) or
``params/sundbyberg_2016.yaml`` (an utvärdering: when its ``studie.json`` names a ``reform_datum``;
assessments, ``bedomningar``, no longer decide it, since the kartläggning shows *en väg in* too), with its
comments, and four values replaced: ``data_dir`` (the folder, relative to the repository root when
it lies inside it), ``fran`` and ``till`` (the study's whole period, ``default_period``: the first
and last month of ``bistand``), ``korning.namn`` (NAME); for an utvärdering also ``reform_datum``
when ``studie.json`` has one. The file is checked with ``load_params`` before it appears, and an
existing file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from insats.analysis.measures import default_period
from insats.atomic import atomic_path
from insats.data.load import load_study
from insats.data.validate import FEL
from insats.errors import UsageError
from insats.runner.config import find_root, load_params

EXAMPLES = {
    "kartlaggning": "stockholm_2013.yaml",
    "utvardering": "sundbyberg_2016.yaml",
}
"""Example params file per kind of study (in ``params/``)."""

KIND_LABELS = {"kartlaggning": "kartläggning som Stockholm 2013", "utvardering": "utvärdering som Sundbyberg 2016"}

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""A study name: a file name on every system (no dots, slashes or spaces), and a valid ``korning.namn``."""
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
"""Names Windows will not give a file."""


@dataclass
class NewStudy:
    """What ``new_study`` wrote."""

    path: Path
    example: Path
    kind: str
    """``"kartläggning som Stockholm 2013"`` or ``"utvärdering som Sundbyberg 2016"``."""
    data_dir: Path
    start: str
    end: str
    run_name: str
    notes: list[str] = field(default_factory=list)


def check_name(name: str) -> str:
    """``name`` if it is a safe study name, else a ``UsageError`` saying what is allowed."""
    if not NAME_RE.match(name or ""):
        raise UsageError(
            f"{name!r} duger inte som studiens namn (det blir ett filnamn): börja med en bokstav eller siffra och "
            "använd bara a–z, 0–9, _ och -, högst 64 tecken, t.ex. solna_2024."
        )
    if name.lower() in RESERVED_NAMES:
        raise UsageError(f"{name!r} är ett reserverat filnamn i Windows; välj ett annat namn, t.ex. {name}_studie.")
    return name


def _yaml_string(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are YAML): paths with ``:``, ``#`` or quotes stay text."""
    return json.dumps(value, ensure_ascii=False)


def _replace(text: str, key: str, value: str, *, indent: str = "") -> str:
    """Replace the first ``key: …`` line (at ``indent``) by ``key: value``; the key must exist."""
    pattern = re.compile(rf"^{indent}{re.escape(key)}:.*$", re.MULTILINE)
    if not pattern.search(text):
        raise UsageError(f"exemplet saknar nyckeln {key}; kan inte kopiera det.")  # pragma: no cover - our own files
    return pattern.sub(lambda _m: f"{indent}{key}: {value}", text, count=1)


def new_study(name: str, data_dir: Path | str, *, params_dir: Path | str | None = None) -> NewStudy:
    """Write ``<params_dir>/<name>.yaml`` for the study in ``data_dir`` (see the module docstring).

    ``params_dir``: default ``params/`` of the repository (found from the current folder); the
    examples are read from the repository's ``params/``. Raises ``UsageError`` for a bad name, a
    missing folder or an existing file; a study with validation errors still gets its file (the
    next step, ``insats validate``, lists them) with a note.
    """
    check_name(name)
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise UsageError(f"studiemappen {folder} finns inte; ange mappen med studiens tabeller (--data MAPP).")
    root = find_root()
    if root is None or not (root / "params" / EXAMPLES["kartlaggning"]).is_file():
        raise UsageError(
            "hittar inte projektets params/ med exemplen (stockholm_2013.yaml, sundbyberg_2016.yaml); "
            "kör kommandot i projektmappen."
        )
    target_dir = Path(params_dir) if params_dir is not None else root / "params"
    target = (target_dir / f"{name}.yaml").resolve()
    if target.exists():
        raise UsageError(f"{target} finns redan och skrivs inte över; välj ett annat namn eller ta bort filen först.")

    study = load_study(folder, strict=False)
    notes = []
    errors = [p for p in study.warnings if p.severity == FEL]
    if errors:
        notes.append(
            f"studien har {len(errors)} fel i data; kör insats validate {folder} och rätta dem före insats run."
        )
    start, end = default_period(study)
    kind = "utvardering" if study.meta.get("reform_datum") else "kartlaggning"
    example = root / "params" / EXAMPLES[kind]

    folder_abs = Path(os.path.abspath(folder))  # not resolve(): a symlinked data folder keeps its project path
    try:
        shown = folder_abs.relative_to(root).as_posix()
    except ValueError:
        shown = folder_abs.as_posix()
    text = example.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header = list(itertools.takewhile(lambda line: line.startswith("#"), lines))  # replaced by our own below
    body = "".join(lines[len(header) :])
    body = _replace(body, "data_dir", _yaml_string(shown))
    body = _replace(body, "fran", _yaml_string(start.strftime("%Y-%m")))
    body = _replace(body, "till", _yaml_string(end.strftime("%Y-%m")))
    body = _replace(body, "namn", _yaml_string(name), indent="  ")
    if kind == "utvardering":
        reform = study.meta.get("reform_datum")
        if reform and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(reform)):
            body = _replace(body, "reform_datum", _yaml_string(str(reform)))
        else:
            notes.append("reform_datum är kopierat från exemplet (2016-01-01); ändra det till er reforms datum.")
    today = dt.date.today().isoformat()
    text = (
        f"# Studien {name}: skapad med insats new-study {today} som kopia av params/{example.name}\n"
        f"# ({KIND_LABELS[kind]}). Perioden är hela studiens period i data; ändra fran/till vid behov.\n"
        "# Formatet: params/README.md.\n" + body
    )
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        load_params(tmp, root=root)  # the file is a valid params file before it appears
    return NewStudy(
        path=target,
        example=example,
        kind=KIND_LABELS[kind],
        data_dir=folder_abs,
        start=start.strftime("%Y-%m"),
        end=end.strftime("%Y-%m"),
        run_name=name,
        notes=notes,
    )
