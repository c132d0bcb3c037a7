"""Kolada values as tables: a municipality beside its peers, display tables, files, summaries."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

import insats.intake.kolada as config
from insats.atomic import atomic_path
from insats.errors import KoladaError, UsageError
from insats.intake.kolada.answers import format_time, parse_ids
from insats.intake.kolada.client import KoladaClient
from insats.text import format_number
from insats.xlsx import write_csv, write_xlsx


def values(
    kpis: Iterable[str] | str,
    municipalities: Iterable[str] | str | None,
    years: str | int | Iterable[int | str] | None,
    **client_options: Any,
) -> pd.DataFrame:
    """Shortcut: ``KoladaClient(**client_options).values(kpis, municipalities, years)``."""
    titles = client_options.pop("titles", True)
    return KoladaClient(**client_options).values(kpis, municipalities, years, titles=titles)


def compare(df: pd.DataFrame, kommun: str, peers: Iterable[str], *, kon: str = "T") -> pd.DataFrame:
    """One municipality beside comparable ones, per KPI and year, with the peers' median.

    ``df`` is a table from :meth:`KoladaClient.values`; ``peers`` are municipality codes chosen by
    the user (e.g. from a params file); ``kommun`` itself is never counted among its peers.
    Returns one row per KPI, year and municipality (the chosen one first) with columns
    ``kpi, kpi_namn, ar, kommun_kod, kommun, roll ("vald"|"jamforelse"), varde, median_jamforelse,
    antal_jamforelse, skillnad_mot_median``: the median and count are over the peers with a value
    that year; ``skillnad_mot_median`` is ``varde - median_jamforelse``. Only gender ``kon``.
    """
    kommun = str(kommun)
    peer_ids = [p for p in parse_ids(peers, "jämförelsekommuner") if p != kommun]
    if not peer_ids:
        raise UsageError("Ange minst en jämförelsekommun som inte är den valda kommunen.")
    if kommun not in set(df["kommun_kod"]):
        raise UsageError(f"Kommunen {kommun} finns inte i tabellen med Kolada-värden.")
    absent = [p for p in peer_ids if p not in set(df["kommun_kod"])]
    if absent:
        warnings.warn(f"Jämförelsekommuner utan värden i tabellen: {', '.join(absent)}", stacklevel=2)
    sub = df[(df["kon"] == kon) & df["kommun_kod"].isin([kommun, *peer_ids])].copy()
    sub["roll"] = (sub["kommun_kod"] == kommun).map({True: "vald", False: "jamforelse"})
    peers_only = sub[sub["roll"] == "jamforelse"]
    stats = (
        peers_only.groupby(["kpi", "ar"])["varde"]
        .agg(median_jamforelse="median", antal_jamforelse="count")
        .reset_index()
    )
    out = sub.merge(stats, on=["kpi", "ar"], how="left")
    out["antal_jamforelse"] = out["antal_jamforelse"].fillna(0).astype("int64")
    out["skillnad_mot_median"] = out["varde"] - out["median_jamforelse"]
    out["kpi_namn"] = out["kpi"].map(config.KPI_LABELS).fillna(out["kpi"]).astype("str")
    out["_ordning"] = out["kommun_kod"].map({k: i for i, k in enumerate([kommun, *peer_ids])})
    out = out.sort_values(["kpi", "ar", "_ordning"], kind="stable").reset_index(drop=True)
    cols = [
        "kpi",
        "kpi_namn",
        "ar",
        "kommun_kod",
        "kommun",
        "roll",
        "varde",
        "median_jamforelse",
        "antal_jamforelse",
        "skillnad_mot_median",
    ]
    return out[cols]


def municipality_context(
    kommun: str,
    peers: Iterable[str],
    kpis: Iterable[str] | str = config.STUDY_KPIS,
    years: str | int | Iterable[int | str] = "2013-2018",
    **client_options: Any,
) -> tuple[pd.DataFrame | None, str]:
    """A municipality beside comparable ones on Kolada KPIs, for a report section.

    Returns ``(table, note)``: the :func:`compare` table (or None when nothing could be had) and a
    Swedish sentence for the report — how old the figures are and where they came from, or, when
    the figures are neither cached nor reachable (``offline=True`` or no network), what to run to
    fetch them. Never raises for a missing cache or network: a report must still render.
    """
    peers = [p for p in parse_ids(peers, "jämförelsekommuner") if p != str(kommun)]
    try:
        df = KoladaClient(**client_options).values(kpis, [str(kommun), *peers], years)
    except KoladaError as exc:
        cmd = (
            f"insats kolada fetch --kpi {','.join(parse_ids(kpis, 'nyckeltal'))} "
            f"--kommun {','.join([str(kommun), *peers])} --years {years} --out kolada.csv"
        )
        return None, (
            f"Inga Koladavärden kunde läsas ({exc}). Hämta dem när datorn har internet med "
            f"`{cmd}`; de sparas då i cachen och rapporten fungerar sedan utan nät."
        )
    if df.empty:
        return None, "Kolada har inga värden för de valda nyckeltalen, kommunerna och åren."
    table = compare(df, str(kommun), peers)
    oldest = df.attrs.get("hamtad_aldst")
    age = f", hämtade {format_time(oldest)}" if oldest is not None else ""
    return table, (
        f"Källa: Kolada ({df.attrs.get('kalla', 'api.kolada.se')}){age}. "
        f"{df['varde'].isna().sum()} värden saknas i Kolada."
    )


def comparison_display(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`compare` rows of the chosen municipality as a Swedish display table."""

    out = pd.DataFrame(
        {
            "Nyckeltal": table["kpi_namn"].to_numpy(),
            "År": table["ar"].astype(str).to_numpy(),
            "Kommunen": [format_number(v, 1) for v in table["varde"]],
            "Jämförelsekommunernas median": [format_number(v, 1) for v in table["median_jamforelse"]],
            "Skillnad": [format_number(v, 1) for v in table["skillnad_mot_median"]],
        }
    )
    return out.set_index(["Nyckeltal", "År"])


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` as .csv (UTF-8, comma), .xlsx or .json (records) by extension, atomically.

    CSV and XLSX go through ``insats.xlsx``: a name from Kolada's answer is never a formula."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in {".csv", ".xlsx", ".json"}:
        raise UsageError(f"Okänt filformat {path.suffix or '(inget)'} för {path}: använd .csv, .xlsx eller .json.")
    out = df.copy()
    if ext == ".xlsx":
        for col in out.columns:
            if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)

    if ext == ".csv":
        return write_csv(path, out)
    if ext == ".xlsx":
        write_xlsx(path, {"kolada": out})
        return path
    with atomic_path(path) as tmp:
        out.to_json(tmp, orient="records", date_format="iso", force_ascii=False, indent=1)
    return path


def summary(df: pd.DataFrame) -> str:
    """A short Swedish summary of a values table (rows, KPIs, municipalities, missing, fetch time)."""
    kpis = sorted(df["kpi"].dropna().unique())
    munis = sorted(df["kommun_kod"].dropna().unique())
    names = dict(zip(df["kommun_kod"], df["kommun"]))
    muni_text = ", ".join(f"{m} {names[m]}" if pd.notna(names.get(m)) else m for m in munis)
    years = sorted(df["ar"].unique())
    year_text = "–" if not years else str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    missing = int(df["varde"].isna().sum())
    lines = [
        f"{len(df)} rader: {len(kpis)} nyckeltal ({', '.join(kpis) or '–'}), "
        f"{len(munis)} kommuner ({muni_text or '–'}), år {year_text}.",
        f"Saknade värden: {missing} av {len(df)}.",
    ]
    oldest, newest = df.attrs.get("hamtad_aldst"), df.attrs.get("hamtad_senast")
    when = format_time(oldest)
    if newest is not None and oldest is not None and format_time(newest) != when:
        when = f"{when} (äldsta) – {format_time(newest)} (senaste)"
    lines.append(
        f"Hämtat från Kolada: {when}; {df.attrs.get('anrop', 0)} anrop, "
        f"{df.attrs.get('fran_cache', 0)} svar från cachen."
    )
    return "\n".join(lines)
