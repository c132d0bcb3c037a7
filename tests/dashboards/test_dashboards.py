"""Unit tests of insats.dashboards (common, jamfor, profil, utvardering) and insats.dashboards.serve (no browser; the browser tests are in
test_dashboard_browser.py)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from insats.analysis.measures import measure_label
from insats.analysis.privacy import SUPPRESSED
from insats.cli import build_parser
from insats.dashboards import common, jamfor
from insats.dashboards import profil as profil_mod
from insats.dashboards import serve as S
from insats.dashboards import utvardering as utvardering_mod
from insats.errors import InsatsError
from insats.reports import profil
from insats.reports.render import markdown_html
from tests.support import ROOT, visible_text

SUNDBYBERG = ROOT / "data" / "exempel" / "sundbyberg"
STOCKHOLM = ROOT / "data" / "exempel" / "stockholm"
DASHBOARDS = ROOT / "notebooks" / "dashboards"


@pytest.fixture(scope="module")
def data():
    return common.DashboardData.load(str(SUNDBYBERG))


@pytest.fixture()
def no_env(monkeypatch):
    monkeypatch.delenv(S.ENV_DATA, raising=False)


def long_with_suppression() -> pd.DataFrame:
    rows = [
        ("erbjudande_andel", "a", 0.5, 50, 100, False),
        ("erbjudande_andel", "b", np.nan, np.nan, np.nan, True),
        ("erbjudande_andel", "c", 0.3, 30, 100, False),
        ("erbjudande_andel", "d", 0.7, 14, 20, False),
        ("erbjudande_andel", "ALLA", 0.418, 96, 230, False),
        ("medel_totalt", "a", 1000.0, np.nan, np.nan, False),
        ("medel_totalt", "b", 2000.0, np.nan, np.nan, False),
        ("medel_totalt", "ALLA", 3000.0, np.nan, np.nan, False),
    ]
    return pd.DataFrame(rows, columns=["matt", "omrade_kod", "varde", "taljare", "namnare", "undertryckt"])


OMRADEN = pd.DataFrame({"omrade_kod": ["a", "b", "c", "d"], "omrade": ["Norrby", "Söderby", "Västby", "Österby"]})


# --------------------------------------------------------------------------- data and cache


def test_resolve_data_dir_prefers_environment(monkeypatch):
    monkeypatch.delenv(S.ENV_DATA, raising=False)
    assert common.resolve_data_dir("x/y") == "x/y"
    assert common.resolve_data_dir(None) == common.DEFAULT_DATA["jamfor_omraden"]
    monkeypatch.setenv(S.ENV_DATA, "/annan/studie")
    assert common.resolve_data_dir("x/y") == "/annan/studie"


def test_period_choices_are_the_publication_periods(data):
    """No free month range: only whole years and spans of them, so two periods on screen can never
    be subtracted to show a hidden month (the period policy, antaganden R5)."""
    assert data.periods == [
        ("2015–2016 (hela perioden)", ("2015-01", "2016-12")),
        ("2015", ("2015-01", "2015-12")),
        ("2016", ("2016-01", "2016-12")),
    ]
    with pytest.raises(InsatsError, match="ingen publiceringsperiod"):
        common.MeasureCache(data.study).table("2015-01", "2016-11")


def test_measures_are_computed_once_per_period(data):
    cache = common.MeasureCache(data.study)
    a = cache.table("2015-01", "2016-12")
    b = cache.table("2015-01", "2016-12")
    assert a is b and cache.computations == 1
    cache.table("2016-01", "2016-12")
    assert cache.computations == 2


# --------------------------------------------------------------------------- Jämför områden


def test_compare_district_change_only_redraws(data, no_env):
    dash = jamfor.CompareDashboard(data)
    computed = data.cache.computations
    draws = dash.bars.draws
    spec_before = json.dumps(dash.bars.chart.to_dict(validate=False))
    code = dash.district.options[2][1]
    dash.district.value = code
    assert data.cache.computations == computed  # no recomputation for a district change
    assert dash.bars.draws == draws + 1
    spec_after = json.dumps(dash.bars.chart.to_dict(validate=False))
    assert spec_after != spec_before and '"fokus": true' in spec_after
    # hidden tabs draw only when opened
    funnel_draws = dash.funnel.draws
    dash.tabs.selected_index = 1
    assert dash.funnel.draws == funnel_draws + 1 and dash.funnel.chart is not None


def test_compare_raw_and_adjusted_outcome(data):
    dash = jamfor.CompareDashboard(data, measure=jamfor.OUTCOME_RAW)
    assert dash.matt == jamfor.OUTCOME_RAW and dash.adjust.layout.display is None
    dash.adjust.value = "justerad"
    assert dash.matt == jamfor.OUTCOME_ADJUSTED
    assert "95 % konfidensintervall, nedre" in dash.bars.table.columns
    dash.tabs.selected_index = 1
    assert dash.funnel.chart is None  # the ratio has no funnel; a Swedish note instead
    dash.measure.value = "erbjudande_andel"
    assert dash.matt == "erbjudande_andel" and dash.adjust.layout.display == "none"


def test_compare_period_change_recomputes(data):
    dash = jamfor.CompareDashboard(data)
    before = data.cache.computations
    dash.period.value = ("2016-01", "2016-12")
    assert data.cache.computations == before + 1
    assert dash.bars.chart.to_dict(validate=False)["title"]["text"].endswith(", 2016")


def test_compare_measures_offered_have_swedish_labels(data):
    options = jamfor.compare_measures(data.cache.table(*data.periods[0][1]))
    ids = [m for _, m in options]
    assert jamfor.OUTCOME_RAW in ids and jamfor.OUTCOME_ADJUSTED not in ids
    assert not any(m.startswith("likstallighet_") for m in ids)
    assert all(label != mid for label, mid in options)


# --------------------------------------------------------------------------- privacy in tables and files


def test_compare_table_keeps_suppression_in_csv_and_xlsx():
    table = jamfor.compare_table(long_with_suppression(), "erbjudande_andel", OMRADEN)
    assert table.loc["Söderby"].iloc[0] == SUPPRESSED
    text = common.csv_bytes(table).decode("utf-8-sig")
    assert "Söderby;.." in text and text.splitlines()[0].startswith("Område;")
    wb = load_workbook(io.BytesIO(common.xlsx_bytes(table)))
    ws = wb.active  # the download opens at the table
    assert ws.title == "Tabell" and wb.sheetnames == ["Om filen", "Teckenförklaring", "Tabell"]
    cells = {row[0].value: row[1] for row in ws.iter_rows()}
    assert cells["Söderby"].value == SUPPRESSED and cells["Söderby"].data_type == "s"
    # numbers as numbers (the share as a fraction in a percent format), not the text "50,0 %"
    assert cells["Norrby"].value == 0.5 and cells["Norrby"].data_type == "n"
    assert cells["Norrby"].number_format == "0.0%"
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:B6"


def test_dashboard_xlsx_download_round_trips_numbers_and_says_where_they_come_from(data):
    """The Jämför områden table downloaded: every number equals the published measure (the
    publication's long table, an independent route), hidden cells are ``..``, and *Om filen*
    carries the study's hashes and the synthetic-data marker."""
    dash = jamfor.CompareDashboard(data)
    made, _name = dash.bars.file("xlsx")
    wb = load_workbook(io.BytesIO(made))
    ws = wb.active
    header = [c.value for c in next(ws.iter_rows())]
    long = data.cache.table(dash.start, dash.end)
    codes = {n: c for c, n in data.names.items()}
    matt = dash.matt
    numbers = hidden = 0
    for row in list(ws.iter_rows())[1:]:
        rec = long[(long["matt"] == matt) & (long["omrade_kod"] == codes[row[0].value])].iloc[0]
        cell = row[header.index(measure_label(matt))]
        if rec["undertryckt"]:
            assert cell.value == SUPPRESSED
            hidden += 1
        else:
            fmt = cell.number_format
            decimals = len(fmt.split(".")[1].rstrip("%")) if "." in fmt else 0
            step = 10.0**-decimals / (100 if fmt.endswith("%") else 1)
            assert cell.data_type == "n" and abs(cell.value - rec["varde"]) <= step / 2 + 1e-12
            numbers += 1
    assert numbers >= 3
    about = [str(v) for r in wb["Om filen"].iter_rows(values_only=True) for v in r if v is not None]
    assert about[0].startswith("SYNTETISKA EXEMPELDATA") == data.study.synthetic
    for src in data.study.sources.values():
        assert any(src.sha256 in v for v in about)


@pytest.mark.slow
def test_dashboard_profile_equals_the_printed_profile_for_every_district():
    """One Områdesprofil: for every district of the Stockholm example, the dashboard shows the
    printed profile's numbers (key figures, interventions, spending, sentences), period included."""
    data = common.DashboardData.load(str(STOCKHOLM))
    dash = profil_mod.ProfileDashboard(data)
    codes = [code for _label, code in dash.district.options]
    assert len(codes) == 14
    for code in codes:
        dash.district.value = code
        printed = profil.build_profile(data.study, code)  # as notebooks/omradesprofil.ipynb, whole study
        assert (dash.start, dash.end) == (printed.result.params["fran"], printed.result.params["till"])
        pd.testing.assert_frame_equal(dash.figures.table, printed.key_table())
        pd.testing.assert_frame_equal(dash.interventions.table, printed.interventions_display())
        pd.testing.assert_frame_equal(dash.spending.table, printed.spending_display())
        assert visible_text(dash.summary.value) == visible_text(markdown_html(printed.summary()))
        assert printed.namn in dash.figures.chart.to_dict(validate=False)["title"]["text"]


def test_data_uri_link_round_trips():
    link = common.data_uri_link(b"a;b\n1;2\n", "tabell.csv")
    assert 'download="tabell.csv"' in link
    payload = re.search(r'href="data:text/csv;base64,([^"]+)"', link).group(1)
    assert base64.b64decode(payload) == b"a;b\n1;2\n"


def test_chartview_downloads(data):
    dash = jamfor.CompareDashboard(data)
    for kind, magic in (("xlsx", b"PK"), ("csv", None), ("png", b"\x89PNG")):
        made, name = dash.bars.file(kind)
        assert name.endswith("." + kind) and made
        if magic:
            assert made.startswith(magic)
        assert f'download="{name}"' in dash.bars.download(kind)


def test_profile_dashboard(data):
    dash = profil_mod.ProfileDashboard(data)
    name = dash.data.names[dash.district.value]
    assert name in dash.figures.table.columns
    assert {"Hela studien", "Övriga områden"} <= set(dash.figures.table.columns)
    assert len(dash.interventions.table) and dash.spending.chart is not None
    before = dash.figures.chart.to_dict(validate=False)["title"]["text"]
    dash.district.value = dash.district.options[-1][1]
    after = dash.figures.chart.to_dict(validate=False)["title"]["text"]
    assert before != after


def test_evaluation_dashboard_has_five_tabs(data):
    dash = utvardering_mod.EvaluationDashboard(data)
    titles = [dash.tabs.get_title(i) for i in range(len(dash.tabs.children))]
    assert titles == [s.title for s in utvardering_mod.TABS] and len(titles) == 5
    assert dash.views["erbjudande"].chart is not None
    assert dash.views["en_vag_in"].draws == 0  # drawn when its tab is opened
    dash.tabs.selected_index = 4
    assert dash.extra["en_vag_in"].chart is not None
    counts = utvardering_mod.flow_counts(data.cache.table("2015-01", "2016-12"))
    assert counts["ansokan"] >= counts["bedomd"] >= counts["arbetsformaga"] >= counts["insats_90"]


def test_banner_marks_synthetic_data(data):
    assert "Syntetiska exempeldata" in common.banner_html(data.study)


# --------------------------------------------------------------------------- notebooks and serve


@pytest.mark.parametrize("name", ["jamfor_omraden", "omradesprofil", "utvardering"])
def test_dashboard_notebooks_are_thin_and_parameterised(name):
    nb = nbformat.read(DASHBOARDS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "data_dir" in params[0].source
    assert all(not c.outputs for c in code)
    assert f"{name}(data_dir" in "".join(c.source for c in code)
    assert len(code) <= 3


def test_voila_command_is_locked_down():
    cmd = S.voila_command(DASHBOARDS, port=9999)
    joined = " ".join(cmd)
    assert "--Voila.ip=127.0.0.1" in joined and "--strip_sources=True" in joined
    assert "--show_tracebacks=False" in joined and "--preheat_kernel=True" in joined
    assert "--template=insats" in joined and "file_allowlist=[]" in joined
    no_pool = " ".join(S.voila_command(DASHBOARDS, preheat=False))
    assert "--preheat_kernel=False" in no_pool


def test_voila_env_sets_template_path_and_data(tmp_path):
    env = S.voila_env(tmp_path)
    assert env["JUPYTER_PATH"].split(":")[0] == str(S.TEMPLATE_ROOT)
    assert env[S.ENV_DATA] == str(tmp_path.resolve())


def test_template_has_no_cdn_links():
    root = S.TEMPLATE_ROOT / "voila" / "templates" / S.TEMPLATE
    files = list(root.iterdir())
    assert {"conf.json", "index.html.j2", "page.html", "tree-lab.html"} <= {f.name for f in files}
    for f in files:
        assert "cdn.jsdelivr" not in f.read_text(encoding="utf-8"), f
        assert "https://" not in f.read_text(encoding="utf-8"), f


def test_serve_parser_registers():
    parser = build_parser()
    args = parser.parse_args(["serve", "--port", "9000", "--data", "x", "--no-browser"])
    assert args.port == 9000 and args.no_browser and args.data == ["x"] and args.ip == "127.0.0.1"
    assert parser.parse_args(["serve"]).port == S.DEFAULT_PORT


def test_find_dashboards():
    assert S.find_dashboards(ROOT / "lib") == DASHBOARDS


class _FakeLoop:
    """tornado's call_later/remove_timeout, run by hand."""

    def __init__(self):
        self.pending: dict[int, object] = {}
        self.n = 0

    def call_later(self, delay, fn):
        self.n += 1
        self.pending[self.n] = fn
        return self.n

    def remove_timeout(self, handle):
        self.pending.pop(handle, None)

    def run(self):
        for handle in sorted(self.pending):
            self.pending.pop(handle)()


def test_a_burst_of_changes_redraws_once_with_the_last_value():
    """Arrow keys through five districts: one redraw, of the last one; an error goes to the page."""
    loop = _FakeLoop()
    drawn, errors, value = [], [], {"v": None}
    soon = common.Debounced(lambda: drawn.append(value["v"]), loop_of=lambda: loop, on_error=errors.append)
    for v in "abcde":
        value["v"] = v
        soon({"new": v})
    assert drawn == [] and len(loop.pending) == 1
    loop.run()
    assert drawn == ["e"]

    def broken():
        raise ValueError("trasig")

    failing = common.Debounced(broken, loop_of=lambda: loop, on_error=errors.append)
    failing()
    loop.run()
    assert [str(e) for e in errors] == ["trasig"]
    assert "Diagrammet kunde inte ritas om (trasig)" in common.error_note(errors[0])
    # outside a kernel (no event loop) the call is immediate
    now = common.Debounced(lambda: drawn.append("nu"), loop_of=lambda: None)
    now()
    assert drawn[-1] == "nu"


def test_a_view_swaps_its_chart_in_one_step(data):
    """The output area gets chart and note as one new list of outputs (the old chart stays until
    then; never a cleared, half-drawn state)."""
    view = common.ChartView("prov")
    view.show({"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {}}, note="En **not**.")
    first = view.out.outputs
    assert [o["output_type"] for o in first] == ["display_data", "display_data"]
    assert "insats-chart" in first[0]["data"]["text/html"] and "<strong>not</strong>" in first[1]["data"]["text/html"]
    view.show(None)
    assert view.out.outputs == ()


def test_compare_over_time_tab_shows_the_years_of_the_publication(data):
    from insats.charts.accessible import text_alternative
    from insats.reports.trend import trend_display, trend_table, trend_years

    dash = jamfor.CompareDashboard(data, measure="langvarigt_andel")
    titles = [dash.tabs.get_title(i) for i in range(len(dash.tabs.children))]
    assert titles == ["Rangordning", "Trattdiagram", "Utbud", "Över tid"]
    draws = dash.trend.draws
    assert draws == 0  # a hidden tab costs nothing
    dash.tabs.selected_index = 3
    assert dash.trend.draws == 1
    pub = data.cache.publication
    years = trend_years(pub)
    expected = trend_display(trend_table(pub, ["langvarigt_andel"]), "langvarigt_andel", data.omraden)
    assert years == [2015, 2016]
    pd.testing.assert_frame_equal(dash.trend.table, expected)
    assert list(expected.columns[: len(years)]) == [str(y) for y in years]
    spec = dash.trend.chart.to_dict(validate=False)
    assert spec["facet"]["field"] == "omrade" and text_alternative(spec)["lasning"]
    code = dash.district.options[1][1]
    dash.district.value = code
    dash.redraw()
    spec = dash.trend.chart.to_dict(validate=False)
    assert spec["facet"]["sort"][0] == data.names[code]  # the district in focus comes first
    assert dash.trend.focus_label == data.names[code]


def test_under_serve_the_params_files_study_and_min_cell_win(monkeypatch):
    """``insats serve`` names each dashboard's study and ``min_cell`` (from its params file) in the
    kernel's environment; the dashboard uses them, not the notebook's defaults."""
    monkeypatch.setenv("INSATS_DATA_UTVARDERING", str(SUNDBYBERG))
    monkeypatch.setenv("INSATS_MIN_CELL_UTVARDERING", "9")
    monkeypatch.setenv("INSATS_SKYDDSNIVA_UTVARDERING", "12")
    data = common.DashboardData.load("finns/inte", min_cell=5, dashboard="utvardering")
    assert Path(data.path) == SUNDBYBERG and data.min_cell == 9 and data.protection == 12
    assert data.cache.min_cell == 9 and data.cache.protection == 12  # what the publication is made with
    # another dashboard's settings do not apply, and without serve the parameters do
    other = common.DashboardData.load(str(STOCKHOLM), min_cell=5, dashboard="jamfor_omraden")
    assert Path(other.path) == STOCKHOLM and other.min_cell == 5 and other.protection is None
