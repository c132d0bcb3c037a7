"""The Voila server behind ``insats serve``, run as its own process (``python -m insats.dashboards.server``).

It is Voila 0.5's standalone application with four changes, so that dashboards last a whole
meeting on a laptop (issue 16):

* **A kernel ends when its viewer leaves.** Voila's page already sends a beacon to
  ``/voila/api/shutdown/<kernel>`` on ``beforeunload``, but the request always failed with
  *403 '_xsrf' argument missing* because Voila never set the ``_xsrf`` cookie that the beacon copies
  (voila-dashboards/voila#1458): every kernel lived until the server stopped. ``DashboardHandler``
  sets the cookie with the page, the ``insats`` template sends the same beacon on ``pagehide`` as
  well (mobile Safari fires no ``beforeunload``), and ``LeaveHandler`` answers a second beacon for
  the same kernel quietly.
* **Kernels nobody uses are culled** (``ViewerKernelManager``): a kernel without a connected page
  ends ``left_timeout`` seconds after its last page went away (the fallback when no beacon came: a
  crashed browser, a closed lid, a lost network), and a kernel whose page is open but untouched
  for ``idle_timeout`` seconds ends too. Pre-started kernels in Voila's pool are never culled.
* **A cap on viewers**: with ``max_viewers`` pages open, the next request gets HTTP 503 and a
  Swedish page (``fullt.html``: *fullt, försök igen om en stund*) instead of a new kernel, so the
  laptop cannot run out of memory. Pre-started kernels do not count; Voila refills its pool in
  the background after each hand-out.
* **Only the chosen dashboards**: ``dashboards`` lists the notebooks that have a study; the start
  page lists them (titles from ``insats.dashboards.serve.DASHBOARDS``), any other path is a Swedish
  404, and error pages (pages, files, unknown paths) are the template's Swedish ones.

``GET /insats/status`` answers JSON counts (kernels, pre-started, viewers, cap) for tests and the
load benchmark; it holds no data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from typing import ClassVar

import jinja2
import psutil
import tornado.web
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager, ServerKernelManager
from jupyter_server.utils import url_path_join
from traitlets import Dict, Float, Integer, List, Type, Unicode, default
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.static_file_handler import AllowListFileHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from insats.dashboards.serve import DASHBOARDS, RETRY_AFTER_SECONDS
from insats.kernelclient import WakefulKernelClient

RENDER_TIMEOUT = 300
"""Seconds a pre-started kernel may take to run its notebook; after that it is replaced, so that
no viewer is handed a page that never arrives."""
STALL_SECONDS = 30
"""A pre-started kernel that is idle and silent this long while its notebook run has not finished
has lost a message and will never finish (seen with many kernels starting at once on a busy
machine: about 2 in 14); it is replaced at once rather than after ``RENDER_TIMEOUT``."""

POOL_NICE = 10
"""Scheduling priority (Unix nice) of pre-started kernels: refilling the pool runs on idle CPU
and never slows down a page that a viewer is waiting for (a kernel started for a request, the
server itself). A pre-started kernel keeps it when handed to a viewer; so do all its peers."""

REFILL_QUIET_SECONDS = 20.0
"""Seconds without a hand-out before Voila's pool is refilled (``ViewerKernelManager.refill_quiet``):
viewers arriving together get the processor first; the replacements start once they have settled."""

NEVER_CONNECTED_GRACE = 120
"""Seconds a kernel handed to a page may wait for that page to connect (rendering on a busy
machine, a slow browser) before it counts as left; the ``left_timeout`` applies when longer."""


def _started(task: asyncio.Future) -> bool:
    """A pool entry whose kernel has started (its task finished without error)."""
    return task.done() and not task.cancelled() and task.exception() is None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WakefulKernelManager(ServerKernelManager):
    """jupyter_server's manager of one kernel, whose clients (the one Voila's executor runs the
    notebook with) are ``insats.kernelclient.WakefulKernelClient``: a missed wake-up in pyzmq no
    longer leaves a page at "Executing 2 of 3" for good."""

    client_factory = Type(WakefulKernelClient, klass=AsyncKernelClient, config=True)


class ViewerKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager base (``VoilaConfiguration.multi_kernel_manager_class``): kernels
    end when their viewer has left or has not used them for a long time.

    Voila wraps this class in its pre-heating manager, which keeps a pool of started kernels per
    notebook in ``_pools``; those kernels are left alone here. Jupyter server's own culler (one
    timeout for all) is replaced by ``cull_kernels``; ``cull_idle_timeout`` only switches the
    periodic scan on, every ``cull_interval`` seconds.
    """

    left_timeout = Integer(
        60,
        config=True,
        help="Seconds a viewer's kernel lives on after its page has gone without a goodbye (no connection).",
    )
    idle_timeout = Integer(
        4 * 3600,
        config=True,
        help="Seconds an open page may go unused before its kernel is shut down (0: never).",
    )
    refill_quiet = Float(
        REFILL_QUIET_SECONDS,
        config=True,
        help="Seconds without a hand-out before the pool is refilled, unless no started kernel is left in it.",
    )

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self):
        return f"{WakefulKernelManager.__module__}.{WakefulKernelManager.__qualname__}"

    @default("cull_idle_timeout")
    def _default_cull_idle_timeout(self) -> int:
        return 1  # > 0 starts jupyter_server's periodic scan, which calls our cull_kernels

    @default("cull_interval")
    def _default_cull_interval(self) -> int:
        return max(1, min(10, self.left_timeout // 2 or 1))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._unconnected_since: dict[str, dt.datetime] = {}
        self._ever_connected: set[str] = set()
        self._stopping: set[str] = set()
        self.clock = _utcnow
        """The time now (UTC); tests replace it."""
        self._pooled_since: dict[str, dt.datetime] = {}
        self._last_handout: float | None = None
        self._refill_waiting = 0
        self._refill_starting: dict[str, int] = {}
        self._wrap_preheating()

    # ---- refilling the pool when the viewers have arrived
    def _wrap_preheating(self) -> None:
        """Voila's pre-heating subclass (made by ``voila_kernel_manager_factory`` around this class)
        refills the pool at once after every hand-out. When a whole nämnd opens the dashboard within
        a minute, ten replacements starting together take the processor from the ten kernels the
        viewers are using. Its two methods are wrapped here, on the instance (the subclass's own
        methods would shadow any defined on this base class): a hand-out is noted, and a refill
        waits until ``refill_quiet`` seconds have passed without one — or starts at once when the
        pool has no started kernel left, so that the next viewer never waits for the pause. Once
        viewers have come, replacements start one at a time (the next when the previous has run
        its notebook): ten replacements at once would each take as much of the processor as a
        viewer's kernel, one takes a small share."""
        handout = getattr(self, "get_rendered_notebook", None)
        initialize = getattr(self, "_initialize", None)
        if handout is None or initialize is None:  # not pre-heating: nothing is refilled
            return

        async def get_rendered_notebook(*args, **kwargs):
            self._last_handout = time.monotonic()
            return await handout(*args, **kwargs)

        async def _initialize(notebook_name, *args, **kwargs):
            await self.until_refill_allowed(notebook_name)
            self._refill_starting[notebook_name] = self._refill_starting.get(notebook_name, 0) + 1
            try:
                return await initialize(notebook_name, *args, **kwargs)
            finally:
                self._refill_starting[notebook_name] -= 1

        self.get_rendered_notebook = get_rendered_notebook
        self._initialize = _initialize

    def started_in_pool(self, notebook_name: str) -> int:
        """Kernels of ``notebook_name``'s pool that have started (a page can be handed one)."""
        pool = getattr(self, "_pools", {}).get(notebook_name, [])
        return sum(1 for t in pool if _started(t))

    def refill_busy(self) -> bool:
        """A pool kernel (of any dashboard) is being started or is still running its notebook."""
        if any(n > 0 for n in self._refill_starting.values()):
            return True
        return any(not entry["task"].done() for entry in self._pool_entries())

    def refill_allowed(self, notebook_name: str, now: float | None = None) -> bool:
        """True when a pool kernel may be started now: at start-up (nothing handed out yet); when
        ``notebook_name``'s pool has no started kernel and none is being started (a viewer may be
        waiting for it); else one at a time (``refill_busy``), after ``refill_quiet`` s without a
        hand-out."""
        if self._last_handout is None or self.refill_quiet <= 0:
            return True
        if self.started_in_pool(notebook_name) == 0 and not self._refill_starting.get(notebook_name):
            return True
        quiet = (time.monotonic() if now is None else now) - self._last_handout
        return quiet >= self.refill_quiet and not self.refill_busy()

    async def until_refill_allowed(self, notebook_name: str, poll: float = 0.5) -> None:
        """Wait until ``refill_allowed``; counted in ``refill_waiting`` meanwhile."""
        if self.refill_allowed(notebook_name):
            return
        self._refill_waiting += 1
        try:
            while not self.refill_allowed(notebook_name):
                await asyncio.sleep(poll)
        finally:
            self._refill_waiting -= 1

    def refill_waiting(self) -> int:
        """Pool entries waiting for the viewers' arrivals to quieten before their kernel starts."""
        return self._refill_waiting

    # ---- what is pre-started, what is a viewer's
    def _pool_tasks(self) -> list:
        """Voila's pool: per notebook, tasks that start a kernel and give ``{"kernel_id", "task"
        (the notebook's run), "renderer"}``. Only the pre-heating subclass has ``_pools``."""
        return [task for pool in getattr(self, "_pools", {}).values() for task in pool]

    def _pool_entries(self) -> list[dict]:
        return [t.result() for t in self._pool_tasks() if _started(t)]

    def pooled_kernel_ids(self) -> set[str]:
        """Kernels waiting in Voila's pre-heated pool (not yet handed to a page)."""
        return {entry["kernel_id"] for entry in self._pool_entries()}

    def pool_rendered(self) -> int:
        """Pool kernels that have finished running their notebook (a page gets them at once)."""
        return sum(1 for entry in self._pool_entries() if entry["task"].done())

    def pool_running(self) -> list[dict]:
        """Pool kernels still running their notebook: id, execution state, seconds since the
        kernel last said anything (for ``/insats/status``: a stalled run shows here)."""
        now = self.clock()
        out = []
        for entry in self._pool_entries():
            if entry["task"].done():
                continue
            kernel = self._kernels.get(entry["kernel_id"])
            last = getattr(kernel, "last_activity", None)
            out.append(
                {
                    "kernel": entry["kernel_id"],
                    "state": getattr(kernel, "execution_state", None),
                    "quiet_seconds": round((now - last).total_seconds()) if last else None,
                }
            )
        return out

    def pool_starting(self) -> int:
        """Pool kernels being started (their id is not known yet); entries still waiting to start
        (``refill_waiting``) have no kernel and are not counted."""
        return max(0, sum(1 for task in self._pool_tasks() if not task.done()) - self._refill_waiting)

    def viewer_kernel_ids(self) -> set[str]:
        """Kernels handed to a page (or started for one): every kernel not in the pool."""
        return set(self.list_kernel_ids()) - self.pooled_kernel_ids() - self._stopping

    def viewer_count(self) -> int:
        """Pages holding a kernel. A pool kernel being started may already be listed without its
        pool entry being done; subtracting those keeps them from counting as viewers."""
        return max(0, len(self.viewer_kernel_ids()) - self.pool_starting())

    # ---- starting
    async def start_kernel(self, *args, **kwargs):
        kernel_id = await super().start_kernel(*args, **kwargs)
        if (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True":  # a pool kernel (Voila sets this)
            lower_priority(getattr(getattr(self.get_kernel(kernel_id), "provisioner", None), "process", None))
        return kernel_id

    # ---- connections
    def notify_connect(self, kernel_id):
        super().notify_connect(kernel_id)
        self._ever_connected.add(kernel_id)
        self._unconnected_since.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id):
        super().notify_disconnect(kernel_id)
        if self._kernel_connections.get(kernel_id, 0) <= 0:
            self._unconnected_since[kernel_id] = self.clock()

    # ---- culling
    def cull_reason(self, kernel_id: str, now: dt.datetime) -> str | None:
        """Why the viewer kernel ``kernel_id`` should end now, or None to keep it."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            return None
        state = getattr(kernel, "execution_state", None)
        if state == "dead":
            return "kärnan har dött"
        if self._kernel_connections.get(kernel_id, 0) > 0:
            last = getattr(kernel, "last_activity", None)
            if self.idle_timeout > 0 and last is not None and state != "busy":
                idle = (now - last).total_seconds()
                if idle > self.idle_timeout:
                    return f"sidan har inte använts på {idle / 60:.0f} minuter"
            return None
        # No page connected: since its page went, or since it left the pool (first seen here).
        since = self._unconnected_since.setdefault(kernel_id, now)
        grace = (
            self.left_timeout if kernel_id in self._ever_connected else max(self.left_timeout, NEVER_CONNECTED_GRACE)
        )
        gone = (now - since).total_seconds()
        if gone > grace:
            return f"ingen sida har varit ansluten på {gone:.0f} sekunder"
        return None

    def _pool_problem(self, entry: dict | None, now: dt.datetime) -> str | None:
        """Why the pool entry ``entry`` (None: its kernel did not start) must be replaced, or None."""
        if entry is None:
            return "kunde inte starta"
        render = entry["task"]
        if render.done():
            return "kunde inte köra notebooken" if render.cancelled() or render.exception() is not None else None
        since = self._pooled_since.setdefault(entry["kernel_id"], now)
        kernel = self._kernels.get(entry["kernel_id"])
        last = getattr(kernel, "last_activity", None)
        quiet = (now - last).total_seconds() if last is not None else 0.0
        if getattr(kernel, "execution_state", None) == "idle" and quiet > STALL_SECONDS:
            return f"har stannat mitt i notebooken (tyst i {quiet:.0f} s)"
        if (now - since).total_seconds() > RENDER_TIMEOUT:
            return f"har inte kört klart notebooken på {RENDER_TIMEOUT} s"
        return None

    async def replace_failed_pool_kernels(self, now: dt.datetime) -> None:
        """Pre-started kernels whose start or notebook run failed, that stalled, or whose run has
        not finished after ``RENDER_TIMEOUT`` s, leave the pool (and are shut down); Voila starts
        replacements (``fill_if_needed``, a method of its pre-heating subclass)."""
        refill = getattr(self, "fill_if_needed", None)
        for notebook, pool in list(getattr(self, "_pools", {}).items()):
            for task in [t for t in pool if t.done()]:
                entry = None if task.cancelled() or task.exception() is not None else task.result()
                why = self._pool_problem(entry, now)
                if why is None:
                    continue
                pool.remove(task)
                self.log.warning("Förstartad kärna för %s %s; den ersätts.", notebook, why)
                if entry is not None:
                    self._pooled_since.pop(entry["kernel_id"], None)
                    if not entry["task"].done():
                        entry["task"].cancel()
                    if entry["kernel_id"] in self:
                        await self.shutdown_kernel(entry["kernel_id"])
                if refill is not None:
                    refill(delay=0, notebook_name=notebook)

    async def cull_kernels(self):
        now = self.clock()
        await self.replace_failed_pool_kernels(now)
        pooled = self.pooled_kernel_ids()
        for kernel_id in list(self._pooled_since):
            if kernel_id not in pooled:  # handed to a page
                self._pooled_since.pop(kernel_id, None)
        for kernel_id in list(self._kernels):
            if kernel_id in pooled:
                self._unconnected_since.pop(kernel_id, None)  # the clock starts when it leaves the pool
                continue
            try:
                reason = self.cull_reason(kernel_id, now)
                if reason:
                    self.log.info("Stänger kärnan %s: %s.", kernel_id, reason)
                    await self.shutdown_kernel(kernel_id)
            except Exception:  # one failing kernel must not stop the scan
                self.log.exception("Kunde inte kontrollera eller stänga kärnan %s", kernel_id)

    def is_stopping(self, kernel_id: str) -> bool:
        """True while ``kernel_id`` is being shut down (two leave beacons arrive together)."""
        return kernel_id in self._stopping

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        if kernel_id in self._stopping:
            return None
        self._stopping.add(kernel_id)
        self._unconnected_since.pop(kernel_id, None)
        self._ever_connected.discard(kernel_id)
        RequestInfoSocketHandler._cache.pop(kernel_id, None)  # Voila keeps each hand-out's request info
        try:
            return await super().shutdown_kernel(kernel_id, *args, **kwargs)
        finally:
            self._stopping.discard(kernel_id)


def lower_priority(process) -> bool:
    """Give ``process`` (a ``Popen``, or None) the priority ``POOL_NICE`` (below normal on
    Windows); False when it cannot be done (the kernel runs at normal priority then)."""
    if process is None:
        return False
    try:
        target = psutil.Process(process.pid)
        if psutil.WINDOWS:
            target.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        else:
            target.nice(max(target.nice(), POOL_NICE))
    except (psutil.Error, OSError):
        return False
    return True


def _server(handler: tornado.web.RequestHandler) -> DashboardServer:
    return handler.settings["insats_server"]


class DashboardHandler(TornadoVoilaHandler):
    """A dashboard page: only the chosen notebooks, a 503 page when full, the ``_xsrf`` cookie set."""

    @tornado.web.authenticated
    async def get(self, path=None):
        server = _server(self)
        if path not in server.dashboards:
            raise tornado.web.HTTPError(404)
        km = self.kernel_manager
        if km.viewer_count() >= server.max_viewers:
            self.log.warning("Fullt: %d sidor öppna (högst %d); %s nekas.", km.viewer_count(), server.max_viewers, path)
            self.set_status(503)
            self.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
            self.set_header("Cache-Control", "no-store")
            self.finish(
                self.render_template("fullt.html", retry_after=RETRY_AFTER_SECONDS, max_viewers=server.max_viewers)
            )
            return
        # Tornado sets the _xsrf cookie when the token is first read; the page's leave beacon sends
        # it back, which the shutdown handler's XSRF check requires.
        self.xsrf_token  # noqa: B018 - read for its side effect
        await super().get(path)


class StartPageHandler(TornadoVoilaTreeHandler):
    """The start page: the chosen dashboards with their Swedish titles; no folders, no files."""

    @tornado.web.authenticated
    async def get(self, path=""):
        if path.strip("/"):
            raise tornado.web.HTTPError(404)
        await super().get("")

    def render_template(self, name, **ns):
        server = _server(self)
        ns["insats_dashboards"] = [
            (nb, DASHBOARDS[nb].title, DASHBOARDS[nb].description) for nb in DASHBOARDS if nb in server.dashboards
        ]
        return super().render_template(name, **ns)


class LeaveHandler(VoilaShutdownKernelHandler):
    """The page's leave beacon: shut its kernel down. A second beacon for the same kernel
    (``beforeunload`` and ``pagehide`` both fire) or an unknown id is answered quietly; a
    pre-started kernel is never shut down from here."""

    @tornado.web.authenticated
    async def post(self, kernel_id):
        km = self.kernel_manager
        if kernel_id in km and not km.is_stopping(kernel_id) and kernel_id not in km.pooled_kernel_ids():
            self.log.info("Sidan lämnades; stänger kärnan %s.", kernel_id)
            await km.shutdown_kernel(kernel_id)
        self.set_status(204)
        self.finish()


class StatusHandler(tornado.web.RequestHandler):
    """``GET /insats/status``: how many kernels run, are pre-started (being started, rendered),
    hold a page; the cap."""

    def get(self):
        server = _server(self)
        km = server.kernel_manager
        pooled = km.pooled_kernel_ids()
        body = {
            "kernels": len(km.list_kernel_ids()),
            "pooled": len(pooled),
            "pool_starting": km.pool_starting(),
            "pool_waiting": km.refill_waiting(),
            "pool_rendered": km.pool_rendered(),
            "pool_running": km.pool_running(),
            "viewers": km.viewer_count(),
            "max_viewers": server.max_viewers,
            "dashboards": list(server.dashboards),
        }
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class SwedishErrors:
    """``write_error`` for plain tornado handlers (files, unknown paths): the template's Swedish
    page for the status (``404.html``, else ``error.html``) instead of tornado's English one."""

    def write_error(self, status_code, **kwargs):
        env = self.settings["voila_jinja2_env"]
        name = "404.html" if status_code == 404 else "error.html"
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(env.get_template(name).render(base_url=self.settings.get("base_url", "/"), status_code=status_code))


class NotFoundHandler(SwedishErrors, tornado.web.RequestHandler):
    """Any path no handler serves: the template's Swedish 404 page."""

    def prepare(self):
        raise tornado.web.HTTPError(404)


class FileHandler(SwedishErrors, AllowListFileHandler):
    """``/voila/files/``: Voila's allow-list file handler (``file_allowlist`` is empty, so it
    serves nothing) with Swedish error pages."""


def preheat_denylist(dashboards: list[str]) -> list[str]:
    """Voila pre-heats every notebook in the folder unless its path (absolute, or relative to the
    folder) matches a pattern of ``VoilaKernelManager.preheat_denylist`` (or contains it): one
    pattern matching any path that does not end in a served dashboard's file name."""
    served = "|".join(re.escape(nb) for nb in dashboards)
    return [rf"^(?!(?:.*[/\\])?(?:{served})$)"]


class DashboardServer(Voila):
    """Voila with the handlers and the kernel manager described in the module docstring."""

    name = "insats-serve"
    description = "insats: instrumentpanelerna (Voila)"

    max_viewers = Integer(12, config=True, help="Pages open at the same time before new viewers get the 'full' page.")
    dashboards = List(
        Unicode(),
        config=True,
        help="Notebook files (relative to the served folder) to serve; the others answer 404.",
    )

    pool_sizes = Dict(
        value_trait=Integer(),
        config=True,
        help="Pre-started kernels per notebook file (default: Voila's --pool_size for all).",
    )

    @default("dashboards")
    def _default_dashboards(self):
        return list(DASHBOARDS)

    classes: ClassVar[list] = [*Voila.classes, ViewerKernelManager]
    """Known to the command line, so that ``--ViewerKernelManager.left_timeout=…`` is typed."""

    def init_settings(self):
        self.config.VoilaKernelManager.preheat_denylist = preheat_denylist(self.dashboards)
        if self.pool_sizes:  # Voila's own per-notebook pool sizes (a Dict it cannot take on the command line)
            default_size = self.voila_configuration.default_pool_size
            self.config.VoilaKernelManager.kernel_pools_config = {
                "default": {"pool_size": default_size},
                **{nb: {"pool_size": n} for nb, n in self.pool_sizes.items()},
            }
        settings = super().init_settings()
        settings["insats_server"] = self
        settings["default_handler_class"] = NotFoundHandler
        # Error pages of jupyter_server's handlers (files, static) come from the template's Swedish
        # error.html/404.html first; anything else jupyter_server renders is found where it was.
        server_env = settings["jinja2_env"]
        server_env.loader = jinja2.ChoiceLoader([settings["voila_jinja2_env"].loader, server_env.loader])
        return settings

    def init_handlers(self):
        replace = {
            TornadoVoilaHandler: DashboardHandler,
            TornadoVoilaTreeHandler: StartPageHandler,
            VoilaShutdownKernelHandler: LeaveHandler,
            AllowListFileHandler: FileHandler,
        }
        handlers = [(url_path_join(self.server_url, r"/insats/status"), StatusHandler)]
        for spec in super().init_handlers():
            if isinstance(spec, tuple) and len(spec) >= 2 and spec[1] in replace:
                spec = (spec[0], replace[spec[1]], *spec[2:])
            handlers.append(spec)
        return handlers


main = DashboardServer.launch_instance

if __name__ == "__main__":
    main()
