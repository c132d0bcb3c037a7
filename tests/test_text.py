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
