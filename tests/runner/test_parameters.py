"""Params are data, never code (issue 14, item 2): names declared by the notebook, plain values,
injected as checked literals."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insats.cli import main
from insats.errors import EXIT_USAGE, ConfigError
from insats.runner.config import load_params
from insats.runner.execute import _prepare_notebook
from insats.runner.inputs import FolderHashes
from insats.runner.parameters import check_injected, declared_parameters, inject, injected_source, literal
from insats.runner.plan import plan
from tests.runner.test_batch import NOTEBOOKS, make_project

HOSTILE = "x = 1; __import__('os').system('touch pwned'); y"


def test_the_code_injection_key_is_refused_with_exit_2(tmp_path, monkeypatch, capsys):
    params = make_project(tmp_path)
    text = params.read_text(encoding="utf-8")
    params.write_text(f'"{HOSTILE}": 1\n' + text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_params(params)
    message = str(err.value)
    assert str(params) in message and "__import__" in message and "parameternamn" in message
    assert main(["run", str(params), "--quiet"]) == EXIT_USAGE
    assert "parameternamn" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()
    assert not list(tmp_path.rglob("pwned"))
    assert not (tmp_path / "reports").exists()  # nothing ran


@pytest.mark.parametrize(
    "line, key, words",
    [
        ("okand_parameter: 3", "okand_parameter", "ingen notebook"),
        ('"class": 1', "class", "parameternamn"),
        ("fokus_omrade: 2016-01-01", "fokus_omrade", "citattecken"),
        ("fokus_omrade: .nan", "fokus_omrade", "ändligt"),
        ("fokus_omrade: !!binary aGVq", "fokus_omrade", "bytes"),
        ("fokus_omrade: [[[[[1]]]]]", "fokus_omrade", "nästlade"),
    ],
)
def test_unusable_keys_and_values_name_the_file_and_key(tmp_path, line, key, words):
    params = make_project(tmp_path, extra=line)
    with pytest.raises(ConfigError) as err:
        load_params(params)
    assert str(params) in str(err.value) and key in str(err.value) and words in str(err.value)


def test_each_notebook_gets_only_the_parameters_it_declares(tmp_path):
    params = make_project(tmp_path, extra='fokus_omrade: "01"\nsov_sekunder: 0')
    cfg = load_params(params)
    study, profile = cfg.notebooks[0], cfg.profile
    assert set(cfg.parameters_for(study, cfg.studies[0])) == {"data_dir", "fran", "till", "min_cell", "fokus_omrade"}
    got = cfg.parameters_for(profile, cfg.studies[0], omrade="02")
    assert got["omrade"] == "02" and "fokus_omrade" not in got and got["sov_sekunder"] == 0


def test_declared_parameters_read_from_the_parameters_cell():
    declared = declared_parameters(NOTEBOOKS / "profil.ipynb")
    assert list(declared)[:3] == ["data_dir", "omrade", "fran"] and declared["fran"] == '"2012-01"'
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1")])
    assert declared_parameters(nb) == {}  # no cell tagged parameters: nothing may be injected
    bad = nbformat.v4.new_code_cell("a = (")
    bad.metadata["tags"] = ["parameters"]
    with pytest.raises(ConfigError, match="parametercellen"):
        declared_parameters(nbformat.v4.new_notebook(cells=[bad]))


def test_inject_writes_literals_after_the_parameters_cell():
    nb = nbformat.read(NOTEBOOKS / "profil.ipynb", as_version=4)
    nb.metadata["papermill"] = {}
    value = 'Spånga"; import os #\n\\x'
    out = inject(nb, {"omrade": value, "sov_sekunder": 2.5, "fel_omrade": None}, input_path="in", output_path="ut")
    index = next(i for i, c in enumerate(out.cells) if "parameters" in c.metadata.get("tags", []))
    cell = out.cells[index + 1]
    assert cell.metadata["tags"] == ["injected-parameters"]
    tree = ast.parse(cell.source)
    assert [type(n).__name__ for n in tree.body] == ["Assign", "Assign", "Assign"]
    namespace: dict = {}
    exec(compile(tree, "injected", "exec"), {}, namespace)  # the cell as a kernel would run it
    assert namespace == {"omrade": value, "sov_sekunder": 2.5, "fel_omrade": None}
    assert out.metadata.papermill["parameters"]["omrade"] == value
    assert out.metadata.papermill["input_path"] == "in" and out.metadata.papermill["output_path"] == "ut"
    with pytest.raises(ConfigError, match="parametercellen"):
        inject(nb, {"okand": 1}, input_path="in", output_path=None)


def test_check_injected_refuses_anything_but_literal_assignments():
    declared = {"a": "1", "b": "2"}
    check_injected("# Parameters\na = 1\nb = [1, 'x']\n", {"a": 1, "b": [1, "x"]}, declared)
    for source in (
        "a = 1; import os",
        "a = __import__('os').getcwd()",
        "a = b = 1",
        "a = 1\nc = 2",
        "a += 1",
        "a = 2",
    ):
        with pytest.raises(ConfigError):
            check_injected(source, {"a": 1}, declared)


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(value=PLAIN)
def test_every_plain_value_round_trips_as_a_literal(value):
    source = injected_source({"p": value})
    check_injected(source, {"p": value}, {"p": ""})
    assert ast.literal_eval(literal(value)) == json.loads(json.dumps(value))


def test_a_run_injects_exactly_the_declared_parameters(tmp_path):
    params = make_project(tmp_path, extra='fokus_omrade: "01"\nsov_sekunder: 0')
    cfg = load_params(params)
    planned, _ = plan(cfg, only=None, force=True, previous={}, version="x", preimports=(), hashes=FolderHashes())
    names = {}
    for p in planned:
        nb = _prepare_notebook(p.task)
        injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        names[p.task.name] = [n.targets[0].id for n in ast.parse(injected.source).body]
    assert names["studie"] == ["data_dir", "fran", "till", "min_cell", "fokus_omrade"]
    assert names["profil_02"] == ["data_dir", "fran", "till", "min_cell", "sov_sekunder", "omrade"]
