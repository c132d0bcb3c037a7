"""The optional column personer.arbetsmarknadsavstand: codes, labels and other spellings load; a bad code is a
Swedish problem naming the row, the value and the codes allowed."""

from __future__ import annotations

from insats import contract
from insats.data.load import load_study
from insats.data.validate import validate_study

OMRADEN = "omrade_kod,omrade,kommun_kod,ar,folkmangd\nA,Alfa,0180,2016,1000\n"
HEADER = "person_id,omrade_kod,fodelsear,kon,forsorjningshinder,Avstånd till arbetsmarknaden\n"


def _write(tmp_path, rows: str):
    (tmp_path / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    (tmp_path / "personer.csv").write_text(HEADER + rows, encoding="utf-8")
    return tmp_path


def test_contract_has_the_optional_column_and_code_list():
    col = contract.TABLES["personer"]["arbetsmarknadsavstand"]
    assert (col.kind, col.required, col.code_list) == ("code", False, "arbetsmarknadsavstand")
    assert contract.codes("arbetsmarknadsavstand") == ["nara", "mellan", "langt"]
    assert contract.label("arbetsmarknadsavstand", "langt") == "Långt från arbetsmarknaden"


def test_codes_labels_and_aliases_load(tmp_path):
    rows = (
        "P1,A,1980,K,ovrigt,nara\n"
        "P2,A,1980,K,ovrigt,Långt från arbetsmarknaden\n"
        "P3,A,1980,K,ovrigt,MELLAN\n"
        "P4,A,1980,K,ovrigt,Kort avstånd\n"
        "P5,A,1980,K,ovrigt,mellanlångt\n"
        "P6,A,1980,K,ovrigt,långt från\n"
        "P7,A,1980,K,ovrigt,\n"
    )
    folder = _write(tmp_path, rows)
    report = validate_study(folder)
    assert not report.problems, report.format()
    got = load_study(folder)["personer"]["arbetsmarknadsavstand"].astype(object).tolist()
    assert got[:6] == ["nara", "langt", "mellan", "nara", "mellan", "langt"]
    assert got[6] is None or got[6] != got[6]  # empty cell: missing


def test_bad_code_is_a_swedish_problem(tmp_path):
    folder = _write(tmp_path, "P1,A,1980,K,ovrigt,nara\nP2,A,1980,K,ovrigt,ganska nära\n")
    problems = validate_study(folder).problems
    assert len(problems) == 1
    p = problems[0]
    assert (p.severity, p.file, p.row, p.column, p.rule) == (
        "fel",
        "personer.csv",
        3,
        "arbetsmarknadsavstand",
        "okand_kod",
    )
    assert '"ganska nära"' in p.message and "nara (Nära arbetsmarknaden)" in p.message


def test_study_without_the_column_loads_it_empty(tmp_path):
    (tmp_path / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    (tmp_path / "personer.csv").write_text(
        "person_id,omrade_kod,fodelsear,kon,forsorjningshinder\nP1,A,1980,K,ovrigt\n", encoding="utf-8"
    )
    assert not validate_study(tmp_path).problems
    assert load_study(tmp_path)["personer"]["arbetsmarknadsavstand"].isna().all()
