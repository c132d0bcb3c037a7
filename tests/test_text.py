"""File-name stems from any text (insats.text.slug)."""

from __future__ import annotations

import pytest

from insats.text import SLUG_MAX, slug


@pytest.mark.parametrize(
    "text, stem",
    [("Jämför områden", "jamfor_omraden"), ("../x", "x"), ("a/b", "a_b"), ("", "x"), ("\x07", "x")],
)
def test_slug_is_a_safe_stem(text, stem):
    assert slug(text) == stem


def test_long_texts_are_cut_and_kept_apart():
    a, b = "kommun_" + "a" * 80, "kommun_" + "a" * 79 + "b"
    assert len(slug(a)) == len(slug(b)) == SLUG_MAX
    assert slug(a) != slug(b)
    assert slug(a)[:-9] == slug(b)[:-9]


def test_a_folder_name_that_is_not_utf8_still_gets_a_stem():
    """``os.listdir`` gives undecodable bytes as surrogates; a long such name must not crash a run."""
    name = "Exempelkommun " * 5 + "\udcff"
    stem = slug(name)
    assert len(stem) == SLUG_MAX and stem != slug(name[:-1] + "x")


def test_format_number_gives_missing_for_infinite_values():
    """An O/E whose expected count is 0 is infinite: shown as missing, never a crash."""
    from insats.text import format_number

    assert format_number(float("inf"), 2, missing="–") == "–"
    assert format_number(-float("inf"), 1, percent=True) == ""
    assert format_number(1.5, 1) == "1,5"


def test_format_number_handles_huge_values():
    """An O/E over a tiny expected count can be 1e300: every digit, no error."""
    from insats.text import format_number

    assert format_number(1e30, 2).replace("\u202f", "") == "1" + "0" * 30 + ",00"
    assert format_number(1e300, 0).endswith("0") and format_number(-1e300, 1, percent=True).startswith("\u2212")
