"""One HTTP request within a total deadline: connections a watchdog can cut, answers as JSON.

``requests``' own timeout limits the wait for each byte, so a server that sends one byte every few
seconds never trips it. Here every connection a request uses (new or from the pool) is recorded
in a ``Tracker``; a watchdog (``threading.Timer``) shuts their sockets when the request's
deadline passes, which ends any read that is waiting, in the headers or the body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from insats.errors import KoladaError


class DeadlineExceeded(Exception):
    """A request (or the fetch) ran past its deadline."""


class TooLarge(Exception):
    """An answer is larger than the limit."""


class Tracker:
    """The connections one request uses, so that a watchdog can cut them at the deadline."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.sockets: list[Any] = []
        self.fired = False

    def abort(self) -> None:
        self.fired = True
        # a connection that will close hands its socket to the response and forgets it: the
        # socket recorded when it connected is shut as well
        for sock in [getattr(c, "sock", None) for c in list(self.connections)] + list(self.sockets):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a read that waits for the next byte


_local = threading.local()


def set_tracker(tracker: Tracker | None) -> None:
    """Connections this thread opens or takes from a pool go to ``tracker`` (None: nowhere)."""
    _local.tracker = tracker


class _TrackedPool:
    """A connection pool that tells the current request's tracker which connection it gets."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        tracker = getattr(_local, "tracker", None)
        if tracker is not None:
            tracker.connections.append(conn)
        return conn


class _TrackedConnection:
    """A connection that tells the current request's tracker its socket when it connects."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        tracker = getattr(_local, "tracker", None)
        if tracker is not None:
            tracker.sockets.append(self.sock)  # type: ignore[attr-defined]


class _TrackedHTTPConnection(_TrackedConnection, HTTPConnection):
    pass


class _TrackedHTTPSConnection(_TrackedConnection, HTTPSConnection):
    pass


class _TrackedHTTPPool(_TrackedPool, HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(_TrackedPool, HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_POOLS = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with tracked connections (direct and through a proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any):
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def parse_json(body: bytes, url: str) -> dict[str, Any]:
    """The JSON object of an answer; anything else (broken, nested too deep, not an object) is a
    ``KoladaError``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        deep = " (för djupt nästlad)" if isinstance(exc, RecursionError) else ""
        raise KoladaError(
            f"Kolada svarade inte med giltig JSON{deep} för {url} (HTTP 200).", url=url, status=200
        ) from None
    if not isinstance(data, dict):
        raise KoladaError(
            f"Oväntat svar från Kolada för {url}: JSON-objekt väntades, fick {type(data).__name__}.",
            url=url,
            status=200,
        )
    return data
