"""A Jupyter kernel client that cannot wait forever for a message already there.

Why: pyzmq's asyncio sockets learn of a new message from the socket's file descriptor, which
ZeroMQ signals only on an *edge* (when something changes). Under load that signal can be consumed
without the waiting coroutine being woken (pyzmq issue 2173 describes the same symptom): the
message sits in the socket while ``await channel.get_msg()`` waits on. Seen here as a Voila
dashboard stuck at "Executing 2 of 3" with the kernel idle and its ``execute_reply`` unread in
Voila's shell socket (``zmq.EVENTS`` said POLLIN), about one page in six with both cores busy; a
batch report would wait in the same way until its cell timeout.

The remedy uses only public behaviour: ``WakefulChannel.get_msg`` waits in slices of
``WAKE_INTERVAL`` seconds. At the end of each slice pyzmq asks ZeroMQ directly (``zmq_poll`` with
no wait), which sees a message whatever became of the edge; so a missed signal costs at most one
slice instead of the whole wait. A caller's own timeout still means what it meant (the slices stop
at it and ``queue.Empty`` is raised then).

``WakefulKernelClient`` is an ``AsyncKernelClient`` whose channels are ``WakefulChannel``. The batch
runner's kernels use it (``insats.runner.kernels``) and the dashboard server makes it every
kernel manager's ``client_factory`` (``insats.dashboards.server``), which is the client Voila's
executor runs the notebook with.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

WAKE_INTERVAL = 0.25
"""Seconds between direct looks at the socket while a message is awaited (the longest delay a
missed wake-up can cause)."""


class WakefulChannel(AsyncZMQSocketChannel):
    """``AsyncZMQSocketChannel`` whose ``get_msg`` looks at its socket every ``WAKE_INTERVAL``."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = WAKE_INTERVAL if deadline is None else max(0.0, min(WAKE_INTERVAL, deadline - time.monotonic()))
            try:
                return await super().get_msg(timeout=wait)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class WakefulKernelClient(AsyncKernelClient):
    """``AsyncKernelClient`` with ``WakefulChannel`` for shell, iopub, stdin and control."""

    shell_channel_class = Type(WakefulChannel)
    iopub_channel_class = Type(WakefulChannel)
    stdin_channel_class = Type(WakefulChannel)
    control_channel_class = Type(WakefulChannel)
