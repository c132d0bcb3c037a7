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
    out = str(tmp_path / "m.csv")
    code, _, err = run(
        capsys, "measures", str(STUDY), "--out", out, "--from", "2016-05", "--to", "2015-01", "--min-cell", "1"
    )
    assert code == 2 and "före sin början" in err and not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize(("start", "end"), [("2015-01", "2016-11"), ("2016-12", "2016-12"), ("2015-03", "2015-12")])
def test_an_ad_hoc_period_is_refused(capsys, tmp_path, start, end):
    """Only publication periods: two overlapping periods would give a hidden month by subtraction."""
    code, _, err = run(capsys, "measures", str(STUDY), "--out", str(tmp_path / "m.csv"), "--from", start, "--to", end)
    assert code == 2 and "ingen publiceringsperiod" in err and "--min-cell 1" in err
    assert not (tmp_path / "m.csv").exists()


def test_a_year_is_published_and_min_cell_one_is_internal(capsys, tmp_path):
    code, _, _ = run(
        capsys, "measures", str(STUDY), "--out", str(tmp_path / "y.csv"), "--from", "2016-01", "--to", "2016-12"
    )
    assert code == 0 and (tmp_path / "y.csv").exists()
    code, _, err = run(
        capsys,
        "measures",
        str(STUDY),
        "--out",
        str(tmp_path / "i.csv"),
        "--from",
        "2016-12",
        "--to",
        "2016-12",
        "--min-cell",
        "1",
    )
    assert code == 0 and "intern" in err


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


def test_audit_passes_a_publication_and_fails_a_weakened_one(capsys, tmp_path):
    import json
    import warnings

    from insats.data.load import load_study
    from insats.reports.publication import MANIFEST_NAME, study_publication, write_manifest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pub = study_publication(load_study(STUDY))
    path = write_manifest(pub, tmp_path / "run")
    text = path.read_text(encoding="utf-8")
    hidden = [c for c in json.loads(text)["celler"] if c["varde"] is None and c["publicerad"]]
    assert hidden  # the example hides something, and the record never holds a hidden value
    code, out, _ = run(capsys, "audit", str(tmp_path / "run"))
    assert code == 0 and "ingen dold uppgift kan räknas fram" in out
    # show one hidden count the model chose to protect a small one: the audit must object
    record = json.loads(text)
    d = pub.disclosure
    i = next(i for i, r in d.reasons.items() if r.startswith("sekundär") and d.cells[i].published)
    record["celler"][i]["varde"] = d.cells[i].value
    (tmp_path / "run" / MANIFEST_NAME).write_text(json.dumps(record), encoding="utf-8")
    code, out, _err = run(capsys, "audit", str(tmp_path / "run"))
    assert code == 1 and "tabell" in out and "rad" in out and "kolumn" in out and "kan räknas ut" in out


def test_audit_of_a_damaged_or_contradictory_record_is_a_swedish_data_error(capsys, tmp_path):
    """A record whose shown values contradict its own relations (edited by hand, say), or that is
    not a record at all, gets a Swedish message naming the file and what to do, never an internal
    error."""
    import json

    from insats.errors import EXIT_DATA

    cell = {"rakning": "n", "grupp": [], "period": "2013-01:2013-12", "publicerad": True}
    parts = [{**cell, "grupp": [["omrade", a]], "varde": v} for a, v in (("01", None), ("02", 4.0))]
    record = {
        "format": 1,
        "min_cell": 5,
        "skyddsniva": 5,
        "celler": [{**cell, "varde": 3.0}, *parts],  # 3 = ? + 4 cannot hold with counts ≥ 0
        "relationer": [{"termer": [[0, 1], [1, -1], [2, -1]], "lika": True, "beskrivning": "summa"}],
    }
    for name, text in (("motsagd", json.dumps(record)), ("fel_form", json.dumps({"celler": 3}))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "publicering.json").write_text(text, encoding="utf-8")
        code, _, err = run(capsys, "audit", str(tmp_path / name))
        assert code == EXIT_DATA, err
        assert "publiceringsposten går inte ihop" in err and "kör om körningen" in err
        assert "Internt fel" not in err and "Traceback" not in err


def test_audit_of_a_folder_without_a_record(capsys, tmp_path):
    code, _, err = run(capsys, "audit", str(tmp_path))
    assert code == 1 and "publicering.json" in err


def test_an_internal_error_never_prints_a_personnummer_or_a_control_character(capsys, monkeypatch):
    import insats.cli as cli

    def boom(args):
        raise ValueError("invalid literal for int(): '850315-1238\x1b[2J'")

    monkeypatch.delenv("INSATS_DEBUG", raising=False)
    code = cli.run(boom, None)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert code == errors.EXIT_INTERNAL and "1238" not in err and "[personnummer]" in err
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_error_messages_are_printable(capsys):
    import insats.cli as cli

    def fail(args):
        raise errors.DataError("filen ond\x1b]0;titel\x07.csv\nkunde inte läsas")

    code = cli.run(fail, None)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert code == 1 and "\x1b" not in err and "\x07" not in err and "ond\\x1b]0;titel\\x07.csv\nkunde" in err


def test_a_personnummer_given_on_the_command_line_is_never_printed_back(capsys, tmp_path):
    # a bad argument value (argparse's message quotes it)
    code, out, err = run(capsys, "measures", str(tmp_path), "--from", "850315-1238")
    assert code == 2 and "1238" not in err + out and "[personnummer]" in err
    # an error of insats that quotes what was asked for
    import insats.cli as cli

    def fail(args):
        raise errors.UsageError("850315-1238 finns inte i körningen")

    code = cli.run(fail, None)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert code == errors.EXIT_USAGE and "1238" not in err and "[personnummer] finns inte" in err

    def os_fail(args):
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "brev_850315-1238.txt"))

    code = cli.run(os_fail, None)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert code == errors.EXIT_USAGE and "1238" not in err and "brev_[personnummer].txt" in err


@pytest.mark.parametrize("value", ["3", "0", "fem"])
def test_skyddsniva_below_min_cell_is_refused(capsys, tmp_path, value):
    """The protection level is at least min_cell (antaganden R6); nothing is written."""
    code, _, err = run(capsys, "measures", str(STUDY), "--out", str(tmp_path / "m.csv"), "--skyddsniva", value)
    assert code == 2 and "--skyddsniva" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["publicering.json", "x.publicering.json"])
def test_measures_file_named_as_a_record_is_refused(capsys, tmp_path, name):
    code, _, err = run(capsys, "measures", str(STUDY), "--out", str(tmp_path / name))
    assert code == 2 and "publiceringspost" in err and not list(tmp_path.iterdir())


def test_study_publication_refuses_a_protection_below_min_cell():
    from insats.data.study import Study
    from insats.reports.publication import study_publication

    with pytest.raises(errors.UsageError, match=r"skyddsniva.*min_cell"):
        study_publication(Study({}), min_cell=5, protection=4)


def test_measures_writes_a_record_that_audit_checks(capsys, tmp_path, monkeypatch):
    """insats measures writes its publication record beside the file (``<stem>.publicering.json``,
    never a hidden value); insats audit passes it, and fails it once a hidden count is shown."""
    import json
    import warnings

    import insats.data.load as load
    from insats.reports.publication import study_publication

    study = load.load_study(STUDY)
    monkeypatch.setattr(load, "load_study", lambda *_a, **_k: study)  # the same study: the publication is cached
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pub = study_publication(study)
    out = tmp_path / "ut" / "matt.csv"
    out.parent.mkdir()
    code, printed, _ = run(capsys, "measures", str(STUDY), "--out", str(out))
    record_path = out.parent / "matt.publicering.json"
    assert code == 0 and record_path.is_file() and "insats audit" in printed
    record = json.loads(record_path.read_text(encoding="utf-8"))
    d = pub.disclosure
    assert d.suppressed is not None
    hidden = [i for i, c in enumerate(d.cells) if c.published and d.suppressed[i]]
    assert hidden and all(record["celler"][i]["varde"] is None for i in hidden)
    code, printed, _ = run(capsys, "audit", str(out.parent))
    assert code == 0 and "Granskat 1 publiceringspost" in printed
    # show one primarily hidden count (its true value) in the record: the audit must object
    i = next(i for i in hidden if d.reasons.get(i, "").startswith("primär"))
    record["celler"][i]["varde"] = d.cells[i].value
    record_path.write_text(json.dumps(record), encoding="utf-8")
    code, printed, _ = run(capsys, "audit", str(out.parent))
    assert code == 1 and "matt.publicering.json" in printed and "visas och är mindre än 5" in printed


def test_the_program_ends_with_mains_exit_code_after_freezing_what_is_left(monkeypatch):
    import gc

    import insats.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or errors.EXIT_DATA)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exc:
        cli.program()
    assert exc.value.code == errors.EXIT_DATA
    assert calls == ["main", "freeze"]


def test_the_program_as_a_process_keeps_exit_codes_and_messages(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "insats.cli", "measures", str(tmp_path / "saknas"), "--out", str(tmp_path / "m.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == errors.EXIT_DATA
    assert "finns inte" in done.stderr and "Traceback" not in done.stderr


def test_the_command_loads_light_before_it_knows_the_command():
    """``insats run`` starts its first kernel right after the parser and the params file: nothing
    heavy may load before (pandas, or the dashboard server's urllib and psutil)."""
    import subprocess
    import sys

    code = (
        "import sys, insats.cli\n"
        "heavy = [m for m in ('pandas', 'psutil', 'urllib.request', 'insats.dashboards.serve') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == ""


def test_serve_help_shows_the_servers_own_defaults(capsys):
    from insats.dashboards import serve

    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert f"standard {serve.DEFAULT_MAX_VIEWERS}" in flat and f"standard {serve.DEFAULT_IDLE_MINUTES}" in flat
