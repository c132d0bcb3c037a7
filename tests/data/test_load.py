"""Reading a study folder in every supported format, and typing the values."""

import datetime as dt
import json

import pandas as pd
import pytest
from openpyxl import Workbook

from insats.contract import TABLES
from insats.data.load import StudyError, load_study, read_table
from insats.data.validate import validate_study
from insats.errors import InsatsError

OMRADEN = "omrade_kod,omrade,kommun_kod,ar,folkmangd\nA,Alfa,180,2013,1000\nB,Beta,0180,2013,2000\n"
PERSONER = 'person_id,omrade_kod,fodelsear,kon,forsorjningshinder\nP1,A,1980,K,sjukskriven\nP2,B,1990,Man,"Arbetslös, väntar på ersättning"\n'


def _write(folder, name, text, encoding="utf-8"):
    (folder / name).write_bytes(text.encode(encoding))


def _assert_dtypes(df, table):
    for col in TABLES[table].columns:
        assert str(df[col.name].dtype) == str(col.dtype), col.name


def test_csv_comma_utf8(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN)
    _write(tmp_path, "personer.csv", PERSONER)
    study = load_study(tmp_path)
    assert study.has("omraden", "personer") and "bistand" in study.missing
    _assert_dtypes(study["omraden"], "omraden")
    _assert_dtypes(study["personer"], "personer")
    assert study["omraden"]["kommun_kod"].tolist() == ["0180", "0180"]  # leading zero restored
    assert study["personer"]["kon"].tolist() == ["K", "M"]
    assert study["personer"]["forsorjningshinder"].tolist() == ["sjukskriven", "arbetslos_vantar"]
    src = study.sources["omraden"]
    assert src.format == "csv" and len(src.sha256) == 64 and src.path.name == "omraden.csv"


def test_swedish_labels_as_headers(tmp_path):
    # headers as the data contract's Swedish labels, as an utredare writes them in Excel
    _write(tmp_path, "omraden.csv", "Områdeskod;Område;Kommunkod;År;Folkmängd\nA;Alfa;0180;2013;1 000\n")
    study = load_study(tmp_path)
    assert study["omraden"]["omrade_kod"].tolist() == ["A"]
    assert study["omraden"]["folkmangd"].tolist() == [1000]


def test_csv_semicolon_cp1252_decimal_comma_ja_nej(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN)
    text = (
        "Insats-ID;Område kod;Namn;Kategori;Regi;Målgrupp;Platser;Närvarokrav;LOV;Räknas som insats;"
        "Kostnad per plats månad;Giltig från\n"
        "I1;A;Träning;ARBETSTRÄNING;LOV-utförare;Unga 18–24 år, nyanlända;1 200;Ja;x;Ja;12 345,50;2013-01-05\n"
        "I2;CENTRAL;Kurs;Kurs;egen_central;alla;10;Nej;;nej;1\u00a0000,25;5/1/2013\n"
    )
    _write(tmp_path, "Insatser.CSV", text, "cp1252")
    ins = load_study(tmp_path)["insatser"]
    _assert_dtypes(ins, "insatser")
    assert ins["kategori"].tolist() == ["arbetstraning", "kurs"]
    assert ins["regi"].tolist() == ["lov", "egen_central"]
    assert ins["malgrupp"].tolist() == ["unga_18_24;nyanlanda", "alla"]
    assert ins["platser"].tolist() == [1200, 10]
    assert ins["kostnad_per_plats_manad"].tolist() == [12345.5, 1000.25]
    assert ins["narvarokrav"].tolist() == [True, False]
    assert ins["lov"].tolist() == [True, False]  # x marks: empty means Nej
    assert ins["namn"].tolist() == ["Träning", "Kurs"]
    assert ins["giltig_fran"].tolist() == [pd.Timestamp("2013-01-05")] * 2


def test_dot_thousands_kr_suffix_and_excel_serial_dates(tmp_path):
    # what a Swedish Excel export with lost formatting looks like: "1.234,50", "2 000 kr", and a
    # date column whose cells turned into Excel serial numbers (41275 = 2013-01-01)
    _write(tmp_path, "omraden.csv", OMRADEN)
    _write(
        tmp_path,
        "medel.csv",
        "omrade_kod;ar;kategori;belopp;raknas_som_insats\nA;2013;kurs;1.234,50;Ja\nB;2013;Kurs;2 000 kr;Nej\n",
    )
    _write(
        tmp_path,
        "insatser.csv",
        "insats_id,omrade_kod,namn,kategori,regi,platser,narvarokrav,"
        "raknas_som_insats,giltig_fran\nI1,A,Träning,kurs,lov,3,Ja,Ja,41275\n",
    )
    study = load_study(tmp_path)
    assert study["medel"]["belopp"].tolist() == [1234.5, 2000.0]
    assert study["insatser"]["giltig_fran"].tolist() == [pd.Timestamp("2013-01-01")]


def test_implausible_year_in_a_month_is_an_error_not_a_crash(tmp_path):
    _write(tmp_path, "personer.csv", PERSONER)
    _write(tmp_path, "bistand.csv", "person_id,manad,belopp\nP1,300001,100\nP1,2013-02,100\n")
    report = validate_study(tmp_path)
    (problem,) = [p for p in report.errors if p.column == "manad"]
    assert problem.row == 2 and "300001" in str(problem)  # year 3000: beyond pandas, once a crash


def test_utf8_bom_and_tab(tmp_path):
    _write(tmp_path, "omraden.txt", "\ufeff" + OMRADEN.replace(",", "\t"))
    df = load_study(tmp_path)["omraden"]
    assert next(iter(df.columns)) == "omrade_kod" and df["omrade"].tolist() == ["Alfa", "Beta"]


def test_bool_without_x_empty_is_missing(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN)
    _write(
        tmp_path,
        "personer.csv",
        "person_id,omrade_kod,fodelsear,kon,forsorjningshinder,utrikes_fodd\n"
        "P1,A,1980,K,ovrigt,sant\nP2,A,1980,K,ovrigt,\nP3,A,1980,K,ovrigt,0\n",
    )
    assert load_study(tmp_path)["personer"]["utrikes_fodd"].tolist() == [True, pd.NA, False]


def _sheet(ws, rows):
    for row in rows:
        ws.append(row)


def test_xlsx_one_file_per_table(tmp_path):
    wb = Workbook()
    _sheet(
        wb.active,
        [
            ["omrade_kod", "Område", "Kommun kod", "År", "Folkmängd"],
            ["A", "Alfa", 180, 2013, 1000],
            ["B", "Beta", 180, 2013, 1000],
        ],
    )
    wb.save(tmp_path / "omraden.xlsx")
    wb = Workbook()
    _sheet(
        wb.active,
        [
            ["person_id", "manad", "belopp"],
            ["P1", dt.datetime(2013, 1, 15), 1234.5],
            ["P1", "2013-02", "2 000,50"],
            ["P1", 201303, 10],
        ],
    )
    wb.save(tmp_path / "bistand.xlsx")
    _write(tmp_path, "personer.csv", PERSONER)
    study = load_study(tmp_path)
    assert study["omraden"]["kommun_kod"].tolist() == ["0180", "0180"]
    b = study["bistand"]
    _assert_dtypes(b, "bistand")
    assert b["manad"].tolist() == [pd.Timestamp("2013-01-01"), pd.Timestamp("2013-02-01"), pd.Timestamp("2013-03-01")]
    assert b["belopp"].tolist() == [1234.5, 2000.5, 10.0]


def test_workbook_with_sheet_per_table(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Områden"
    _sheet(ws, [["omrade_kod", "omrade", "kommun_kod", "ar", "folkmangd"], ["A", "Alfa", "0183", 2016, 500]])
    ws = wb.create_sheet("Deltaganden")
    _sheet(
        ws,
        [
            ["deltagande_id", "person_id", "insats_id", "start_datum", "slut_datum", "vald_utforare"],
            ["D1", "P1", "I1", dt.datetime(2016, 3, 1), "2016-04-01", "x"],
            ["D2", "P1", "I1", dt.datetime(2016, 3, 2), None, None],
        ],
    )
    wb.create_sheet("Anteckningar").append(["fritt"])
    wb.save(tmp_path / "min studie.xlsx")
    report = validate_study(tmp_path)
    study = load_study(tmp_path, strict=False)
    d = study["deltaganden"]
    _assert_dtypes(d, "deltaganden")
    assert d["start_datum"].tolist() == [pd.Timestamp("2016-03-01"), pd.Timestamp("2016-03-02")]
    assert d["slut_datum"].isna().tolist() == [False, True]
    assert d["vald_utforare"].tolist() == [True, False]
    assert study.sources["deltaganden"].sheet == "Deltaganden"
    assert study.sources["deltaganden"].display == "min studie.xlsx, blad Deltaganden"
    assert any("Anteckningar" in note for note in report.info)
    # personer/insatser missing: references cannot be checked, which is a note, not an error
    assert not report.errors


def test_workbook_row_numbers_and_file_path(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "omraden"
    _sheet(
        ws,
        [
            ["omrade_kod", "omrade", "kommun_kod", "ar", "folkmangd"],
            ["A", "Alfa", "0183", 2016, 500],
            [None],
            ["B", "Beta", "0183", "tjugo", 500],
        ],
    )
    wb.save(tmp_path / "studie.xlsx")
    report = validate_study(tmp_path / "studie.xlsx")  # a workbook file works as a study too
    (problem,) = report.errors
    assert (problem.file, problem.row, problem.column, problem.value) == ("studie.xlsx, blad omraden", 4, "ar", "tjugo")


def test_parquet_typed(tmp_path):
    pd.DataFrame(
        {"omrade_kod": ["A"], "omrade": ["Alfa"], "kommun_kod": ["0180"], "ar": [2013], "folkmangd": [10]}
    ).to_parquet(tmp_path / "omraden.parquet")
    pd.DataFrame(
        {"person_id": ["P1"], "omrade_kod": ["A"], "fodelsear": [1980], "kon": ["K"], "forsorjningshinder": ["ovrigt"]}
    ).to_parquet(tmp_path / "personer.parquet")
    pd.DataFrame(
        {
            "person_id": ["P1", "P1"],
            "manad": pd.to_datetime(["2013-01-01", "2013-02-10"]),
            "belopp": [100.0, 200.0],
            "forsorjningshinder": pd.Categorical(["ovrigt", "Övrigt"]),
        }
    ).to_parquet(tmp_path / "bistand.parquet")
    study = load_study(tmp_path)
    b = study["bistand"]
    _assert_dtypes(b, "bistand")
    assert b["manad"].tolist() == [pd.Timestamp("2013-01-01"), pd.Timestamp("2013-02-01")]
    assert b["forsorjningshinder"].tolist() == ["ovrigt", "ovrigt"]
    assert study.sources["bistand"].format == "parquet"
    assert study["omraden"]["ar"].tolist() == [2013]


def test_meta_and_ignored_files(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN)
    _write(tmp_path, "studie.json", json.dumps({"syntetisk": True}))
    _write(tmp_path, "README.md", "hej")
    study = load_study(tmp_path)
    assert study.synthetic
    report = validate_study(tmp_path)
    assert any("README.md" in note for note in report.info)
    assert any("saknas" in note and "personer" in note for note in report.info)


def test_strict_raises_with_report(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN.replace("1000", "tusen"))
    with pytest.raises(StudyError) as info:
        load_study(tmp_path)
    assert isinstance(info.value, InsatsError) and info.value.exit_code == 1
    assert info.value.report.errors and "tusen" in str(info.value)
    study = load_study(tmp_path, strict=False)
    assert study["omraden"]["folkmangd"].isna().tolist() == [True, False]
    assert study.warnings and study.warnings[0].severity == "fel"


def test_read_table_single_file(tmp_path):
    _write(tmp_path, "mina_omraden.csv", OMRADEN)
    df = read_table(tmp_path / "mina_omraden.csv", "omraden")
    assert df["kommun_kod"].tolist() == ["0180", "0180"]
    _write(tmp_path, "x.csv", "omrade_kod\nA\n")
    with pytest.raises(StudyError):
        read_table(tmp_path / "x.csv", "omraden")


def test_same_table_twice_is_an_error(tmp_path):
    _write(tmp_path, "omraden.csv", OMRADEN)
    _write(tmp_path, "Omraden.txt", OMRADEN)
    report = validate_study(tmp_path)
    assert any("finns redan" in p.message for p in report.errors)


def test_synthetic_examples_validate(tmp_path):
    synth = pytest.importorskip("insats.intake.synth")
    for fmt in ("csv", "parquet"):
        out = synth.generate("sundbyberg", tmp_path / fmt, seed=3, persons=300, fmt=fmt)
        report = validate_study(out)
        assert not report.errors, report.format()
        study = load_study(out)
        for name, df in study.tables.items():
            _assert_dtypes(df, name)
