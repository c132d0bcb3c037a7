"""Client for Kolada's open REST API v3 (https://api.kolada.se/v3), with a local cache.

Kolada publishes municipal key figures ("nyckeltal", KPIs). This package fetches values and
metadata, caches every JSON response on disk (so reports work offline and can say how old their
figures are) and turns data responses into one tidy table.

Modules: ``client`` (``KoladaClient``: cache, politeness, retries, paging), ``transport`` (one
HTTP request within a total deadline), ``answers`` (the answers' shapes, id and year lists),
``tables`` (comparisons, display tables, files, summaries). The settings below are read when they
are used, so a caller (or a test) may change them here: ``kolada.DEFAULT_MIN_INTERVAL = 0``.

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

Hostile or broken answers end in a ``KoladaError`` (a Swedish message, exit 3), never a hang or a
traceback: every request has a total deadline (``DEFAULT_REQUEST_DEADLINE``: connecting, headers
and body together — a server that sends one byte every few seconds is cut off; ``requests``'
own timeout only limits the wait for each byte) and every fetch one more (``DEFAULT_FETCH_DEADLINE``:
all pages and retries of one call); an answer larger than ``MAX_RESPONSE_BYTES`` is refused while
it streams in; paging stops at ``MAX_PAGES`` pages, when a link repeats, when a page repeats the
content of an earlier one, when it points to another server, or when it goes beyond the pages the
answer's own ``count`` needs; JSON nested too deep to read is a message like any broken JSON.

Cache: one JSON file per request URL under the cache directory (default
``~/.cache/insats/kolada``, or ``$INSATS_KOLADA_CACHE``), holding the URL, the fetch time (UTC) and
the response. Files are written atomically. A cached answer younger than ``max_age`` is used
without asking the API; ``offline=True`` uses only the cache, whatever its age.

User-facing messages (errors, CLI output) are Swedish.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
MAX_IDS_PER_SEGMENT = 25
PER_PAGE = 5000
MAX_PAGES = 100
"""Pages followed for one request at most (at 5 000 values a page: 500 000 values)."""
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
"""A larger answer is refused while it streams in (one page of 5 000 values is about 2 MB)."""

# Read at call time by KoladaClient and the command line, so tests and callers may change them.
DEFAULT_MIN_INTERVAL = 0.2  # seconds between two requests
DEFAULT_TIMEOUT = 60.0  # seconds (connect and read)
DEFAULT_RETRIES = 4  # retries after the first attempt
DEFAULT_BACKOFF = 1.0  # seconds; doubled for each retry
DEFAULT_MAX_BACKOFF = 60.0  # cap for backoff and Retry-After
DEFAULT_MAX_AGE = dt.timedelta(days=7)  # cached answers younger than this are reused
DEFAULT_REQUEST_DEADLINE = 120.0  # seconds for one request in all: connect, headers and body
DEFAULT_FETCH_DEADLINE = 900.0  # seconds for one fetch in all: every page, retry and wait
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

# The API after the settings: its modules read the settings above from this package when they run.
from insats.errors import KoladaError  # noqa: E402
from insats.intake.kolada.answers import (  # noqa: E402
    Response,
    default_cache_dir,
    has_cached_values,
    parse_ids,
    parse_years,
)
from insats.intake.kolada.client import KoladaClient  # noqa: E402
from insats.intake.kolada.tables import (  # noqa: E402
    compare,
    comparison_display,
    municipality_context,
    summary,
    values,
    write_table,
)

__all__ = [
    "CACHE_ENV",
    "COLUMNS",
    "KPI_LABELS",
    "STUDY_KPIS",
    "KoladaClient",
    "KoladaError",
    "Response",
    "compare",
    "comparison_display",
    "default_cache_dir",
    "has_cached_values",
    "municipality_context",
    "parse_ids",
    "parse_years",
    "summary",
    "values",
    "write_table",
]
