"""Kolada's answers: their shapes (``Response``, ``parse_records``), id and year lists, times."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

import insats.intake.kolada as config
from insats.errors import KoladaError, UsageError


@dataclass(frozen=True)
class Response:
    """One JSON answer, fresh or from the cache."""

    url: str
    data: dict[str, Any]
    hamtad: pd.Timestamp  # fetch time, UTC
    from_cache: bool


def default_cache_dir() -> Path:
    """``$INSATS_KOLADA_CACHE`` if set, else ``~/.cache/insats/kolada``."""
    env = os.environ.get(config.CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "insats" / "kolada"


def has_cached_values(kommun: str, cache_dir: Path | str | None = None) -> bool:
    """Whether the cache holds an answer with values for municipality ``kommun`` (a cached
    ``/data/.../municipality/<ids>`` request naming it): then a report can run offline."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not folder.is_dir():
        return False
    for path in folder.glob("*.json"):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or "/data/" not in url:
            continue
        for part in re.findall(r"/municipality/([0-9,]+)", urlsplit(url).path):
            if str(kommun) in part.split(","):
                return True
    return False


def parse_years(spec: str | int | Iterable[int | str]) -> list[int]:
    """Years from ``2013-2018``, ``2013,2015``, ``2015``, ``2013-2015,2018`` or a list of ints.

    Returns sorted, distinct years; raises ValueError (Swedish) for anything else.
    """
    if isinstance(spec, int):
        parts: list[str] = [str(spec)]
    elif isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",")]
    else:
        parts = [str(p).strip() for p in spec]
    years: set[int] = set()
    for part in parts:
        if not part:
            raise UsageError(f"Ogiltig årsangivelse {spec!r}: tomt år i listan.")
        bounds = [b.strip() for b in part.replace("–", "-").split("-")]
        if len(bounds) > 2 or not all(b.isdigit() and len(b) == 4 for b in bounds):
            raise UsageError(
                f"Ogiltig årsangivelse {part!r}: ange år som ÅÅÅÅ, intervall som ÅÅÅÅ-ÅÅÅÅ "
                "eller en kommaseparerad lista, t.ex. 2013-2018 eller 2013,2015."
            )
        lo, hi = int(bounds[0]), int(bounds[-1])
        if lo > hi:
            raise UsageError(f"Ogiltigt årsintervall {part!r}: första året är större än det sista.")
        years.update(range(lo, hi + 1))
    return sorted(years)


def parse_ids(spec: str | Iterable[str], what: str = "id") -> list[str]:
    """Comma-separated ids (or a list) → distinct ids in given order; empty → ValueError."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        s = str(item).strip()
        if s and s not in out:
            out.append(s)
    if not out:
        raise UsageError(f"Inga {what} angivna.")
    return out


def chunks(items: Sequence[str], size: int | None = None) -> list[list[str]]:
    """The ids in groups of at most ``MAX_IDS_PER_SEGMENT`` (one path segment each)."""
    size = size or config.MAX_IDS_PER_SEGMENT
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def with_query(url: str, **params: Any) -> str:
    """Add query parameters to ``url`` (existing ones win)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for k, v in params.items():
        query.setdefault(k, str(v))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def to_timedelta(max_age: dt.timedelta | float | int | None) -> dt.timedelta | None:
    if max_age is None or isinstance(max_age, dt.timedelta):
        return max_age
    return dt.timedelta(seconds=float(max_age))


def format_time(ts: pd.Timestamp | None) -> str:
    """A fetch time in the machine's local time zone, e.g. ``2024-05-01 14:03``."""
    if ts is None or pd.isna(ts):
        return "okänt"
    return ts.to_pydatetime().astimezone().strftime("%Y-%m-%d %H:%M")


def parse_records(page: Response) -> list[dict[str, Any]]:
    """Expand one data page into rows (one per gender); drop ``isdeleted`` records."""
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(page.data["values"]):
        where = f"post {i} i svaret från {page.url}"
        if not isinstance(rec, dict):
            raise KoladaError(f"Oväntat svar från Kolada: {where} är inte ett objekt.", url=page.url)
        if rec.get("isdeleted") is True:
            continue
        missing = [k for k in ("kpi", "municipality", "period", "values") if k not in rec]
        if missing:
            raise KoladaError(f"Oväntat svar från Kolada: {where} saknar fälten {', '.join(missing)}.", url=page.url)
        try:
            year = int(rec["period"])
            if not 1900 <= year <= 2200:
                raise ValueError(year)
        except (TypeError, ValueError, OverflowError):
            raise KoladaError(
                f"Oväntat svar från Kolada: {where} har perioden {rec['period']!r}, inte ett år.", url=page.url
            ) from None
        inner = rec["values"]
        if not isinstance(inner, list):
            raise KoladaError(f"Oväntat svar från Kolada: 'values' i {where} är inte en lista.", url=page.url)
        for v in inner:
            if not isinstance(v, dict) or "gender" not in v:
                raise KoladaError(
                    f"Oväntat svar från Kolada: ett värde i {where} saknar fältet 'gender'.", url=page.url
                )
            value = v.get("value")
            if value is None:
                varde = math.nan
            else:
                try:
                    varde = float(value)
                    if not math.isfinite(varde):
                        raise ValueError(value)
                except (TypeError, ValueError, OverflowError):
                    raise KoladaError(
                        f"Oväntat svar från Kolada: värdet {value!r} i {where} är inget tal.", url=page.url
                    ) from None
            count = v.get("count")
            status = v.get("status")
            rows.append(
                {
                    "kpi": str(rec["kpi"]),
                    "kommun_kod": str(rec["municipality"]),
                    "ar": year,
                    "kon": str(v["gender"]),
                    "varde": varde,
                    "antal": int(count)
                    if isinstance(count, (int, float))
                    and not isinstance(count, bool)
                    and math.isfinite(count)
                    and abs(count) < 2**53
                    else None,
                    "status": "" if status is None else str(status),
                    "hamtad": page.hamtad,
                }
            )
    return rows
