"""Outputs are written atomically: a failure leaves the old file as it was and no temp file."""

import pytest

from insats.atomic import atomic_path, atomic_write


def test_atomic_write_replaces(tmp_path):
    target = tmp_path / "ut" / "rapport.csv"
    atomic_write(target, "a;b\n1;2\n")
    atomic_write(target, "a;b\n3;4\n")
    assert target.read_text(encoding="utf-8") == "a;b\n3;4\n"
    assert [p.name for p in target.parent.iterdir()] == ["rapport.csv"]


def test_failure_keeps_the_old_output(tmp_path):
    target = tmp_path / "rapport.xlsx"
    target.write_bytes(b"gammal")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".xlsx" and tmp.parent == tmp_path
        tmp.write_bytes(b"halvf")
        raise RuntimeError("avbrott mitt i skrivningen")
    assert target.read_bytes() == b"gammal"
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.xlsx"]
