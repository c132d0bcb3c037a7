"""A small generated study shared by the tests of the validated copy and of reuse (tests/data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from insats.data import cache, validated
from insats.intake.synth import generate

PERSONS = 300


@pytest.fixture(scope="package")
def template(tmp_path_factory) -> Path:
    """A small generated Stockholm study, written once (tests copy it)."""
    return generate("stockholm", tmp_path_factory.mktemp("mall") / "studie", seed=5, persons=PERSONS)


@pytest.fixture
def study_dir(template, tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv(validated.CACHE_ENV, raising=False)
    monkeypatch.delenv(validated.SWITCH_ENV, raising=False)
    cache.forget()
    folder = tmp_path / "studie"
    shutil.copytree(template, folder)
    yield folder
    validated.wait_for_copies()
    cache.forget()
