"""``insats new-study NAME --data DIR``: a params file copied from the closest example, with the
study's folder and period, that ``load_params`` accepts; never an overwrite, never an unsafe name."""

from __future__ import annotations

import shutil

import pytest
import yaml

from insats.cli import main
from insats.errors import UsageError
from insats.intake.synth import generate
from insats.runner.config import load_params
from insats.runner.newstudy import check_name, new_study
from tests.support import ROOT

STOCKHOLM = ROOT / "data" / "exempel" / "stockholm"
SUNDBYBERG = ROOT / "data" / "exempel" / "sundbyberg"

pytestmark = pytest.mark.skipif(not STOCKHOLM.is_dir() or not SUNDBYBERG.is_dir(), reason="exempeldata saknas")


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples are found from the current folder, as for a user


def test_kartlaggning_study_gets_the_stockholm_example_with_its_own_folder_and_period(tmp_path):
    study = tmp_path / "data" / "solna"
    shutil.copytree(STOCKHOLM, study)
    # a shorter period than the example's: drop the first year of bistand
    lines = (study / "bistand.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    month_col = header.split(",").index("manad")
    kept = [r for r in rows if not r.split(",")[month_col].startswith("2012")]
    assert 0 < len(kept) < len(rows)
    (study / "bistand.csv").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")

    result = new_study("solna_2024", study, params_dir=tmp_path / "params")
    assert result.path == (tmp_path / "params" / "solna_2024.yaml").resolve()
    assert result.example == ROOT / "params" / "stockholm_2013.yaml"
    text = result.path.read_text(encoding="utf-8")
    assert text.startswith("# Studien solna_2024: skapad med insats new-study")
    data = yaml.safe_load(text)
    assert data["data_dir"] == str(study)  # outside the repository: absolute
    assert (data["fran"], data["till"]) == ("2013-01", "2013-12") == (result.start, result.end)
    assert data["korning"]["namn"] == "solna_2024"
    example = yaml.safe_load((ROOT / "params" / "stockholm_2013.yaml").read_text(encoding="utf-8"))
    assert {k: v for k, v in data.items() if k not in ("data_dir", "fran", "till", "korning")} == {
        k: v for k, v in example.items() if k not in ("data_dir", "fran", "till", "korning")
    }
    assert {k: v for k, v in data["korning"].items() if k != "namn"} == {
        k: v for k, v in example["korning"].items() if k != "namn"
    }
    config = load_params(result.path, root=ROOT)
    assert config.data_dir == study and config.name == "solna_2024"


def test_a_study_with_a_reform_date_gets_the_sundbyberg_example_and_a_relative_folder(tmp_path):
    result = new_study("sundbyberg_igen", ROOT / "data" / "exempel" / "sundbyberg", params_dir=tmp_path)
    data = yaml.safe_load(result.path.read_text(encoding="utf-8"))
    assert result.example.name == "sundbyberg_2016.yaml"
    assert data["data_dir"] == "data/exempel/sundbyberg"  # inside the repository: relative to its root
    assert data["reform_datum"] == "2016-01-01" and data["korning"]["notebooks"] == ["utvardering"]
    assert (data["fran"], data["till"]) == ("2015-01", "2016-12")


def test_refuses_to_overwrite(tmp_path):
    target = tmp_path / "min_studie.yaml"
    target.write_text("# mitt arbete\n", encoding="utf-8")
    with pytest.raises(UsageError, match="finns redan och skrivs inte över"):
        new_study("min_studie", STOCKHOLM, params_dir=tmp_path)
    assert target.read_text(encoding="utf-8") == "# mitt arbete\n"


@pytest.mark.parametrize(
    "name", ["../x", "a/b", "", "-x", "_x", "två ord", "x.yaml", "ö", "a" * 65, "con", "NUL", "lpt1"]
)
def test_unsafe_names_are_refused(name, tmp_path):
    with pytest.raises(UsageError):
        check_name(name)
    with pytest.raises(UsageError):
        new_study(name, STOCKHOLM, params_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["solna_2024", "2024", "true", "null", "A-1"])
def test_names_yaml_would_read_as_other_types_stay_text(name, tmp_path):
    result = new_study(name, SUNDBYBERG, params_dir=tmp_path)  # the small example: quick
    assert load_params(result.path, root=ROOT).name == name


def test_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="finns inte"):
        new_study("x", tmp_path / "saknas", params_dir=tmp_path)


def test_cli_prints_the_next_steps_in_swedish(tmp_path, capsys):
    assert main(["new-study", "min_studie", "--data", "data/exempel/stockholm", "--params-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Parameterfil skriven:" in out and "Nästa steg:" in out
    assert "insats validate data/exempel/stockholm" in out
    assert f"insats run {tmp_path / 'min_studie.yaml'}" in out and "make lab" in out
    assert main(["new-study", "min_studie", "--data", "data/exempel/stockholm", "--params-dir", str(tmp_path)]) == 2
    assert "skrivs inte över" in capsys.readouterr().err


def test_assessments_alone_do_not_make_an_utvardering(tmp_path):
    """The generated Stockholm has bedomningar (the kartläggning shows en väg in) but no reform date."""
    study = generate("stockholm", tmp_path / "studie", seed=4, persons=200)
    assert (study / "bedomningar.csv").exists()
    result = new_study("med_bedomningar", study, params_dir=tmp_path / "params")
    assert result.example.name == "stockholm_2013.yaml"
