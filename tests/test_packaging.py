"""Set-up stays reproducible: pins agree everywhere, notebooks are committed without outputs."""

import ast
import importlib.util
import json
import re
import subprocess
import tomllib

import yaml

from insats import nbstrip
from tests.support import ROOT

CONDA_NAMES = {"duckdb": "python-duckdb", "fastjsonschema": "python-fastjsonschema"}


def _pins(requirements):
    out = {}
    for req in requirements:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^;\s]+)", req.strip()).groups()
        out[name.lower()] = version
    return out


def pyproject_pins():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    pins = _pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins.update(_pins(extra))
    return pins


def test_every_pyproject_dependency_is_pinned_exactly():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for req in data["project"]["dependencies"]:
        assert "==" in req, req


def test_environment_yml_agrees_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            conda[name.lower()] = version
    assert conda.pop("python") == "3.11"
    expected = {CONDA_NAMES.get(n, n): v for n, v in pyproject_pins().items()}
    assert conda == expected


def test_constraints_agree_with_pyproject():
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pinned = _pins([ln for ln in lines if ln and not ln.startswith("#")])
    for name, version in pyproject_pins().items():
        assert pinned.get(name) == version, f"{name}: constraints {pinned.get(name)} != pyproject {version}"


def test_no_committed_notebook_has_outputs():
    files = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        blob = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=ROOT, capture_output=True, text=True)
        if blob.returncode:  # added but not yet committed
            continue
        nb = json.loads(blob.stdout)
        with_output = [i for i, c in enumerate(nb["cells"]) if c.get("outputs")]
        assert not with_output, f"{name}: cells {with_output} have outputs; run make setup (git filter)"


def test_nbstrip_removes_outputs_and_keeps_tags():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {"tags": ["parameters"], "execution": {}},
                "outputs": [{"output_type": "stream", "text": "x"}],
                "source": "a = 1",
            },
            {"cell_type": "markdown", "metadata": {}, "source": "# Rubrik"},
        ],
        "metadata": {"papermill": {"x": 1}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    out = nbstrip.strip(nb)
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["execution_count"] is None
    assert out["cells"][0]["metadata"] == {"tags": ["parameters"]}
    assert "papermill" not in out["metadata"]


def _first_party_file(module):
    """The source file of an ``insats`` or ``tests`` module, or None when it does not exist."""
    parts = module.split(".")
    path = (ROOT / "lib" if parts[0] == "insats" else ROOT).joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(path):
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_benchmark_scripts_import_what_exists():
    """The benchmarks are scripts no test runs: what they import from the project (``insats``,
    ``tests``) must exist after a module moves, and they import no module that is neither the
    project's, nor installed, nor a declared dependency (a stale ``sys.path`` helper such as
    ``browser_util``)."""
    declared = set(pyproject_pins())
    problems = []
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
                modules = [(node.module, [a.name for a in node.names])]
            elif isinstance(node, ast.Import):
                modules = [(a.name, []) for a in node.names]
            else:
                continue
            for module, names in modules:
                where = f"{script.name}:{node.lineno} {module}"
                if module.split(".")[0] in ("insats", "tests"):
                    path = _first_party_file(module)
                    if path is None:
                        problems.append(f"{where}: no such module")
                        continue
                    missing = [
                        n for n in names if n not in _top_level_names(path) and not _first_party_file(f"{module}.{n}")
                    ]
                    if missing:
                        problems.append(f"{where}: no {', '.join(missing)}")
                elif module.split(".")[0] not in declared and importlib.util.find_spec(module.split(".")[0]) is None:
                    problems.append(f"{where}: neither installed nor a dependency")
    assert not problems, problems


def test_kernel_imports_skip_what_costs_a_second_and_charts_still_validate():
    """A dashboard kernel imports neither jsonschema's IRI grammar (``rfc3987_syntax``) nor all of
    statsmodels (``statsmodels.api``), and altair still validates a chart against its schema: an
    invalid encoding is still refused (benchmarks/imports.py measures what this saves)."""
    code = (
        "import sys\n"
        "import insats.dashboards.jamfor\n"  # first, as in the dashboards' notebooks
        "import altair as alt, pandas as pd\n"
        "assert sys.modules.get('rfc3987_syntax') is None, 'rfc3987_syntax imported'\n"
        "assert 'statsmodels.api' not in sys.modules, 'statsmodels.api imported'\n"
        "alt.Chart(pd.DataFrame({'a': [1]})).mark_bar().encode(x='a:Q').to_dict()\n"
        "try:\n"
        "    alt.Chart(pd.DataFrame({'a': [1]})).mark_bar().encode(x=alt.X('a:Q', bin='ja')).to_dict()\n"
        "except Exception as e:\n"
        "    print('refused', type(e).__name__)\n"
    )
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused")
