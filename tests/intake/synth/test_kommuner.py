"""`insats generate kommuner --count N`: municipalities of varied size for runs over many studies."""

from __future__ import annotations

import json

import pytest

from insats.atomic import sha256_of
from insats.cli import main
from insats.data.validate import validate_study
from insats.errors import EXIT_USAGE
from insats.intake.synth import generate_municipalities


def _digest(folder):
    return {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_municipalities_vary_validate_and_repeat(tmp_path, capsys):
    assert (
        main(["generate", "kommuner", "--count", "3", "--out", str(tmp_path / "k"), "--seed", "4", "--persons", "60"])
        == 0
    )
    assert "3 syntetiska kommuner" in capsys.readouterr().out
    folders = sorted((tmp_path / "k").iterdir())
    assert [f.name for f in folders] == ["kommun_01", "kommun_02", "kommun_03"]
    metas = [json.loads((f / "studie.json").read_text(encoding="utf-8")) for f in folders]
    assert [m["kommun_kod"] for m in metas] == ["9001", "9002", "9003"]
    assert all(m["syntetisk"] and m["typ"] == "kommuner" for m in metas)
    sizes = {m["personer"] for m in metas}
    areas = {len(m["planterade_effekter"]["omrade"]) for m in metas}
    assert len(sizes) == 3 and all(15 <= s <= 240 for s in sizes)  # a quarter to four times 60
    assert all(3 <= a <= 14 for a in areas)
    for folder, meta in zip(folders, metas):
        report = validate_study(folder)
        assert not report.errors, report.format()
        omraden = (folder / "omraden.csv").read_text(encoding="utf-8")
        assert f",{meta['kommun_kod']},Exempelkommun {meta['serie']['nummer']}," in omraden
        assert len({line.split(",")[0] for line in omraden.splitlines()[1:]}) == len(
            meta["planterade_effekter"]["omrade"]
        )
    again = generate_municipalities(tmp_path / "igen", count=3, seed=4, persons=60)
    assert [_digest(f) for f in again] == [_digest(f) for f in folders]


def test_count_is_required_and_only_for_kommuner(tmp_path, capsys):
    assert main(["generate", "kommuner", "--out", str(tmp_path / "a")]) == EXIT_USAGE
    assert "--count" in capsys.readouterr().err
    assert main(["generate", "stockholm", "--count", "2", "--out", str(tmp_path / "b")]) == EXIT_USAGE
    with pytest.raises(SystemExit) as exit_:  # argparse refuses it
        main(["generate", "kommuner", "--count", "0", "--out", str(tmp_path / "c")])
    assert exit_.value.code == EXIT_USAGE


def test_real_data_is_never_overwritten(tmp_path):
    real = tmp_path / "k" / "kommun_01"
    real.mkdir(parents=True)
    (real / "personer.csv").write_text("person_id\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        generate_municipalities(tmp_path / "k", count=2, seed=1, persons=60)
    assert (real / "personer.csv").read_text(encoding="utf-8") == "person_id\n"
    assert not (tmp_path / "k" / "kommun_02").exists()  # checked before anything was written
