"""Parameter files (``params/*.yaml``) and path resolution for batch runs.

A params file is both papermill's ``-f`` file (its top-level keys are notebook parameters) and the
batch runner's configuration (the ``korning:`` section). See ``params/README.md`` for the format.

Parameters are data, never code (:mod:`insats.runner.parameters`): every top-level key must be a
parameter that a notebook of the run declares in its ``parameters`` cell, and every value plain
data; each notebook is given only the parameters it declares. ``korning.studier`` names several
studies (folders, or patterns such as ``data/kommuner/*``): the run then makes every report once
per study.

Relative paths are relative to the *repository root*: the nearest folder, walking up from the
params file (else from the current directory), that holds ``pyproject.toml`` or a ``params/``
folder. Parameters handed to notebooks hold absolute paths, so a notebook gives the same result
whatever its working directory.

Error messages name the file and the key, in Swedish: the analyst who edits the file reads them.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from insats.errors import ConfigError, yaml_problem
from insats.runner.parameters import declared_parameters, is_name, value_problem

__all__ = [
    "KORNING_KEYS",
    "PATH_KEYS",
    "ConfigError",
    "RunConfig",
    "StudySpec",
    "find_root",
    "load_params",
    "notebook_parameters",
    "resolve",
]

KORNING_KEYS = {
    "namn": "körningens namn; rapporterna hamnar i reports/<namn>/",
    "notebooks": "studienotebooks i notebooks/ som körs en gång var",
    "profil": "notebook som körs en gång per område med parametern omrade",
    "omraden": "'alla' eller en lista med omrade_kod",
    "timeout": "längsta tid i sekunder för en rapport (standard 900)",
    "cell_timeout": "längsta tid i sekunder för en cell (standard samma som timeout)",
    "workers": "antal parallella arbetare (standard antal kärnor)",
    "cache": "true (standard): studien kontrolleras en gång, läses sedan från sin validerade kopia och "
    "återanvänds av alla rapporter i en kärna; false: varje rapport läser och kontrollerar källfilerna",
    "studier": "flera studier i en körning: mappar eller mönster som data/kommuner/* (i stället för data_dir)",
    "kernel_omstart": "starta om kärnan efter så här många rapporter (standard 20; 1 = ny kärna per rapport)",
    "rapportmapp": "mapp för rapporterna (standard reports)",
    "kolada": "auto (standard): jämförelsen med andra kommuner (notebooks/kolada.ipynb) körs med när Koladas "
    "värden för kommunen finns sparade på datorn; false: aldrig",
    "publicering": "true (standard): körningen skriver studiens publiceringspost (publicering.json) och granskar "
    "röjandekontrollen; false: ingen post och ingen granskning (bara för test och felsökning)",
    "pdf": "true (standard): varje rapport skrivs också som PDF för utskrift (kräver Chromium); false: bara HTML",
}
"""Keys allowed under ``korning:`` and what they mean (used in error messages)."""

PATH_KEYS = ("data_dir",)
PATH_SUFFIXES = ("_dir", "_mapp", "_fil", "_file", "_path")
"""Notebook parameters holding a path: ``data_dir`` and any key ending in one of these suffixes."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
RUN_NAME_LIMIT = 100


@dataclass(frozen=True)
class StudySpec:
    """One study of a run: its name in report names (None in a run over one study) and folder."""

    name: str | None
    path: Path | None
    written: str | None = None
    """The folder as the params file names it (for messages)."""


@dataclass
class RunConfig:
    """A validated batch run: notebook parameters plus the ``korning`` section, paths resolved."""

    path: Path
    """The params file (absolute)."""
    root: Path
    """The repository root that relative paths are resolved against."""
    name: str
    parameters: dict[str, Any]
    """Notebook parameters as written in the file (without ``korning``)."""
    notebooks: list[Path] = field(default_factory=list)
    """Study notebooks, absolute paths, run once each."""
    profile: Path | None = None
    """Area profile notebook (absolute), run once per area; or None."""
    areas: str | list[str] = "alla"
    """``"alla"`` or a list of ``omrade_kod``."""
    timeout: float = 900.0
    cell_timeout: float | None = None
    workers: int | None = None
    cache: bool = True
    kolada_note: str | None = None
    """Why the Kolada comparison is not in the run (None when it is, or was asked for by name)."""
    publication: bool = True
    """Write and audit each study's publication record after the reports (``runner.publish``)."""
    pdf: bool = True
    """Print every report page to a PDF beside it after the run (``runner.publish.print_pdfs``)."""
    restart_every: int = 20
    reports_root: Path | None = None
    studies: list[StudySpec] = field(default_factory=list)
    """The studies of the run; one with name None when the file has ``data_dir`` (or no data)."""
    declared: dict[Path, dict[str, str]] = field(default_factory=dict)
    """Per notebook, the parameters its ``parameters`` cell declares."""

    @property
    def data_dir(self) -> Path | None:
        value = self.parameters.get("data_dir")
        return resolve(value, self.root) if value else None

    @property
    def multi(self) -> bool:
        """True when the run covers several studies (``korning.studier``)."""
        return any(s.name is not None for s in self.studies)

    @property
    def out_dir(self) -> Path:
        """``reports/<namn>/`` (absolute)."""
        return (self.reports_root or self.root / "reports") / self.name

    def notebook_parameters(self, **extra: Any) -> dict[str, Any]:
        """The parameters given to a notebook: path parameters made absolute, plus ``extra``."""
        return notebook_parameters(self.parameters, self.root, **extra)

    def parameters_for(self, notebook: Path, study: StudySpec | None = None, **extra: Any) -> dict[str, Any]:
        """What ``notebook`` is given: the params it declares (paths absolute), the study's
        ``data_dir`` and ``extra`` (e.g. ``omrade``)."""
        declared = self.declared.get(notebook)
        if declared is None:
            declared = self.declared[notebook] = declared_parameters(notebook)
        out = {k: v for k, v in notebook_parameters(self.parameters, self.root).items() if k in declared}
        if study is not None and study.path is not None and "data_dir" in declared:
            out["data_dir"] = str(study.path)
        out.update({k: v for k, v in extra.items() if k in declared})
        return out


def find_root(start: Path | str | None = None) -> Path | None:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` or ``params/``."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / "params").is_dir():
            return folder
    return None


def resolve(path: Path | str, base: Path | str) -> Path:
    """``path`` made absolute: as is when absolute, else relative to ``base`` (the repository root)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path(base) / p).resolve()


def is_path_key(key: str) -> bool:
    return key in PATH_KEYS or key.endswith(PATH_SUFFIXES)


def notebook_parameters(parameters: dict[str, Any], root: Path, **extra: Any) -> dict[str, Any]:
    """Parameters with every path parameter (see ``PATH_KEYS``) absolute, plus ``extra``."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if is_path_key(key) and isinstance(value, str) and value:
            out[key] = str(resolve(value, root))
        else:
            out[key] = value
    out.update(extra)
    return out


def _fail(path: Path, key: str | None, message: str) -> ConfigError:
    where = f"{path}" + (f", nyckeln {key}" if key else "")
    return ConfigError(f"{where}: {message}")


def _notebook_path(value: Any, key: str, path: Path, root: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, f"förväntade ett notebooknamn (t.ex. kartlaggning), fick {value!r}.")
    value = value.strip()
    if value.endswith(".ipynb") or "/" in value or "\\" in value:
        nb = resolve(value, root)
    else:
        nb = root / "notebooks" / f"{value}.ipynb"
    if not nb.is_file():
        raise _fail(path, key, f"notebooken {value!r} finns inte (letade efter {nb}).")
    return nb


def _positive_number(value: Any, key: str, path: Path, *, integer: bool = False) -> float | int:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value <= 0:
        kind = "ett positivt heltal" if integer else "ett positivt tal (sekunder)"
        raise _fail(path, key, f"förväntade {kind}, fick {value!r}.")
    return value


def load_params(path: Path | str, *, root: Path | str | None = None) -> RunConfig:
    """Read and validate a params file with a ``korning:`` section; raise ``ConfigError`` if unusable.

    ``root``: the repository root; by default found by walking up from the file (else from cwd).
    """

    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"parameterfilen {path} finns inte.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: filen är inte UTF-8; spara den som UTF-8.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: filen är inte giltig YAML: {yaml_problem(exc)}.") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: förväntade nycklar på översta nivån (t.ex. data_dir:, korning:), fick {type(data).__name__}."
        )
    for key in data:
        if not isinstance(key, str):
            raise _fail(path, str(key), "nycklar måste vara text.")
        if key != "korning" and not is_name(key):
            raise _fail(
                path,
                repr(key)[:80],
                "är inget giltigt parameternamn; ett namn består av bokstäverna a–z, siffror och _, "
                "börjar inte med en siffra och måste finnas i notebookens parametercell.",
            )

    root_path = Path(root).resolve() if root is not None else (find_root(path) or find_root())
    if root_path is None:
        raise ConfigError(
            f"{path}: hittade ingen projektrot (en mapp med pyproject.toml eller params/) ovanför filen "
            "eller den aktuella mappen; relativa sökvägar kan inte tolkas."
        )

    korning = data.get("korning")
    if korning is None:
        raise _fail(path, "korning", "avsnittet saknas; det behövs för insats run (se params/README.md).")
    if not isinstance(korning, dict):
        raise _fail(path, "korning", "förväntade ett avsnitt med nycklar (namn:, notebooks:, profil: ...).")
    unknown = [k for k in korning if k not in KORNING_KEYS]
    if unknown:
        raise _fail(path, f"korning.{unknown[0]}", f"okänd nyckel; tillåtna är {', '.join(KORNING_KEYS)}.")

    name = korning.get("namn")
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > RUN_NAME_LIMIT:
        raise _fail(
            path,
            "korning.namn",
            f"förväntade ett namn med bokstäverna a–z, siffror, _ . - (blir mappnamn, högst {RUN_NAME_LIMIT} "
            f"tecken), fick {name!r}.",
        )

    raw_notebooks = korning.get("notebooks") or []
    if isinstance(raw_notebooks, str):
        raw_notebooks = [raw_notebooks]
    if not isinstance(raw_notebooks, list):
        raise _fail(path, "korning.notebooks", "förväntade en lista med notebooknamn.")
    notebooks = [_notebook_path(v, "korning.notebooks", path, root_path) for v in raw_notebooks]
    stems = [nb.stem for nb in notebooks]
    if len(set(stems)) != len(stems):
        raise _fail(path, "korning.notebooks", "samma notebook står flera gånger.")

    profile = None
    if korning.get("profil") is not None:
        profile = _notebook_path(korning["profil"], "korning.profil", path, root_path)
        if profile.stem in stems:
            raise _fail(path, "korning.profil", "profilen står också under notebooks.")
    if not notebooks and profile is None:
        raise _fail(path, "korning", "inget att köra: ange notebooks:, profil: eller båda.")

    areas = korning.get("omraden", "alla")
    if isinstance(areas, str):
        if areas.strip().lower() != "alla":
            raise _fail(path, "korning.omraden", f"förväntade 'alla' eller en lista med omrade_kod, fick {areas!r}.")
        areas = "alla"
    elif isinstance(areas, list):
        if not areas:
            raise _fail(path, "korning.omraden", "listan är tom.")
        bad = [a for a in areas if not isinstance(a, (str, int)) or isinstance(a, bool) or str(a).strip() == ""]
        if bad:
            raise _fail(path, "korning.omraden", f"ogiltig omrade_kod {bad[0]!r}.")
        areas = [str(a).strip() for a in areas]
        if len(set(areas)) != len(areas):
            raise _fail(path, "korning.omraden", "samma område står flera gånger.")
    else:
        raise _fail(path, "korning.omraden", f"förväntade 'alla' eller en lista med omrade_kod, fick {areas!r}.")

    timeout = float(_positive_number(korning.get("timeout", 900), "korning.timeout", path))
    cell_timeout = korning.get("cell_timeout")
    if cell_timeout is not None:
        cell_timeout = float(_positive_number(cell_timeout, "korning.cell_timeout", path))
    workers = korning.get("workers")
    if workers is not None:
        workers = int(_positive_number(workers, "korning.workers", path, integer=True))
    restart = int(_positive_number(korning.get("kernel_omstart", 20), "korning.kernel_omstart", path, integer=True))
    cache = korning.get("cache", True)
    if not isinstance(cache, bool):
        raise _fail(path, "korning.cache", f"förväntade true eller false, fick {cache!r}.")
    pdf = korning.get("pdf", True)
    if not isinstance(pdf, bool):
        raise _fail(path, "korning.pdf", f"förväntade true eller false, fick {pdf!r}.")
    publication = korning.get("publicering", True)
    if not isinstance(publication, bool):
        raise _fail(path, "korning.publicering", f"förväntade true eller false, fick {publication!r}.")
    reports_root = korning.get("rapportmapp")
    if reports_root is not None:
        if not isinstance(reports_root, str) or not reports_root.strip():
            raise _fail(path, "korning.rapportmapp", f"förväntade en sökväg, fick {reports_root!r}.")
        reports_root = resolve(reports_root, root_path)

    parameters = {k: v for k, v in data.items() if k != "korning"}
    if "omrade" in parameters and profile is not None:
        raise _fail(path, "omrade", "sätts av körningen för varje område; ta bort nyckeln.")
    run_notebooks = notebooks + ([profile] if profile is not None else [])
    declared = {nb: declared_parameters(nb) for nb in run_notebooks}
    if profile is not None and "omrade" not in declared[profile]:
        raise _fail(
            path, "korning.profil", f"notebooken {profile.name} har ingen parameter omrade i sin parametercell."
        )
    for key, value in parameters.items():
        if not any(key in d for d in declared.values()):
            names = sorted({n for d in declared.values() for n in d})
            raise _fail(
                path,
                key,
                f"ingen notebook i körningen har parametern {key} i sin parametercell "
                f"(parametrar: {', '.join(names) or 'inga'}); ta bort nyckeln eller rätta stavningen.",
            )
        problem = value_problem(value)
        if problem:
            raise _fail(path, key, f"{problem}.")
    for key in ("fran", "till"):
        value = parameters.get(key)
        if value is not None and not (isinstance(value, str) and _MONTH_RE.match(value)):
            raise _fail(path, key, f'förväntade en månad som "ÅÅÅÅ-MM" (inom citattecken), fick {value!r}.')
    if "min_cell" in parameters:
        v = parameters["min_cell"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise _fail(path, "min_cell", f"förväntade ett heltal ≥ 1, fick {v!r}.")
    if "skyddsniva" in parameters:
        from insats.analysis.disclosure import protection_problem  # on use: loading a params file stays light

        problem = protection_problem(parameters["skyddsniva"], parameters.get("min_cell", 5))
        if problem:
            raise _fail(path, "skyddsniva", f"{problem}.")
    for key, value in parameters.items():
        if is_path_key(key) and value is not None and not isinstance(value, str):
            raise _fail(path, key, f"förväntade en sökväg, fick {value!r}.")
    data_dir = parameters.get("data_dir")
    studies = _studies(korning.get("studier"), path, root_path)
    if studies:
        if data_dir:
            raise _fail(path, "data_dir", "ange antingen data_dir eller korning.studier, inte båda.")
        lacking = [nb.name for nb in run_notebooks if "data_dir" not in declared[nb]]
        if lacking:
            raise _fail(
                path, "korning.studier", f"notebooken {lacking[0]} har ingen parameter data_dir i sin parametercell."
            )
    elif data_dir:
        if not resolve(data_dir, root_path).exists():
            raise _fail(path, "data_dir", f"mappen {resolve(data_dir, root_path)} finns inte.")
        studies = [StudySpec(None, resolve(data_dir, root_path), data_dir)]
    elif profile is not None and areas == "alla":
        raise _fail(path, "data_dir", "saknas; behövs för att hitta områdena när omraden är 'alla'.")
    else:
        studies = [StudySpec(None, None, None)]

    kolada = korning.get("kolada", "auto")
    if kolada not in ("auto", False):
        raise _fail(path, "korning.kolada", f"förväntade auto eller false, fick {kolada!r}.")
    kolada_note = _join_kolada(kolada, notebooks, parameters, declared, studies, root_path)

    return RunConfig(
        path=path,
        root=root_path,
        name=name,
        parameters=parameters,
        notebooks=notebooks,
        profile=profile,
        areas=areas,
        timeout=timeout,
        cell_timeout=cell_timeout,
        workers=workers,
        cache=cache,
        pdf=pdf,
        publication=publication,
        kolada_note=kolada_note,
        restart_every=restart,
        reports_root=reports_root,
        studies=studies,
        declared=declared,
    )


KOLADA_NOTEBOOK = "kolada"
"""The Kolada comparison's notebook (``notebooks/kolada.ipynb``)."""


def _join_kolada(
    setting: Any,
    notebooks: list[Path],
    parameters: dict[str, Any],
    declared: dict[Path, dict[str, str]],
    studies: list[StudySpec],
    root: Path,
) -> str | None:
    """Add the Kolada comparison to a run over one study when Kolada's values for its municipality
    are cached (it then runs offline); otherwise say why it is not there (the front page shows it)."""
    if any(nb.stem == KOLADA_NOTEBOOK for nb in notebooks):
        return None
    if setting is False:
        return "Kolada-jämförelsen är avstängd i parameterfilen (korning.kolada: false)."
    nb = root / "notebooks" / f"{KOLADA_NOTEBOOK}.ipynb"
    if not nb.is_file():
        return None
    if len(studies) != 1 or studies[0].path is None:
        return "Kolada-jämförelsen körs bara i körningar över en studie."
    code = parameters.get("kommun") or _study_municipality(studies[0].path)
    if not code:
        return (
            "Ingen Kolada-jämförelse: studien anger ingen kommunkod (kommun_kod i studie.json eller "
            "kommun: i parameterfilen)."
        )
    # imported on use: the Kolada package loads pandas, which the run's planning does not need
    from insats.intake.kolada import has_cached_values

    if not has_cached_values(str(code)):
        return (
            f"Ingen Kolada-jämförelse i denna körning: det finns inga sparade nyckeltal från Kolada för kommunen "
            f"(kod {code}) på den här datorn. Hämta dem med kommandot insats kolada fetch när datorn har internet "
            "och kör igen."
        )
    notebooks.append(nb)
    declared[nb] = declared_parameters(nb)
    parameters.setdefault("kommun", str(code))
    parameters.setdefault("offline", True)
    return None


def _study_municipality(folder: Path) -> str | None:
    """The municipality code a study's ``studie.json`` gives (``kommun_kod``), if any."""
    try:
        meta = json.loads((folder / "studie.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    code = meta.get("kommun_kod") if isinstance(meta, dict) else None
    return str(code) if isinstance(code, (str, int)) and re.fullmatch(r"\d{4}", str(code)) else None


_GLOB_CHARS = re.compile(r"[*?\[]")


def _studies(value: Any, path: Path, root: Path) -> list[StudySpec]:
    """``korning.studier``: folders (or workbooks), patterns expanded; names unique and safe."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise _fail(path, "korning.studier", f"förväntade en lista med mappar eller mönster, fick {value!r}.")
    found: list[tuple[Path, str]] = []
    for item in items:
        item = item.strip()
        full = resolve(item, root)
        if _GLOB_CHARS.search(item):
            matches = sorted(Path(m) for m in glob.glob(str(full)))
            matches = [
                m.resolve()
                for m in matches
                if not m.name.startswith(".") and (m.is_dir() or m.suffix.lower() == ".xlsx")
            ]
            if not matches:
                raise _fail(path, "korning.studier", f"mönstret {item!r} matchar ingen studiemapp ({full}).")
            found += [(m, item) for m in matches]
        else:
            if not full.exists():
                raise _fail(path, "korning.studier", f"mappen {full} finns inte.")
            found.append((full, item))
    from insats.text import slug  # on use (several studies): pandas is not needed to read a params file

    out: list[StudySpec] = []
    seen_paths: set[Path] = set()
    names: set[str] = set()
    for folder, written in found:
        if folder in seen_paths:
            continue
        seen_paths.add(folder)
        name = slug(folder.stem if folder.is_file() else folder.name)
        if name in names:
            name = slug(f"{name}_{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}")
        names.add(name)
        out.append(StudySpec(name, folder, written))
    return out
