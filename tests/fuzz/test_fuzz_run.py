"""Fuzzing the batch run (issue 14): mutated studies run through ``insats run``, the command line
as a user runs it (a subprocess, with a time limit), the utvärdering and one area profile each.

A Sundbyberg-style study of ``PERSONS`` persons (a smaller one makes the joint disclosure control
slow) is mutated by the generators of ``mutations.py``. A few fixed kinds of case aim at what a
run publishes — a script and an element with ``onerror`` in an insats name and an area name, text
that Markdown would turn into bold, code or a link, spreadsheet formulas in names and in an area
code that becomes part of every table, a personnummer in an area name with a zero-width space
inside its digits — and one case is drawn at random from the input cases of ``test_fuzz_inputs``
by the seed. Each must end in a clear message or a correct result:

* an exit code of the README, no traceback or internal error, within ``RUN_SECONDS``: the names
  and formulas are valid data (0, every report made), the personnummer is refused (1, every report
  failed with the validation message), the random case may end in any of 0, 1 and 2;
* in every file written under the run's folder: no personnummer (hashes aside), no formula in an
  XLSX, no live formula in a CSV, and none of the injected markup raw in an HTML page;
* the names are shown, escaped: the checks cannot pass because nothing was rendered.

``INSATS_FUZZ_SEED`` chooses the rows, the random case and the base study, like the input cases.
About a minute a case that runs its reports, three minutes in all.
"""

from __future__ import annotations

import csv
import html
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from insats.data.personnummer import find_personnummer
from insats.intake.synth import generate
from tests.fuzz.mutations import SEED, Case, _rename_area, _text_cell, check_csv, check_xlsx, make_case
from tests.support import ROOT

pytestmark = pytest.mark.slow

PERSONS = 700
RUN_SECONDS = 300
INPUT_CASES = int(os.environ.get("INSATS_FUZZ_CASES", "40"))

SCRIPT = "<script>alert('x')</script>Tvätteri"
IMG = "<img src=x onerror=alert(1)>"
MARKDOWN = "**fet** `kod` _x_ [länk](fuzz-lank.html)"
FORMULA = '=HYPERLINK("http://x","klicka")'
FORMULA_CODE = "-2+3+cmd|' /C calc'!A0"
PNR = "8503\u200b15-1238"  # a zero-width space inside the date: as a person reads it, 850315-1238
RAW_MARKUP = ["<script>alert(", "<img src=x", "<strong>fet</strong>", "<code>kod</code>", 'href="fuzz-lank.html"']
"""The injected markup as it would be if it were not escaped, outside the pages' script elements."""
BREAKOUT = "</script>Tvätteri"
"""The end of ``SCRIPT`` unescaped anywhere, a chart's data (JSON in a script element) included: it
would end that element early (JSON in HTML writes it ``<\\/script>``)."""
_SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)


# --------------------------------------------------------------------------- the study and its mutations
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return generate("sundbyberg", tmp_path_factory.mktemp("fuzzkorning") / "bas", seed=SEED % 1000, persons=PERSONS)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _target(d: Path, rng: random.Random) -> tuple[int, str, list[int]]:
    """An insats that the reports show (one of the five with most deltaganden, in an area, not a
    central one), its area, and their rows (1 = the first data row) in insatser and omraden (a row
    per year)."""
    insatser, omraden = _rows(d / "insatser.csv"), _rows(d / "omraden.csv")
    codes = [r["omrade_kod"] for r in omraden]
    uses: dict[str, int] = {}
    for r in _rows(d / "deltaganden.csv"):
        uses[r["insats_id"]] = uses.get(r["insats_id"], 0) + 1
    local = [i for i, r in enumerate(insatser, 1) if r["omrade_kod"] in codes]
    row = rng.choice(sorted(local, key=lambda i: -uses.get(insatser[i - 1]["insats_id"], 0))[:5])
    area = insatser[row - 1]["omrade_kod"]
    return row, area, [i for i, code in enumerate(codes, 1) if code == area]


Mutate = Callable[[random.Random, Case, Path], tuple[str, list[str]]]
"""Mutates the study in place; returns the area to profile and the texts that must be shown escaped."""


def _markup(rng: random.Random, case: Case, d: Path) -> tuple[str, list[str]]:
    row, area, area_rows = _target(d, rng)
    _text_cell(rng, case, d, "insatser", column=("insatser", "namn"), row=row, value=SCRIPT)
    for r in area_rows:
        _text_cell(rng, case, d, "omraden", column=("omraden", "omrade"), row=r, value=f"{IMG} {MARKDOWN}")
    return area, [SCRIPT, f"{IMG} {MARKDOWN}"]


def _formula(rng: random.Random, case: Case, d: Path) -> tuple[str, list[str]]:
    row, area, area_rows = _target(d, rng)
    _text_cell(rng, case, d, "insatser", column=("insatser", "namn"), row=row, value="=cmd|' /C calc'!A0")
    for r in area_rows:
        _text_cell(rng, case, d, "omraden", column=("omraden", "omrade"), row=r, value=FORMULA)
    _rename_area(rng, case, d, "omraden", old=area, new=FORMULA_CODE)
    return FORMULA_CODE, [FORMULA]


def _personnummer(rng: random.Random, case: Case, d: Path) -> tuple[str, list[str]]:
    _, area, area_rows = _target(d, rng)
    _text_cell(rng, case, d, "omraden", column=("omraden", "omrade"), row=area_rows[0], value=f"Område {PNR}")
    return area, []


KINDS: dict[str, Mutate] = {"markering": _markup, "formel": _formula, "personnummer": _personnummer}
EXPECTED_EXIT = {"markering": 0, "formel": 0, "personnummer": 1}


# --------------------------------------------------------------------------- running and checking
def run_insats(case: Case, project: Path, params: Path) -> tuple[int, str]:
    """``insats run`` as a subprocess in its own process group, killed whole after ``RUN_SECONDS``."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("INSATS_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "insats.cli", "run", str(params), "--workers", "2", "--quiet"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{case}: insats run hängde sig (mer än {RUN_SECONDS} s):\n{out[-3000:]}")
    return proc.returncode, out


_HASH = re.compile(r"\b[0-9a-f]{32,}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
"""SHA-256 hashes and UUIDs in the run log and notebooks: hexadecimal, not data."""


def check_outputs(case: Case, out_dir: Path, shown: list[str]) -> None:
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    assert files, f"{case}: körningen skrev ingenting i {out_dir}"
    pages = ""
    for path in files:
        if path.suffix == ".xlsx":
            check_xlsx(case, path)
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = find_personnummer(_HASH.sub("", text))
        assert not found, f"{case}: personnummer i {path.relative_to(out_dir)}"
        if path.suffix == ".csv":
            check_csv(case, path)
        if path.suffix == ".html":
            assert BREAKOUT not in text, f"{case}: omaskerat </script> i {path.name}"
            page = _SCRIPT_ELEMENT.sub("", text)
            for raw in RAW_MARKUP:
                assert raw not in page, f"{case}: omaskerad markering {raw!r} i {path.name}"
            pages += page
    for name in shown:  # the names were rendered (escaped): the checks above saw them
        assert html.escape(name, quote=True) in pages or html.escape(name, quote=False) in pages, (
            f"{case}: {name!r} visas inte i någon rapport"
        )


def write_params(project: Path, study: Path, area: str) -> Path:
    params = project / "params" / "fuzz.yaml"
    params.parent.mkdir(parents=True, exist_ok=True)
    korning = {
        "namn": "fuzz",
        "notebooks": [str(ROOT / "notebooks" / "utvardering.ipynb")],
        "profil": str(ROOT / "notebooks" / "omradesprofil.ipynb"),
        "omraden": [area],
        "timeout": RUN_SECONDS,
        "pdf": False,
        "kolada": False,
    }
    parameters = {"data_dir": str(study), "fran": "2015-01", "till": "2016-12", "reform_datum": "2016-01-01"}
    params.write_text(yaml.safe_dump({**parameters, "min_cell": 5, "korning": korning}), encoding="utf-8")
    return params


def _check_run(case: Case, project: Path, study: Path, area: str, shown: list[str], expected: set[int]) -> None:
    print(case)  # shown by pytest when the case fails
    params = write_params(project, study, area)
    code, out = run_insats(case, project, params)
    where = f"{case}\ninsats run gav {code}:\n{out[-3000:]}"
    assert "Traceback" not in out and "Internt fel" not in out, where
    assert code in expected, where
    assert not find_personnummer(out), where
    check_outputs(case, project / "reports" / "fuzz", shown)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_run_fuzz_case(base, tmp_path, kind):
    number = sorted(KINDS).index(kind)
    rng = random.Random(SEED * 1_000_003 + 10_000 + number)
    case = Case(10_000 + number, [f"insats run: {kind}"])
    study = tmp_path / "studie"
    shutil.copytree(base, study)
    area, shown = KINDS[kind](rng, case, study)
    _check_run(case, tmp_path / "projekt", study, area, shown, {EXPECTED_EXIT[kind]})


def test_run_fuzz_random_input_case(base, tmp_path):
    """One of the input commands' cases, drawn by the seed, through the batch run: any exit code of
    the README, and every output as clean as above."""
    number = random.Random(SEED).randrange(INPUT_CASES)
    case, study = make_case(base, tmp_path, number)
    try:  # profile the first area, as the mutated study names it
        area = _rows(study / "omraden.csv")[0]["omrade_kod"]
    except (OSError, IndexError, KeyError, UnicodeDecodeError, csv.Error):
        area = "hallonbergen"
    _check_run(case, tmp_path / "projekt", study, area, [], {0, 1, 2})
