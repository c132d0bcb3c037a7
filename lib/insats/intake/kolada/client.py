"""``KoladaClient``: cached, polite, deadline-bound requests to Kolada's API v3 and their paging."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pandas as pd
import requests

import insats.intake.kolada as config
from insats import __version__
from insats.atomic import atomic_write
from insats.errors import KoladaError, UsageError
from insats.intake.kolada.answers import (
    Response,
    chunks,
    default_cache_dir,
    format_time,
    parse_ids,
    parse_records,
    parse_years,
    retry_after_seconds,
    to_timedelta,
    with_query,
)
from insats.intake.kolada.transport import (
    DeadlineAdapter,
    DeadlineExceeded,
    TooLarge,
    Tracker,
    parse_json,
    set_tracker,
)

_DEFAULT = object()  # "use DEFAULT_MAX_AGE" (None means: any age)


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
    timeout: seconds for connect and for each read.
    request_deadline, fetch_deadline: seconds for one request in all (connect, headers, body) and
        for one call in all (every page, retry and wait); defaults ``DEFAULT_REQUEST_DEADLINE``
        and ``DEFAULT_FETCH_DEADLINE``.
    max_bytes, max_pages: the largest answer accepted and the most pages followed (defaults
        ``MAX_RESPONSE_BYTES``, ``MAX_PAGES``).
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
        request_deadline: float | None = None,
        fetch_deadline: float | None = None,
        max_bytes: int | None = None,
        max_pages: int | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = (base_url or config.DEFAULT_BASE_URL).rstrip("/")
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.use_cache = use_cache
        self.offline = offline
        self.max_age = to_timedelta(config.DEFAULT_MAX_AGE if max_age is _DEFAULT else max_age)  # type: ignore[arg-type]
        self.min_interval = config.DEFAULT_MIN_INTERVAL if min_interval is None else float(min_interval)
        self.timeout = config.DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.retries = config.DEFAULT_RETRIES if retries is None else int(retries)
        self.backoff = config.DEFAULT_BACKOFF if backoff is None else float(backoff)
        self.max_backoff = config.DEFAULT_MAX_BACKOFF if max_backoff is None else float(max_backoff)
        self.request_deadline = config.DEFAULT_REQUEST_DEADLINE if request_deadline is None else float(request_deadline)
        self.fetch_deadline = config.DEFAULT_FETCH_DEADLINE if fetch_deadline is None else float(fetch_deadline)
        self.max_bytes = config.MAX_RESPONSE_BYTES if max_bytes is None else int(max_bytes)
        self.max_pages = config.MAX_PAGES if max_pages is None else int(max_pages)
        self.session = session or requests.Session()
        adapter = DeadlineAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"insats/{__version__}"
        self.session.headers.setdefault("Accept", "application/json")
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self._deadline: float | None = None  # of the fetch going on
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
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        return Response(url=url, data=entry["response"], hamtad=hamtad, from_cache=True)

    def _cache_write(self, resp: Response) -> None:
        if not self.use_cache:
            return
        entry = {"url": resp.url, "hamtad": resp.hamtad.isoformat(), "response": resp.data}
        try:
            atomic_write(self._cache_path(resp.url), json.dumps(entry, ensure_ascii=False).encode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            warnings.warn(f"Kunde inte skriva Kolada-cachen i {self.cache_dir}: {exc}", stacklevel=3)

    # ------------------------------------------------------------------ HTTP

    def _wait_turn(self) -> None:
        if self._last_request is not None and self.min_interval > 0:
            wait = self.min_interval - (self._clock() - self._last_request)
            if wait > 0:
                self._sleep(wait)
        self._last_request = self._clock()

    @contextmanager
    def _fetch_window(self) -> Iterator[None]:
        """One fetch: every request inside shares the deadline ``fetch_deadline`` from now (the
        outermost window counts when calls nest)."""
        if self._deadline is not None:
            yield
            return
        self._deadline = self._clock() + self.fetch_deadline
        try:
            yield
        finally:
            self._deadline = None

    def _download(self, url: str) -> tuple[int, str, dict[str, str], bytes]:
        """GET ``url`` once within the request's (and the fetch's) deadline: status, reason,
        headers and the body (200 only), at most ``max_bytes``.

        A watchdog shuts the connection's socket when the deadline passes, which ends any read
        that is waiting (a trickling server). Raises ``DeadlineExceeded`` then."""
        deadline = self._clock() + self.request_deadline
        if self._deadline is not None:
            deadline = min(deadline, self._deadline)
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise DeadlineExceeded
        tracker = Tracker()
        timer = threading.Timer(remaining, tracker.abort)
        timer.daemon = True
        set_tracker(tracker)
        timer.start()
        try:
            wait = max(0.001, min(self.timeout, remaining))
            r = self.session.get(url, timeout=(wait, wait), stream=True)
            try:
                if r.status_code != 200:
                    return r.status_code, r.reason or "", dict(r.headers), b""
                length = r.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > self.max_bytes:
                    raise TooLarge
                chunks, total = [], 0
                for chunk in r.iter_content(chunk_size=65536):
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise TooLarge
                    chunks.append(chunk)
                    if tracker.fired or self._clock() > deadline:
                        raise DeadlineExceeded
                return r.status_code, r.reason or "", dict(r.headers), b"".join(chunks)
            finally:
                r.close()
        except (requests.RequestException, OSError, ValueError) as exc:
            if tracker.fired:
                raise DeadlineExceeded from None
            raise exc
        finally:
            timer.cancel()
            set_tracker(None)

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
                status, reason, headers, body = self._download(url)
            except DeadlineExceeded:
                last_problem = (
                    f"svaret blev inte färdigt inom tidsgränsen ({self.request_deadline:g} sekunder per anrop, "
                    f"{self.fetch_deadline:g} sekunder per hämtning)"
                )
                last_status = None
                if self._deadline is not None and self._clock() >= self._deadline:
                    break
            except TooLarge:
                raise KoladaError(
                    f"Svaret från Kolada för {url} är större än {self.max_bytes / 1024 / 1024:g} MB; avbryter. "
                    "Hämta färre nyckeltal, kommuner eller år åt gången.",
                    url=url,
                    status=200,
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"nätverksfel ({type(exc).__name__}: {exc})"
                last_status = None
            except (requests.RequestException, OSError, ValueError) as exc:
                raise KoladaError(f"Kunde inte hämta {url} från Kolada: {exc}", url=url) from exc
            else:
                last_status = status
                if status == 200:
                    data = parse_json(body, url)
                    now = pd.Timestamp.now(tz="UTC").floor("s")
                    return Response(url=url, data=data, hamtad=now, from_cache=False)
                if status == 429 or status >= 500:
                    last_problem = f"HTTP {status}"
                    retry_after = retry_after_seconds(headers.get("Retry-After"))
                else:
                    text = reason.strip()
                    raise KoladaError(
                        f"Kolada svarade med HTTP {status} för {url}"
                        f"{f' ({text})' if text else ''}. Kontrollera nyckeltal, kommunkoder och år.",
                        url=url,
                        status=status,
                    )
            if attempt < attempts - 1:
                wait = min(retry_after if retry_after is not None else self.backoff * (2**attempt), self.max_backoff)
                if self._deadline is not None and self._clock() + wait >= self._deadline:
                    break
                self._sleep(wait)
        raise KoladaError(
            f"Kunde inte hämta {url} från Kolada efter {attempt + 1} försök: {last_problem}.",
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
            warnings.warn(f"{exc} Använder cachade värden hämtade {format_time(cached.hamtad)}.", stacklevel=2)
            self.cache_hits += 1
            return cached
        self._cache_write(fresh)
        return fresh

    def get_all(self, url: str) -> list[Response]:
        """Follow ``next_url`` (or ``next_page``) from ``url`` until there is none.

        Stops with a ``KoladaError`` when a link repeats or leads to another server, when a page
        repeats an earlier page's content, when the pages go beyond what the answer's ``count``
        (when it is the total) needs, or after ``max_pages`` pages; an empty page ends the data."""
        with self._fetch_window():
            return self._get_all(url)

    def _get_all(self, url: str) -> list[Response]:
        pages: list[Response] = []
        seen: set[str] = set()
        contents: set[str] = set()
        needed: int | None = None
        origin = urlsplit(url)[:2]
        next_url: str | None = url
        while next_url:
            if next_url in seen:
                raise KoladaError(
                    f"Kolada svarade med en sidlänk som upprepar sig ({next_url}); avbryter.", url=next_url
                )
            if len(pages) >= self.max_pages or (needed is not None and len(pages) >= needed):
                limit = (
                    f"de {needed} sidor som antalet värden kräver" if needed is not None else f"{self.max_pages} sidor"
                )
                raise KoladaError(
                    f"Kolada svarade med fler sidor än {limit} för {url}; avbryter. Hämta färre nyckeltal, "
                    "kommuner eller år åt gången.",
                    url=next_url,
                )
            if urlsplit(next_url)[:2] != origin:
                raise KoladaError(
                    f"Kolada svarade med en sidlänk till en annan server ({next_url}); avbryter.", url=next_url
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
            if not values:  # an empty page ends the data, whatever its link says
                break
            try:
                digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode("utf-8")).hexdigest()
            except (ValueError, RecursionError):
                digest = None
            if digest is not None and digest in contents:
                raise KoladaError(f"Kolada svarade med samma sida igen ({next_url}); avbryter.", url=next_url)
            if digest is not None:
                contents.add(digest)
            count = page.data.get("count")
            if len(pages) == 1 and isinstance(count, int) and not isinstance(count, bool) and count > len(values):
                needed = math.ceil(count / len(values))  # count is the total: so many pages, no more
            link = page.data.get("next_url", page.data.get("next_page"))
            if link is not None and not isinstance(link, str):
                raise KoladaError(f"Oväntat svar från Kolada för {next_url}: sidlänken är inte en text.", url=next_url)
            next_url = urljoin(next_url, link) if link else None
            if next_url and needed is not None:
                number = dict(parse_qsl(urlsplit(next_url).query)).get("page", "")
                if number.isdigit() and int(number) > needed:
                    raise KoladaError(
                        f"Kolada svarade med en länk till sida {number}, men antalet värden ({count}) ryms på "
                        f"{needed} sidor; avbryter.",
                        url=next_url,
                    )
        return pages

    def _paged_values(self, path: str, **params: Any) -> tuple[list[Any], list[Response]]:
        url = with_query(f"{self.base_url}/{path.lstrip('/')}", **params, per_page=config.PER_PAGE)
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
            for chunk in chunks(parse_ids(ids, "kommunkoder")):
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
            for chunk in chunks(parse_ids(ids, "nyckeltal")):
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
            for chunk in chunks(parse_ids(ids, "kommungrupper")):
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

        segments: list[list[tuple[str, list[str]]]] = [[("kpi", c) for c in chunks(kpi_ids)]]
        if muni_ids is not None:
            segments.append([("municipality", c) for c in chunks(muni_ids)])
        if year_ids is not None:
            segments.append([("year", c) for c in chunks(year_ids)])

        rows: list[dict[str, Any]] = []
        stamps: list[pd.Timestamp] = []
        with self._fetch_window():
            for combo in product(*segments):
                path = "data/" + "/".join(f"{name}/{','.join(ids)}" for name, ids in combo)
                _, pages = self._paged_values(path)
                for page in pages:
                    stamps.append(page.hamtad)
                    rows.extend(parse_records(page))

        df = pd.DataFrame(rows, columns=[c for c in config.COLUMNS if c != "kommun"])
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
        df = df[config.COLUMNS]
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
