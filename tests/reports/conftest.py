"""Fixtures shared by the tests of ``insats.reports``."""

from __future__ import annotations

from pathlib import Path

import pytest

from insats.reports import publication as P
from insats.reports import sharing


@pytest.fixture()
def private(tmp_path, monkeypatch) -> Path:
    """A private sharing folder (mode 0700) named in ``INSATS_SHARED_DIR``, with no publication
    kept in memory before or after the test."""
    folder = tmp_path / "delat"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    monkeypatch.setenv(sharing.ENV_SHARED, str(folder))
    P._CACHE.clear()
    yield folder
    P._CACHE.clear()
