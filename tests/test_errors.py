"""Tests of insats.errors: the Swedish reasons given for operating-system and YAML errors."""

from __future__ import annotations

import errno
import re

import pytest
import yaml

from insats.errors import os_reason, yaml_problem

ENGLISH = re.compile(r"\b(found|expected|mapping|could not|while|allowed|token|stream|No such|denied)\b")

BROKEN_YAML = [
    "a: b: c",
    "a:\n\tb: 1",
    "a: [1, 2",
    "a: {b",
    "a: 'x",
    "- a\nb: 1",
    "a: *x",
    "a: !!python/object/apply:os.system ['touch pwned']",
    "key: value\n  bad: 1",
    "a: @x",
]


@pytest.mark.parametrize("text", BROKEN_YAML)
def test_a_broken_yaml_file_is_explained_in_swedish_with_its_place(text):
    with pytest.raises(yaml.YAMLError) as info:
        yaml.safe_load(text)
    said = yaml_problem(info.value)
    assert not ENGLISH.search(said), said
    assert re.search(r"rad \d+, kolumn \d+", said), said


def test_an_unknown_yaml_problem_keeps_its_text_and_place():
    exc = yaml.scanner.ScannerError(problem="something new", problem_mark=yaml.Mark("f", 0, 4, 2, "", 0))
    assert yaml_problem(exc) == "something new på rad 5, kolumn 3"


@pytest.mark.parametrize(
    ("code", "swedish"),
    [
        (errno.ENOENT, "finns inte"),
        (errno.EACCES, "behörighet saknas"),
        (errno.ENOSPC, "disken är full"),
        (errno.EISDIR, "är en mapp"),
        (errno.ENAMETOOLONG, "för långt"),
        (errno.EROFS, "skrivskyddat"),
    ],
)
def test_an_os_error_is_explained_in_swedish(code, swedish):
    assert swedish in os_reason(OSError(code, "English text from the system"))


def test_an_os_error_without_a_known_errno_keeps_the_systems_text():
    assert os_reason(OSError(errno.ECONNRESET, "Connection reset")) == "Connection reset"
