"""Argument types and the Swedish argument parser of the ``insats`` command."""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from insats.errors import EXIT_USAGE, printable


# --------------------------------------------------------------------------- argument types
def month(text: str) -> str:
    """``ÅÅÅÅ-MM`` with a real month (an argparse type)."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r} är ingen månad; skriv ÅÅÅÅ-MM, t.ex. 2015-01")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def min_cell(text: str) -> int:
    """The smallest count shown: a whole number of at least 1 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal; skriv t.ex. 5") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{value} är för litet; minsta cell måste vara minst 1 (1 stänger av röjandekontrollen, "
            "bara för intern kvalitetskontroll)"
        )
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} måste vara minst 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} är inget heltal") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} får inte vara negativt")
    return value


def port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} är ingen port; välj 1–65535, t.ex. 8866")
    return value


# --------------------------------------------------------------------------- Swedish argparse
_ARGPARSE_SV: list[tuple[str, str]] = [
    (r"the following arguments are required: (.*)", r"följande argument saknas: \1"),
    (r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)", r"argumentet \1: ogiltigt val \2 (välj bland \3)"),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"argumentet \1: ogiltigt värde \3"),
    (r"argument (.*?): expected one argument", r"argumentet \1 behöver ett värde"),
    (r"argument (.*?): expected at least one argument", r"argumentet \1 behöver minst ett värde"),
    (r"argument (.*?): not allowed with argument (.*)", r"argumentet \1 kan inte användas tillsammans med \2"),
    (r"argument (.*?): (.*)", r"argumentet \1: \2"),
    (r"unrecognized arguments: (.*)", r"okända argument: \1"),
    (r"one of the arguments (.*) is required", r"ett av argumenten \1 behövs"),
]


class SwedishArgumentParser(argparse.ArgumentParser):
    """argparse with Swedish error messages, help headings and exit code 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argument"
        self._optionals.title = "flaggor"
        self.add_argument("-h", "--help", action="help", help="visa den här hjälpen och avsluta")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "användning:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "användning:", 1)

    def error(self, message: str) -> NoReturn:
        for pattern, repl in _ARGPARSE_SV:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, repl, message)
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"Fel: {safe_text(message)}\nSe {self.prog} --help.\n")


def safe_text(text: str) -> str:
    """A message that quotes what the user gave (an argument, a value from a file) made safe to
    print: personnummer redacted, control characters escaped."""
    # imported on the error path only: the detector loads pandas, which `insats --help` never needs
    from insats.data.personnummer import redact

    return printable(redact(text))
