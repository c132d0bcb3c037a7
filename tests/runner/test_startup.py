"""``insats.runner.startup``: the modules a batch process loads, and when."""

from __future__ import annotations

import importlib
import sys
import textwrap
import time

import pytest

from insats.runner.startup import import_soon


@pytest.fixture()
def modules(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(name: str, body: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_a_module_imported_soon_runs_once_and_a_later_import_waits_for_it(modules, tmp_path):
    runs = tmp_path / "runs.txt"
    name = modules(
        "insats_test_slow_module",
        f"""
        import threading, time
        with open({str(runs)!r}, "a") as fh:
            fh.write(threading.current_thread().name + "\\n")
        time.sleep(0.5)
        DONE = True
        """,
    )
    started = time.monotonic()
    import_soon(name)
    assert time.monotonic() - started < 0.4, "import_soon waited for the import"
    module = importlib.import_module(name)  # while the background import still sleeps
    assert module.DONE is True
    assert runs.read_text().splitlines() == ["insats-import"], "the module ran twice, or not in the background"


def test_a_module_that_fails_to_import_soon_fails_the_later_import_with_its_own_error(modules):
    name = modules("insats_test_broken_module", "raise ValueError('trasig modul')\n")
    import_soon(name)
    time.sleep(0.3)
    with pytest.raises(ValueError, match="trasig modul"):
        importlib.import_module(name)
