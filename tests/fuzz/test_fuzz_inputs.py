"""Fuzzing the input commands (issue 14): generated mutations of every table of a small generated
study run through ``insats validate``, ``insats measures`` (to .csv and .xlsx) and
``insats pseudonymise``, in-process through ``insats.cli.main``.

Each case must end in a clear message or a correct result:

* no traceback and no internal error (exit code 4 is a failure), within ``CASE_SECONDS``;
* no personnummer in anything printed or written (the injected ones included, in every form);
* no control character printed raw (an ANSI escape from a cell is shown escaped);
* no formula in any XLSX, no CSV cell that a spreadsheet would run, no unescaped markup in HTML
  rendered from the data;
* pseudonymise either writes a copy free of personnummer or refuses and leaves nothing behind.

The cases are seeded: ``INSATS_FUZZ_SEED`` (default in ``mutations.py``) and ``INSATS_FUZZ_CASES`` choose them.
A failure prints the seed, the case number and every mutation, so it can be replayed with
``INSATS_FUZZ_SEED=<seed> pytest tests/fuzz -k 'case-<n>'``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
from pathlib import Path

import pytest

from insats.atomic import TEMP_PREFIX
from insats.cli import main
from insats.data.load import load_study
from insats.data.personnummer import has_personnummer
from insats.data.validate import personnummer_places
from insats.intake.synth import generate
from insats.reports.render import markdown_html, table_html
from tests.fuzz.mutations import SEED, Case, check_csv, check_xlsx, make_case

CASES = int(os.environ.get("INSATS_FUZZ_CASES", "40"))
CASE_SECONDS = 60
PERSONS = 30


# --------------------------------------------------------------------------- running
class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int):
    def alarm(signum, frame):
        raise Hang(f"mer än {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run_cli(case: Case, *argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    text = out.getvalue() + err.getvalue()
    where = f"{case}\ninsats {' '.join(argv[:1])} gav {code}:\n{text[-3000:]}"
    assert code != 4 and "Traceback" not in text and "Internt fel" not in text, where
    assert code in (0, 1, 2), where
    assert not has_personnummer(text), where
    assert not _RAW_CONTROL.search(text), where
    return code, text


def check_html(case: Case, study_dir: Path) -> None:
    """Markup from the data is escaped in every table the renderer makes of it."""
    study = load_study(study_dir, strict=False)
    for name, frame in study.tables.items():
        html = table_html(frame.head(40).astype(str))
        assert not re.search(r"<(script|img)\b", html, re.I), f"{case}: omaskerad markering i {name}"
    html = markdown_html(" ".join(str(p) for p in study.warnings[:40]))
    assert not re.search(r"<(script|img)\b", html, re.I), f"{case}: omaskerad markering i rapporten"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return generate("sundbyberg", tmp_path_factory.mktemp("fuzz") / "bas", seed=SEED % 1000, persons=PERSONS)


def test_the_base_study_is_valid(base, capsys):
    assert main(["validate", str(base)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("number", range(CASES), ids=lambda n: f"case-{n}")
def test_fuzz_case(base, tmp_path, number):
    case, d = make_case(base, tmp_path, number)
    print(case)  # shown by pytest when the case fails
    with time_limit(CASE_SECONDS):
        code, _ = run_cli(case, "validate", str(d))
        ext = ".xlsx" if number % 2 else ".csv"
        out = tmp_path / f"matt{ext}"
        # --min-cell 1: the internal file, without the joint disclosure control, whose secondary
        # suppression solves thousands of small LPs on a 30-person study (a minute a case); the
        # fuzz suite is about reading, formatting and writing hostile values, and the disclosure
        # control is attacked on generated studies in tests/analysis/test_publication_attacks.py
        m_code, _ = run_cli(case, "measures", str(d), "--out", str(out), "--min-cell", "1")
        assert (m_code == 0) == (code == 0), f"{case}: validate {code}, measures {m_code}"
        if m_code == 0:
            (check_xlsx if ext == ".xlsx" else check_csv)(case, out)
            check_html(case, d)
        else:
            assert not out.exists()
        ps_out = tmp_path / "pseudo"
        p_code, _ = run_cli(case, "pseudonymise", str(d), str(ps_out), "--key-file", str(tmp_path / "k.key"))
        if p_code == 0:
            assert personnummer_places(ps_out) == [], case
            for path in ps_out.iterdir():
                assert not has_personnummer(path.name), case
                if path.suffix == ".xlsx":
                    check_xlsx(case, path)
        else:
            assert not ps_out.exists(), case
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)], case
        if case.injected_pnr:
            assert code == 1, f"{case}: ett personnummer gick igenom validate"


def test_fuzz_cases_cover_every_kind_of_mutation(base, tmp_path):
    """The generator does what it says: over the cases, every mutation kind and an injected
    personnummer occur (a fuzz suite that never mutates would pass vacuously)."""
    kinds, injected = set(), 0
    for number in range(CASES):
        work = tmp_path / str(number)
        work.mkdir()
        case, _ = make_case(base, work, number)
        injected += case.injected_pnr
        for step in case.steps:
            kinds.add(
                "område"
                if step.startswith("områdeskoden")
                else "cell"
                if " = " in step
                else "kodning"
                if " som utf" in step or " som cp1252" in step
                else "avkortad"
                if "avkortad" in step
                else "mappen"
                if step.startswith("mappen")
                else "format"
                if " som " in step
                else "struktur"
            )
    assert kinds >= {"cell", "område", "kodning", "avkortad", "mappen", "format", "struktur"}, kinds
    assert injected >= 3
