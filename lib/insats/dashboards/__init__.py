"""Widget dashboards for committee (nämnd) meetings, served by Voila (``insats serve``).

The notebooks under ``notebooks/dashboards/`` are a parameters cell and one call each (one module
per dashboard: ``jamfor``, ``profil``, ``utvardering``; ``common`` holds what they share, ``serve``
the server):

* ``jamfor_omraden(data_dir)``  – *Jämför områden*: a measure and a period; ranked bars with
  intervals and the whole-study line, the funnel plot and the utbud matrix; a district in focus
  is highlighted in all three; rå/justerad for the outcome measure.
* ``omradesprofil(data_dir)``   – *Områdesprofil*: one district's key figures against the rest
  (table and bars), its interventions and its spending.
* ``utvardering(data_dir)``     – *Utvärdering* (Sundbyberg's five areas) as tabs.

How it stays fast: the study is loaded once per kernel, and the published measures are computed
once per period (``MeasureCache``); a change of district only rebuilds the Altair specs (a few
milliseconds) and replaces the content of the ``ipywidgets.Output`` that holds each chart. Charts
render offline through ``insats.charts.enable_offline`` (the Vega bundle is shown once on the
page; see that module's docstring).

Privacy: every table shown or downloaded goes through ``insats.reports.common.measure_table`` (or is
built from the published, disclosure-controlled measures with ``..`` for suppressed cells);
the comparison with "the rest" uses the median of the other areas' *published* values, never a
difference of totals, so no suppressed cell can be recovered.

Downloads: each view has buttons that turn its table into XLSX or CSV (semicolon, UTF-8 with BOM,
as Swedish Excel reads it) and its chart into PNG (``insats.charts.save``, vl-convert); the
result is offered as a ``data:`` link with a ``download`` attribute in an HTML widget, which
works in Voila with no network and no file written on the server.

``INSATS_DATA``: when set (``insats serve --data DIR``), it overrides every dashboard's
``data_dir`` parameter.
"""
