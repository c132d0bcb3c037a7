"""Every error the package raises on purpose, and the exit code the command line gives it.

Library code raises one of these with a Swedish message written for the user (what is wrong,
where, what to do); it never prints and never exits. ``insats.cli`` catches ``InsatsError`` once,
prints ``str(error)`` and ends with ``error.exit_code``. Anything else that escapes is a bug in the
package: the command line says so in Swedish, without a traceback (``INSATS_DEBUG=1`` shows it).

Exit codes (also in the README):

===  ==================================================================================
0    everything went well
1    the data has problems: validation errors, a report or the disclosure audit failed,
     pseudonymisation refused to finish
2    usage or configuration: command-line arguments, a params file, a path that does not
     exist or cannot be written
3    the environment: a network service (Kolada) unreachable, a port taken, a program missing
4    an internal error in insats (a bug: please report it)
130  interrupted (Ctrl+C)
===  ==================================================================================
"""

from __future__ import annotations

import errno
import re
from typing import Any

__all__ = [
    "EXIT_DATA",
    "EXIT_ENVIRONMENT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConfigError",
    "DataError",
    "EnvironmentProblem",
    "InsatsError",
    "KernelError",
    "KoladaError",
    "MappingError",
    "PseudonymiseError",
    "StudyError",
    "SurveyError",
    "UsageError",
    "os_reason",
    "printable",
    "yaml_problem",
]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


# C0 and C1 control characters (ANSI escape sequences start with ESC, \x1b), DEL, and the
# Unicode bidirectional controls that can make a terminal show text in another order than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def printable(text: object, *, one_line: bool = False) -> str:
    """Text that is safe to print on a terminal: control characters (an ANSI escape sequence
    from a cell, a NUL byte, a bidirectional override) are shown escaped, as ``\\x1b``, never sent
    raw. Line breaks and tabs are kept unless ``one_line`` (then they are shown as ``\\n``,
    ``\\t``): a value quoted inside a message must not start a line of its own."""
    text = str(text)
    pattern = _CONTROL_AND_BREAKS if one_line else _CONTROL
    return pattern.sub(_escape, text) if pattern.search(text) else text


class InsatsError(Exception):
    """Base of every error insats raises on purpose; ``str(error)`` is the Swedish message.

    The message is made ``printable``: text from a data file quoted in it (a file name, a header,
    an answer from Kolada) cannot drive the terminal."""

    exit_code = EXIT_DATA

    def __str__(self) -> str:
        return printable(super().__str__())


class DataError(InsatsError):
    """The input data cannot be used as it is (exit 1)."""

    exit_code = EXIT_DATA


class UsageError(InsatsError):
    """A command-line argument or a call's argument is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A params file (or the run configuration) is wrong; the message names file and key (exit 2)."""


class EnvironmentProblem(InsatsError):
    """Something outside insats is missing or unreachable: network, port, program (exit 3)."""

    exit_code = EXIT_ENVIRONMENT


class StudyError(DataError):
    """A study has validation errors. ``str`` is the formatted report, ``.report`` the
    ``insats.data.validate.ValidationReport`` itself."""

    def __init__(self, report: Any):
        self.report = report
        super().__init__(report.format())


class SurveyError(DataError):
    """A survey template cannot be written or filled-in surveys cannot be read."""


class MappingError(DataError):
    """A column mapping (``kolumnmappning.yaml``) is wrong; ``.problems`` lists every finding."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        lines = [f"Fel: {p}" for p in self.problems]
        super().__init__("\n".join([*lines, "Inget skrevs. Rätta kolumnmappningen och kör igen."]))


class PseudonymiseError(DataError):
    """Pseudonymisation refused to start or to finish; nothing was left behind."""


class KoladaError(EnvironmentProblem):
    """A request to Kolada failed, the answer had an unexpected shape, or the cache missed offline.

    ``url`` and ``status`` (HTTP status or None) are kept for code.
    """

    def __init__(self, message: str, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class KernelError(EnvironmentProblem):
    """A Jupyter kernel could not be started, did not answer, or its cleanup failed."""


_OS_REASONS = {
    "ENOENT": "filen eller mappen finns inte",
    "EACCES": "behörighet saknas",
    "EPERM": "åtgärden är inte tillåten",
    "EISDIR": "det är en mapp, inte en fil",
    "ENOTDIR": "en del av sökvägen är inte en mapp",
    "ENOSPC": "disken är full",
    "EDQUOT": "diskkvoten är slut",
    "EROFS": "filsystemet är skrivskyddat",
    "ENAMETOOLONG": "namnet är för långt",
    "EEXIST": "filen finns redan",
    "EBUSY": "filen används av ett annat program",
    "ELOOP": "för många symboliska länkar i sökvägen",
    "EMFILE": "för många öppna filer",
    "EIO": "läs- eller skrivfel på disken",
    "ENOTEMPTY": "mappen är inte tom",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in Swedish (the errno's meaning; the system's own,
    English, text only for an errno not listed)."""
    name = errno.errorcode.get(exc.errno or -1, "")
    return _OS_REASONS.get(name) or exc.strerror or str(exc)


_YAML_PROBLEMS = [
    (
        r"mapping values are not allowed here",
        "ett kolon där det inte får stå (saknas ett mellanslag efter kolon, eller är indraget fel?)",
    ),
    (r"found character '\\t' that cannot start any token", "ett tabbtecken; dra in med mellanslag"),
    (
        r"found character .* that cannot start any token",
        "ett tecken som inte får inleda ett värde; sätt värdet inom citattecken",
    ),
    (r"expected ',' or '\]', but got .*", "en lista [ … ] som inte avslutas med ]"),
    (r"expected ',' or '\}', but got .*", "en uppsättning { … } som inte avslutas med }"),
    (r"found unexpected end of stream", "filen tar slut inne i ett värde (saknas ett avslutande citattecken?)"),
    (r"expected <block end>, but found .*", "en rad som är indragen annorlunda än raderna runt den"),
    (r"could not find expected ':'", "ett kolon saknas efter en nyckel"),
    (r"found undefined alias .*", "en hänvisning (*namn) till något som inte finns"),
    (
        r"could not determine a constructor for the tag .*",
        "en typmärkning (!!…) som inte är tillåten; skriv bara text, tal och listor",
    ),
    (r"found duplicate anchor .*", "samma ankare (&namn) två gånger"),
]


def yaml_problem(exc: Exception) -> str:
    """What is wrong in a YAML file, in Swedish, with the line and column (from PyYAML's error;
    its own English text only for a problem not listed)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" på rad {mark.line + 1}, kolumn {mark.column + 1}" if mark is not None else ""
    problem = str(getattr(exc, "problem", None) or exc)
    for pattern, swedish in _YAML_PROBLEMS:
        if re.fullmatch(pattern, problem):
            return printable(f"{swedish}{where}", one_line=True)
    return printable(f"{problem}{where}", one_line=True)
