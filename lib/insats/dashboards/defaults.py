"""Meeting-room defaults of ``insats serve`` (README, "Instrumentpaneler"): a laptop with 2 cores
and 8–16 GB, about ten viewers; one kernel holds ~0.45 GB.

A module of their own, without imports, because ``insats --help`` shows them and the ``insats``
command builds its parser before every command: importing ``insats.dashboards.serve`` for them
cost every command 0.14 s at start (``urllib``, ``psutil``), and ``insats run`` starts its first
kernel only after that. ``insats.dashboards.serve`` uses them from here.
"""

DEFAULT_POOL_SIZE = 2
"""Pre-started kernels per dashboard: two viewers arriving together both get a ready page."""
DEFAULT_MAX_VIEWERS = 12
"""Pages open at once, unless the memory holds fewer (``serve.default_max_viewers``)."""
DEFAULT_LEFT_TIMEOUT = 60
"""Seconds a kernel outlives its page when the browser said no goodbye (lost network, closed lid)."""
DEFAULT_IDLE_MINUTES = 240
"""An open page unused this long (a tab forgotten after the meeting) loses its kernel."""
