"""Params files of batch runs (insats.runner.config): paths resolved, errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insats.runner.config import ConfigError, load_params, resolve
from tests.runner.test_batch import make_project


def test_load_params_resolves_paths_and_areas(tmp_path):
    params = make_project(tmp_path)
    cfg = load_params(params)
    assert cfg.root == tmp_path.resolve()
    assert cfg.notebooks == [tmp_path.resolve() / "notebooks" / "studie.ipynb"]
    assert cfg.profile.name == "profil.ipynb"
    assert cfg.out_dir == tmp_path.resolve() / "reports" / "test"
    nb_params = cfg.notebook_parameters(omrade="01")
    assert nb_params["data_dir"] == str(tmp_path.resolve() / "data" / "s")
    assert Path(nb_params["data_dir"]).is_absolute()
    assert nb_params["omrade"] == "01" and "korning" not in nb_params
    assert resolve("/abs/x", tmp_path) == Path("/abs/x")


@pytest.mark.parametrize(
    "korning, extra, key",
    [
        ("  okand: 1", "", "korning.okand"),
        ("", 'fran: "2012-13"', "fran"),
        ("  cell_timeout: -1", "", "korning.cell_timeout"),
    ],
)
def test_load_params_errors_name_the_key(tmp_path, korning, extra, key):
    params = make_project(tmp_path, korning=korning)
    if extra:
        params.write_text(params.read_text().replace('fran: "2012-01"', extra))
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_params(params)


def test_load_params_missing_notebook_and_section(tmp_path):
    params = make_project(tmp_path)
    params.write_text(params.read_text().replace("profil: profil", "profil: finnsinte"))
    with pytest.raises(ConfigError, match=r"finnsinte.*finns inte"):
        load_params(params)
    params.write_text("data_dir: data/s\n")
    with pytest.raises(ConfigError, match="korning"):
        load_params(params)
