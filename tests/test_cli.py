"""The command line: one place that prints, Swedish messages, documented exit codes, no tracebacks."""

from __future__ import annotations

import pytest

from insats import errors
from insats.cli import main, month
from tests.support import ROOT

STUDY = ROOT / "data" / "exempel" / "sundbyberg"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exit (usage errors, --help)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_are_documented():
    assert (errors.EXIT_OK, errors.EXIT_DATA, errors.EXIT_USAGE, errors.EXIT_ENVIRONMENT) == (0, 1, 2, 3)
    assert errors.ConfigError("x").exit_code == 2 and errors.StudyError.exit_code == 1
    assert errors.KoladaError("x").exit_code == 3
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.InsatsError)


@pytest.mark.parametrize("text", ["2015-13", "abc", "2015-00", "15-01", "3000-01"])
def test_a_bad_month_is_a_swedish_usage_error(capsys, text):
    code, _, err = run(capsys, "measures", str(STUDY), "--out", "x.csv", "--from", text)
    assert code == 2
    assert "Fel: argumentet --from" in err and "ÅÅÅÅ-MM" in err and "Traceback" not in err


def test_month_normalises():
    assert month(" 2015-1 ") == "2015-01"


@pytest.mark.parametrize("value", ["0", "-3", "fem"])
def test_min_cell_below_one_is_refused(capsys, value):
    code, _, err = run(capsys, "measures", str(STUDY), "--out", "x.csv", "--min-cell", value)
    assert code == 2 and "--min-cell" in err and "Traceback" not in err


def test_period_backwards_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(
        capsys, "measures", str(STUDY), "--out", str(tmp_path / "m.csv"), "--from", "2016-05", "--to", "2015-01"
    )
    assert code == 2 and "före sin början" in err and not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize("name", ["x.txt", "x"])
def test_unknown_output_format(capsys, tmp_path, name):
    code, _, err = run(capsys, "measures", str(STUDY), "--out", str(tmp_path / name))
    assert code == 2 and "okänt filformat" in err and ".xlsx" in err


def test_output_that_is_a_folder(capsys, tmp_path):
    folder = tmp_path / "ut.csv"
    folder.mkdir()
    code, _, err = run(capsys, "measures", str(STUDY), "--out", str(folder))
    assert code == 2 and "är en mapp" in err


def test_missing_study_folder_is_a_data_error(capsys, tmp_path):
    code, _, err = run(capsys, "measures", str(tmp_path / "finns_inte"), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and "finns inte" in err and "Traceback" not in err


def test_argparse_speaks_swedish(capsys):
    code, _, err = run(capsys, "measures")
    assert code == 2 and "användning:" in err and "följande argument saknas" in err
    code, _, err = run(capsys, "nonsense")
    assert code == 2 and "ogiltigt val" in err
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "flaggor" in out and "Slutkoder" in out


def test_an_internal_error_is_reported_as_a_bug_without_traceback(capsys, monkeypatch):
    import insats.cli as cli

    def boom(args):
        raise RuntimeError("oväntat")

    monkeypatch.delenv("INSATS_DEBUG", raising=False)
    code = cli.run(boom, None)  # type: ignore[arg-type]  # the handler fails before it reads its arguments
    err = capsys.readouterr().err
    assert code == errors.EXIT_INTERNAL and "Internt fel i insats" in err and "Traceback" not in err
