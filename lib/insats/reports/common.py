"""Building blocks every study notebook and dashboard shares: provenance, notices, tables.

A notebook cell is a call and a sentence of Swedish text; the call usually lands here or in
``insats.analysis.measures`` / ``insats.charts``. Nothing here computes a measure.
"""

from __future__ import annotations

import datetime as dt
import html
import platform
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from insats import __version__
from insats.analysis.measures import MEASURES, measure_label
from insats.analysis.privacy import footnote, format_table
from insats.contract import TABLES
from insats.data.load import load_cached
from insats.data.study import Study
from insats.reports.render import literal
from insats.text import format_number

ANTAGANDEN = "docs/antaganden.md"
"""The assumptions-and-caveats log every report links to (path in the repository)."""

REPO_URL_HINT = "https://github.com/ (se docs/antaganden.md i paketets källkod)"


def load_for_report(data_dir: str | Path) -> Study:
    """Load a study for a notebook, resolving a relative path against the repository root
    when it is not found from the working directory (notebooks run from ``notebooks/``)."""

    path = Path(data_dir)
    if not path.is_absolute() and not path.exists():
        for parent in [Path.cwd(), *Path.cwd().parents]:
            if (parent / path).exists():
                path = parent / path
                break
    return load_cached(path)


def synthetic_banner(study: Study) -> str:
    """Markdown warning shown at the top of every page built on generated data ('' otherwise)."""
    if not study.synthetic:
        return ""
    seed = study.meta.get("seed")
    extra = f" (frö {literal(seed)})" if seed is not None else ""
    return (
        f"> **Syntetiska exempeldata{extra}.** Uppgifterna är skapade av `insats generate` och "
        "beskriver inga verkliga personer. Siffrorna visar metoden, inte verkligheten."
    )


def study_name(study: Study) -> str | None:
    """What the study is called in a report's title and PDF header: ``namn`` in ``studie.json``,
    else its municipality as ``omraden`` names it (column ``kommun``; several joined with "och"),
    else ``kommun 0180`` from the municipality code; None when the study says none of these."""
    name = study.meta.get("namn") if isinstance(study.meta, dict) else None
    if isinstance(name, str) and " ".join(name.split()):
        return " ".join(name.split())
    om = study.get("omraden")
    if om is None:
        return None
    for column, prefix in (("kommun", ""), ("kommun_kod", "kommun ")):
        if column not in om.columns:
            continue
        values = [" ".join(str(v).split()) for v in om[column].dropna().unique()]
        values = list(dict.fromkeys(v for v in values if v))
        if values:
            shown = [f"{prefix}{v}" for v in values]
            return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " och " + shown[-1]
    return None


def study_subtitle_html(name: str | None) -> str:
    """The line under a report's title that names its study (``''`` without a name). The export
    (``insats.reports.export.add_table_of_contents``) adds the name to the page title, which heads
    every page of the PDF."""
    if not name:
        return ""
    value = html.escape(name, quote=True)
    return f'<p class="insats-studie" data-insats-studie="{value}">Studie: <strong>{value}</strong></p>'


def study_subtitle(study: Study) -> HTML | None:
    """``study_subtitle_html`` of ``study_name`` as a notebook output (None without a name)."""
    piece = study_subtitle_html(study_name(study))
    return HTML(piece) if piece else None


def missing_note(study: Study, needs: list[str] | tuple[str, ...], what: str) -> str | None:
    """Swedish explanation when a section cannot be computed, else None.

    ``what`` names the section, e.g. ``"Utfall"``.
    """
    missing = [t for t in needs if t not in study]
    if not missing:
        return None
    names = ", ".join(f"`{t}` ({TABLES[t].label.lower()})" for t in missing)
    word = "tabellen" if len(missing) == 1 else "tabellerna"
    return (
        f"**{what} kan inte beräknas:** studien saknar {word} {names}. "
        "Se `data/README.md` för vad tabellerna ska innehålla; resten av rapporten påverkas inte."
    )


def provenance(study: Study, params: dict, *, full_hashes: bool = False) -> pd.DataFrame:
    """The data's provenance: parameters, every input file with its SHA-256, package version,
    when the report was made. Shown in every report ("Data och metod"); the page shows the first
    16 hex digits of each hash, the workbook (``full_hashes``) all 64."""
    rows = [("Parameter", k, parameter_text(v)) for k, v in params.items()]
    for name, src in study.sources.items():
        rows.append(
            (
                "Fil",
                f"{TABLES[name].label} ({src.display})",
                f"SHA-256 {src.sha256 if full_hashes else src.sha256[:16] + '…'}",
            )
        )
    for name in study.missing:
        rows.append(("Fil", TABLES[name].label, "saknas"))
    rows.append(("Program", "insats", __version__))
    rows.append(("Program", "Python / pandas", f"{platform.python_version()} / {pd.__version__}"))
    rows.append(("Körning", "Skapad", dt.datetime.now().strftime("%Y-%m-%d %H:%M")))
    if study.synthetic:
        rows.append(("Data", "Typ", "syntetiska exempeldata"))
    return pd.DataFrame(rows, columns=["Slag", "Vad", "Värde"])


def parameter_text(value: object) -> str:
    """A parameter's value as a reader reads it: ``None`` → ``ej angiven``, booleans ``ja``/``nej``, a
    mapping as ``nyckel = värde`` pairs (``programmets standardvärden`` when empty), never Python's own
    spelling (``None``, ``True``, ``{}``)."""
    if value is None:
        return "ej angiven"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, dict):
        if not value:
            return "programmets standardvärden"
        return "; ".join(f"{k} = {parameter_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(parameter_text(v) for v in value)
    if isinstance(value, float):
        return format_number(value, 2).rstrip("0").rstrip(",") if value % 1 else format_number(value)
    return str(value)


def measure_table(
    long: pd.DataFrame,
    matt: list[str] | str,
    *,
    omraden: pd.DataFrame | None = None,
    percent: bool | None = None,
    decimals: int = 1,
) -> pd.DataFrame:
    """A display table of one or more measures per area (rows) with Swedish formatting and
    ``..`` for suppressed cells. Shares are shown as percent unless ``percent=False``."""

    ids = [matt] if isinstance(matt, str) else list(matt)
    part = long[long["matt"].isin(ids)]
    values = part.pivot(index="omrade_kod", columns="matt", values="varde").reindex(columns=ids)
    mask = part.pivot(index="omrade_kod", columns="matt", values="undertryckt").reindex(columns=ids)
    mask = mask.fillna(False).astype(bool)
    names = area_names(omraden)
    # districts by name (as the charts order them), then central lines, then the whole study
    areas = sorted(
        (c for c in values.index if c not in ("ALLA", "CENTRAL")), key=lambda c: swedish_key(names.get(c, c))
    )
    order = areas + [c for c in ("CENTRAL", "ALLA") if c in values.index]
    values, mask = values.reindex(order), mask.reindex(order)
    pct = {m: (MEASURES[m].unit == "andel") if percent is None else percent for m in ids}
    dec = {
        m: (decimals if MEASURES.get(m) is None or MEASURES[m].unit in ("andel", "kvot", "index", "per_100") else 0)
        for m in ids
    }
    shown = format_table(values, mask, decimals=dec, percent=pct)
    shown.index = [names.get(c, "Hela studien" if c == "ALLA" else c) for c in shown.index]
    shown.index.name = "Område"
    shown.columns = [measure_label(m) for m in ids]
    return shown


def swedish_key(text: object) -> str:
    """Sort key in Swedish alphabetical order: å, ä, ö after z (in that order)."""
    return str(text).lower().translate(str.maketrans("åäö", "{|}"))


def area_names(omraden: pd.DataFrame | None) -> dict[str, str]:
    """omrade_kod -> omrade (name), plus ALLA and CENTRAL."""
    names = {"ALLA": "Hela studien", "CENTRAL": "Centralt (hela kommunen)"}
    if omraden is not None and len(omraden):
        names.update(dict(zip(omraden["omrade_kod"].astype(str), omraden["omrade"].astype(str))))
    return names


def privacy_note(min_cell: int) -> str:
    """The suppression footnote, how the protection works (for the utredare) and the link to the
    assumptions log, for every report."""
    return (
        f"{footnote(min_cell)}.\n\n"
        "**Så skyddas uppgifterna.** Allt som studien publicerar – måttfilen, rapporterna, "
        "områdesprofilerna och instrumentpanelerna – skyddas tillsammans. Samma antal döljs överallt "
        "där det förekommer, och fler antal döljs tills ingen kan räkna fram ett dolt antal ur det som "
        f"visas: inte ur summor, andra tabeller, andra mått, andra perioder eller övriga områden. Antal "
        f"under {min_cell} visas aldrig, inte heller resten av en andel (som i ”8 av 9”). Siffror "
        "publiceras bara för hela kalenderår och följder av hela år, så att två perioder inte kan dras "
        "från varandra. Körningens publicering kan granskas med `insats audit`.\n\n"
        f"Definitioner och gränsfall: se `{ANTAGANDEN}` (antaganden och förbehåll, R1–R8), som den som "
        "granskar rapporten bör läsa först."
    )
