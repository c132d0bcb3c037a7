"""insats pseudonymise: identifiers and personnummer replaced, nothing else changed."""

from __future__ import annotations

import re
import stat

import pandas as pd
import pytest

from insats.cli import main
from insats.data.personnummer import find_personnummer
from insats.intake.pseudonymise import PseudonymiseError, pseudonymise

# Skatteverket's test numbers (valid check digits, not real persons).
PNR_A12 = "19121212-1212"
PNR_A10 = "121212-1212"  # the same person in 10-digit form
OTHER_ID = "K-1002"


def _valid(p):
    return bool(find_personnummer(p))


def write_study(d, *, pnr_b="19811218-9876"):
    assert _valid(PNR_A12) and _valid(PNR_A10) and _valid(pnr_b)
    d.mkdir(parents=True, exist_ok=True)
    (d / "omraden.csv").write_text(
        "omrade_kod,omrade,kommun_kod,ar,folkmangd\n01,Norr,0183,2015,20000\n02,Söder,0183,2015,22000\n",
        encoding="utf-8",
    )
    (d / "insatser.csv").write_text(
        "insats_id,omrade_kod,namn,kategori,regi,platser,narvarokrav,raknas_som_insats\n"
        "I1,01,Arbetsträning,arbetstraning,egen_omrade,10,Ja,Ja\n",
        encoding="utf-8",
    )
    # personer: semicolon, Windows-1252, CRLF (as Swedish Excel writes), a personnummer as person_id
    personer = (
        "person_id;hushall_id;omrade_kod;fodelsear;kon;utrikes_fodd;forsorjningshinder\r\n"
        f"{PNR_A12};{PNR_A12};01;1912;M;Nej;arbetslos_ingen_ersattning\r\n"
        f"{pnr_b};H-77;02;1981;K;Ja;sjukskriven\r\n"
        f"{OTHER_ID};H-77;02;1990;K;Nej;sociala_skal\r\n"
    )
    (d / "personer.csv").write_bytes(personer.encode("cp1252"))
    # bistand: UTF-8 with BOM, comma, decimal comma quoted, the 10-digit form of person A
    (d / "bistand.csv").write_bytes(
        (
            "person_id,manad,belopp\n"
            f'{PNR_A10},2015-01,"5200,50"\n'
            f"{PNR_A12.replace('-', '')},2015-02,5200\n"
            f"{pnr_b},2015-01,4100\n"
            f"{OTHER_ID},2015-03,3000\n"
        ).encode("utf-8-sig")
    )
    # deltaganden: a personnummer in a free-text column too (not a contract column: kept as is)
    (d / "deltaganden.csv").write_text(
        "deltagande_id,person_id,insats_id,start_datum,slut_datum,anteckning\n"
        f"D1,{PNR_A12},I1,2015-02-01,,\n"
        f"D2,{pnr_b},I1,2015-03-01,2015-06-30,Ring {PNR_A12} om schema\n",
        encoding="utf-8",
    )
    (d / "studie.json").write_text('{"namn": "test"}\n', encoding="utf-8")


def all_bytes(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def read(folder, name, **kw):
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, sep=None, engine="python", **kw)


@pytest.fixture()
def study(tmp_path):
    d = tmp_path / "in"
    write_study(d)
    return d


def test_pseudonymise(tmp_path, study):
    key = tmp_path / "nycklar" / "insats.key"
    out = tmp_path / "ut"
    summary = pseudonymise(study, out, key_file=key)
    assert summary.key_created
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key_hex = key.read_text().strip()
    assert len(key_hex) == 64

    files = all_bytes(out)
    assert set(files) == set(all_bytes(study))
    for name, data in files.items():
        for enc in ("utf-8", "cp1252"):
            text = data.decode(enc, errors="replace")
            assert find_personnummer(text) == [], name
        assert key_hex.encode() not in data and bytes.fromhex(key_hex) not in data

    # the same person has the same pseudonym in every table and form
    pers = pd.read_csv(out / "personer.csv", sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    bis = pd.read_csv(out / "bistand.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    delt = read(out, "deltaganden.csv")
    a, b, other = pers["person_id"]
    assert all(re.fullmatch(r"P[0-9a-f]{16}", x) for x in (a, b, other))
    assert len({a, b, other}) == 3
    assert list(bis["person_id"]) == [a, a, b, other]
    assert list(delt["person_id"]) == [a, b]
    assert delt.loc[1, "anteckning"] == f"Ring {a} om schema"
    # households: own prefix; the same household id maps to the same value
    h = list(pers["hushall_id"])
    assert h[1] == h[2] and h[0] != h[1] and all(x.startswith("H") for x in h)
    assert h[0] != a  # a household pseudonym is not the person's

    # every other column unchanged, and the files' format (bytes outside the replaced cells)
    src_pers = (study / "personer.csv").read_bytes().decode("cp1252")
    out_pers = (out / "personer.csv").read_bytes().decode("cp1252")
    for old, new in ((PNR_A12, a), ("19811218-9876", b), (OTHER_ID, other)):
        src_pers = src_pers.replace(old, new, 1)
    hh = dict(zip(["19121212-1212", "H-77"], [h[0], h[1]]))
    lines = []
    for i, line in enumerate(src_pers.split("\r\n")):
        parts = line.split(";")
        if i > 0 and len(parts) > 1:
            parts[1] = hh.get(parts[1], parts[1])
        lines.append(";".join(parts))
    assert out_pers == "\r\n".join(lines)
    assert (out / "bistand.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b'"5200,50"' in (out / "bistand.csv").read_bytes()
    for name in ("omraden.csv", "insatser.csv", "studie.json"):
        assert files[name] == (study / name).read_bytes()
    for name, cols in (
        ("bistand.csv", ["manad", "belopp"]),
        ("deltaganden.csv", ["deltagande_id", "insats_id", "start_datum", "slut_datum"]),
    ):
        assert read(out, name)[cols].equals(read(study, name)[cols])

    # the summary tells where, never what
    text = summary.format()
    assert "deltaganden.csv, kolumn anteckning" in text
    assert not find_personnummer(text) and "1212" not in text

    # same key -> same output; different key -> different pseudonyms
    out2 = tmp_path / "ut2"
    pseudonymise(study, out2, key_file=key)
    assert all_bytes(out2) == files
    out3 = tmp_path / "ut3"
    s3 = pseudonymise(study, out3, key_file=tmp_path / "annan.key")
    assert s3.key_created
    assert read(out3, "deltaganden.csv")["person_id"][0] != a
    assert not list(tmp_path.glob(".ut*"))  # no temporary folders left

    try:
        from insats.data.validate import validate_study
    except ImportError:
        pytest.skip("insats.data.validate finns inte ännu; validering av utdata hoppas över")
    report = validate_study(out)
    assert not report.errors, report.format()


def test_excel_and_parquet(tmp_path):
    from openpyxl import Workbook, load_workbook

    d = tmp_path / "in"
    d.mkdir()
    wb = Workbook()
    ws = wb.active
    ws.title = "personer"
    ws.append(["Person-id", "Omrade_kod", "Födelseår", "Anteckning"])
    ws.append([191212121212, "01", 1912, f"se {PNR_A10}"])
    ws.append(["X9", "02", 1980, None])
    ws["C2"].number_format = "0"
    wb.save(d / "studie.xlsx")
    pd.DataFrame({"person_id": [1212121212, 7], "belopp": [1.5, 2.0], "not": ["a", PNR_A12]}).to_parquet(
        d / "bistand.parquet", compression="gzip"
    )
    out = tmp_path / "ut"
    pseudonymise(d, out, key_file=tmp_path / "k.key")

    wb2 = load_workbook(out / "studie.xlsx")
    ws2 = wb2["personer"]
    a = ws2["A2"].value
    assert re.fullmatch(r"P[0-9a-f]{16}", a)
    assert ws2["D2"].value == f"se {a}"
    assert ws2["C2"].value == 1912 and ws2["C2"].number_format == "0"
    assert ws2["A1"].value == "Person-id"

    t = pd.read_parquet(out / "bistand.parquet")
    assert list(t.columns) == ["person_id", "belopp", "not"]
    assert t["person_id"][0] == a and t["person_id"][1].startswith("P")
    assert t["not"][1] == a and list(t["belopp"]) == [1.5, 2.0]
    import pyarrow.parquet as pq

    assert pq.ParquetFile(out / "bistand.parquet").metadata.row_group(0).column(1).compression == "GZIP"


def test_refuses_unsafe_paths(tmp_path, study):
    with pytest.raises(PseudonymiseError, match="utmappen"):
        pseudonymise(study, tmp_path / "ut", key_file=tmp_path / "ut" / "k.key")
    with pytest.raises(PseudonymiseError, match="studiemappen"):
        pseudonymise(study, tmp_path / "ut", key_file=study / "k.key")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    with pytest.raises(PseudonymiseError, match="git"):
        pseudonymise(study, tmp_path / "ut", key_file=repo / "k.key")
    with pytest.raises(PseudonymiseError, match="Utmappen"):
        pseudonymise(study, study / "ut", key_file=tmp_path / "k.key")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(PseudonymiseError, match="inte tom"):
        pseudonymise(study, tmp_path / "full", key_file=tmp_path / "k.key")
    assert not (tmp_path / "ut").exists()
    assert not (repo / "k.key").exists() and not (study / "k.key").exists()


def test_personnummer_in_other_file_stops(tmp_path, study):
    (study / "README.txt.md").write_text(f"Kontakt {PNR_A12}\n", encoding="utf-8")
    with pytest.raises(PseudonymiseError, match="README"):
        pseudonymise(study, tmp_path / "ut", key_file=tmp_path / "k.key")
    assert not (tmp_path / "ut").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ut")]


def test_collision_detected(tmp_path, study, monkeypatch):
    import insats.intake.pseudonymise as mod

    monkeypatch.setattr(mod, "HEX_CHARS", 0)  # every pseudonym is "P": the first two ids collide
    with pytest.raises(PseudonymiseError, match="samma pseudonym"):
        pseudonymise(study, tmp_path / "ut", key_file=tmp_path / "k.key")
    assert not (tmp_path / "ut").exists()


def test_cli(tmp_path, study, capsys):
    argv = ["pseudonymise", str(study), str(tmp_path / "ut"), "--key-file", str(tmp_path / "k.key")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Ny nyckel skapad" in out and not find_personnummer(out)
    assert main(argv) == 1  # the output folder now exists
    assert "inte tom" in capsys.readouterr().err
