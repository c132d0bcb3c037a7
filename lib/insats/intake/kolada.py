"""Client for Kolada's open REST API v3 (https://api.kolada.se/v3), with a local cache.

Kolada publishes municipal key figures ("nyckeltal", KPIs). This module fetches values and
metadata, caches every JSON response on disk (so reports work offline and can say how old their
figures are) and turns data responses into one tidy table.

What is assumed about the API (no official v3 specification was found; see
``shared/reference/KOLADA_API.md``):

* Data: ``GET {base}/data/kpi/<ids>/municipality/<ids>/year/<years>`` with comma-separated lists;
  query ``per_page`` (at most 5000) and ``page``. The envelope is
  ``{"values": [record, ...], "count": n, "next_url": "<url>" | null}``; the v2 name ``next_page``
  is accepted too. Paging stops when the link is null, empty or absent. A record is
  ``{"kpi", "municipality", "period" (int in v3, str in v2), "values": [{"gender": "T|K|M",
  "count", "status", "value": float|null}], "isdeleted": bool (optional)}``. Records with
  ``isdeleted: true`` are dropped. Public clients send at most 25 ids per path segment; so do we.
* Municipalities: ``GET {base}/municipality`` and ``{base}/municipality/<ids>`` →
  ``{"values": [{"id", "title", "type": "K|L"}]}`` ("0000" is Riket; regions are type L).
* KPIs: ``GET {base}/kpi/<ids>`` → objects with ``id, title, description, auspice,
  is_divided_by_gender, municipality_type, operating_area, publication_date, publ_period, ...``;
  all fields are kept as given.
* Municipality groups: ``GET {base}/municipality_groups`` (and ``/<ids>``) →
  ``{"id": "G...", "title", "members": [{"member_id", "member_title"}]}`` — the shape rKolada's tests
  use; the v2-style ``{"id", "title"}`` members are accepted as well. Not verified against the live
  API.

Cache: one JSON file per request URL under the cache directory (default
``~/.cache/insats/kolada``, or ``$INSATS_KOLADA_CACHE``), holding the URL, the fetch time (UTC) and
the response. Files are written atomically. A cached answer younger than ``max_age`` is used
without asking the API; ``offline=True`` uses only the cache, whatever its age.

User-facing messages (errors, CLI output) are Swedish.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pandas as pd
import requests

from insats import __version__
from insats.atomic import atomic_path, atomic_write
from insats.errors import KoladaError, UsageError
from insats.text import format_number

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
MAX_IDS_PER_SEGMENT = 25
PER_PAGE = 5000
MAX_PAGES = 10_000

# Read at call time by KoladaClient and the command line, so tests and callers may change them.
DEFAULT_MIN_INTERVAL = 0.2  # seconds between two requests
DEFAULT_TIMEOUT = 60.0  # seconds (connect and read)
DEFAULT_RETRIES = 4  # retries after the first attempt
DEFAULT_BACKOFF = 1.0  # seconds; doubled for each retry
DEFAULT_MAX_BACKOFF = 60.0  # cap for backoff and Retry-After
DEFAULT_MAX_AGE = dt.timedelta(days=7)  # cached answers younger than this are reused
CACHE_ENV = "INSATS_KOLADA_CACHE"

COLUMNS = ["kpi", "kommun_kod", "kommun", "ar", "kon", "varde", "antal", "status", "hamtad"]

#: The KPIs the studies use, with short Swedish labels for tables and charts. Titles of the
#: first six follow Kolada's catalogue (shared/reference/kolada_kpi_catalog_subset.csv); U40455,
#: U31482 and U31483 are not in that snapshot and are labelled from the reference README — check
#: their titles with ``KoladaClient().kpis([...])`` before publishing.
KPI_LABELS: dict[str, str] = {
    "N31807": "Invånare med ekonomiskt bistånd, andel (%)",
    "N31814": "Långvarigt bistånd, andel av vuxna biståndsmottagare (%)",
    "N31816": "Långvarigt bistånd, andel av befolkningen (%)",
    "N31008": "Nettokostnad ekonomiskt bistånd, kr/inv",
    "N40011": "Nettokostnad arbetsmarknadsåtgärder, kr/inv",
    "U40800": "Deltagare i kommunala arbetsmarknadsåtgärder, antal",
    "U40455": "Började arbeta eller studera efter kommunal arbetsmarknadsåtgärd, andel (%)",
    "U31482": "Insats erbjuds alla biståndsmottagare 18–24 år",
    "U31483": "Insats erbjuds alla biståndsmottagare över 24 år",
}
STUDY_KPIS: tuple[str, ...] = tuple(KPI_LABELS)

_DEFAULT = object()  # "use DEFAULT_MAX_AGE" (None means: any age)


@dataclass(frozen=True)
class Response:
    """One JSON answer, fresh or from the cache."""

    url: str
    data: dict[str, Any]
    hamtad: pd.Timestamp  # fetch time, UTC
    from_cache: bool


# --------------------------------------------------------------------------------------- helpers


def default_cache_dir() -> Path:
    """``$INSATS_KOLADA_CACHE`` if set, else ``~/.cache/insats/kolada``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "insats" / "kolada"


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


def _chunks(items: Sequence[str], size: int = MAX_IDS_PER_SEGMENT) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _with_query(url: str, **params: Any) -> str:
    """Add query parameters to ``url`` (existing ones win)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for k, v in params.items():
        query.setdefault(k, str(v))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def _retry_after_seconds(value: str | None) -> float | None:
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


def _atomic_write_bytes(path: Path, data: bytes) -> None:

    atomic_write(path, data)


def _to_timedelta(max_age: dt.timedelta | float | int | None) -> dt.timedelta | None:
    if max_age is None or isinstance(max_age, dt.timedelta):
        return max_age
    return dt.timedelta(seconds=float(max_age))


def _format_time(ts: pd.Timestamp | None) -> str:
    """A fetch time in the machine's local time zone, e.g. ``2024-05-01 14:03``."""
    if ts is None or pd.isna(ts):
        return "okänt"
    return ts.to_pydatetime().astimezone().strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------- client


class KoladaClient:
    """Polite, caching client for Kolada's API v3.

    Parameters
    ----------
    base_url: API root, default ``https://api.kolada.se/v3`` (a mirror or test server may be given).
    cache_dir: where responses are cached (default: :func:`default_cache_dir`); ``use_cache=False``
        turns the cache off.
    offline: use only the cache; a miss raises :class:`KoladaError`.
    max_age: reuse cached answers younger than this (timedelta or seconds; default
        ``DEFAULT_MAX_AGE``, 7 days; None = any age; 0 = always ask the API). If a refresh fails, the stale cached answer is used with a warning.
    min_interval: minimum seconds between the starts of two requests.
    timeout: seconds for connect and for read.
    retries, backoff, max_backoff: retries after the first attempt on connection errors, HTTP 5xx
        and 429; the wait is ``backoff * 2**attempt`` capped at ``max_backoff``, or the server's
        ``Retry-After`` (also capped) when given.
    session, sleep, clock: injectable for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        offline: bool = False,
        max_age: dt.timedelta | float | int | object | None = _DEFAULT,
        min_interval: float | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_backoff: float | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.use_cache = use_cache
        self.offline = offline
        self.max_age = _to_timedelta(DEFAULT_MAX_AGE if max_age is _DEFAULT else max_age)  # type: ignore[arg-type]
        self.min_interval = DEFAULT_MIN_INTERVAL if min_interval is None else float(min_interval)
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.retries = DEFAULT_RETRIES if retries is None else int(retries)
        self.backoff = DEFAULT_BACKOFF if backoff is None else float(backoff)
        self.max_backoff = DEFAULT_MAX_BACKOFF if max_backoff is None else float(max_backoff)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"insats/{__version__}"
        self.session.headers.setdefault("Accept", "application/json")
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        #: counters for summaries: requests sent over the network, answers taken from the cache
        self.requests_made = 0
        self.cache_hits = 0

    # ------------------------------------------------------------------ cache

    def _cache_path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]
        return self.cache_dir / f"{digest}.json"

    def _cache_read(self, url: str) -> Response | None:
        if not self.use_cache:
            return None
        path = self._cache_path(url)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("url") != url or not isinstance(entry.get("response"), dict):
                return None
            hamtad = pd.Timestamp(entry["hamtad"])
            hamtad = hamtad.tz_localize("UTC") if hamtad.tzinfo is None else hamtad.tz_convert("UTC")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Response(url=url, data=entry["response"], hamtad=hamtad, from_cache=True)

    def _cache_write(self, resp: Response) -> None:
        if not self.use_cache:
            return
        entry = {"url": resp.url, "hamtad": resp.hamtad.isoformat(), "response": resp.data}
        try:
            _atomic_write_bytes(self._cache_path(resp.url), json.dumps(entry, ensure_ascii=False).encode("utf-8"))
        except OSError as exc:
            warnings.warn(f"Kunde inte skriva Kolada-cachen i {self.cache_dir}: {exc}", stacklevel=3)

    # ------------------------------------------------------------------ HTTP

    def _wait_turn(self) -> None:
        if self._last_request is not None and self.min_interval > 0:
            wait = self.min_interval - (self._clock() - self._last_request)
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    def _fetch(self, url: str) -> Response:
        """GET ``url`` with politeness and retries; returns parsed JSON (a dict)."""
        attempts = self.retries + 1
        last_problem = ""
        last_status: int | None = None
        for attempt in range(attempts):
            self._wait_turn()
            self.requests_made += 1
            retry_after: float | None = None
            try:
                r = self.session.get(url, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"nätverksfel ({type(exc).__name__}: {exc})"
                last_status = None
            except requests.RequestException as exc:
                raise KoladaError(f"Kunde inte hämta {url} från Kolada: {exc}", url=url) from exc
            else:
                last_status = r.status_code
                if r.status_code == 200:
                    try:
                        data = r.json()
                    except ValueError as exc:
                        raise KoladaError(
                            f"Kolada svarade inte med giltig JSON för {url} (HTTP 200).",
                            url=url,
                            status=200,
                        ) from exc
                    if not isinstance(data, dict):
                        raise KoladaError(
                            f"Oväntat svar från Kolada för {url}: JSON-objekt väntades, fick {type(data).__name__}.",
                            url=url,
                            status=200,
                        )
                    now = pd.Timestamp.now(tz="UTC").floor("s")
                    return Response(url=url, data=data, hamtad=now, from_cache=False)
                if r.status_code == 429 or r.status_code >= 500:
                    last_problem = f"HTTP {r.status_code}"
                    retry_after = _retry_after_seconds(r.headers.get("Retry-After"))
                else:
                    raise KoladaError(
                        f"Kolada svarade med HTTP {r.status_code} för {url}"
                        f"{_reason(r)}. Kontrollera nyckeltal, kommunkoder och år.",
                        url=url,
                        status=r.status_code,
                    )
            if attempt < attempts - 1:
                wait = retry_after if retry_after is not None else self.backoff * (2**attempt)
                self._sleep(min(wait, self.max_backoff))
        raise KoladaError(
            f"Kunde inte hämta {url} från Kolada efter {attempts} försök: {last_problem}.",
            url=url,
            status=last_status,
        )

    def get(self, url: str) -> Response:
        """One JSON answer for ``url``: from the cache when fresh enough, else from the API."""
        cached = self._cache_read(url)
        if self.offline:
            if cached is None:
                raise KoladaError(
                    f"Offlineläge: {url} finns inte i Kolada-cachen ({self.cache_dir}). "
                    "Hämta värdena en gång med nätverk (utan --offline) eller ange rätt cachemapp.",
                    url=url,
                )
            self.cache_hits += 1
            return cached
        if cached is not None:
            age = pd.Timestamp.now(tz="UTC") - cached.hamtad
            if self.max_age is None or age <= self.max_age:
                self.cache_hits += 1
                return cached
        try:
            fresh = self._fetch(url)
        except KoladaError as exc:
            if cached is None:
                raise
            warnings.warn(f"{exc} Använder cachade värden hämtade {_format_time(cached.hamtad)}.", stacklevel=2)
            self.cache_hits += 1
            return cached
        self._cache_write(fresh)
        return fresh

    def get_all(self, url: str) -> list[Response]:
        """Follow ``next_url`` (or ``next_page``) from ``url`` until there is none."""
        pages: list[Response] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen or len(pages) >= MAX_PAGES:
                raise KoladaError(
                    f"Kolada svarade med en sidlänk som upprepar sig ({next_url}); avbryter.", url=next_url
                )
            seen.add(next_url)
            page = self.get(next_url)
            values = page.data.get("values")
            if not isinstance(values, list):
                raise KoladaError(
                    f"Oväntat svar från Kolada för {next_url}: fältet 'values' saknas eller är inte en lista.",
                    url=next_url,
                )
            pages.append(page)
            link = page.data.get("next_url", page.data.get("next_page"))
            if link is not None and not isinstance(link, str):
                raise KoladaError(f"Oväntat svar från Kolada för {next_url}: sidlänken är inte en text.", url=next_url)
            next_url = urljoin(next_url, link) if link else None
        return pages

    def _paged_values(self, path: str, **params: Any) -> tuple[list[Any], list[Response]]:
        url = _with_query(f"{self.base_url}/{path.lstrip('/')}", **params, per_page=PER_PAGE)
        pages = self.get_all(url)
        return [v for p in pages for v in p.data["values"]], pages

    # ------------------------------------------------------------------ metadata

    def municipalities(
        self, ids: Iterable[str] | str | None = None, *, title: str | None = None, typ: str | None = None
    ) -> pd.DataFrame:
        """Municipalities and regions: columns ``kommun_kod, kommun, typ`` (K kommun, L region/riket).

        ``ids`` limits to those codes (requested 25 at a time); ``title`` is Kolada's free-text
        filter; ``typ`` ("K" or "L") filters the result.
        """
        objs: list[Any] = []
        if ids is None:
            params = {"title": title} if title else {}
            objs, _ = self._paged_values("municipality", **params)
        else:
            for chunk in _chunks(parse_ids(ids, "kommunkoder")):
                part, _ = self._paged_values(f"municipality/{','.join(chunk)}")
                objs.extend(part)
        rows = []
        for o in objs:
            if not isinstance(o, dict) or "id" not in o:
                raise KoladaError("Oväntat svar från Kolada: en kommun saknar fältet 'id'.", url=self.base_url)
            rows.append({"kommun_kod": str(o["id"]), "kommun": o.get("title"), "typ": o.get("type")})
        df = pd.DataFrame(rows, columns=["kommun_kod", "kommun", "typ"]).drop_duplicates("kommun_kod")
        if typ is not None:
            df = df[df["typ"] == typ]
        return df.reset_index(drop=True)

    def kpis(self, ids: Iterable[str] | str | None = None, *, title: str | None = None) -> pd.DataFrame:
        """KPI metadata, one row per KPI, with Kolada's fields as given (``id`` first)."""
        objs: list[Any] = []
        if ids is None:
            objs, _ = self._paged_values("kpi", **({"title": title} if title else {}))
        else:
            for chunk in _chunks(parse_ids(ids, "nyckeltal")):
                part, _ = self._paged_values(f"kpi/{','.join(chunk)}")
                objs.extend(part)
        if any(not isinstance(o, dict) or "id" not in o for o in objs):
            raise KoladaError("Oväntat svar från Kolada: ett nyckeltal saknar fältet 'id'.", url=self.base_url)
        df = pd.DataFrame(objs)
        if df.empty:
            return pd.DataFrame(columns=["id", "title"])
        cols = ["id"] + [c for c in df.columns if c != "id"]
        return df[cols].drop_duplicates("id").reset_index(drop=True)

    def municipality_groups(self, ids: Iterable[str] | str | None = None, *, title: str | None = None) -> pd.DataFrame:
        """Municipality groups, long: ``grupp_id, grupp, kommun_kod, kommun`` (one row per member).

        Assumed shape (rKolada's tests): ``{"id", "title", "members": [{"member_id",
        "member_title"}]}``; members given as ``{"id", "title"}`` are accepted too.
        """
        objs: list[Any] = []
        if ids is None:
            objs, _ = self._paged_values("municipality_groups", **({"title": title} if title else {}))
        else:
            for chunk in _chunks(parse_ids(ids, "kommungrupper")):
                part, _ = self._paged_values(f"municipality_groups/{','.join(chunk)}")
                objs.extend(part)
        rows = []
        for g in objs:
            members = g.get("members") if isinstance(g, dict) else None
            if not isinstance(members, list) or "id" not in g:
                raise KoladaError(
                    "Oväntat svar från Kolada: en kommungrupp saknar 'id' eller listan 'members'.",
                    url=self.base_url,
                )
            for m in members:
                mid = m.get("member_id", m.get("id")) if isinstance(m, dict) else None
                if mid is None:
                    raise KoladaError(
                        f"Oväntat svar från Kolada: en medlem i kommungruppen {g['id']} saknar id.",
                        url=self.base_url,
                    )
                rows.append(
                    {
                        "grupp_id": str(g["id"]),
                        "grupp": g.get("title"),
                        "kommun_kod": str(mid),
                        "kommun": m.get("member_title", m.get("title")),
                    }
                )
        return pd.DataFrame(rows, columns=["grupp_id", "grupp", "kommun_kod", "kommun"])

    # ------------------------------------------------------------------ data

    def values(
        self,
        kpis: Iterable[str] | str,
        municipalities: Iterable[str] | str | None,
        years: str | int | Iterable[int | str] | None,
        *,
        titles: bool = True,
    ) -> pd.DataFrame:
        """Kolada values as a tidy table, one row per KPI, municipality, year and gender.

        Columns: ``kpi, kommun_kod, kommun, ar, kon, varde, antal, status, hamtad`` —
        ``kommun`` is the municipality's title (looked up with :meth:`municipalities` when
        ``titles``; missing if that fails), ``kon`` is T (total), K or M, ``varde`` NaN when Kolada
        has no value (``status`` is kept as given, often ``""``), ``antal`` is Kolada's count,
        ``hamtad`` the UTC time the answer was fetched. ``df.attrs`` holds ``hamtad_aldst`` and
        ``hamtad_senast`` (over all answers used), ``kalla`` (base URL), ``anrop`` (requests sent)
        and ``fran_cache`` (answers taken from the cache).

        Lists longer than 25 ids are split into several requests and combined. ``municipalities``
        or ``years`` may be None (all), not both.
        """
        kpi_ids = parse_ids(kpis, "nyckeltal")
        muni_ids = parse_ids(municipalities, "kommunkoder") if municipalities is not None else None
        year_ids = [str(y) for y in parse_years(years)] if years is not None else None
        if muni_ids is None and year_ids is None:
            raise UsageError("Ange kommuner eller år (Kolada kräver två av nyckeltal, kommun och år).")
        before_req, before_hits = self.requests_made, self.cache_hits

        segments: list[list[tuple[str, list[str]]]] = [[("kpi", c) for c in _chunks(kpi_ids)]]
        if muni_ids is not None:
            segments.append([("municipality", c) for c in _chunks(muni_ids)])
        if year_ids is not None:
            segments.append([("year", c) for c in _chunks(year_ids)])

        rows: list[dict[str, Any]] = []
        stamps: list[pd.Timestamp] = []
        for combo in product(*segments):
            path = "data/" + "/".join(f"{name}/{','.join(ids)}" for name, ids in combo)
            _, pages = self._paged_values(path)
            for page in pages:
                stamps.append(page.hamtad)
                rows.extend(_parse_records(page))

        df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "kommun"])
        df = df.astype(
            {
                "kpi": "str",
                "kommun_kod": "str",
                "ar": "int64",
                "kon": "str",
                "varde": "float64",
                "antal": "Int64",
                "status": "str",
            }
        )
        df["hamtad"] = pd.to_datetime(df["hamtad"], utc=True)
        df = df.drop_duplicates(["kpi", "kommun_kod", "ar", "kon"], keep="last")

        names: dict[str, Any] = {}
        if titles and len(df):
            try:
                meta = self.municipalities(sorted(df["kommun_kod"].unique()))
                names = dict(zip(meta["kommun_kod"], meta["kommun"]))
            except KoladaError as exc:
                warnings.warn(f"Kommunnamn kunde inte hämtas: {exc}", stacklevel=2)
        df.insert(2, "kommun", df["kommun_kod"].map(names).astype("str"))
        df = df.sort_values(["kpi", "kommun_kod", "ar", "kon"], kind="stable").reset_index(drop=True)
        df = df[COLUMNS]
        df.attrs.update(
            {
                "hamtad_aldst": min(stamps) if stamps else None,
                "hamtad_senast": max(stamps) if stamps else None,
                "kalla": self.base_url,
                "anrop": self.requests_made - before_req,
                "fran_cache": self.cache_hits - before_hits,
            }
        )
        return df


def _reason(r: requests.Response) -> str:
    text = (r.reason or "").strip()
    return f" ({text})" if text else ""


def _parse_records(page: Response) -> list[dict[str, Any]]:
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
        except (TypeError, ValueError):
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
                except (TypeError, ValueError):
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
                    "antal": int(count) if isinstance(count, (int, float)) and not isinstance(count, bool) else None,
                    "status": "" if status is None else str(status),
                    "hamtad": page.hamtad,
                }
            )
    return rows


# ------------------------------------------------------------------------------------ functions


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
    out["kpi_namn"] = out["kpi"].map(KPI_LABELS).fillna(out["kpi"]).astype("str")
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
    kpis: Iterable[str] | str = STUDY_KPIS,
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
    age = f", hämtade {_format_time(oldest)}" if oldest is not None else ""
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
    """Write ``df`` as .csv (UTF-8, comma), .xlsx or .json (records) by extension, atomically."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in {".csv", ".xlsx", ".json"}:
        raise UsageError(f"Okänt filformat {path.suffix or '(inget)'} för {path}: använd .csv, .xlsx eller .json.")
    out = df.copy()
    if ext == ".xlsx":
        for col in out.columns:
            if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)

    with atomic_path(path) as tmp:
        if ext == ".csv":
            out.to_csv(tmp, index=False, encoding="utf-8")
        elif ext == ".xlsx":
            out.to_excel(tmp, index=False, sheet_name="kolada")
        else:
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
    when = _format_time(oldest)
    if newest is not None and oldest is not None and _format_time(newest) != when:
        when = f"{when} (äldsta) – {_format_time(newest)} (senaste)"
    lines.append(
        f"Hämtat från Kolada: {when}; {df.attrs.get('anrop', 0)} anrop, "
        f"{df.attrs.get('fran_cache', 0)} svar från cachen."
    )
    return "\n".join(lines)
