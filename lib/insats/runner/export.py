"""The offline HTML of an executed report, and the check that it fetches nothing from the network.

``export_html(nb, title)`` is the one way a batch report becomes HTML: nbconvert's exporter with
the charts' offline template (``charts.offline_html_exporter``: no code cells, no CDN scripts)
and the report's table of contents (``reports.common.add_table_of_contents``). One exporter is
built per process. A report kernel that already has the chart modules loaded exports its own
report (``kernel_side.export_file``), so the coordinator never has to load Altair and the report
modules, and exports run on the kernels in parallel; otherwise the coordinator exports.
"""

from __future__ import annotations

import re
import threading

__all__ = ["export_html", "external_references"]

_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()
_EXTERNAL_RE = re.compile(
    r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE
)


def _exporter():
    """One offline exporter per process (``charts.offline_html_exporter``: no CDN scripts)."""
    global _EXPORTER
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            # imported here, not at module level: Altair and the report modules take seconds to load,
            # and a coordinator whose kernels export never needs them
            from insats.charts import offline_html_exporter

            _EXPORTER = offline_html_exporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
        return _EXPORTER


def external_references(html: str) -> list[str]:
    """Addresses of scripts and style sheets an HTML page would fetch from the network."""
    return list(dict.fromkeys(m.group(1) for m in _EXTERNAL_RE.finditer(html)))


def export_html(nb, title: str) -> str:
    """A notebook as one offline HTML report: no code cells, no CDN, a table of contents of its
    sections (the same page as ``report.export_report``)."""

    from insats.reports.common import add_table_of_contents  # loaded with the exporter, see _exporter

    exporter = _exporter()
    with _EXPORTER_LOCK:
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return add_table_of_contents(body)
