"""Planning a batch run: every report of every study, its task, and whether it must run.

``plan(config, ...)`` turns a params file (``insats.runner.config``) into reports: one per study
notebook and one per area for the profile, for every study of the run. A report's name is safe
for a file name (``insats.text.slug``: no ``/``, ``..`` or control characters, bounded, and told
apart by a hash when two codes fold alike). Each report gets the parameters its notebook declares
(``RunConfig.parameters_for``) and a decision (``decide``): skipped when its notebook, parameters,
package version and source (``package_fingerprint``) and everything it read last time
(``insats.runner.inputs``) are unchanged, else run with the reason. A study whose areas cannot be read fails its own profile in a run over many
studies; in a run over one study the run cannot be planned (``ConfigError``).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insats.contract import fold
from insats.data.files import CSV_SUFFIXES, EXCEL_SUFFIXES, OLD_EXCEL_SUFFIXES, PARQUET_SUFFIXES
from insats.data.load import read_table
from insats.data.validated import combined_hash, package_fingerprint, source_files
from insats.errors import InsatsError
from insats.runner.config import ConfigError, RunConfig, StudySpec
from insats.runner.inputs import FolderHashes, tables_text, what_changed
from insats.runner.tasks import FEL, ReportTask, error_record, kernel_env, kernel_name
from insats.text import slug

__all__ = [
    "Planned",
    "decide",
    "discover_areas",
    "kernel_name",
    "notebook_hash",
    "notebook_imports",
    "plan",
    "report_names",
    "study_areas",
]


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def notebook_hash(path: Path | str) -> str:
    """Hash of a notebook's cells (type and source) and kernel; outputs and metadata do not count."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [
        (c.get("cell_type"), "".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", ""))
        for c in nb.get("cells", [])
    ]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return _sha256_bytes(_canonical({"cells": cells, "kernel": kernel}).encode())


def notebook_imports(path: Path | str) -> list[str]:
    """Modules a notebook imports (``import a.b``, ``from a.b import c``), found without running it.

    For ``from a.b import c`` both ``a.b`` and ``a.b.c`` are listed: ``c`` may be a submodule
    (``from insats.reports import profil``); a name that is not a module is skipped by the kernel."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
                found += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(found))


_READABLE = CSV_SUFFIXES + EXCEL_SUFFIXES + OLD_EXCEL_SUFFIXES + PARQUET_SUFFIXES


def discover_areas(data_dir: Path | str) -> dict[str, str]:
    """``omrade_kod -> omrade`` from the study's ``omraden`` table (the latest year's name).

    Reads only that table's file when the study is a folder with one (not the whole study)."""

    folder = Path(data_dir)
    files = [p for p in source_files(folder) if fold(p.stem) == "omraden" and p.suffix.lower() in _READABLE]
    df = read_table(files[0] if folder.is_dir() and len(files) == 1 else folder, "omraden")
    if "ar" in df:
        df = df.sort_values("ar", kind="stable")
    out: dict[str, str] = {}
    for code, name in zip(df["omrade_kod"], df["omrade"]):
        if code is None or code != code:  # a missing code is a validation error, not an area
            continue
        out[str(code)] = str(name)
    return dict(sorted(out.items()))


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


@dataclass
class Planned:
    task: ReportTask | None
    record: dict[str, Any]
    study: StudySpec
    skip_reason: str | None = None


def report_names(config: RunConfig, study: StudySpec, areas: dict[str, str]) -> list[tuple[str, Path, str | None]]:
    """(report name, notebook, omrade_kod) for a study: names are safe, bounded and unique."""
    prefix = f"{study.name}/" if study.name is not None else ""
    entries: list[tuple[str, Path, str | None]] = [(f"{prefix}{nb.stem}", nb, None) for nb in config.notebooks]
    if config.profile is not None:
        used = {e[0] for e in entries}
        for code in areas:
            name = f"{prefix}{config.profile.stem}_{slug(code)}"
            if name in used:  # two codes with the same folded spelling ("a/b" and "a_b")
                name = f"{name}_{hashlib.sha256(code.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
            used.add(name)
            entries.append((name, config.profile, code))
    return entries


def study_areas(config: RunConfig, study: StudySpec) -> tuple[dict[str, str], str | None]:
    """The areas of a study's profile reports, and an error text when they cannot be known."""
    if config.profile is None:
        return {}, None
    known: dict[str, str] | None = None
    problem = None
    if study.path is not None:
        try:
            known = discover_areas(study.path)
        except InsatsError as exc:
            first = next((line for line in str(exc).splitlines() if line.strip().startswith("FEL")), str(exc))
            problem = f"områdena kunde inte läsas från tabellen omraden i {study.path}: {first.strip()}"
        except Exception as exc:  # noqa: BLE001 — an unreadable study fails its own reports only
            problem = f"områdena kunde inte läsas från tabellen omraden i {study.path}: {exc}"
    if config.areas == "alla":
        if problem:
            return {}, problem
        if not known:
            return {}, f"tabellen omraden i {study.path} har inga områden."
        return dict(known), None
    areas = {}
    for code in config.areas:
        if known is not None and code not in known:
            return {}, f"området {code!r} finns inte i tabellen omraden ({', '.join(known)})."
        areas[code] = (known or {}).get(code, code)
    return areas, None


def decide(
    record: dict[str, Any],
    prev: dict[str, Any],
    *,
    force: bool,
    html_ok: bool,
    hashes: FolderHashes,
) -> tuple[str | None, str]:
    """(skip reason or None, run reason): whether a planned report can be skipped, and why."""
    last_ok = prev.get("senast_ok") or {}
    if force:
        return None, "körs om: --force"
    if not last_ok:
        return None, "ny rapport: ingen tidigare lyckad körning"
    if prev.get("status") == FEL:
        return None, "förra körningen misslyckades"
    if not html_ok:
        return None, "rapportfilen saknas"
    before, now = last_ok.get("indata") or {}, record["indata"]
    reasons = []
    if before.get("notebook_sha256") != now["notebook_sha256"]:
        reasons.append("notebooken har ändrats")
    if before.get("parametrar_sha256") != now["parametrar_sha256"]:
        old = last_ok.get("parametrar") or {}
        changed = sorted(k for k in set(old) | set(record["parametrar"]) if old.get(k) != record["parametrar"].get(k))
        reasons.append(
            ("parametrarna " + ", ".join(changed) + " har ändrats") if changed else "parametrarna har ändrats"
        )
    if before.get("insats_version") != now["insats_version"]:
        reasons.append(f"ny version av insats ({before.get('insats_version')} → {now['insats_version']})")
    elif before.get("insats_kod") != now.get("insats_kod"):
        reasons.append("koden i insats har ändrats")
    last: dict[str, dict[str, Any]] | None = last_ok.get("lasta")
    if last is None:
        return None, "; ".join([*reasons, "okänt vad rapporten läste förra gången"])
    reasons += what_changed(last, hashes)
    if reasons:
        return None, "; ".join(reasons)
    when = str(last_ok.get("slut") or "")[:16].replace("T", " ")
    return f"oförändrad: läser {tables_text(last)}; inget av det har ändrats sedan {when}".strip(), ""


EXCEL_PARAMETER = "excel_fil"
"""A report notebook declaring this parameter writes its tables as a workbook there
(``insats.reports.excel``): the run gives it ``<namn>.xlsx`` beside the page."""


def plan(
    config: RunConfig,
    *,
    only: list[str] | None,
    force: bool,
    previous: dict[str, dict[str, Any]],
    version: str,
    preimports: tuple[str, ...],
    hashes: FolderHashes,
) -> tuple[list[Planned], dict[str | None, dict[str, Any]]]:
    """Every report of the run with its task, record and skip decision; and per study its areas."""
    out_dir = config.out_dir
    studies: dict[str | None, dict[str, Any]] = {}
    entries: list[tuple[StudySpec, str, Path, str | None, str | None]] = []
    for study in config.studies:
        areas, problem = study_areas(config, study)
        if problem and not config.multi:
            raise ConfigError(f"{config.path}, nyckeln korning.omraden: {problem}")
        studies[study.name] = {"areas": areas, "problem": problem}
        for name, nb, code in report_names(config, study, areas):
            entries.append((study, name, nb, code, None))
        if problem and config.profile is not None:
            prefix = f"{study.name}/" if study.name is not None else ""
            entries.append((study, f"{prefix}{config.profile.stem}", config.profile, None, problem))

    selected = None
    if only:
        wanted = {str(o) for o in only}
        valid = {e[1] for e in entries} | {e[3] for e in entries if e[3] is not None}
        valid |= {s.name for s in config.studies if s.name is not None}
        unknown = sorted(wanted - valid)
        if unknown:
            raise ConfigError(
                f"--only: {', '.join(unknown)} finns inte i körningen; välj bland {', '.join(sorted(valid))}."
            )
        selected = {e[1] for e in entries if e[1] in wanted or e[3] in wanted or e[0].name in wanted}

    nb_hashes: dict[Path, str] = {}
    kernels: dict[Path, str] = {}
    env = kernel_env(config.cache)
    planned = []
    for study, name, nb_path, code, problem in entries:
        if nb_path not in nb_hashes:
            nb_hashes[nb_path] = notebook_hash(nb_path)
            kernels[nb_path] = kernel_name(nb_path)
        extra: dict[str, Any] = {"omrade": code} if code is not None else {}
        extra[EXCEL_PARAMETER] = str(out_dir / f"{name}.xlsx")  # given only to notebooks that declare it
        params = config.parameters_for(nb_path, study, **extra)
        inputs = {
            "notebook_sha256": nb_hashes[nb_path],
            "parametrar_sha256": _sha256_bytes(_canonical(params).encode()),
            "insats_version": version,
            "insats_kod": package_fingerprint(),
        }
        data_dir = study.path.resolve() if study.path is not None else None
        if data_dir is not None:
            inputs["data_sha256"] = combined_hash(hashes.of(data_dir))
        key = _sha256_bytes(_canonical(inputs).encode())
        out_file = out_dir / f"{name}.ipynb"
        task = ReportTask(
            name=name,
            notebook=str(nb_path),
            parameters=params,
            cwd=str(nb_path.parent),
            timeout=config.timeout,
            cell_timeout=config.cell_timeout,
            kernel_name=kernels[nb_path],
            preimports=preimports,
            restart_every=config.restart_every,
            output_path=str(out_file),
            env=env,
        )
        prev = previous.get(name) or {}
        last_ok = prev.get("senast_ok")
        record: dict[str, Any] = {
            "namn": name,
            "studie": study.name,
            "notebook": _rel(nb_path, config.root),
            "typ": "profil" if nb_path == config.profile else "studie",
            "omrade": code,
            "omrade_namn": studies[study.name]["areas"].get(code) if code is not None else None,
            "parametrar": params,
            "status": None,
            "orsak": None,
            "sekunder": None,
            "start": None,
            "slut": None,
            "fel": None,
            "html": None,
            "ipynb": None,
            "fel_html": None,
            "indata": inputs,
            "nyckel": key,
            "lasta": None,
            "senast_ok": last_ok,
            "arbetare": None,
            "karna_ateranvand": None,
            "externa_resurser": [],
            "faser": None,
            "omkord_efter_forlorad_arbetare": 0,
        }
        html_ok = (out_dir / f"{name}.html").is_file()
        if html_ok and last_ok:
            record["html"] = f"{name}.html"
            record["ipynb"] = f"{name}.ipynb"
            record["lasta"] = last_ok.get("lasta")
        if problem is not None:
            record.update(fel=error_record("Planering", problem))
            planned.append(Planned(None, record, study, None))
            continue
        if selected is not None and name not in selected:
            reason = "inte vald i denna körning (--only)"
            if prev.get("status") == FEL:
                reason += "; förra körningen misslyckades"
                record["fel"] = prev.get("fel")
                record["fel_html"] = prev.get("fel_html")
            planned.append(Planned(task, record, study, reason))
            continue
        skip, why = decide(record, prev, force=force, html_ok=html_ok, hashes=hashes)
        if skip is None:
            record["orsak"] = why
        planned.append(Planned(task, record, study, skip))
    return planned, studies
