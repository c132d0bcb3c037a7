"""Issue 14, reading and validating: broken and hostile files end in a Swedish message that says
where (file, row, column) and never in a traceback; personnummer are found everywhere in a study
folder and never repeated; implausible values are errors."""

from __future__ import annotations

import codecs
import json
import re

import pytest
from openpyxl import Workbook

from insats.cli import main
from insats.data.files import MAX_COLUMNS, decode_bytes, read_csv, scan_folder
from insats.data.personnummer import has_personnummer
from insats.data.problems import Problem
from insats.data.validate import personnummer_places, validate_study
from insats.errors import DataError

OMRADEN = "omrade_kod,omrade,kommun_kod,ar,folkmangd\nA,Alfa,0180,2013,1000\n"
PERSONER = "person_id,omrade_kod,fodelsear,kon,forsorjningshinder\nP1,A,1980,K,ovrigt\nP2,A,1985,M,ovrigt\n"
INSATSER = (
    "insats_id,omrade_kod,namn,kategori,regi,platser,narvarokrav,raknas_som_insats\n"
    "I1,A,Träning,arbetstraning,lov,10,Ja,Ja\nI2,CENTRAL,Kurs,kurs,egen_central,5,Nej,Ja\n"
)
BISTAND = "person_id,manad,belopp\n" + "".join(f"P1,2013-{m:02d},5000\nP2,2013-{m:02d},4000\n" for m in range(1, 13))
PNR = "850315-1238"  # a valid check digit, not a real person
ENGLISH = re.compile(r"\b(Error|Expected|unexpected|could not|not a|File is|magic)\b")


def _folder(tmp_path, files: dict[str, str | bytes]):
    d = tmp_path / f"s{len(list(tmp_path.iterdir()))}"
    d.mkdir()
    base = {"omraden.csv": OMRADEN, "personer.csv": PERSONER, "insatser.csv": INSATSER}
    base.update(files)
    for name, content in base.items():
        if content is None:
            continue
        path = d / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return d


def _report(tmp_path, **files):
    return validate_study(_folder(tmp_path, {k.replace("__", "."): v for k, v in files.items()}))


def _rules(report):
    return {p.rule for p in report.problems}


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "Internt fel" not in err, out + err
    return code, out, err


# --------------------------------------------------------------------------- finding 7: no tracebacks
def test_header_only_table_with_a_yes_no_column(tmp_path, capsys):
    d = _folder(tmp_path, {"insatser.csv": INSATSER.split("\n")[0] + "\n"})
    code, out, _ = _cli(capsys, "validate", str(d))
    assert code == 0 and "Inga fel" in out
    code, _, _ = _cli(capsys, "measures", str(d), "--out", str(tmp_path / "m.csv"))
    assert code in (0, 1)


def test_header_only_bistand_is_an_error_not_a_crash(tmp_path, capsys):
    """Found by the fuzz suite: an empty bistand made the measures crash (no months, no period)."""
    report = _report(tmp_path, bistand__csv="person_id,manad,belopp\n")
    (p,) = report.errors
    assert (p.file, p.rule) == ("bistand.csv", "tom_tabell") and "perioden" in p.message
    code, _, err = _cli(capsys, "measures", str(report.path), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and "tom_tabell" not in err and "bara en rubrikrad" in err


@pytest.mark.parametrize(
    ("table", "text", "column"),
    [
        ("insatser.csv", INSATSER.replace(",10,", ",99999999999999999999,"), "platser"),
        ("omraden.csv", OMRADEN.replace(",1000", ",1e308"), "folkmangd"),
        ("omraden.csv", OMRADEN.replace(",1000", ",-1e308"), "folkmangd"),
    ],
)
def test_numbers_too_large_for_a_whole_number(tmp_path, capsys, table, text, column):
    report = _report(tmp_path, **{table.replace(".", "__"): text})
    bad = [p for p in report.errors if p.column == column]
    assert len(bad) == 1 and bad[0].row == 2 and "orimligt" in bad[0].message, report.format()
    code, _, err = _cli(capsys, "measures", str(report.path), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and column in err


def test_area_coded_alla_is_reserved(tmp_path, capsys):
    report = _report(
        tmp_path,
        omraden__csv=OMRADEN + "ALLA,Alla,0180,2013,500\n",
        personer__csv=PERSONER + "P3,ALLA,1980,K,ovrigt\n",
        bistand__csv=BISTAND,
    )
    reserved = [p for p in report.errors if p.rule == "reserverad_kod"]
    assert {(p.file, p.row) for p in reserved} == {("omraden.csv", 3), ("personer.csv", 4)}, report.format()
    assert "ALLA" in reserved[0].message and "referens" not in _rules(report)  # said once, not twice
    code, _, err = _cli(capsys, "measures", str(report.path), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and "reserverat" in err
    report = _report(tmp_path, omraden__csv=OMRADEN + "central,Centrum,0180,2013,500\n")
    assert [p.rule for p in report.errors] == ["reserverad_kod"]


def test_a_single_csv_file_is_not_a_study(tmp_path, capsys):
    d = _folder(tmp_path, {})
    code, out, _ = _cli(capsys, "validate", str(d / "insatser.csv"))
    assert code == 1 and "enskild" in out and str(d) in out
    code, _, err = _cli(capsys, "measures", str(d / "insatser.csv"), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and "ange mappen" in err and not (tmp_path / "m.csv").exists()


# --------------------------------------------------------------------------- finding 9: clear messages
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "cp1252"])
def test_text_encodings_are_read(tmp_path, codec):
    data = INSATSER.replace("Träning", "Träning åäö").encode(codec)
    if codec == "utf-16-le":
        assert not data.startswith(codecs.BOM_UTF16_LE)  # no BOM: recognised by the zero bytes
    text, found = decode_bytes(data)
    assert "Träning åäö" in text and text.startswith("insats_id") and found.replace("-sig", "") in codec + "-le-be"
    report = _report(tmp_path, insatser__csv=data)
    assert not report.problems, report.format()
    raw = read_csv(report.path / "insatser.csv", "insatser")
    assert raw.frame.loc[2, "namn"] == "Träning åäö" and list(raw.frame.index) == [2, 3]


def test_binary_garbage_is_refused_in_swedish(tmp_path):
    report = _report(tmp_path, insatser__csv=b"\x00\x01\x02PK\x00\xff" * 50)
    (p,) = report.errors
    assert p.file == "insatser.csv" and "NUL-tecken" in p.message and "\x00" not in report.format()


def test_truncated_quote_names_the_row(tmp_path):
    report = _report(tmp_path, insatser__csv=INSATSER + 'I3,A,"Avbruten,kurs,lov,1,Ja,Ja\nI4,A,X,kurs,lov,1,Ja,Ja\n')
    (p,) = report.errors
    assert p.file == "insatser.csv" and "rad 4" in p.message and "citattecken" in p.message
    assert not ENGLISH.search(p.message)


def test_rows_longer_than_the_header_are_named_and_left_out(tmp_path):
    report = _report(
        tmp_path, insatser__csv=INSATSER + "I3,A,Städ, tvätt,kurs,lov,1,Ja,Ja\nI4,A,Y,kurs,lov,1,Ja,Ja,,\n"
    )
    (p,) = report.errors
    assert (p.file, p.row, p.rule) == ("insatser.csv", 4, "rad_for_lang") and "citattecken" in p.message
    assert "komma" in p.message and not ENGLISH.search(p.message)


def test_trailing_empty_cells_and_short_rows_are_fine(tmp_path):
    report = _report(tmp_path, insatser__csv=INSATSER.replace("Ja,Ja\n", "Ja,Ja,,\n") + "I3,A,Z,kurs,lov\n")
    assert [p.rule for p in report.errors] == ["saknas", "saknas", "saknas"], report.format()  # the short row


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("insatser.xlsx", INSATSER.encode(), "ingen Excel-arbetsbok"),
        ("insatser.xlsx", b"", "tom"),
        ("insatser.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "gamla Excel-formatet"),
        ("insatser.xlsx", b"PK\x03\x04 broken zip", "skadad"),
        ("insatser.parquet", INSATSER.encode(), "ingen Parquet-fil"),
        ("insatser.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1", "skadad"),
    ],
)
def test_files_that_are_not_what_their_name_says(tmp_path, name, content, words):
    report = _report(tmp_path, insatser__csv=None, **{name.replace(".", "__"): content})
    (p,) = report.errors
    assert p.file == name and words in p.message and not ENGLISH.search(p.message), p.message


def test_formula_without_a_stored_value_is_said_so(tmp_path):
    d = _folder(tmp_path, {"insatser.csv": None})
    wb = Workbook()
    ws = wb.active
    ws.title = "insatser"
    for row in INSATSER.strip().split("\n"):
        ws.append([int(v) if v.isdigit() else v for v in row.split(",")])
    ws["F2"] = "=2+3"  # platser: written by a script, never calculated, so no stored value
    wb.save(d / "insatser.xlsx")
    report = validate_study(d)
    (p,) = report.errors
    assert (p.file, p.row, p.column, p.rule) == ("insatser.xlsx", 2, "platser", "formel_utan_varde")
    assert "formel" in p.message and "saknas" not in p.message


def test_control_characters_are_escaped_never_printed(tmp_path, capsys):
    evil = "\x1b[2J\x1b[31mröd\x1b]0;titel\x07\u202e"
    report = _report(tmp_path, insatser__csv=INSATSER.replace(",10,", f",{evil},"))
    (p,) = report.errors
    assert "\\x1b[2J" in p.value and "\x1b" not in p.message + p.value and "\u202e" not in p.message
    problem = Problem("fel", "fil\x1b.csv", 2, "kol\nx", "a\nFEL b", "m\x07")
    assert "\x1b" not in str(problem) and "\n" not in str(problem) and "\x07" not in str(problem)
    code, out, _ = _cli(capsys, "validate", str(report.path))
    assert code == 1 and "\x1b" not in out and "\x07" not in out and "\\x1b[31mröd" in out


def test_a_sheet_with_sixteen_thousand_columns_is_refused_at_the_header(tmp_path):
    d = _folder(tmp_path, {"insatser.csv": None})
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("insatser")
    ws.append([f"k{i}" for i in range(16_000)])
    ws.append(list(range(16_000)))
    wb.save(d / "insatser.xlsx")
    report = validate_study(d)
    (p,) = report.errors
    assert p.file == "insatser.xlsx" and "16000 kolumner" in p.message and str(MAX_COLUMNS) in p.message
    (d / "insatser.xlsx").unlink()
    (d / "insatser.csv").write_text(",".join(f"k{i}" for i in range(16_000)) + "\n", encoding="utf-8")
    (p,) = validate_study(d).errors
    assert "16000 kolumner" in p.message


def test_wide_formatting_does_not_make_rows_wide(tmp_path):
    """A sheet whose dimension says XFD (formatting to the last column) is read as wide as its header."""
    d = _folder(tmp_path, {"insatser.csv": None})
    wb = Workbook()
    ws = wb.active
    ws.title = "insatser"
    for row in INSATSER.strip().split("\n"):
        ws.append([int(v) if v.isdigit() else v for v in row.split(",")])
    ws.cell(row=2, column=16_000).number_format = "0.00"
    ws.cell(row=3, column=16_000, value=None)
    wb.save(d / "insatser.xlsx")
    assert not validate_study(d).problems


# --------------------------------------------------------------------------- finding 8: implausible values
def test_a_month_far_from_the_others_is_an_error_naming_the_row(tmp_path, capsys):
    report = _report(tmp_path, bistand__csv=BISTAND + "P1,2199-01,100\n")
    (p,) = report.errors
    assert (p.file, p.row, p.column, p.rule) == ("bistand.csv", 26, "manad", "utanfor_perioden")
    assert "2199-01" in p.message and "2013-01–2013-12" in p.message
    code, _, _ = _cli(capsys, "measures", str(report.path), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and not (tmp_path / "m.csv").exists()  # the default period is never moved to 2199
    # a date far away in another table is a warning
    delt = "deltagande_id,person_id,insats_id,start_datum\nD1,P1,I1,2013-03-01\nD2,P2,I1,1970-01-01\n"
    report = _report(tmp_path, bistand__csv=BISTAND, deltaganden__csv=delt)
    (w,) = report.warnings
    assert (w.row, w.column, w.rule) == (3, "start_datum", "utanfor_perioden") and not report.errors


def test_a_lone_month_within_the_window_is_an_error_but_a_later_period_is_not(tmp_path, capsys):
    big = "person_id,manad,belopp\n" + "".join(
        f"P{p},{y}-{m:02d},5000\n" for y in (2012, 2013) for m in range(1, 13) for p in range(1, 21)
    )
    people = "person_id,omrade_kod,fodelsear,kon,forsorjningshinder\n" + "".join(
        f"P{p},A,1980,K,ovrigt\n" for p in range(1, 21)
    )
    # one row typed 2016 instead of 2013: three years inside the window, but cut off and tiny
    report = _report(tmp_path, bistand__csv=big + "P1,2016-03,100\n", personer__csv=people)
    (p,) = report.errors
    assert (p.file, p.row, p.column, p.rule) == ("bistand.csv", 482, "manad", "isolerad_manad")
    assert "2016-03" in p.message and "2012-01–2013-12" in p.message and "1 rader" in p.message
    code, _, _ = _cli(capsys, "measures", str(report.path), "--out", str(tmp_path / "m.csv"))
    assert code == 1 and not (tmp_path / "m.csv").exists()
    # a later period with rows of its own (a second data delivery) is data, not a slip
    later = "".join(f"P{p},2016-{m:02d},5000\n" for m in range(1, 7) for p in range(1, 21))
    assert not _report(tmp_path, bistand__csv=big + later, personer__csv=people).errors
    # a month missing in the middle of the data is no gap at all
    holes = "".join(line + "\n" for line in big.splitlines() if "2013-02" not in line)
    assert not _report(tmp_path, bistand__csv=holes, personer__csv=people).errors


def test_attended_hours_beyond_the_participations_length(tmp_path):
    delt = (
        "deltagande_id,person_id,insats_id,start_datum,slut_datum,planerade_timmar,narvarotimmar\n"
        "D1,P1,I1,2013-03-01,2013-03-07,900,500\n"  # 500 hours in 7 days: impossible
        "D2,P2,I1,2013-03-01,2013-03-07,900,100\n"  # 14 hours a day for a week: implausible
        "D3,P1,I1,2013-03-01,2013-05-31,900,400\n"  # a planned 900 h, ended early: fine
        "D4,P2,I1,2013-03-01,,900,800\n"  # ongoing: no end to measure against
    )
    report = _report(tmp_path, deltaganden__csv=delt)
    assert [(p.row, p.column, p.rule) for p in report.errors] == [(2, "narvarotimmar", "timmar_per_dag")]
    assert "71 timmar per dag" in report.errors[0].message and "7 dagar" in report.errors[0].message
    assert [(p.row, p.rule) for p in report.warnings if p.rule == "timmar_per_dag"] == [(3, "timmar_per_dag")]


def test_implausible_hours_are_errors(tmp_path):
    delt = (
        "deltagande_id,person_id,insats_id,start_datum,planerade_timmar,narvarotimmar\n"
        "D1,P1,I1,2013-03-01,1e12,1e12\nD2,P2,I1,2013-03-01,400,300\n"
    )
    report = _report(tmp_path, deltaganden__csv=delt)
    assert {(p.row, p.column, p.rule) for p in report.errors} == {
        (2, "planerade_timmar", "orimligt"),
        (2, "narvarotimmar", "orimligt"),
    }, report.format()
    assert "20 000" in report.errors[0].message


def test_a_period_without_data_is_a_usage_error(tmp_path, capsys):
    d = _report(tmp_path, bistand__csv=BISTAND).path
    for period in (
        ["--from", "2030-01", "--to", "2030-12"],
        ["--from", "2001-01", "--to", "2005-12"],
        ["--from", "2014-01"],
    ):
        code, _, err = _cli(capsys, "measures", str(d), "--out", str(tmp_path / "m.csv"), *period)
        assert code == 2 and "inga månader med bistånd" in err and "2013-01 till 2013-12" in err


# --------------------------------------------------------------------------- findings 4, 5: personnummer everywhere
@pytest.mark.parametrize(
    "form",
    [
        "850315 1238",
        "19850315 1238",
        "850315 - 1238",
        "\uff18\uff15\uff10\uff13\uff11\uff15-1238",
        "503151235",
        "8503\u200b15-1238",  # a zero-width space inside the date
        "85031\u00ad5-1238",  # a soft hyphen inside the date
    ],
)
def test_validate_finds_every_form_in_cells(tmp_path, capsys, form):
    report = _report(tmp_path, insatser__csv=INSATSER.replace("Träning", form))
    (p,) = report.errors
    assert (p.rule, p.row, p.column) == ("personnummer", 2, "namn")
    code, out, _ = _cli(capsys, "validate", str(report.path))
    assert code == 1 and not has_personnummer(out) and "1238" not in out and "1235" not in out


def test_nine_digit_amounts_are_not_taken_for_personnummer(tmp_path):
    medel = "omrade_kod,ar,kategori,belopp,raknas_som_insats\nA,2013,kurs,503151235,Ja\n"
    assert not _report(tmp_path, medel__csv=medel).problems


def test_personnummer_in_names_and_other_files(tmp_path, capsys):
    wb = Workbook()
    wb.active.title = f"blad {PNR}"
    wb.active.append(["a"])
    wb.create_sheet("insatser")
    d = _folder(
        tmp_path,
        {
            f"brev_{PNR}.txt": "hej\n",
            "studie.json": json.dumps({"namn": "x", "kontakt": {"nr": 503151235}}),
            "anteckningar.csv": f"nr,text\n1,ring {PNR.replace('-', ' ')}\n",
            "readme.md": f"rad ett\nkontakta {PNR}\n",
            f"{PNR[:6]} {PNR[7:]}.parquet": b"not parquet",
        },
    )
    (d / f"mapp {PNR}").mkdir()
    wb.save(d / "extra.xlsx")
    report = validate_study(d)
    places = {(p.file, p.row, p.column) for p in report.errors if p.rule == "personnummer"}
    assert places == {
        ("brev_[personnummer].txt", None, None),
        ("[personnummer].parquet", None, None),
        ("mapp [personnummer]", None, None),
        ("extra.xlsx, blad blad [personnummer]", None, None),
        ("studie.json", None, None),
        ("anteckningar.csv", 2, "text"),
        ("readme.md", 2, None),
    }, report.format()
    code, out, _ = _cli(capsys, "validate", str(d))
    assert code == 1 and not has_personnummer(out) and "1238" not in out and "1235" not in out
    found = personnummer_places(d)
    assert len([p for p in found if p.startswith("FEL")]) == len(places)
    # pseudonymise's check also lists what it could not read (the fake Parquet); the second insatser
    # (in extra.xlsx and insatser.csv) is read and checked although it cannot be used
    assert {p.split(":")[0] for p in found if not p.startswith("FEL")} == {"[personnummer].parquet"}
    assert any("finns redan" in p.message for p in report.errors)
    assert not any(has_personnummer(p) for p in found)


def test_a_personnummer_header_and_a_float_column(tmp_path):
    import pandas as pd

    d = _folder(tmp_path, {"insatser.csv": None})
    frame = pd.DataFrame({"insats_id": ["I1"], "omrade_kod": ["A"], "namn": ["x"], "kategori": ["kurs"]})
    frame["regi"], frame["platser"], frame["narvarokrav"], frame["raknas_som_insats"] = "lov", 3, True, True
    frame[PNR] = [8503151238.0]
    frame["kod"] = pd.Categorical([PNR.replace("-", " ")])
    frame.to_parquet(d / "insatser.parquet")
    report = validate_study(d)
    assert {(p.row, p.column) for p in report.errors} == {(1, None), (2, "kod"), (2, "850315_1238")}
    assert not has_personnummer(report.format())


def test_scan_reads_unknown_tables_raw(tmp_path):
    d = _folder(tmp_path, {"okand.csv": "a;b\n1;2\n"})
    scan = scan_folder(d)
    assert [raw.source.display for raw in scan.others] == ["okand.csv"]
    assert scan.others[0].table is None and scan.others[0].frame.loc[2, "b"] == "2"


def test_broken_json_and_deep_nesting(tmp_path):
    report = _report(tmp_path, studie__json="[" * 100_000)
    (p,) = report.errors
    assert p.file == "studie.json" and "JSON" in p.message
    report = _report(tmp_path, studie__json='["en lista"]')
    (p,) = report.errors
    assert "JSON-objekt" in p.message
    with pytest.raises(DataError, match="NUL"):
        decode_bytes(b"a\x00\x00\x00b\x01")


# --------------------------------------------------------------------------- links and special files
def test_symbolic_links_and_special_files_are_not_read(tmp_path, capsys):
    import os

    secret = tmp_path / "k.key"
    secret.write_text("ab" * 32, encoding="ascii")
    outside = tmp_path / "personer_utanfor.csv"
    outside.write_text(PERSONER, encoding="utf-8")
    d = _folder(tmp_path, {"bistand.csv": BISTAND})
    (d / "personer.csv").unlink()
    (d / "personer.csv").symlink_to(outside)  # a contract table behind a link
    (d / "nyckel.txt").symlink_to(secret)  # any other file behind a link
    os.mkfifo(d / "deltaganden.csv")  # reading a pipe would hang
    scan = scan_folder(d)
    assert "personer" not in scan.tables and not any("ab" * 32 in text for _f, text in scan.texts)
    failures = dict(scan.failures)
    assert "symbolisk länk" in failures["personer.csv"] and "symbolisk länk" in failures["nyckel.txt"]
    assert "inte en vanlig fil" in failures["deltaganden.csv"]
    report = validate_study(d)
    assert not report.ok
    text = "\n".join(str(p) for p in report.problems)
    assert "personer.csv" in text and "nyckel.txt" in text and "deltaganden.csv" in text
    assert main(["validate", str(d)]) == 1
    err = capsys.readouterr()
    assert "Traceback" not in err.out + err.err


def test_personnummer_in_parquet_metadata_is_found(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = _folder(tmp_path, {})
    table = pa.table({"person_id": ["P1"], "manad": ["2013-01"], "belopp": [5000]})
    pq.write_table(table.replace_schema_metadata({"handlaggare": f"ansvarig {PNR}"}), d / "bistand.parquet")
    field = pa.field("x", pa.int64(), metadata={"kalla": PNR})
    pq.write_table(pa.table([pa.array([1])], schema=pa.schema([field])), d / "ovrigt.parquet")
    report = validate_study(d)
    found = [p for p in report.problems if p.rule == "personnummer"]
    assert {p.file for p in found} >= {"bistand.parquet", "ovrigt.parquet"}
    assert all("1238" not in str(p) for p in report.problems)
    assert any("bistand.parquet" in p for p in personnummer_places(d))


# --------------------------------------------------------------------------- finding 6: bounded identifiers
def test_a_too_long_area_code_is_an_error_naming_file_row_and_column(tmp_path, capsys):
    from insats.data.validate import MAX_CODE_LENGTH
    from insats.text import SLUG_MAX

    assert MAX_CODE_LENGTH <= SLUG_MAX  # a valid code is a file name as it is, never cut
    long = "X" * 303
    omraden = OMRADEN + f"{long},Långt,0180,2013,1000\n"
    personer = PERSONER + f"P3,{long},1980,K,ovrigt\n"
    ok = "Y" * MAX_CODE_LENGTH
    report = _report(tmp_path, omraden__csv=omraden + f"{ok},Lagom,0180,2013,1000\n", personer__csv=personer)
    found = [p for p in report.errors if p.rule == "for_lang_kod"]
    assert [(p.file, p.row, p.column) for p in found] == [("omraden.csv", 3, "omrade_kod")]
    message = found[0].message
    assert "303 tecken" in message and f"högst {MAX_CODE_LENGTH}" in message and "kortare kod" in message
    assert long not in message  # the value is shown shortened
    code, out, _err = _cli(capsys, "validate", str(report.path))
    assert code == 1 and "omraden.csv rad 3, kolumn omrade_kod" in out and long not in out
