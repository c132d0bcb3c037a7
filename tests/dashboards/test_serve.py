"""``insats serve`` without a browser: which study each dashboard gets, the start-up checks, the
server's command line and environment, and the kernel manager's culling rules (with a fake clock)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from insats.cli import build_parser, main
from insats.dashboards import serve as S
from insats.errors import UsageError
from tests.support import ROOT

STOCKHOLM = ROOT / "data" / "exempel" / "stockholm"
SUNDBYBERG = ROOT / "data" / "exempel" / "sundbyberg"
DASHBOARDS = ROOT / "notebooks" / "dashboards"

needs_examples = pytest.mark.skipif(not STOCKHOLM.is_dir() or not SUNDBYBERG.is_dir(), reason="exempeldata saknas")


def src(name: str, notebooks: tuple[str, ...], data: Path, min_cell: int | None = 5) -> S.StudySource:
    return S.StudySource(name, notebooks, data, min_cell)


EXAMPLE_SOURCES = [
    src("params/stockholm_2013.yaml", ("kartlaggning",), STOCKHOLM),
    src("params/sundbyberg_2016.yaml", ("utvardering",), SUNDBYBERG, 7),
]


# --------------------------------------------------------------------------- plan
def test_default_plan_gives_each_dashboard_its_example_study():
    plan = S.plan_studies(EXAMPLE_SOURCES)
    assert plan.notebooks == ["jamfor_omraden.ipynb", "omradesprofil.ipynb", "utvardering.ipynb"]
    assert plan.studies["jamfor_omraden.ipynb"].data_dir == STOCKHOLM
    assert plan.studies["omradesprofil.ipynb"].data_dir == STOCKHOLM
    assert plan.studies["utvardering.ipynb"].data_dir == SUNDBYBERG
    assert plan.studies["utvardering.ipynb"].min_cell == 7
    assert plan.shared is None


def test_default_params_files_are_the_two_examples():
    files = S.default_params_files(ROOT / "lib")
    assert [f.relative_to(ROOT).as_posix() for f in files] == list(S.DEFAULT_PARAMS)


def test_data_per_dashboard_overrides_its_params_study(tmp_path):
    plan = S.plan_studies(EXAMPLE_SOURCES, [f"utvardering={tmp_path}"])
    assert plan.studies["utvardering.ipynb"].data_dir == tmp_path
    assert plan.studies["utvardering.ipynb"].source == f"--data utvardering={tmp_path}"
    assert plan.studies["utvardering.ipynb"].min_cell == 7  # the params file's min_cell still holds
    assert plan.studies["jamfor_omraden.ipynb"].data_dir == STOCKHOLM


def test_bare_data_serves_every_dashboard_and_named_data_wins_whatever_the_order(tmp_path):
    other = tmp_path / "annan"
    plan = S.plan_studies([], [f"Utvärdering={other}", str(tmp_path)])
    assert plan.shared == tmp_path
    assert {nb: s.data_dir for nb, s in plan.studies.items()} == {
        "jamfor_omraden.ipynb": tmp_path,
        "omradesprofil.ipynb": tmp_path,
        "utvardering.ipynb": other,
    }


@pytest.mark.parametrize(
    "data, message",
    [
        (["foo=/tmp"], "okänd instrumentpanel 'foo'"),
        (["utvardering="], "saknar mapp"),
        (["/a", "/b"], "anges 2 gånger"),
        ([""], "behöver en mapp"),
    ],
)
def test_bad_data_options_are_swedish_usage_errors(data, message):
    with pytest.raises(UsageError, match=message) as info:
        S.plan_studies(EXAMPLE_SOURCES, data)
    assert info.value.exit_code == 2


def test_a_path_with_an_equals_sign_is_a_path():
    assert S.parse_data_option("data/a=b") == (None, Path("data/a=b"))


def test_params_conflicts_and_useless_params_files_are_errors():
    with pytest.raises(UsageError, match=r"både params/a\.yaml och params/b\.yaml anger en studie för Jämför områden"):
        S.plan_studies(
            [src("params/a.yaml", ("kartlaggning",), STOCKHOLM), src("params/b.yaml", ("kartlaggning",), STOCKHOLM)]
        )
    with pytest.raises(UsageError, match="ingen instrumentpanel visar studien"):
        S.plan_studies([src("params/kolada.yaml", ("kolada",), STOCKHOLM)])


def test_a_params_file_for_one_kind_serves_only_its_dashboards():
    plan = S.plan_studies([EXAMPLE_SOURCES[1]])
    assert plan.notebooks == ["utvardering.ipynb"]


# --------------------------------------------------------------------------- start-up checks
@needs_examples
def test_check_accepts_the_example_studies():
    S.check_studies(S.plan_studies(EXAMPLE_SOURCES))


@needs_examples
def test_check_refuses_a_folder_of_several_studies_naming_them():
    plan = S.plan_studies([], [str(STOCKHOLM.parent)])
    with pytest.raises(UsageError) as info:
        S.check_studies(plan)
    text = str(info.value)
    assert "innehåller flera studier (stockholm, sundbyberg)" in text and "--data utvardering=" in text
    assert text.count("\n") == 1, "one line for the folder, naming all three dashboards"
    assert info.value.exit_code == 2


@pytest.mark.slow
@needs_examples
def test_check_refuses_missing_folders_files_and_missing_tables(tmp_path):
    (tmp_path / "fil.csv").write_text("x\n1\n", encoding="utf-8")
    only_areas = tmp_path / "bara_omraden"
    only_areas.mkdir()
    (only_areas / "omraden.csv").write_bytes((STOCKHOLM / "omraden.csv").read_bytes())
    cases = {
        f"utvardering={tmp_path / 'finns_inte'}": "finns inte",
        f"jamfor_omraden={tmp_path / 'fil.csv'}": "är ingen mapp",
        f"omradesprofil={only_areas}": "saknar tabellen personer, bistand",
    }
    for option, message in cases.items():
        with pytest.raises(UsageError, match=message):
            S.check_studies(S.plan_studies(EXAMPLE_SOURCES, [option]))


@pytest.mark.slow
@needs_examples
def test_utvardering_needs_deltaganden_the_others_do_not(tmp_path):
    study = tmp_path / "utan_deltaganden"
    study.mkdir()
    for f in STOCKHOLM.iterdir():
        if f.is_file() and f.name != "deltaganden.csv":
            (study / f.name).write_bytes(f.read_bytes())
    S.check_studies(
        S.plan_studies([], [f"jamfor_omraden={study}", f"omradesprofil={study}", f"utvardering={SUNDBYBERG}"])
    )
    with pytest.raises(UsageError, match=r"Utvärdering \(--data utvardering=.*saknar tabellen deltaganden"):
        S.check_studies(S.plan_studies(EXAMPLE_SOURCES, [f"utvardering={study}"]))


@pytest.mark.slow
@needs_examples
def test_cli_refuses_a_wrong_folder_before_serving(tmp_path):
    port = S.free_port()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "insats.cli",
            "serve",
            "--no-browser",
            "--port",
            str(port),
            "--data",
            str(STOCKHOLM.parent),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Fel: studiemappen kan inte visas – inget har startats." in proc.stderr
    assert "Traceback" not in proc.stderr and "Voil" not in proc.stdout + proc.stderr  # the server never started
    assert S.port_free(port)


def test_cli_serve_options(tmp_path):
    args = build_parser().parse_args(
        ["serve", "--data", "x", "--data", "utvardering=y", "--max-viewers", "3", "--idle-timeout", "0", "--no-browser"]
    )
    assert args.data == ["x", "utvardering=y"] and args.max_viewers == 3 and args.idle_timeout == 0
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.max_viewers, defaults.pool_size, defaults.left_timeout, defaults.idle_timeout) == (
        None,  # from the computer's memory: default_max_viewers
        [],  # pool_sizes: DEFAULT_POOL_SIZE for each
        S.DEFAULT_LEFT_TIMEOUT,
        S.DEFAULT_IDLE_MINUTES,
    )
    assert defaults.params is None and defaults.data == []


def test_cli_serve_help_is_swedish(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for flag in ("--max-viewers", "--pool-size", "--left-timeout", "--idle-timeout", "--params", "--data"):
        assert flag in out
    assert "Fullt – försök igen om en stund" in out and "användning:" in out
    assert not re.search(r"\b(the|default|seconds|minutes)\b", out)


def test_pool_sizes_for_all_and_for_one():
    assert S.pool_sizes([]) == dict.fromkeys(S.DASHBOARDS, S.DEFAULT_POOL_SIZE)
    assert S.pool_sizes(["jamfor_omraden=10", "1"]) == {
        "jamfor_omraden.ipynb": 10,
        "omradesprofil.ipynb": 1,
        "utvardering.ipynb": 1,
    }
    assert S.pool_sizes(["Utvärdering=0"])["utvardering.ipynb"] == 0
    for bad in ("många", "foo=3", "jamfor_omraden=-1"):
        with pytest.raises(UsageError):
            S.pool_sizes([bad])


def test_the_viewer_cap_fits_the_memory():
    gib = 2**30
    assert S.default_max_viewers(6, total_memory=8 * gib) == 6  # 6 GB / 0.5 GB = 12 kernels, 6 pre-started
    assert S.default_max_viewers(6, total_memory=24 * gib) == S.DEFAULT_MAX_VIEWERS
    assert S.default_max_viewers(3, total_memory=2 * gib) == 2  # never fewer than two
    assert S.default_max_viewers(0, total_memory=int(6.5 * gib)) == 9


# --------------------------------------------------------------------------- command line and environment
def test_server_command_has_the_lifecycle_and_only_the_served_dashboards():
    cmd = S.voila_command(
        DASHBOARDS, port=9999, max_viewers=4, left_timeout=30, idle_minutes=90, notebooks=["utvardering.ipynb"]
    )
    assert cmd[:4] == [sys.executable, "-m", "insats.dashboards.server", str(DASHBOARDS)]
    assert "--VoilaConfiguration.multi_kernel_manager_class=insats.dashboards.server.ViewerKernelManager" in cmd
    assert {"--DashboardServer.max_viewers=4", "--ViewerKernelManager.left_timeout=30"} <= set(cmd)
    assert "--ViewerKernelManager.idle_timeout=5400" in cmd
    assert [c for c in cmd if c.startswith("--DashboardServer.dashboards=")] == [
        "--DashboardServer.dashboards=utvardering.ipynb"
    ]
    assert f"--pool_size={S.DEFAULT_POOL_SIZE}" in cmd and "--show_tracebacks=False" in cmd
    assert f"--DashboardServer.pool_sizes=utvardering.ipynb={S.DEFAULT_POOL_SIZE}" in cmd


def test_server_reads_its_command_line_typed():
    server = pytest.importorskip("insats.dashboards.server")
    app = server.DashboardServer()
    cmd = S.voila_command(DASHBOARDS, left_timeout=7, notebooks=["jamfor_omraden.ipynb", "utvardering.ipynb"])
    app.parse_command_line(cmd[4:])
    assert app.dashboards == ["jamfor_omraden.ipynb", "utvardering.ipynb"]
    sized = S.voila_command(DASHBOARDS, pool_size={"jamfor_omraden.ipynb": 6, "utvardering.ipynb": 1})
    app2 = server.DashboardServer()
    app2.parse_command_line(sized[4:])
    assert app2.pool_sizes == {
        "jamfor_omraden.ipynb": 6,
        "omradesprofil.ipynb": S.DEFAULT_POOL_SIZE,  # not named: the default
        "utvardering.ipynb": 1,
    }
    assert "--pool_size=6" in sized
    assert app.max_viewers == S.DEFAULT_MAX_VIEWERS
    km = server.ViewerKernelManager(config=app.config)
    assert (km.left_timeout, km.idle_timeout) == (7, S.DEFAULT_IDLE_MINUTES * 60)
    assert km.cull_interval == 3  # scans often enough for a short left_timeout


def test_only_served_notebooks_get_pre_started_kernels():
    server = pytest.importorskip("insats.dashboards.server")
    [pattern] = server.preheat_denylist(["jamfor_omraden.ipynb", "utvardering.ipynb"])
    folder = str(DASHBOARDS) + "/"
    for prefix in ("", folder):  # Voila tests both the absolute path and the name
        assert re.match(pattern, prefix + "omradesprofil.ipynb")
        assert not re.match(pattern, prefix + "jamfor_omraden.ipynb") and not re.match(
            pattern, prefix + "utvardering.ipynb"
        )
        assert pattern not in prefix + "omradesprofil.ipynb"  # ... and the pattern as a substring
    assert re.match(pattern, folder + "gammal_utvardering.ipynb")


def test_env_carries_each_dashboards_study_and_nothing_stale(tmp_path, monkeypatch):
    monkeypatch.setenv("INSATS_DATA", "/gammal")
    monkeypatch.setenv("INSATS_DATA_UTVARDERING", "/gammal")
    plan = S.plan_studies(EXAMPLE_SOURCES)
    env = S.voila_env(plan=plan)
    assert "INSATS_DATA" not in env
    assert env["INSATS_DATA_JAMFOR_OMRADEN"] == env["INSATS_DATA_OMRADESPROFIL"] == str(STOCKHOLM.absolute())
    assert env["INSATS_DATA_UTVARDERING"] == str(SUNDBYBERG.absolute())
    assert env["INSATS_MIN_CELL_UTVARDERING"] == "7" and env["INSATS_MIN_CELL_OMRADESPROFIL"] == "5"
    assert not any(k.startswith("INSATS_SKYDDSNIVA") for k in env)  # no params file sets it
    protected = S.plan_studies([S.StudySource("p.yaml", ("utvardering",), SUNDBYBERG, 7, 9)])
    assert S.voila_env(plan=protected)["INSATS_SKYDDSNIVA_UTVARDERING"] == "9"
    assert S.protection_from_env("utvardering", S.voila_env(plan=protected)) == 9
    shared = S.voila_env(plan=S.plan_studies([], [str(tmp_path)]))
    assert shared["INSATS_DATA"] == str(tmp_path.resolve())
    # the kernels' sharing folder is the server's own, never one inherited from the shell
    monkeypatch.setenv("INSATS_SHARED_DIR", "/tmp/nagon-annans")
    assert "INSATS_SHARED_DIR" not in S.voila_env(plan=plan)
    assert S.voila_env(plan=plan, shared="/tmp/insats-delat-x")["INSATS_SHARED_DIR"] == "/tmp/insats-delat-x"


def test_study_from_env_prefers_the_dashboards_own_folder():
    env = {"INSATS_DATA": "/alla", "INSATS_DATA_UTVARDERING": "/sundbyberg", "INSATS_MIN_CELL_UTVARDERING": "10"}
    assert S.study_from_env("utvardering", env) == "/sundbyberg"
    assert S.study_from_env("utvardering.ipynb", env) == "/sundbyberg"
    assert S.study_from_env("jamfor_omraden", env) == "/alla"
    assert S.study_from_env("jamfor_omraden", {}) is None
    assert S.min_cell_from_env("utvardering", env) == 10
    assert S.min_cell_from_env("jamfor_omraden", env) is None
    assert S.min_cell_from_env("utvardering", {"INSATS_MIN_CELL_UTVARDERING": "0"}) is None
    assert S.data_env_var("Jämför områden") == "INSATS_DATA_JAMFOR_OMRADEN"


def test_template_pages_are_swedish_and_offline():
    root = S.TEMPLATE_ROOT / "voila" / "templates" / S.TEMPLATE
    names = {f.name for f in root.iterdir()}
    assert {"fullt.html", "404.html", "error.html", "index.html.j2", "tree-lab.html", "page.html"} <= names
    for f in root.iterdir():
        text = f.read_text(encoding="utf-8")
        assert "https://" not in text and "http://" not in text, f
    full = (root / "fullt.html").read_text(encoding="utf-8")
    assert "försök igen om en stund" in full and 'http-equiv="refresh"' in full
    index = (root / "index.html.j2").read_text(encoding="utf-8")
    assert '"pagehide"' in index and "voila/api/shutdown/" in index and "Instrumentpanelen förbereds" in index


# --------------------------------------------------------------------------- kernel manager rules
T0 = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class FakeKernel:
    def __init__(self, state: str = "idle", last: float = 0):
        self.execution_state = state
        self.last_activity = at(last)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def manager():
    server = pytest.importorskip("insats.dashboards.server")

    class Recording(server.ViewerKernelManager):
        async def shutdown_kernel(self, kernel_id, *args, **kwargs):  # no real kernels here
            self.shut.append(kernel_id)
            self._kernels.pop(kernel_id, None)

        def fill_if_needed(self, delay=None, notebook_name=None, **kwargs):  # Voila's pool refill
            self.filled.append(notebook_name)

    km = Recording(left_timeout=60, idle_timeout=3600)
    km.shut, km.filled = [], []
    km.clock = Clock()
    return km


def add(km, kernel_id: str, **kw) -> None:
    km._kernels[kernel_id] = FakeKernel(**kw)
    km._kernel_connections[kernel_id] = 0


def test_an_open_page_keeps_its_kernel_until_idle_timeout(manager):
    add(manager, "k", last=0)
    manager.notify_connect("k")
    assert manager.cull_reason("k", at(3500)) is None
    assert "inte använts på 62 minuter" in manager.cull_reason("k", at(3700))
    manager._kernels["k"].execution_state = "busy"
    assert manager.cull_reason("k", at(3700)) is None  # never in the middle of a computation
    manager.idle_timeout = 0
    manager._kernels["k"].execution_state = "idle"
    assert manager.cull_reason("k", at(99_999)) is None  # 0: no idle limit


def test_a_page_gone_without_goodbye_loses_its_kernel_after_left_timeout(manager):
    add(manager, "k", last=0)
    manager.notify_connect("k")
    manager.clock.now = at(100)
    manager.notify_disconnect("k")
    assert manager.cull_reason("k", at(159)) is None
    assert "ingen sida har varit ansluten på 61 sekunder" in manager.cull_reason("k", at(161))
    manager.notify_connect("k")  # the page came back (a network hiccup): the clock stops
    assert manager.cull_reason("k", at(500)) is None


def test_a_kernel_whose_page_never_connected_gets_a_longer_grace(manager):
    add(manager, "k", last=0)
    assert manager.cull_reason("k", at(0)) is None  # first seen outside the pool: the clock starts
    assert manager.cull_reason("k", at(119)) is None
    assert manager.cull_reason("k", at(121)) is not None
    add(manager, "dead", state="dead")
    assert manager.cull_reason("dead", at(0)) == "kärnan har dött"


def test_pooled_kernels_are_never_culled_and_do_not_count_as_viewers(manager):
    import asyncio

    async def scenario():
        loop = asyncio.get_running_loop()
        rendered = loop.create_future()
        rendered.set_result(([], None))
        done = loop.create_future()
        done.set_result({"kernel_id": "pool", "task": rendered})
        starting = loop.create_future()
        manager._pools = {"jamfor_omraden.ipynb": [done, starting]}
        for kid in ("pool", "viewer", "left"):
            add(manager, kid, last=0)
        manager.notify_connect("viewer")
        manager.clock.now = at(0)
        assert manager.pooled_kernel_ids() == {"pool"} and manager.pool_starting() == 1
        assert manager.viewer_count() == 2 - 1  # "viewer" and "left"; one pool kernel may be listed already
        await manager.cull_kernels()  # first sighting of "left"
        manager.clock.now = at(1000)  # past the never-connected grace, within the viewer's idle time
        await manager.cull_kernels()
        assert manager.shut == ["left"]
        assert set(manager._kernels) == {"pool", "viewer"}
        starting.cancel()

    asyncio.run(scenario())


def test_failed_or_stalled_pre_started_kernels_are_replaced(manager):
    import asyncio

    async def scenario():
        loop = asyncio.get_running_loop()

        def done(value=None, error=None):
            f = loop.create_future()
            f.set_exception(error) if error else f.set_result(value)
            return f

        stalled_run, slow_run, quiet_run = loop.create_future(), loop.create_future(), loop.create_future()
        good_run = done(([], None))
        failed_run = done(error=RuntimeError("Kernel didn't respond in 60 seconds"))
        entries = {
            "ok": done({"kernel_id": "ok", "task": good_run}),
            "stalled": done({"kernel_id": "stalled", "task": stalled_run}),
            "slow": done({"kernel_id": "slow", "task": slow_run}),
            "quiet": done({"kernel_id": "quiet", "task": quiet_run}),
            "failed": done({"kernel_id": "failed", "task": failed_run}),
            "no_start": done(error=RuntimeError("could not start")),
        }
        manager._pools = {"jamfor_omraden.ipynb": list(entries.values())}
        for kid in ("ok", "stalled", "failed", "slow", "quiet"):
            add(manager, kid, last=0)
        manager._kernels["stalled"].execution_state = "busy"  # a long cell: only the time limit applies
        manager._kernels["slow"].execution_state = "busy"
        await manager.cull_kernels()  # at T0: the failures go at once, the runs get time
        assert sorted(manager.shut) == ["failed"] and len(manager.filled) == 2
        manager.clock.now = at(31)  # "quiet" is idle and silent: it has lost a message
        await manager.cull_kernels()
        assert sorted(manager.shut) == ["failed", "quiet"] and quiet_run.cancelled()
        manager._kernels["slow"].last_activity = at(290)
        manager._kernels["slow"].execution_state = "idle"  # between two cells
        manager.clock.now = at(299)
        await manager.cull_kernels()
        assert sorted(manager.shut) == ["failed", "quiet"]
        manager.clock.now = at(301)
        await manager.cull_kernels()
        assert sorted(manager.shut) == ["failed", "quiet", "slow", "stalled"] and stalled_run.cancelled()
        assert manager._pools["jamfor_omraden.ipynb"] == [entries["ok"]]
        assert manager.filled == ["jamfor_omraden.ipynb"] * 5

    asyncio.run(scenario())


def test_pool_kernels_run_below_normal_priority():
    server = pytest.importorskip("insats.dashboards.server")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert server.lower_priority(proc)
        assert psutil.Process(proc.pid).nice() == server.POOL_NICE
    finally:
        proc.kill()
        proc.wait()
    assert server.lower_priority(None) is False
    assert server.lower_priority(proc) is False  # gone


def test_the_pool_is_refilled_once_the_viewers_have_arrived():
    """A hand-out's replacement waits until no page has taken a kernel for ``refill_quiet`` s, and
    starts at once when the pool has no started kernel left; waiting entries hold no kernel and are
    not counted as pool kernels being started (which would hide viewers from the cap)."""
    import asyncio

    server = pytest.importorskip("insats.dashboards.server")

    class Preheating(server.ViewerKernelManager):  # the shape of Voila's pre-heating subclass
        async def get_rendered_notebook(self, notebook_name, **kwargs):
            self._pools[notebook_name].pop(0)
            return "side"

        async def _initialize(self, notebook_name, *args, **kwargs):
            self.started.append(notebook_name)
            await asyncio.sleep(self.start_seconds)  # the kernel starts, then runs its notebook
            run = asyncio.get_running_loop().create_task(asyncio.sleep(self.run_seconds))
            return {"kernel_id": f"k{len(self.started)}", "task": run}

    async def scenario():
        km = Preheating(refill_quiet=0.4)
        km.started, km.start_seconds, km.run_seconds = [], 0.0, 0.0
        loop = asyncio.get_running_loop()

        def ready(rendered: bool = True):
            run = loop.create_future()  # the notebook's run in the kernel
            if rendered:
                run.set_result(None)
            f = loop.create_future()
            f.set_result({"kernel_id": "ready", "task": run})
            return f

        # start-up: nothing handed out yet, the pool fills at once
        first = loop.create_task(km._initialize("nb"))
        await first
        assert km.started == ["nb"] and km.refill_allowed("nb")
        km._pools = {"nb": [ready(), ready()]}
        assert await km.get_rendered_notebook("nb") == "side"  # a viewer takes one; one is left
        refill = loop.create_task(km._initialize("nb"))
        km._pools["nb"].append(refill)
        await asyncio.sleep(0.15)
        assert km.started == ["nb"] and km.refill_waiting() == 1  # waits: another viewer may be arriving
        assert km.pool_starting() == 0  # the waiting entry has no kernel
        await asyncio.sleep(0.5)
        assert km.started == ["nb", "nb"] and km.refill_waiting() == 0  # quiet for 0.4 s: started
        # the last started kernel is taken: the replacement starts at once, whatever the pause
        km._pools = {"nb": [ready()]}
        await km.get_rendered_notebook("nb")
        assert km.started_in_pool("nb") == 0 and km.refill_allowed("nb")
        await loop.create_task(km._initialize("nb"))
        assert km.started == ["nb", "nb", "nb"]
        # after the pause, replacements start one at a time: not while a pool kernel runs its notebook
        km._pools = {"nb": [ready(), ready(rendered=False)]}
        km._last_handout -= 1.0
        assert km.refill_busy() and not km.refill_allowed("nb")
        km._pools = {"nb": [ready(), ready()]}
        assert not km.refill_busy() and km.refill_allowed("nb")
        km._pools = {"nb": [ready()]}
        km.start_seconds, km.run_seconds = 0.2, 0.3
        first, second = (loop.create_task(km._initialize("nb")) for _ in range(2))
        km._pools["nb"] += [first, second]
        await asyncio.sleep(0.1)
        assert km.started == ["nb"] * 4, "the first of two waiting replacements starts, the second waits"
        assert km.refill_waiting() == 1
        await asyncio.sleep(0.3)
        assert km.started == ["nb"] * 4, "started, still running its notebook: the second still waits"
        await asyncio.sleep(1.0)
        assert km.started == ["nb"] * 5 and km.refill_waiting() == 0
        # the last started kernel taken while a replacement is being started: no second one at once
        km._pools = {"nb": [ready()]}
        await km.get_rendered_notebook("nb")
        km._refill_starting["nb"] = 1
        assert not km.refill_allowed("nb")
        km._refill_starting["nb"] = 0
        assert km.refill_allowed("nb")
        # refill_quiet 0: Voila's own behaviour
        km.refill_quiet = 0
        km._pools = {"nb": [ready(), ready()]}
        await km.get_rendered_notebook("nb")
        assert km.refill_allowed("nb")

    asyncio.run(scenario())


def test_without_pre_heating_nothing_is_wrapped():
    server = pytest.importorskip("insats.dashboards.server")
    km = server.ViewerKernelManager()
    assert "_initialize" not in vars(km) and km.refill_waiting() == 0 and km.pool_starting() == 0


def test_kill_9_of_serve_ends_the_server_and_the_next_start_removes_its_sharing_folder(tmp_path):
    """``insats serve`` killed without a chance to clean up: its Voila server ends with it (no orphan
    holding the port), and the sharing folder it leaves is removed by the next ``make_shared_dir``."""
    import os
    import signal
    import tempfile

    from insats.reports import sharing

    port = S.free_port()
    cmd = [sys.executable, "-m", "insats.cli", "serve", "--no-browser", "--port", str(port), "--pool-size", "0"]
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert S.wait_ready(port, timeout=120, proc=proc), (tmp_path / "serve.log").read_text(errors="replace")
        server = psutil.Process(proc.pid).children()
        assert any("insats.dashboards.server" in " ".join(c.cmdline()) for c in server), server
        left = list(Path(tempfile.gettempdir()).glob(f"{sharing.SHARED_PREFIX}{proc.pid}-*"))
        assert len(left) == 1 and left[0].is_dir()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        _, alive = psutil.wait_procs(server, timeout=30)
        assert alive == [], f"still running after insats serve was killed: {alive}"
        listening = [
            c for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.status == "LISTEN"
        ]
        assert listening == []  # (the port itself may sit in TIME_WAIT a while: not a process)
        assert left[0].exists()  # nothing could remove it at the kill …
        fresh = sharing.make_shared_dir()
        try:
            assert not left[0].exists()  # … the next start did
        finally:
            os.rmdir(fresh)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_only_folders_of_ended_processes_are_removed(tmp_path):
    import os

    from insats.reports import sharing

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    dead = tmp_path / f"{sharing.SHARED_PREFIX}{ended.pid}-abc"
    mine = tmp_path / f"{sharing.SHARED_PREFIX}{os.getpid()}-def"
    odd = tmp_path / f"{sharing.SHARED_PREFIX}x-ghi"
    target = tmp_path / "annat"
    for folder in (dead, mine, odd, target):
        folder.mkdir()
    (target / "kvar.txt").write_text("kvar", encoding="utf-8")
    link = tmp_path / f"{sharing.SHARED_PREFIX}{ended.pid}-lank"
    link.symlink_to(target)
    assert sharing.remove_stale_shared_dirs(tmp_path) == [dead]
    assert not dead.exists() and mine.is_dir() and odd.is_dir() and link.is_symlink()
    assert (target / "kvar.txt").read_text(encoding="utf-8") == "kvar"


def test_dashboard_kernels_do_no_work_ahead_in_forked_children(tmp_path):
    from insats.ahead import ENV_AHEAD
    from insats.dashboards.serve import voila_env

    assert voila_env(tmp_path)[ENV_AHEAD] == "0"
