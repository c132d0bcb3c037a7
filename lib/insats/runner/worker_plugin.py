"""The Dask worker plugin of ``insats run --scheduler``: closes a worker's kernels when it stops.

A module of its own because its base class needs ``distributed`` (about a second to import):
``insats.runner.cluster`` imports it only when a run uses a cluster, so a local run starts its
kernels without paying for it. Dask pickles the plugin by reference to this module, so a worker
imports it the same way.
"""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["KernelPoolPlugin"]


class KernelPoolPlugin(WorkerPlugin):
    """Closes a Dask worker's kernels when the worker stops."""

    name = "insats-karnor"

    def teardown(self, worker) -> None:
        from insats.runner.kernels import close_pool  # in the worker process, when it stops

        close_pool()
