"""Notebook parameters are data, never code.

A params file is written by people and may be written by an attacker; papermill turns each
top-level key into ``key = value`` source and runs it, so a key like
``"x = 1; __import__('os').system('...'); y"`` would run as code. Here:

* a parameter's name must be declared by the notebook's ``parameters`` cell (an assignment to a
  plain name there; ``declared_parameters``), which also makes it a valid Python identifier;
* a value must be plain data: text, a whole number, a finite decimal number, true/false, null, or
  a list or mapping (text keys) of those (``value_problem``); a date written without quotes is
  refused, because it would not reach the notebook as text;
* the injected cell is written as Python literals (``literal``), then parsed again and checked to
  be nothing but ``name = literal`` lines whose values equal the given ones (``check_injected``),
  before it is put into the notebook (``inject``, papermill's conventions: an
  ``injected-parameters`` cell after the ``parameters`` cell and the parameters in
  ``metadata.papermill``).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import keyword
import math
from pathlib import Path
from typing import Any

from insats.errors import ConfigError

__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "check_injected",
    "declared_parameters",
    "inject",
    "injected_source",
    "literal",
    "value_problem",
]

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
MAX_DEPTH = 4
"""Lists and mappings may nest this deep."""


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tagged(nb, tag: str) -> int:
    for i, cell in enumerate(nb.get("cells", [])):
        if tag in (cell.get("metadata", {}).get("tags") or []):
            return i
    return -1


def _load(nb_or_path):
    if isinstance(nb_or_path, (str, Path)):
        return json.loads(Path(nb_or_path).read_text(encoding="utf-8"))
    return nb_or_path


def declared_parameters(nb_or_path) -> dict[str, str]:
    """Names the notebook's ``parameters`` cell assigns, with the default as written (source).

    Raises ``ConfigError`` when the cell cannot be read as Python. A notebook without such a cell
    declares nothing.
    """
    nb = _load(nb_or_path)
    index = _tagged(nb, PARAMETERS_TAG)
    if index < 0:
        return {}
    src = _source(nb["cells"][index])
    code = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        where = f" {nb_or_path}" if isinstance(nb_or_path, (str, Path)) else ""
        raise ConfigError(
            f"parametercellen i notebooken{where} kan inte tolkas som Python (rad {exc.lineno}): {exc.msg}."
        ) from None
    out: dict[str, str] = {}
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name):
                out[target.id] = (ast.get_source_segment(code, value) or "") if value is not None else ""
    return out


def is_name(key: object) -> bool:
    """A valid parameter name: a Python identifier that is not a keyword."""
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def value_problem(value: Any, _depth: int = 0) -> str | None:
    """Why ``value`` is not plain data (Swedish), or None when it is."""
    if value is None or isinstance(value, (bool, str)):
        return None
    if isinstance(value, int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "ett tal som inte är ändligt (.nan eller .inf) är inte tillåtet"
    if isinstance(value, (dt.date, dt.datetime)):
        return 'ett datum utan citattecken blir inte text; skriv det inom citattecken, t.ex. "2016-01-01"'
    if isinstance(value, (list, tuple, dict)):
        if _depth >= MAX_DEPTH:
            return f"listor och avsnitt får vara nästlade högst {MAX_DEPTH} nivåer"
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    return f"nycklar i ett avsnitt måste vara text, fick {k!r}"
                problem = value_problem(v, _depth + 1)
                if problem:
                    return problem
            return None
        for v in value:
            problem = value_problem(v, _depth + 1)
            if problem:
                return problem
        return None
    return f"förväntade text, tal, true/false, null eller en lista av sådana, fick {type(value).__name__}"


def literal(value: Any) -> str:
    """``value`` (plain data, see ``value_problem``) as Python literal source."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)  # double quotes, as papermill writes them
        try:
            text.encode("utf-8")
            if ast.literal_eval(text) == value:
                return text
        except (UnicodeEncodeError, ValueError, SyntaxError):
            pass
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"värdet {value!r} är inte enkel data och kan inte ges till en notebook.")


def _plain(value: Any) -> Any:
    """Tuples as lists (what the literal gives back), for comparing."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def injected_source(parameters: dict[str, Any], comment: str = "Parameters") -> str:
    """The injected cell: ``# Parameters`` and one ``name = literal`` line per parameter."""
    lines = [f"# {comment}"]
    for name, value in parameters.items():
        if not is_name(name):
            raise ConfigError(f"{name!r} är inget giltigt parameternamn.")
        lines.append(f"{name} = {literal(value)}")
    return "\n".join(lines) + "\n"


def check_injected(source: str, parameters: dict[str, Any], declared: set[str] | dict[str, str]) -> None:
    """Raise ``ConfigError`` unless ``source`` is exactly ``name = literal`` lines for
    ``parameters``, every name declared and every literal equal to the given value."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ConfigError(f"parametrarna gav ingen giltig Python ({exc.msg}); inget kördes.") from None
    seen = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ConfigError("parametrarna blev annat än enkla tilldelningar; inget kördes.")
        name = node.targets[0].id
        if name not in declared:
            raise ConfigError(f"parametern {name} finns inte i notebookens parametercell; inget kördes.")
        try:
            seen[name] = ast.literal_eval(node.value)
        except (ValueError, SyntaxError, TypeError):
            raise ConfigError(f"värdet för {name} blev inte ett rent värde; inget kördes.") from None
    if seen.keys() != parameters.keys() or any(_plain(seen[k]) != _plain(parameters[k]) for k in parameters):
        raise ConfigError("parametrarna ändrades när de skrevs in i notebooken; inget kördes.")


def inject(nb, parameters: dict[str, Any], *, input_path: str, output_path: str | None):
    """Put ``parameters`` into ``nb`` as papermill does, as checked literals (see module docstring).

    Raises ``ConfigError`` for an undeclared name, a value that is not plain data, or a notebook
    whose kernel is not Python.
    """
    language = (
        nb.metadata.get("language_info", {}).get("name")
        or nb.metadata.get("kernelspec", {}).get("language")
        or "python"
    )
    if language != "python":
        raise ConfigError(f"notebooken {input_path} är skriven för {language}; insats run kör bara Python-notebooks.")
    declared = declared_parameters(nb)
    for name, value in parameters.items():
        if name not in declared:
            shown = ", ".join(declared) or "inga"
            raise ConfigError(
                f"parametern {name!r} finns inte i parametercellen i {input_path} (parametrar där: {shown})."
            )
        problem = value_problem(value)
        if problem:
            raise ConfigError(f"parametern {name}: {problem}.")
    source = injected_source(parameters)
    check_injected(source, parameters, declared)
    import nbformat  # on use: reading a params file (before the first kernel starts) does not need it

    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = [INJECTED_TAG]
    injected = _tagged(nb, INJECTED_TAG)
    declared_at = _tagged(nb, PARAMETERS_TAG)
    if injected >= 0:
        nb.cells = nb.cells[:injected] + [cell] + nb.cells[injected + 1 :]
    elif declared_at >= 0:
        nb.cells = nb.cells[: declared_at + 1] + [cell] + nb.cells[declared_at + 1 :]
    else:
        nb.cells = [cell] + nb.cells
    papermill = nb.metadata.setdefault("papermill", {})
    papermill["parameters"] = dict(parameters)
    papermill["input_path"] = input_path
    papermill["output_path"] = output_path
    return nb
