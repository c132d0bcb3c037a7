import pandas as pd
import pytest

from insats.data.personnummer import (
    find_personnummer,
    has_personnummer,
    is_personnummer,
    redact,
    series_has_personnummer,
)

VALID = ["19121212-1212", "121212-1212", "1212121212", "191212121212", "121212+1212", "701063-2391", "19701063-2391"]
INVALID = [
    "19121212-1213",
    "121212-1213",
    "1234567890",
    "701063-2392",
    "121312-1212",
    "121200-1212",
    "2013-01-05",
    "12121212121",
    "P000123",
    "",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_numbers(text):
    assert is_personnummer(text)
    assert has_personnummer(f"se {text} i akten")


@pytest.mark.parametrize("text", INVALID)
def test_invalid_numbers(text):
    assert not is_personnummer(text)
    assert not has_personnummer(text)


def test_embedded_and_redacted():
    text = "ring 19121212-1212 eller 701063-2391, inte 1234567890"
    assert find_personnummer(text) == ["19121212-1212", "701063-2391"]
    out = redact(text)
    assert "1212" not in out and "2391" not in out and "1234567890" in out


def test_series_vectorised():
    s = pd.Series(["a", "se 19121212-1212", None, "1234567890", "x701063-2391y", "P1"], dtype="str")
    assert series_has_personnummer(s).tolist() == [False, True, False, False, True, False]
    obj = pd.Series([1212121212.0, 5.5, None, "121212-1212"], dtype=object)
    assert series_has_personnummer(obj).tolist() == [True, False, False, True]
    ints = pd.Series([1212121212, 5, 1234567890], index=[2, 3, 4])
    assert series_has_personnummer(ints).tolist() == [True, False, False]
    short = pd.Series(["P1", "P2"], dtype="str")
    assert not series_has_personnummer(short).any()
