"""Each validation rule: a bad file, and the problem it gives (severity, file, row, column, text)."""

from insats.cli import main
from insats.data.problems import SHOW_LIMIT, Problem
from insats.data.validate import validate_study

OMRADEN = "omrade_kod,omrade,kommun_kod,ar,folkmangd\nA,Alfa,0180,2013,1000\n"
PERSONER = "person_id,omrade_kod,fodelsear,kon,forsorjningshinder\nP1,A,1980,K,ovrigt\nP2,A,1985,M,ovrigt\n"
INSATSER = (
    "insats_id,omrade_kod,namn,kategori,regi,platser,narvarokrav,raknas_som_insats\n"
    "I1,A,Träning,arbetstraning,lov,10,Ja,Ja\nI2,CENTRAL,Kurs,kurs,egen_central,5,Nej,Ja\n"
)
DELTAGANDEN = "deltagande_id,person_id,insats_id,start_datum,slut_datum,planerade_timmar,narvarotimmar\n"


def _study(tmp_path, **tables):
    tmp_path = tmp_path / f"s{len(list(tmp_path.iterdir()))}"
    tmp_path.mkdir()
    base = {"omraden": OMRADEN, "personer": PERSONER, "insatser": INSATSER}
    base.update(tables)
    for name, text in base.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return validate_study(tmp_path)


def _only(report, rule=None):
    problems = [p for p in report.problems if rule is None or p.rule == rule]
    assert len(problems) == 1, report.format()
    return problems[0]


def test_good_study_has_no_problems(tmp_path, capsys):
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P1,I1,2013-02-01,2013-03-01,40,30\n")
    assert not report.problems, report.format()
    assert "Inga fel" in report.format()
    assert main(["validate", str(report.path)]) == 0
    assert "Inga fel" in capsys.readouterr().out


def test_missing_required_column(tmp_path):
    report = _study(tmp_path, omraden="omrade_kod,omrade,ar,folkmangd\nA,Alfa,2013,1000\n")
    p = _only(report, "kolumn_saknas")
    assert (p.severity, p.file, p.row, p.column) == ("fel", "omraden.csv", None, "kommun_kod")
    assert "omrade_kod, omrade, ar, folkmangd" in p.message


def test_wrong_type(tmp_path):
    report = _study(tmp_path, omraden=OMRADEN + "B,Beta,0180,2013,12,5\n".replace("12,5", '"12,5"'))
    p = _only(report)
    assert (p.severity, p.file, p.row, p.column, p.value) == ("fel", "omraden.csv", 3, "folkmangd", "12,5")
    assert '"12,5"' in p.message and "heltal" in p.message
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P1,I1,1 feb 2013,,,\n")
    p = _only(report)
    assert (p.row, p.column, p.value) == (2, "start_datum", "1 feb 2013") and "ÅÅÅÅ-MM-DD" in p.message


def test_unknown_code_lists_allowed(tmp_path):
    report = _study(tmp_path, insatser=INSATSER + "I3,A,X,Snickeri,lov,1,Ja,Ja\n")
    p = _only(report)
    assert (p.severity, p.file, p.row, p.column, p.rule) == ("fel", "insatser.csv", 4, "kategori", "okand_kod")
    assert '"Snickeri"' in p.message and "arbetstraning (Arbetsträning)" in p.message
    report = _study(
        tmp_path,
        insatser=INSATSER.replace("platser,", "platser,malgrupp,")
        .replace("10,Ja", "10,unga_18_24;pensionärer,Ja")
        .replace("5,Nej", "5,,Nej"),
    )
    p = _only(report)
    assert (p.row, p.column) == (2, "malgrupp") and '"pensionärer"' in p.message


def test_required_value_missing(tmp_path):
    report = _study(tmp_path, personer=PERSONER + "P3,A,,K,ovrigt\n")
    p = _only(report)
    assert (p.severity, p.row, p.column, p.rule) == ("fel", 4, "fodelsear", "saknas")
    assert "saknas" in p.message and "heltal" in p.message


def test_duplicate_key_names_other_row(tmp_path):
    report = _study(tmp_path, personer=PERSONER + "P1,A,1970,K,ovrigt\n")
    p = _only(report)
    assert (p.severity, p.file, p.row, p.column) == ("fel", "personer.csv", 4, "person_id")
    assert "rad 2" in p.message and '"P1"' in p.message
    report = _study(tmp_path, bistand="person_id,manad,belopp\nP1,2013-01,10\nP2,2013-01,10\nP1,201301,5\n")
    p = _only(report)
    assert (p.row, p.column) == (4, "person_id, manad") and "rad 2" in p.message


def test_references(tmp_path):
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P9,I1,2013-02-01,,,\nD2,P1,I9,2013-02-01,,,\n")
    person, insats = report.errors
    assert (person.row, person.column, person.value) == (2, "person_id", "P9") and "personer" in person.message
    assert (insats.row, insats.column, insats.value) == (3, "insats_id", "I9") and "insatser" in insats.message
    report = _study(tmp_path, personer=PERSONER + "P3,CENTRAL,1980,K,ovrigt\n")  # CENTRAL only for insatser/medel
    p = _only(report)
    assert (p.file, p.row, p.column, p.rule) == ("personer.csv", 4, "omrade_kod", "referens")


def test_end_before_start(tmp_path):
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P1,I1,2013-02-01,2013-01-05,,\n")
    p = _only(report)
    assert (p.severity, p.file, p.row, p.column) == ("fel", "deltaganden.csv", 2, "slut_datum")
    assert str(p) == (
        'FEL  deltaganden.csv rad 2, kolumn slut_datum: värdet "2013-01-05" är före start_datum '
        "(2013-02-01); förväntade ett datum på eller efter startdatum."
    )
    report = _study(tmp_path, bedomningar="person_id,ansokan_datum,bedomning_datum\nP1,2013-03-01,2013-02-01\n")
    p = _only(report)
    assert (p.column, p.value) == ("bedomning_datum", "2013-02-01") and "ansökningsdatum" in p.message
    report = _study(
        tmp_path,
        insatser=INSATSER.replace("raknas_som_insats", "raknas_som_insats,giltig_fran,giltig_till")
        .replace("Ja,Ja", "Ja,Ja,2013-06-01,2013-01-01")
        .replace("Nej,Ja", "Nej,Ja,,"),
    )
    assert _only(report).column == "giltig_till"


def test_hours_and_negative(tmp_path):
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P1,I1,2013-02-01,,40,45\nD2,P1,I1,2013-02-01,,-1,0\n")
    warning = _only(report, "over_planerat")
    assert (warning.severity, warning.row, warning.column, warning.value) == ("varning", 2, "narvarotimmar", "45")
    assert "40" in warning.message
    negative = _only(report, "negativ")
    assert (negative.severity, negative.row, negative.column, negative.value) == ("fel", 3, "planerade_timmar", "-1")
    report = _study(tmp_path, insatser=INSATSER.replace(",10,", ",-3,"))
    p = _only(report)
    assert (p.row, p.column, p.value) == (2, "platser", "-3") and "negativt" in p.message


def test_assessing_unit_and_hand_over(tmp_path):
    # the headers by their Swedish labels; a hand-over to the unit itself is a warning, other values pass
    report = _study(
        tmp_path,
        bedomningar="person_id,ansokan_datum,bedomning_datum,Bedömande enhet,Överlämnad till\n"
        "P1,2013-03-01,2013-03-10,Mottagningen,Arbetsmarknadsenheten\n"
        "P2,2013-03-01,2013-03-12,Mottagningen,\n"
        "P1,2013-06-01,2013-06-12,Arbetsmarknadsenheten, ARBETSMARKNADSENHETEN \n",
    )
    p = _only(report, "samma_enhet")
    assert (p.severity, p.file, p.row, p.column) == ("varning", "bedomningar.csv", 4, "overlamnad_till")
    assert "samma enhet som den bedömande enheten" in p.message and "ingen överlämning" in p.message
    assert not report.errors
    # without the unit column there is nothing to compare
    report = _study(
        tmp_path,
        bedomningar="person_id,ansokan_datum,bedomning_datum,overlamnad_till\nP1,2013-03-01,2013-03-10,Mottagningen\n",
    )
    assert not report.problems, report.format()


def test_age(tmp_path):
    report = _study(
        tmp_path,
        personer=PERSONER + "P3,A,2005,K,ovrigt\n",
        bistand="person_id,manad,belopp\nP3,2012-05,10\nP3,2013-01,10\n",
    )
    p = _only(report)
    assert (p.severity, p.row, p.column, p.value) == ("varning", 4, "fodelsear", "2005")
    assert "7 år" in p.message and "16 och 100" in p.message
    assert (
        _study(tmp_path, personer=PERSONER + "P4,A,1900,K,ovrigt\n", bistand="person_id,manad,belopp\n").warnings[0].row
        == 4
    )  # no assistance month: the latest omraden year (2013)


def test_personnummer_never_repeated(tmp_path, capsys):
    report = _study(
        tmp_path,
        personer=PERSONER + "19121212-1212,A,1912,K,ovrigt\n",
        insatser=INSATSER.replace("Träning", "se 701063-2391"),
        bistand="person_id,manad,belopp\nP1,2013-01,1234567890\n",
    )
    pnr = [p for p in report.errors if p.rule == "personnummer"]
    assert {(p.file, p.row, p.column) for p in pnr} == {("personer.csv", 4, "person_id"), ("insatser.csv", 2, "namn")}
    text = report.format()
    for secret in ("19121212-1212", "121212-1212", "1212121212", "701063-2391", "7010632391"):
        assert secret not in text
    assert "personnummer" in text
    assert main(["validate", str(report.path)]) == 1
    out = capsys.readouterr().out
    assert "1212-1212" not in out and "2391" not in out
    assert "[personnummer]" in str(Problem("fel", "x.csv", 2, "a", "19121212-1212", "värdet 19121212-1212"))


def test_flood_is_capped(tmp_path):
    rows = "".join(f"P{i},A,19x0,K,ovrigt\n" for i in range(3, 3 + 50))
    report = _study(tmp_path, personer=PERSONER + rows)
    assert len(report.errors) == 50
    text = report.format()
    assert text.count("kolumn fodelsear:") == SHOW_LIMIT
    assert "… och 30 rader till med samma fel" in text
    assert text.strip().endswith("50 fel i 3 filer.")


def test_missing_folder_and_empty_folder(tmp_path, capsys):
    report = validate_study(tmp_path / "finns_inte")
    (p,) = report.problems
    assert p.severity == "fel" and "finns inte" in p.message
    (tmp_path / "tom").mkdir()
    (p,) = validate_study(tmp_path / "tom").problems
    assert "inga tabeller" in p.message
    assert main(["validate", str(tmp_path / "tom")]) == 1
    assert "inga tabeller" in capsys.readouterr().out


def test_missing_table_is_info_not_error(tmp_path):
    (tmp_path / "omraden.csv").write_text(OMRADEN, encoding="utf-8")
    report = validate_study(tmp_path)
    assert not report.problems
    assert any("personer" in note for note in report.info)


def test_summary_counts(tmp_path):
    report = _study(tmp_path, deltaganden=DELTAGANDEN + "D1,P1,I1,2013-02-01,2013-01-01,40,45\nD2,P9,I1,x,,,\n")
    assert report.format().strip().endswith("3 fel och 1 varning i 4 filer.")
