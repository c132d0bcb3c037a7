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
    import insats.intake.pseudonyms as mod

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


# --------------------------------------------------------------------------- issue 14: hostile input
PNR = "850315-1238"  # a valid check digit, not a real person


def _all_text(folder) -> str:
    """Every name and every byte of a folder as text (UTF-8, Windows-1252 and UTF-16 readings),
    for a check that no personnummer is left anywhere."""
    parts = []
    for p in sorted(folder.rglob("*")):
        parts.append(p.name)
        if p.is_file():
            data = p.read_bytes()
            if p.suffix == ".xlsx":
                import zipfile

                with zipfile.ZipFile(p) as zf:
                    data = b"".join(zf.read(n) for n in zf.namelist())
            parts += [data.decode(enc, errors="replace") for enc in ("utf-8", "cp1252", "utf-16")]
    return "\n".join(parts)


def test_every_form_in_every_format_is_replaced(tmp_path, study, capsys):
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment

    from insats.data.personnummer import has_personnummer

    (study / f"brev_{PNR}.txt").write_text("Hej\n", encoding="utf-8")
    (study / "anteckningar.csv").write_text(
        "nr,text,belopp\n1,ring 850315 1238,503151235\n2,19850315 1238 eller 850315 - 1238,1\n", encoding="utf-8"
    )
    (study / "utf16.csv").write_bytes(f"nr;text\n1;{PNR}\n".encode("utf-16"))
    wb = Workbook()
    ws = wb.active
    ws.title = f"blad {PNR}"
    ws.append(["nr", "text", "tal"])
    ws.append([503151235, "\uff18\uff15\uff10\uff13\uff11\uff15\uff0d\uff11\uff12\uff13\uff18", 8503151238.0])
    ws["B2"].comment = Comment(f"handläggare: {PNR}", "x")
    wb.properties.creator = PNR
    wb.save(study / "extra.xlsx")
    pd.DataFrame(
        {
            "kategori": pd.Categorical([PNR.replace("-", " "), "ok", PNR.replace("-", " ")]),
            "flyttal": [8503151238.0, 1.5, None],
            "heltal": [503151235, 7, 8],
            "text": pd.array([f"se {PNR}", None, "x"], dtype="string"),
        }
    ).to_parquet(study / "extra.parquet")
    out = tmp_path / "ut"
    assert main(["pseudonymise", str(study), str(out), "--key-file", str(tmp_path / "k.key")]) == 0
    printed = "".join(capsys.readouterr())
    assert not has_personnummer(printed) and "1238" not in printed and "brev_P" in printed
    assert not has_personnummer(_all_text(out))
    names = sorted(p.name for p in out.iterdir())
    brev = [n for n in names if n.startswith("brev_")]
    assert len(brev) == 1 and re.fullmatch(r"brev_P[0-9a-f]{16}\.txt", brev[0])
    a = pd.read_csv(out / "personer.csv", sep=";", dtype=str, encoding="cp1252")["person_id"][0]
    # the same person (850315-1238) gets one pseudonym in every form and file
    notes = pd.read_csv(out / "anteckningar.csv", dtype=str)
    person = notes.loc[0, "text"].split()[1]
    assert notes.loc[1, "text"] == f"{person} eller {person}" and person != a
    assert notes.loc[0, "belopp"] == "503151235"  # a 9-digit amount in a number column is not a person
    wb2 = load_workbook(out / "extra.xlsx")
    ws2 = wb2.worksheets[0]
    assert ws2.title == f"blad {person}" and ws2["B2"].value == person and ws2["C2"].value == person
    assert ws2["B2"].comment.text == f"handläggare: {person}" and wb2.properties.creator == person
    assert re.fullmatch(r"P[0-9a-f]{16}", ws2["A2"].value)  # 0503151235, another person
    t = pd.read_parquet(out / "extra.parquet")
    assert isinstance(t["kategori"].dtype, pd.CategoricalDtype) and list(t["kategori"]) == [person, "ok", person]
    assert list(t["flyttal"])[:2] == [person, "1.5"] and t["heltal"][0] == ws2["A2"].value
    assert t["text"][0] == f"se {person}"
    assert (out / "utf16.csv").read_bytes().startswith(b"\xff\xfe")
    assert pd.read_csv(out / "utf16.csv", sep=";", encoding="utf-16")["text"][0] == person


def test_refuses_what_it_cannot_pseudonymise(tmp_path, study, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"lista": pa.array([["a", PNR], ["b"]])}), study / "nastlad.parquet")
    out = tmp_path / "ut"
    code = main(["pseudonymise", str(study), str(out), "--key-file", str(tmp_path / "k.key")])
    err = capsys.readouterr().err
    assert code == 1 and "nastlad.parquet" in err and "kolumn lista" in err and "Inget har skrivits" in err
    assert "1238" not in err and not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_binary_file_is_not_copied_and_a_json_file_is_pseudonymised(tmp_path, study):
    import json

    (study / "bild.png").write_bytes(b"\x89PNG\x00\x00" + PNR.encode())
    (study / "studie.json").write_text(json.dumps({"kontakt": PNR, "nr": 503151235, "ok": 1}), encoding="utf-8")
    summary = pseudonymise(study, tmp_path / "ut", key_file=tmp_path / "k.key")
    assert "bild.png" in summary.skipped and not (tmp_path / "ut" / "bild.png").exists()
    meta = json.loads((tmp_path / "ut" / "studie.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"P[0-9a-f]{16}", meta["kontakt"]) and re.fullmatch(r"P[0-9a-f]{16}", meta["nr"])
    assert meta["ok"] == 1


def test_key_file_that_is_a_folder_or_a_study_that_is_a_file(tmp_path, study, capsys):
    code = main(["pseudonymise", str(study), str(tmp_path / "ut"), "--key-file", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "är en mapp" in err and "Traceback" not in err
    code = main(["pseudonymise", str(study / "personer.csv"), str(tmp_path / "ut"), "--key-file", str(tmp_path / "k")])
    err = capsys.readouterr().err
    assert code == 1 and "är en fil" in err and not (tmp_path / "ut").exists()


def test_a_killed_run_leaves_no_readable_copy_and_the_next_run_removes_it(tmp_path, study):
    import os
    import signal
    import subprocess
    import sys
    import time

    from insats.atomic import TEMP_PREFIX
    from tests.support import ROOT

    out = tmp_path / "ut"
    script = (
        "import sys, time\n"
        "import insats.intake.pseudonymise as m\n"
        "orig = m._do_csv\n"
        "def slow(*a):\n"
        "    orig(*a)\n"
        "    time.sleep(60)\n"
        "m._do_csv = slow\n"
        "m.pseudonymise(sys.argv[1], sys.argv[2], key_file=sys.argv[3])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.Popen([sys.executable, "-c", script, str(study), str(out), str(tmp_path / "k.key")], env=env)
    try:
        deadline = time.monotonic() + 60
        temp = []
        while time.monotonic() < deadline:
            temp = [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX) and any(p.glob("*.csv"))]
            if temp:
                break
            time.sleep(0.1)
        assert temp, "the run never started writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (left,) = temp
    assert stat.S_IMODE(left.stat().st_mode) == 0o700  # only the owner can read the half-made copy
    assert not out.exists()
    summary = pseudonymise(study, out, key_file=tmp_path / "k.key")
    assert not left.exists() and any("avbruten körning" in w for w in summary.warnings)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- issue 14: links and special files
@pytest.mark.parametrize("target", ["key", "passwd", "table"])
def test_a_symbolic_link_is_refused_never_followed(tmp_path, study, capsys, target):
    import os

    key = tmp_path / "k.key"
    pseudonymise(study, tmp_path / "forsta", key_file=key)  # creates the key
    secret = key.read_text(encoding="ascii").strip()
    linked = {"key": key, "passwd": "/etc/passwd", "table": study / "insatser.csv"}[target]
    (study / "nyckel.txt").symlink_to(linked)
    out = tmp_path / "ut"
    code = main(["pseudonymise", str(study), str(out), "--key-file", str(key)])
    err = capsys.readouterr().err
    assert code == 1 and "nyckel.txt" in err and "symbolisk länk" in err and "Inget har skrivits" in err
    assert secret not in err and "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    os.unlink(study / "nyckel.txt")


def test_a_named_pipe_is_refused_without_hanging(tmp_path, study):
    import os
    import signal

    def hung(*_):
        raise TimeoutError("pseudonymise opened the named pipe")

    os.mkfifo(study / "personer2.csv")  # reading it would wait for a writer forever
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        with pytest.raises(PseudonymiseError, match="inte en vanlig fil"):
            pseudonymise(study, tmp_path / "ut", key_file=tmp_path / "k.key")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert not (tmp_path / "ut").exists()


def test_personnummer_in_parquet_metadata_is_removed(tmp_path, study):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame({"person_id": ["X1", "X2"], "antal": [1, 2]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    field = table.schema.field("antal").with_metadata({"kalla": f"utdrag för {PNR}"})
    table = table.set_column(1, field, table.column(1))
    table = table.replace_schema_metadata({**table.schema.metadata, b"handlaggare": PNR.encode(), b"ok": b"1"})
    pq.write_table(table, study / "extra.parquet")
    out = tmp_path / "ut"
    pseudonymise(study, out, key_file=tmp_path / "k.key")
    schema = pq.read_schema(out / "extra.parquet")
    assert set(schema.metadata) == {b"pandas"}  # only what pandas needs to read the table back
    assert all(not schema.field(n).metadata for n in schema.names)
    assert PNR not in (out / "extra.parquet").read_bytes().decode("latin-1")
    assert pd.read_parquet(out / "extra.parquet")["antal"].tolist() == [1, 2]


def test_an_invisible_character_inside_a_personnummer_does_not_hide_it(tmp_path, study, capsys):
    """Validate and pseudonymise share the detector: a zero-width character or soft hyphen inside the
    digits is found by both, and the number is replaced by the person's one pseudonym."""
    (study / "anteckningar.csv").write_text(
        f"nr,text\n1,ring 8503\u200b15-1238\n2,{PNR} eller 85031\u00ad5-12\u206038\n", encoding="utf-8"
    )
    assert main(["validate", str(study)]) == 1
    assert "1238" not in "".join(capsys.readouterr())
    out = tmp_path / "ut"
    assert main(["pseudonymise", str(study), str(out), "--key-file", str(tmp_path / "k.key")]) == 0
    notes = pd.read_csv(out / "anteckningar.csv", dtype=str)
    person = notes.loc[0, "text"].split()[1]
    assert re.fullmatch(r"P[0-9a-f]{16}", person)
    assert notes.loc[1, "text"] == f"{person} eller {person}"
