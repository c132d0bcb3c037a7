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


# --------------------------------------------------------------------------- nbformat's checks, compiled
def _outputs() -> list[dict]:
    return [
        {"output_type": "stream", "name": "stdout", "text": "hej\n"},
        {"output_type": "display_data", "data": {"text/html": "<p>Å</p>", "text/plain": ""}, "metadata": {}},
        {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {}, "execution_count": 3},
        {"output_type": "error", "ename": "ValueError", "evalue": "fel", "traceback": ["rad 1", "rad 2"]},
    ]


def _variants() -> list[tuple[str, dict]]:
    """Each output as it is, and changed in every way a key can be: missing, extra, of another type."""
    out = []
    for good in _outputs():
        ref = good["output_type"]
        out.append((ref, good))
        for key in good:
            out.append((ref, {k: v for k, v in good.items() if k != key}))
            for other in (1, None, [], {}, "x", ["x"], {"text/plain": 1}):
                out.append((ref, {**good, key: other}))
        out.append((ref, {**good, "extra": 1}))
        out.append(("display_data" if ref != "display_data" else "stream", good))  # checked as another kind
    return out


def _verdict(check, node, ref):
    try:
        check(node, ref)
    except Exception as exc:  # the verdict and message are what is compared
        return type(exc).__name__, str(exc)
    return None


def test_fast_notebook_checks_give_nbformats_verdict_and_message_on_every_output():
    import nbformat
    from nbformat.v4 import nbbase

    from insats.runner.startup import fast_notebook_checks

    fast_notebook_checks()
    assert getattr(nbbase.validate, "insats_fast", False)

    def nbformats_own(node, ref):  # the independent route: nbformat's validate with jsonschema
        nbformat.validator.validate(node, ref=ref, version=4)

    cases = _variants()
    assert len(cases) > 100
    verdicts = [(_verdict(nbbase.validate, nbformat.from_dict(n), r), _verdict(nbformats_own, n, r)) for r, n in cases]
    assert sum(fast is None for fast, _ in verdicts) >= 4 and sum(fast is not None for fast, _ in verdicts) > 50
    for (ref, node), (fast, own) in zip(cases, verdicts, strict=True):
        assert fast == own, (ref, node)


def test_fast_notebook_checks_pass_a_valid_output_without_jsonschema(monkeypatch):
    import jsonschema
    from nbformat.v4 import nbbase, output_from_msg

    from insats.runner.startup import fast_notebook_checks

    fast_notebook_checks()
    nbbase.validate({"output_type": "stream", "name": "stdout", "text": ""}, "stream")  # compiled before the spy

    def refuse(*a, **k):
        raise AssertionError("jsonschema was used")

    monkeypatch.setattr(jsonschema.Draft4Validator, "iter_errors", refuse)
    msg = {"header": {"msg_type": "stream"}, "content": {"name": "stderr", "text": "varning\n"}}
    assert output_from_msg(msg) == {"output_type": "stream", "name": "stderr", "text": "varning\n"}


def test_fast_notebook_checks_set_nbformats_own_setting_unless_the_user_chose(monkeypatch):
    import nbformat

    from insats.runner.startup import NBFORMAT_VALIDATOR, fast_notebook_checks

    monkeypatch.delenv(NBFORMAT_VALIDATOR, raising=False)
    fast_notebook_checks()
    assert nbformat.json_compat.get_current_validator().name == "fastjsonschema"
    monkeypatch.setenv(NBFORMAT_VALIDATOR, "jsonschema")
    fast_notebook_checks()
    assert nbformat.json_compat.get_current_validator().name == "jsonschema"


def test_fast_notebook_checks_twice_change_nothing():
    from nbformat.v4 import nbbase

    from insats.runner.startup import fast_notebook_checks

    fast_notebook_checks()
    first = nbbase.validate
    fast_notebook_checks()
    assert nbbase.validate is first
